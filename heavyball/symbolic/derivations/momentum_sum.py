"""The derivation ``momentum_sum`` (see :func:`momentum_sum`)."""

from __future__ import annotations

import functools
from typing import Any

import sympy as sp

from ..._validation import as_int
from ..algebra import BOX, LAMBDA_X, assumption_texts, box_of, generic_branch, given_positive, peel, pos, real
from ..claims import Derivation, claim
from ..rules import torch_sgd_step

#: position in the catalogue of derivations
ORDER = 30

#: what the derivation shows, in words
FINDINGS = (
    "With torch's indexing ($g_t = ∇J(θ_{t−1})$, $b_1 = g_1$) the unrolled step is "
    "$θ_t = θ_{t−1} − γ∑_{i=1}^{t} μ^{t−i}g_i$. The lecture writes "
    "$θ_{t+1} = θ_t − γ∑_{i=1}^{t} μ^{t−i}g_i$, which is the same statement if $g_i$ denotes the "
    "gradient at $θ_i$ with $θ$ indexed from 1; against the lecture's own algorithm "
    "($g_t = ∇J(θ_{t−1})$) it is shifted by one index. The weights are right either way.",
    "The weights sum to $(1 − μ^t)/(1 − μ) → 1/(1 − μ)$: 10 steps of effective memory for $μ = 0.9$, "
    "as the lecture says.",
)


@functools.cache
def momentum_sum(*, mu: Any = None, lr: Any = None, steps: int = 8) -> Derivation:
    r"""Unrolling torch's momentum (λ = τ = 0, no Nesterov): weights ``μ^{t−i}`` summing to
    ``(1 − μᵗ)/(1 − μ) → 1/(1 − μ)``.

    With ``g_t = ∇J(θ_{t−1})``, ``b_1 = g_1``, ``b_t = μb_{t−1} + g_t``, ``θ_t = θ_{t−1} − γb_t``:
    ``θ_t = θ_{t−1} − γ Σ_{i=1..t} μ^{t−i} g_i`` (checked for ``t ≤ steps`` with symbolic
    gradients, and for general ``t`` by induction).

    Examples
    --------
    >>> momentum_sum().result["memory_example"]
    10
    """
    mu, lr = given_positive(mu=mu, lr=lr)
    steps = as_int("steps", steps, minimum=1, maximum=12)
    gs = sp.symbols(f"g1:{steps + 1}", real=True)
    theta0 = real("theta_0")
    t = sp.Symbol("t", integer=True, positive=True)
    i = sp.Symbol("i", integer=True, positive=True)
    r = pos("r")
    G = sp.Function("g")

    thetas, buf = [theta0], sp.Integer(0)
    for k in range(1, steps + 1):
        new, buf = torch_sgd_step(thetas[-1], buf, gs[k - 1], lr=lr, momentum=mu, first=k == 1)
        thetas.append(sp.expand(new))
    box = box_of(mu=mu, lr=lr, value=[theta0, *gs])
    claims = [
        claim(
            f"step_t{k}", thetas[k] - thetas[k - 1], -lr * sum(mu ** (k - j) * gs[j - 1] for j in range(1, k + 1)), box
        )
        for k in range(1, steps + 1)
    ]
    S = lambda T: sp.Sum(mu ** (T - i) * G(i), (i, 1, T))  # noqa: E731
    weights = generic_branch(sp.summation(mu ** (t - i), (i, 1, t)))
    weights_c = sp.factor(sp.cancel(sp.powsimp(sp.expand(weights))))
    memory = sp.limit(weights.subs(mu, sp.exp(-r)), t, sp.oo)
    memory_mu = memory.subs(r, -sp.log(mu))  # back to μ = e^{−r}
    memory_example = sp.limit(weights.subs(mu, sp.Rational(9, 10)), t, sp.oo)
    gbox = {mu: BOX["mu"], t: (1, 15)}
    gfun = {G: sp.Lambda(LAMBDA_X, sp.sin(LAMBDA_X) + LAMBDA_X / 7)}
    claims += [
        claim(
            "inductive_step",
            mu * S(t) + G(t + 1),
            peel(S(t + 1)),
            gbox,
            functions=gfun,
            note="Σ_{i≤t+1} μ^{t+1−i}g_i = μ·Σ_{i≤t} μ^{t−i}g_i + g_{t+1}: the recurrence b_{t+1} = μb_t + g_{t+1}",
        ),
        claim("base_case", S(1).doit(), G(1), gbox, functions=gfun),
        claim(
            "step",
            -lr * S(t),
            -lr * (mu * S(t - 1) + G(t)),
            {**gbox, lr: BOX["lr"]},
            region={S(t): peel(S(t))},
            functions=gfun,
            note="θ_t − θ_{t−1} = −γb_t with b_t = μb_{t−1} + g_t: the closed form solves torch's recurrence",
        ),
        claim(
            f"theta_{steps}",
            thetas[-1],
            theta0 - lr * sum(mu ** (k - j) * gs[j - 1] for k in range(1, steps + 1) for j in range(1, k + 1)),
            box,
        ),
        claim("weight_sum", weights_c, (1 - mu**t) / (1 - mu), gbox, note="Σ_{i=1..t} μ^{t−i} = (1 − μᵗ)/(1 − μ)"),
        claim("memory", memory, 1 / (1 - sp.exp(-r)), {r: (0.01, 3.0)}, note="t → ∞ with μ = e^{−r} < 1"),
        claim("memory_in_mu", memory_mu, 1 / (1 - mu), {mu: BOX["mu"]}, note="the same limit, 1/(1 − μ)"),
        claim("memory_example", memory_example, sp.Integer(10), {}, note="μ = 0.9 → 10 steps of memory"),
    ]
    # every derivation module ends with its results, its steps and the keyword constructor, the
    # registry's interface: their shape repeats from module to module by design (the contents differ)
    result = {
        f"theta_{steps}": thetas[-1],
        "step": sp.Eq(sp.Symbol("theta_t") - sp.Symbol("theta_{t-1}"), -lr * S(t)),
        "weight_sum": weights_c,
        "memory": sp.Eq(sp.Symbol("M_inf"), memory_mu),
        "memory_example": memory_example,
    }
    steps_ = (
        ("unrolled, $t = 3$", sp.Eq(sp.Symbol("theta_3"), thetas[min(3, steps)])),
        ("induction", sp.Eq(peel(S(t + 1)), mu * S(t) + G(t + 1))),
        ("weights", sp.Eq(sp.Sum(mu ** (t - i), (i, 1, t)), weights_c)),
        ("limit, $μ = 9/10$", sp.Eq(sp.Symbol("M_inf"), memory_example)),
    )
    return Derivation(
        name="momentum_sum",
        title="Unrolling torch's momentum buffer",
        assumptions=assumption_texts(
            (mu, lr, t, *gs[:2]),
            "weight decay $λ = 0$, dampening $τ = 0$, no Nesterov",
            "$g_1, g_2, …$ are arbitrary (symbolic) gradients; $g(i)$ an undefined function in the induction",
        ),
        symbols={"mu": mu, "lr": lr, "t": t, "g": G, **{f"g{k}": gs[k - 1] for k in range(1, steps + 1)}},
        result=result,
        steps=steps_,
        claims=tuple(claims),
        findings=FINDINGS,
        references=("torch.optim.SGD documentation", "the lecture, slide 'Interpretacion del momento'"),
    )
