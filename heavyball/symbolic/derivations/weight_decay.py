"""The derivation ``weight_decay`` (see :func:`weight_decay`)."""

from __future__ import annotations

import functools
from typing import Any

import sympy as sp

from ..._validation import as_int
from ..algebra import assumption_texts, box_of, given, given_positive, real
from ..claims import Derivation, claim
from ..rules import torch_sgd_step

#: position in the catalogue of derivations
ORDER = 50

#: what the derivation shows, in words
FINDINGS = (
    "$∇J_λ = ∇J + λθ$ and one plain SGD step is $θ ← (1 − γλ)θ − γg$, as the lecture states; "
    "torch's weight decay adds $λθ$ to the gradient (coupled $L_2$).",
    "With momentum the coupled $λθ$ term also enters the buffer: after two steps coupled decay "
    "differs from decoupled decay $θ ← (1 − γλ)θ$ by $−γμλθ_0$ (they coincide only for $μ = 0$ or at "
    "the first step).",
)


@functools.cache
def weight_decay(*, lam: Any = None, lr: Any = None, mu: Any = None, dim: int = 3) -> Derivation:
    r"""Coupled L2: ``∇J_λ = ∇J + λθ`` and one SGD step ``θ ← (1 − γλ)θ − γg``.

    Also: with momentum, torch's coupled decay (``g ← g + λθ`` before the buffer) differs
    from decoupled decay (``θ ← (1 − γλ)θ`` then the momentum step) from the second step on,
    by ``−γμλθ₀`` after two steps.

    Examples
    --------
    >>> weight_decay().result["coupled_minus_decoupled"]
    -lambda*lr*mu*theta_0
    """
    lam = given(lam, "lambda", positive=True)
    lr, mu = given_positive(lr=lr, mu=mu)
    dim = as_int("dim", dim, minimum=1, maximum=4)
    xs = sp.symbols(f"theta1:{dim + 1}", real=True)
    gs = sp.symbols(f"g1:{dim + 1}", real=True)
    J = sp.Function("J")
    Jx = J(*xs)
    J_lam = Jx + lam / 2 * sum(x**2 for x in xs)
    grad = sp.Matrix([J_lam.diff(x) for x in xs])
    step = (sp.Matrix(xs) - lr * grad).subs({Jx.diff(x): g for x, g in zip(xs, gs, strict=False)})
    # coupled (torch) and decoupled decay with momentum, two steps from θ₀ (scalar)
    theta0, g1, g2 = real("theta_0"), real("g_1"), real("g_2")
    th1, b1 = torch_sgd_step(theta0, 0, g1 + lam * theta0, lr=lr, momentum=mu, first=True)
    th2, _ = torch_sgd_step(th1, b1, g2 + lam * th1, lr=lr, momentum=mu)
    dth1, db1 = torch_sgd_step((1 - lr * lam) * theta0, 0, g1, lr=lr, momentum=mu, first=True)
    dth2, _ = torch_sgd_step((1 - lr * lam) * dth1, db1, g2, lr=lr, momentum=mu)
    coupled_minus_decoupled = sp.factor(sp.expand(th2 - dth2))
    first_step_difference = sp.expand(th1 - dth1)

    box = {**box_of(lr=lr, mu=mu, value=[*xs, *gs, theta0, g1, g2]), lam: (1e-3, 1.0)}
    jfun = {J: sp.Lambda(xs, sum(x ** (j + 2) * xs[(j + 1) % dim] for j, x in enumerate(xs)) + sp.sin(xs[-1]) * xs[0])}
    claims = (
        claim("regularized_gradient", grad, sp.Matrix([Jx.diff(x) + lam * x for x in xs]), box, functions=jfun),
        claim("sgd_step", step, (1 - lr * lam) * sp.Matrix(xs) - lr * sp.Matrix(gs), box),
        claim(
            "first_step_same",
            first_step_difference,
            sp.Integer(0),
            box,
            note="coupled and decoupled decay agree at the first step",
        ),
        claim(
            "coupled_minus_decoupled",
            coupled_minus_decoupled,
            -lr * mu * lam * theta0,
            box,
            note="... but not after the second step when μ ≠ 0",
        ),
    )
    # every derivation module ends with its results, its steps and the keyword constructor, the
    # registry's interface: their shape repeats from module to module by design (the contents differ)
    result = {
        "gradient": grad,
        "sgd_step": step,
        "coupled_minus_decoupled": coupled_minus_decoupled,
    }
    steps_ = (
        ("regularised objective", sp.Eq(sp.Symbol("J_lambda"), J_lam)),
        ("gradient", grad),
        ("one SGD step", step),
        ("two steps with momentum: coupled minus decoupled", coupled_minus_decoupled),
    )
    return Derivation(
        name="weight_decay",
        title="Weight decay as coupled L2 regularisation",
        assumptions=assumption_texts(
            (lam, lr, mu, *xs[:1], *gs[:1]),
            "$J$ is an undefined (general) function of $θ$",
            f"$θ$ has {dim} components (the identity is coordinatewise)",
        ),
        symbols={"lambda": lam, "lr": lr, "mu": mu, "J": J, "theta": sp.Matrix(xs), "g": sp.Matrix(gs)},
        result=result,
        steps=steps_,
        claims=claims,
        findings=FINDINGS,
        references=("Loshchilov & Hutter (2019), decoupled weight decay", "the lecture, slide 'Regularizacion'"),
    )
