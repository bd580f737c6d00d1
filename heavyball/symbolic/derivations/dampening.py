"""The derivation ``dampening`` (see :func:`dampening`)."""

from __future__ import annotations

import functools
from typing import Any

import sympy as sp

from ..._validation import as_int
from ..algebra import BOX, LAMBDA_X, assumption_texts, box_of, given, peel
from ..claims import Derivation, claim
from ..rules import torch_sgd_step

#: position in the catalogue of derivations
ORDER = 40

#: what the derivation shows, in words
FINDINGS = (
    "torch's buffer is $b_t = μ^{t−1}g_1 + (1 − τ)∑_{k=2}^{t} μ^{t−k}g_k$: the first gradient enters "
    "undamped because torch sets $b_1 = g_1$ (dampening starts at the second step).",
    "The lecture's $v_t = μ^t g_1 + (1 − τ)∑_{k=1}^{t} μ^{t−k}g_k$ differs from it by $μ^{t−1}(μ − τ)g_1$. "
    "It solves the same recurrence $v_t = μv_{t−1} + (1 − τ)g_t$ but started from $v_0 = g_1$, so at "
    "$t = 1$ it gives $(1 + μ − τ)g_1$ instead of $g_1$; with $τ = 0$ it counts $g_1$ twice "
    "($μ^t g_1$ extra). The two agree only when $τ = μ$ (or $g_1 = 0$). The lecture's recurrence "
    "$v_{t+1} = μv_t + (1 − τ)g_t$ is also shifted by one index against its algorithm slide.",
)


@functools.cache
def dampening(*, mu: Any = None, tau: Any = None, steps: int = 8) -> Derivation:
    r"""torch's buffer with dampening τ: ``b_t = μ^{t−1}g₁ + (1−τ)Σ_{k=2..t} μ^{t−k}g_k``.

    torch sets ``b_1 = g_1`` (no dampening at the first step) and then
    ``b_t = μb_{t−1} + (1−τ)g_t``. The lecture's ``v_t = μᵗg₁ + (1−τ)Σ_{k=1..t} μ^{t−k}g_k``
    exceeds it by ``μ^{t−1}(μ − τ)g₁``.

    Examples
    --------
    >>> d = dampening()
    >>> d.result["lecture_minus_torch"]
    mu**(t - 1)*(mu - tau)*g(1)
    """
    mu, tau = given(mu, "mu", positive=True), given(tau, "tau", nonnegative=True)
    steps = as_int("steps", steps, minimum=1, maximum=12)
    gs = sp.symbols(f"g1:{steps + 1}", real=True)
    t = sp.Symbol("t", integer=True, positive=True)
    k = sp.Symbol("k", integer=True, positive=True)
    G = sp.Function("g")

    bufs, buf = [], sp.Integer(0)
    for j in range(1, steps + 1):
        _, buf = torch_sgd_step(0, buf, gs[j - 1], lr=0, momentum=mu, dampening=tau, first=j == 1)
        bufs.append(sp.expand(buf))
    box = box_of(mu=mu, tau=tau, value=list(gs))
    closed = lambda j: mu ** (j - 1) * gs[0] + (1 - tau) * sum(mu ** (j - q) * gs[q - 1] for q in range(2, j + 1))  # noqa: E731
    claims = [claim(f"closed_form_t{j}", bufs[j - 1], closed(j), box) for j in range(1, steps + 1)]

    B = lambda T: mu ** (T - 1) * G(1) + (1 - tau) * sp.Sum(mu ** (T - k) * G(k), (k, 2, T))  # noqa: E731
    L = lambda T: mu**T * G(1) + (1 - tau) * sp.Sum(mu ** (T - k) * G(k), (k, 1, T))  # noqa: E731
    difference = sp.factor(sp.expand(peel(L(t), end="first") - B(t)))
    tau_equal = sp.solve(difference, tau)
    gbox = {mu: BOX["mu"], tau: BOX["tau"], t: (1, 15)}
    zbox = {mu: BOX["mu"], tau: BOX["tau"]}
    gfun = {G: sp.Lambda(LAMBDA_X, sp.cos(LAMBDA_X) + LAMBDA_X / 5)}
    claims += [
        claim("closed_form_base", B(1).doit(), G(1), zbox, functions=gfun),
        claim(
            "closed_form_induction",
            B(t),
            mu * B(t - 1) + (1 - tau) * G(t),
            {**gbox, t: (2, 15)},
            region={s: peel(s) for s in B(t).atoms(sp.Sum)},
            functions=gfun,
            note="the closed form satisfies b_t = μb_{t−1} + (1−τ)g_t for every t ≥ 2",
        ),
        claim("lecture_minus_torch", difference, mu ** (t - 1) * (mu - tau) * G(1), gbox, functions=gfun),
        claim(
            "lecture_recurrence",
            L(t),
            mu * L(t - 1) + (1 - tau) * G(t),
            gbox,
            region={s: peel(s) for s in L(t).atoms(sp.Sum)},
            functions=gfun,
            note="the lecture's formula satisfies the same recurrence",
        ),
        claim("lecture_start", L(0).doit(), G(1), zbox, functions=gfun, note="... started from v_0 = g_1"),
        claim("lecture_first_step", L(1).doit(), (1 + mu - tau) * G(1), zbox, functions=gfun),
        claim("agree_iff_tau_equals_mu", sp.Tuple(*tau_equal), sp.Tuple(mu), zbox),
    ]
    # every derivation module ends with its results, its steps and the keyword constructor, the
    # registry's interface: their shape repeats from module to module by design (the contents differ)
    result = {
        "torch_closed_form": sp.Eq(sp.Symbol("b_t"), B(t)),
        "lecture_closed_form": sp.Eq(sp.Symbol("v_t"), L(t)),
        "lecture_minus_torch": difference,
        f"b_{steps}": bufs[-1],
    }
    steps_ = (
        ("torch, $t = 3$", sp.Eq(sp.Symbol("b_3"), bufs[min(3, steps) - 1])),
        ("induction", sp.Eq(peel(B(t + 1)), mu * B(t) + (1 - tau) * G(t + 1))),
        ("lecture minus torch (split $k = 1$ off the lecture's sum)", sp.Eq(L(t) - B(t), difference)),
    )
    return Derivation(
        name="dampening",
        title="Dampening: torch's closed form against the lecture's",
        assumptions=assumption_texts(
            (mu, tau, t, *gs[:2]),
            "weight decay 0, no Nesterov; $b_1 = g_1$ as in torch",
            "$g(k)$ is an undefined function in the identities for general $t$",
        ),
        symbols={"mu": mu, "tau": tau, "t": t, "g": G, **{f"g{j}": gs[j - 1] for j in range(1, steps + 1)}},
        result=result,
        steps=steps_,
        claims=tuple(claims),
        findings=FINDINGS,
        references=("torch.optim.SGD source (torch/optim/sgd.py)", "the lecture, slide 'Interpretacion geometrica'"),
    )
