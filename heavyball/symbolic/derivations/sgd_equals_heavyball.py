"""The derivation ``sgd_equals_heavyball`` (see :func:`sgd_equals_heavyball`)."""

from __future__ import annotations

import functools
from typing import Any

import sympy as sp

from ..._validation import as_int
from ..algebra import GRAD_TEST, assumption_texts, box_of, given_positive, real
from ..claims import Derivation, claim
from ..rules import heavyball_step, torch_sgd_step

#: position in the catalogue of derivations
ORDER = 60


@functools.cache
def sgd_equals_heavyball(*, mu: Any = None, eta: Any = None, dt: Any = None, steps: int = 4) -> Derivation:
    r"""torch's ``(b, θ)`` recurrence and the physical ``(v, θ)`` one give the same ``θ_k``
    under ``v = −ηb``, ``γ = ηΔt``.

    Derived by matching one step of each with the ansatz ``v = αb``, then verified for a
    general (undefined) gradient over ``steps`` steps.

    Examples
    --------
    >>> sgd_equals_heavyball().result["lr"]
    dt*eta
    """
    mu, eta, dt = given_positive(mu=mu, eta=eta, dt=dt)
    steps = as_int("steps", steps, minimum=1, maximum=6)
    G = sp.Function("g")
    theta, b, g = real("theta"), real("b"), real("g")
    alpha, gamma = sp.symbols("alpha gamma")
    th_t, b_t = torch_sgd_step(theta, b, g, lr=gamma, momentum=mu)
    th_h, v_h = heavyball_step(theta, alpha * b, g, eta=eta, mu=mu, dt=dt)
    velocity_eq = sp.expand(v_h - alpha * b_t)  # v_{k+1} = α b_{k+1} for every b_k, g_k
    position_eq = sp.expand(th_h - th_t)  # the same θ_{k+1} for every b_k, g_k
    equations = [velocity_eq.coeff(g), velocity_eq.coeff(b), position_eq.coeff(b), position_eq.coeff(g)]
    sol = sp.solve([e for e in equations if e != 0], [alpha, gamma], dict=True)[0]

    theta0, b0 = real("theta_0"), real("b_0")
    tt, bb = theta0, b0
    th, vv = theta0, sol[alpha] * b0
    claims = []
    box = box_of(mu=mu, eta=eta, dt=dt, value=[theta0, b0])
    gfun = {G: GRAD_TEST}
    for k in range(1, steps + 1):
        tt, bb = torch_sgd_step(tt, bb, G(tt), lr=sol[gamma], momentum=mu)
        th, vv = heavyball_step(th, vv, G(th), eta=eta, mu=mu, dt=dt)
        claims.append(claim(f"theta_{k}", tt, th, box, functions=gfun))
    claims.append(claim(f"velocity_{steps}", vv, sol[alpha] * bb, box, functions=gfun))
    claims = [
        claim("alpha", sol[alpha], -eta, box, note="v = −ηb"),
        claim("lr", sol[gamma], eta * dt, box, note="γ = ηΔt"),
        claim(
            "position_given_velocity",
            position_eq.subs(sol),
            sp.Integer(0),
            {**box, b: (-2.0, 2.0), g: (-2.0, 2.0), theta: (-2.0, 2.0)},
        ),
        *claims,
    ]
    # every derivation module ends with its results, its steps and the keyword constructor, the
    # registry's interface: their shape repeats from module to module by design (the contents differ)
    result = {"alpha": sol[alpha], "lr": sol[gamma], "theta_2": sp.Eq(sp.Symbol("theta_2"), claims[4].lhs)}
    steps_ = (
        ("torch", sp.Tuple(sp.Eq(sp.Symbol("b_{k+1}"), b_t), sp.Eq(sp.Symbol("theta_{k+1}"), th_t))),
        ("physical, $v = αb$", sp.Tuple(sp.Eq(sp.Symbol("v_{k+1}"), v_h), sp.Eq(sp.Symbol("theta_{k+1}"), th_h))),
        ("match coefficients", sp.Tuple(*[sp.Eq(e, 0) for e in equations if e != 0])),
        ("solution", sp.Tuple(sp.Eq(alpha, sol[alpha]), sp.Eq(gamma, sol[gamma]))),
    )
    findings = (
        "torch's SGD with $γ = ηΔt$ and momentum $μ$ and the physical heavy ball $v ← μv − η∇f$, "
        f"$θ ← θ + Δt·v$ produce the same $θ_k$ (verified for {steps} steps with a general gradient) "
        "when $v = −ηb$; torch's first step $b = g$ is the case $b_0 = 0$, i.e. $v_0 = 0$.",
        "With $Δt = 1$ this is the usual statement $γ = η$; with the semi-implicit map $η = Δt/m$ it "
        "gives $γ = Δt²/m$, the displacement-form coefficient of the derivation discretization.",
    )
    return Derivation(
        name="sgd_equals_heavyball",
        title="torch's SGD with momentum is the physical heavy ball",
        assumptions=assumption_texts(
            (mu, eta, dt, theta0, b0),
            "$g$ is an undefined function (a general gradient; "
            "the maps are linear with scalar coefficients, so one coordinate suffices)",
        ),
        symbols={"mu": mu, "eta": eta, "dt": dt, "g": G, "theta_0": theta0, "b_0": b0},
        result=result,
        steps=steps_,
        claims=tuple(claims),
        findings=findings,
        references=("Polyak (1964)", "torch.optim.SGD documentation"),
    )
