"""The derivation ``adam_heavy_ball`` (see :func:`adam_heavy_ball`)."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import sympy as sp

from ..algebra import assumption_texts, given, pos, real
from ..claims import Derivation, claim
from ..twins import Twin

#: position in the catalogue of derivations
ORDER = 132


@functools.cache
def adam_heavy_ball(*, a: Any = None, lr: Any = None, beta1: Any = None, p: Any = None) -> Derivation:
    r"""Adam with ``v̂`` frozen is a heavy ball: ``(1/a)θ'' + θ' + P∇f(θ) = 0``.

    Per coordinate, ``θ' = −P·m̂`` with ``P = 1/(√(v̂) + ε)`` constant and ``m̂' = a(g − m̂)`` (the
    bias correction died out). Differentiating the first equation and substituting the second,
    ``θ'' = −aPg − aθ'``: a heavy ball of mass ``m = 1/a = lr/(1 − β₁)`` (``a = (1 − β₁)/lr``),
    unit friction and the force ``P∇f``. Its semi-implicit Euler step ``Δt = lr`` has momentum
    ``μ = 1 − cΔt/m = β₁`` and ``η = Δt/m = 1 − β₁``, and Adam's own step with ``v = −P·m``,
    ``v_k = β₁v_{k−1} − (1 − β₁)Pg``, ``θ_k = θ_{k−1} + lr·v_k``, is exactly that scheme. With the
    bias correction kept, ``m̂' = a(g − m̂)/(1 − e^{−at})`` gives the mass ``(1 − e^{−at})/a``:
    zero at the start (Adam's first steps have no inertia), ``1/a`` after a few ``1/a``.

    Examples
    --------
    >>> adam_heavy_ball().result["mass"]
    lr/(1 - beta1)
    """
    a, lr = given(a, "a", positive=True), given(lr, "lr", positive=True)
    beta1, P = given(beta1, "beta1", positive=True), given(p, "P", positive=True)
    t = pos("t")
    theta, mh = sp.Function("theta")(t), sp.Function("m_hat")(t)
    f_prime = sp.Function("f_prime")  # ∂f/∂θ of this coordinate (general)
    g = f_prime(theta)
    x, u, m_prev, v_prev, gk = real("x"), real("u"), real("m_prev"), real("v_prev"), real("g_k")
    # θ' = −P m_hat, m_hat' = a(g − m_hat): θ'' from the chain rule
    first = -P * mh
    second = sp.diff(first, t).subs(sp.Derivative(mh, t), a * (g - mh))
    residual = (second / a + first + P * g).subs(mh, -u / P)  # at a state with θ' = u
    corr = 1 - sp.exp(-a * t)
    second_bc = sp.diff(first, t).subs(sp.Derivative(mh, t), a * (g - mh) / corr)
    residual_bc = (corr / a * second_bc + first + P * g).subs(mh, -u / P)
    a_of_adam = (1 - beta1) / lr
    mass = sp.cancel(1 / a_of_adam)
    dt, c = lr, sp.Integer(1)
    mu = sp.cancel(1 - c * dt / mass)
    eta = sp.cancel(dt / mass)
    # one Adam step at a frozen P, bias correction 1: v = −P m
    m_next = beta1 * m_prev + (1 - beta1) * gk
    v_next = -P * m_next
    heavy_ball_v = mu * v_prev - eta * P * gk
    box = {
        a: (0.1, 10.0),
        lr: (1e-4, 0.1),
        beta1: (0.05, 0.999),
        P: (0.1, 10.0),
        t: (0.01, 5.0),
        x: (-2.0, 2.0),
        u: (-2.0, 2.0),
        m_prev: (-2.0, 2.0),
        gk: (-2.0, 2.0),
    }
    functions = {f_prime: sp.Lambda(x, sp.sin(x) + x**3 / 3)}
    point = {theta: x}
    claims = (
        claim(
            "heavy_ball_form",
            residual.subs(point),
            sp.Integer(0),
            box,
            functions=functions,
            note="(1/a)θ'' + θ' + P·∂f = 0 along θ' = −P m_hat, m_hat' = a(g − m_hat)",
        ),
        claim(
            "mass_with_bias_correction",
            residual_bc.subs(point),
            sp.Integer(0),
            box,
            functions=functions,
            note="with the bias correction the mass is (1 − e^{−at})/a",
        ),
        claim("mass", mass, lr / (1 - beta1), box, note="m = 1/a = lr/(1 − β₁)"),
        claim(
            "mass_bias_corrected",
            corr / a,
            (1 - sp.exp(-a * t)) / a,
            box,
            note="the mass of the bias-corrected form, (1 − e^{−at})/a",
        ),
        claim("momentum_is_beta1", mu, beta1, box, note="μ = 1 − cΔt/m with c = 1, Δt = lr"),
        claim("eta", eta, 1 - beta1, box, note="η = Δt/m"),
        claim(
            "adam_step_is_the_velocity_form",
            v_next.subs(m_prev, -v_prev / P),
            heavy_ball_v,
            {**box, v_prev: (-2.0, 2.0)},
            note="v = −P m: v_k = β₁v_{k−1} − (1 − β₁)P g_k",
        ),
    )
    result = {"mass": lr / (1 - beta1), "momentum": mu, "eta": eta, "mass_bias_corrected": corr / a}
    steps_ = (
        ("Adam's ODE, $v̂$ frozen", sp.Eq(sp.Derivative(theta, t), first)),
        ("differentiate, substitute $m̂' = a(g − m̂)$", sp.Eq(sp.Derivative(theta, (t, 2)), second)),
        ("heavy ball", sp.Eq(sp.Derivative(theta, (t, 2)) / a + sp.Derivative(theta, t) + P * g, 0)),
        ("mass", sp.Eq(sp.Symbol("m"), mass)),
        ("the lecture's map $μ = 1 − cΔt/m$", sp.Eq(sp.Symbol("mu"), mu)),
    )
    findings = (
        "Adam with its second moment frozen is the heavy ball $(1/a)θ'' + θ' + P∇f(θ) = 0$, "
        "$P = diag(1/(√(v̂) + ε))$: mass $lr/(1 − β₁)$, unit friction, force scaled per "
        "coordinate. $β₁$ plays the momentum $μ = 1 − cΔt/m$ of the lecture's discretisation with $Δt = lr$, "
        "and Adam's step is exactly the semi-implicit Euler scheme of that ODE ($v = −Pm$).",
        "With the bias correction the mass is $(1 − e^{−at})/a$: Adam starts without inertia and gains "
        "the mass $1/a$ over a time of a few $1/a$ (a few $1/(1 − β₁)$ steps).",
    )
    twins = {
        "mass": Twin(
            function="heavyball.adam_limits.adam_heavy_ball",
            call=lambda fn, lr_, b1: np.array(
                [fn(x, (y, 0.999), v_hat=[1.0]).mass for x, y in zip(lr_, b1, strict=True)]
            ),
            domain=((1e-4, 0.1), (0.05, 0.999)),
            note="adam_heavy_ball(lr, betas).mass",
        ),
        "momentum": Twin(
            function="heavyball.adam_limits.adam_heavy_ball",
            call=lambda fn, b1: np.array([fn(0.01, (y, 0.999), v_hat=[1.0]).momentum for y in b1]),
            domain=((0.05, 0.999),),
            note="adam_heavy_ball(lr, betas).momentum",
        ),
    }
    return Derivation(
        name="adam_heavy_ball",
        title="Adam as a heavy ball with friction",
        assumptions=assumption_texts((a, lr, beta1, P, t), "$v̂$ frozen: $P = 1/(√(v̂) + ε)$ constant; one coordinate"),
        symbols={"a": a, "lr": lr, "beta1": beta1, "P": P, "t": t},
        result=result,
        steps=steps_,
        claims=claims,
        findings=findings,
        signatures={"mass": (lr, beta1), "momentum": (beta1,)},
        twins=twins,
        references=("Polyak (1964)", "Barakat & Bianchi (2021)", "Kingma & Ba (2015)"),
    )
