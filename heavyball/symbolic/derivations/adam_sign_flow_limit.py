"""The derivation ``adam_sign_flow_limit`` (see :func:`adam_sign_flow_limit`)."""

from __future__ import annotations

import functools
from typing import Any

import sympy as sp

from ..algebra import assumption_texts, given_positive, pos
from ..claims import Derivation, claim

#: position in the catalogue of derivations
ORDER = 131

FINDINGS = (
    "With β fixed, Adam's moments average the gradients of the last ~1/(1 − β) steps: a time "
    "window lr/(1 − β) → 0, so the iterates follow the sign-gradient flow θ' = −g/(|g| + ε) "
    "(sign descent when ε ≪ |g|), not a heavy ball.",
    "The first-order error carries β₂/(1 − β₂) (and β₁/(1 − β₁)): with β₂ = 0.999 the window is "
    "1000 steps, so the iterates reach the flow only once lr ≪ 1 − β₂; measured on a 2-D valley the "
    "error at t = 0.8 stays near 0.15 for lr = 1e-2 … 6e-4 and halves with lr from 4e-5 on.",
)


@functools.cache
def adam_sign_flow_limit(*, beta1: Any = None, beta2: Any = None, lr: Any = None, eps: Any = None) -> Derivation:
    r"""Adam with fixed ``β₁, β₂`` and ``lr → 0``: the sign-gradient flow ``θ' = −g/(|g| + ε)``.

    An exponential moving average with weight ``1 − β`` gives a gradient ``i`` steps old the
    weight ``(1 − β)βⁱ``; the weights sum to 1 and their mean age is ``β/(1 − β)`` steps, i.e.
    ``lr·β/(1 − β)`` in the time ``t = k·lr``. For a gradient that changes linearly in time,
    ``g(t) = g₀ + g₁t``, the settled average lags by exactly that: ``m̂ = g − g₁·lr·β₁/(1 − β₁)``
    (and ``v̂ = g² − (g²)'·lr·β₂/(1 − β₂)``). As ``lr → 0`` with ``β`` fixed both lags vanish and
    ``θ' = −m̂/(√v̂ + ε) → −g/(|g| + ε)``; the error is first order in ``lr`` with a coefficient
    growing like ``1/(1 − β₂)``: the limit needs ``lr ≪ 1 − β₂`` (Ma, Wu & E 2022).

    Examples
    --------
    >>> adam_sign_flow_limit().result["mean_age"]
    beta/(1 - beta)
    """
    # the symbols passed in (another derivation may reuse this one with its own) or fresh ones;
    # the docstring example above and this opening have every derivation's shape
    beta1, beta2, lr, eps = given_positive(beta1=beta1, beta2=beta2, lr=lr, eps=eps)
    beta = pos("beta")
    i = sp.Symbol("i", integer=True, nonnegative=True)
    g, g1, q1 = pos("g"), sp.Symbol("g_1", real=True), sp.Symbol("q_1", real=True)
    t = pos("t")
    weights = (1 - beta) * sp.summation(beta**i, (i, 0, sp.oo))
    mean_age = sp.summation((1 - beta) * beta**i * i, (i, 0, sp.oo))
    # the settled average of a linear signal u(t − i·lr) = u − u₁·i·lr
    lag_average = sp.summation((1 - beta) * beta**i * (g - g1 * i * lr), (i, 0, sp.oo))
    lag1 = lr * beta1 / (1 - beta1)
    lag2 = lr * beta2 / (1 - beta2)
    m_hat = g - g1 * lag1
    v_hat = g**2 - q1 * lag2  # q₁ = (g²)' the rate of change of g²
    velocity = -m_hat / (sp.sqrt(v_hat) + eps)
    velocity_limit = sp.limit(velocity, lr, 0)
    first_order = sp.diff(velocity, lr).subs(lr, 0)
    first_order_stated = g1 * beta1 / ((1 - beta1) * (g + eps)) - g * q1 * beta2 / (
        2 * g * (1 - beta2) * (g + eps) ** 2
    )
    box = {
        beta: (0.05, 0.95),
        beta1: (0.05, 0.95),
        beta2: (0.05, 0.999),
        lr: (1e-4, 1e-2),
        eps: (1e-8, 0.1),
        g: (0.1, 3.0),
        g1: (-2.0, 2.0),
        q1: (-2.0, 2.0),
        t: (0.1, 2.0),
    }
    claims = (
        claim("weights_sum_to_one", _first_branch(weights), sp.Integer(1), box, note="Σ (1 − β)βⁱ = 1"),
        claim("mean_age", _first_branch(mean_age), beta / (1 - beta), box, note="mean age β/(1 − β) steps"),
        claim(
            "lag_of_linear_signal",
            _first_branch(lag_average),
            g - g1 * lr * beta / (1 - beta),
            box,
            note="a linear signal is averaged with the lag lr·β/(1 − β)",
        ),
        claim("sign_flow_limit", velocity_limit, -g / (g + eps), box, note="lr → 0 with β fixed: −g/(|g| + ε)"),
        claim(
            "first_order_coefficient",
            first_order,
            first_order_stated,
            box,
            note="the O(lr) term carries β₂/(1 − β₂): it is small only when lr ≪ 1 − β₂",
        ),
    )
    # every derivation module ends with its results, its steps and the keyword constructor, the
    # registry's interface: their shape repeats from module to module by design (the contents differ)
    result = {
        "mean_age": beta / (1 - beta),
        "lag_of_linear_signal": g - g1 * lr * beta / (1 - beta),
        "sign_flow_limit": velocity_limit,
        "first_order_coefficient": first_order_stated,
    }
    steps_ = (
        ("EMA weights", sp.Eq(sp.Symbol("sum_i (1-beta) beta^i"), sp.Integer(1))),
        ("mean age (steps)", sp.Eq(sp.Symbol("sum_i i (1-beta) beta^i"), beta / (1 - beta))),
        ("Adam's velocity with lagged moments", sp.Eq(sp.Symbol("theta'"), velocity)),
        ("lr -> 0, beta fixed", sp.Eq(sp.Symbol("theta'"), velocity_limit)),
        ("first order in lr", sp.Eq(sp.Symbol("d theta'/d lr"), first_order_stated)),
    )
    return Derivation(
        name="adam_sign_flow_limit",
        title="Adam with fixed betas: the sign-gradient flow",
        assumptions=assumption_texts(
            (beta, beta1, beta2, lr, eps, g), "settled moments (k(1 − β) ≫ 1); g > 0 (a coordinate's sign fixed)"
        ),
        symbols={"beta": beta, "beta1": beta1, "beta2": beta2, "lr": lr, "eps": eps, "g": g, "g_1": g1, "q_1": q1},
        result=result,
        steps=steps_,
        claims=claims,
        findings=FINDINGS,
        references=("Ma, Wu & E (2022), PMLR 145", "Kingma & Ba (2015)"),
    )


def _first_branch(expr: Any) -> Any:
    """The convergent branch (|β| < 1) of the ``Piecewise`` that ``summation`` returns."""
    folded = sp.piecewise_fold(expr)
    return folded.args[0][0] if isinstance(folded, sp.Piecewise) else folded
