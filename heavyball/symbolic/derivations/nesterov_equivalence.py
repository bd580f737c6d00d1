"""The derivation ``nesterov_equivalence`` (see :func:`nesterov_equivalence`)."""

from __future__ import annotations

import functools
from typing import Any

import sympy as sp

from ..._validation import as_int
from ..algebra import GRAD_TEST, assumption_texts, box_of, given_positive, real
from ..claims import Claim, Derivation, claim
from ..rules import torch_sgd_step

#: position in the catalogue of derivations
ORDER = 70


def _findings(steps: int) -> tuple[str, ...]:
    """What the derivation shows, in words (``steps``: how many steps were verified)."""
    return (
        "torch's Nesterov ($d = g + μb$) is Sutskever's look-ahead method in shifted variables: "
        f"$θ = φ + μv$ and $b = −v/γ$ (verified for {steps} steps with a general gradient). torch's "
        "parameters are the look-ahead point of the textbook method.",
        "The lecture's look-ahead $y_t = θ_t − ημv_t$ is consistent in the buffer convention "
        "$v ← μv + ∇f(y)$, $θ ← θ − ηv$ (there $−ηv$ is the velocity and $y = θ + μ(−ηv)$); verified to "
        "equal the look-ahead method step by step.",
        "With the slide's own update lines ($v ← μv − η∇f(y)$, $θ ← θ + v$) $v$ is a velocity and the "
        "look-ahead point must be $θ + μv$: $y = θ − ημv$ then lies $μ(1 + η)v$ behind it (against the "
        "motion); it would agree only for $η = −1$. Consistent versions: $y = θ + μv$ with those "
        "updates, or keep $y = θ − ημv$ with the buffer updates.",
    )


def _lookahead(phi_k: Any, v_k: Any, step: Any, mu: Any, G: Any) -> tuple[Any, Any]:
    """One step of Sutskever et al.'s look-ahead method: ``v ← μv − step·∇f(φ + μv)``, ``φ ← φ + v``."""
    v_next = mu * v_k - step * G(phi_k + mu * v_k)
    return phi_k + v_next, v_next


def _lecture_claims(mu: Any, eta: Any, G: Any, phi0: Any, v0: Any, box: dict, steps: int) -> tuple[list[Claim], Any]:
    """The lecture's look-ahead point ``y = θ − ημv`` in its two possible conventions.

    Returns the claims and the offset of ``y`` from the look-ahead point (velocity convention).
    """
    e_free = sp.Symbol("e")
    gfun = {G: GRAD_TEST}

    def lecture_velocity(theta_k: Any, v_k: Any) -> tuple[Any, Any, Any]:  # v ← μv − η∇f(y), θ ← θ + v
        y = theta_k - eta * mu * v_k
        v_next = mu * v_k - eta * G(y)
        return theta_k + v_next, v_next, y

    def lecture_buffer(theta_k: Any, v_k: Any) -> tuple[Any, Any, Any]:  # v ← μv + ∇f(y), θ ← θ − ηv
        y = theta_k - eta * mu * v_k
        v_next = mu * v_k + G(y)
        return theta_k - eta * v_next, v_next, y

    claims = []
    tb, vb = phi0, v0
    pk, vk = phi0, -eta * v0
    for k in range(1, steps + 1):
        _, _, y_b = lecture_buffer(tb, vb)
        claims.append(claim(f"lecture_buffer_lookahead_{k}", y_b, pk + mu * vk, box, functions=gfun))
        tb, vb, _ = lecture_buffer(tb, vb)
        pk, vk = _lookahead(pk, vk, eta, mu, G)
        claims.append(claim(f"lecture_buffer_theta_{k}", tb, pk, box, functions=gfun, note="φ = θ, v_NAG = −ηv"))
    t1_v, _, y_v = lecture_velocity(phi0, v0)
    offset = sp.factor(y_v - (phi0 + mu * v0))
    consistent_eta = sp.solve(sp.factor(offset / v0).subs(eta, e_free), e_free)
    p1, _ = _lookahead(phi0, v0, eta, mu, G)
    return [
        *claims,
        claim(
            "lecture_velocity_offset",
            offset,
            -mu * (1 + eta) * v0,
            box,
            note="with v a velocity, y = θ − ημv lies μ(1+η)v behind the look-ahead point θ + μv",
        ),
        claim("lecture_velocity_consistent_only_if", sp.Tuple(*consistent_eta), sp.Tuple(-1), {}),
        claim(
            "lecture_velocity_first_step",
            t1_v - p1,
            -eta * (G(phi0 - eta * mu * v0) - G(phi0 + mu * v0)),
            box,
            functions=gfun,
        ),
    ], offset


@functools.cache
def nesterov_equivalence(*, mu: Any = None, lr: Any = None, eta: Any = None, steps: int = 4) -> Derivation:
    r"""torch's Nesterov is the look-ahead method (Sutskever et al. 2013) in shifted variables.

    torch: ``b ← μb + ∇f(θ)``, ``θ ← θ − γ(∇f(θ) + μb)``. Look-ahead:
    ``v ← μv − γ∇f(φ + μv)``, ``φ ← φ + v``. They are the same under ``θ = φ + μv``
    (torch's parameters are the look-ahead point) and ``b = −v/γ``. The lecture's
    ``y = θ − ημv`` is that look-ahead point only in the buffer convention
    (``v ← μv + ∇f(y)``, ``θ ← θ − ηv``).

    Examples
    --------
    >>> nesterov_equivalence().result["shift"]
    mu
    """
    mu, lr, eta = given_positive(mu=mu, lr=lr, eta=eta)
    steps = as_int("steps", steps, minimum=1, maximum=6)
    G = sp.Function("g")
    phi, v, g = real("phi"), real("v"), real("g")
    a, beta = sp.symbols("a beta")
    # 1. the gradient is taken at θ (torch) and at φ + μv (look-ahead): θ = φ + a v
    shift = sp.solve(sp.Eq(phi + a * v, phi + mu * v), a)[0]
    # 2. buffers: b = βv must turn b ← μb + g into v ← μv − γg
    buffer_eq = sp.expand(beta * (mu * v - lr * g) - (mu * beta * v + g))
    scale = sp.solve(buffer_eq.coeff(g), beta)[0]

    def lookahead(phi_k: Any, v_k: Any, step: Any) -> tuple[Any, Any]:
        return _lookahead(phi_k, v_k, step, mu, G)

    phi0, v0 = real("phi_0"), real("v_0")
    box = box_of(mu=mu, lr=lr, eta=eta, value=[phi0, v0])
    gfun = {G: GRAD_TEST}
    th, bb = phi0 + shift * v0, scale * v0
    pk, vk = phi0, v0
    claims = [claim("shift", shift, mu, box), claim("buffer_scale", scale, -1 / lr, box)]
    for k in range(1, steps + 1):
        th, bb = torch_sgd_step(th, bb, G(th), lr=lr, momentum=mu, nesterov=True)
        pk, vk = lookahead(pk, vk, lr)
        claims.append(claim(f"theta_{k}", th, pk + shift * vk, box, functions=gfun, note="θ_k = φ_k + μv_k"))
    claims.append(claim(f"buffer_{steps}", bb, scale * vk, box, functions=gfun))

    lecture, offset = _lecture_claims(mu, eta, G, phi0, v0, box, min(steps, 3))
    claims += lecture
    # every derivation module ends with its results, its steps and the keyword constructor, the
    # registry's interface: their shape repeats from module to module by design (the contents differ)
    result = {
        "shift": shift,
        "buffer_scale": scale,
        "lecture_velocity_offset": offset,
    }
    steps_ = (
        (
            "torch Nesterov",
            sp.Tuple(
                sp.Eq(sp.Symbol("b_{k+1}"), mu * sp.Symbol("b_k") + G(sp.Symbol("theta_k"))),
                sp.Eq(
                    sp.Symbol("theta_{k+1}"),
                    sp.Symbol("theta_k") - lr * (G(sp.Symbol("theta_k")) + mu * sp.Symbol("b_{k+1}")),
                ),
            ),
        ),
        (
            "look-ahead (Sutskever)",
            sp.Tuple(
                sp.Eq(sp.Symbol("v_{k+1}"), mu * v - lr * G(phi + mu * v)),
                sp.Eq(sp.Symbol("phi_{k+1}"), phi + sp.Symbol("v_{k+1}")),
            ),
        ),
        ("gradient points agree", sp.Eq(phi + a * v, phi + mu * v)),
        ("buffer equation", sp.Eq(buffer_eq, 0)),
        ("change of variables", sp.Tuple(sp.Eq(sp.Symbol("theta"), phi + shift * v), sp.Eq(sp.Symbol("b"), scale * v))),
        (
            "lecture, velocity convention: $y$ minus the look-ahead point",
            sp.Eq(sp.Symbol("y") - (phi + mu * v), offset.subs({phi0: phi, v0: v})),
        ),
    )
    return Derivation(
        name="nesterov_equivalence",
        title="torch's Nesterov as the look-ahead method, and the lecture's look-ahead point",
        assumptions=assumption_texts((mu, lr, eta, phi0, v0), "$g$ is an undefined function (a general gradient)"),
        symbols={"mu": mu, "lr": lr, "eta": eta, "g": G, "phi_0": phi0, "v_0": v0},
        result=result,
        steps=steps_,
        claims=tuple(claims),
        findings=_findings(steps),
        references=(
            "Sutskever, Martens, Dahl & Hinton (2013)",
            "torch.optim.SGD(nesterov=True)",
            "the lecture, slides 'Nesterov: forma conceptual' and 'Nesterov en PyTorch'",
        ),
    )
