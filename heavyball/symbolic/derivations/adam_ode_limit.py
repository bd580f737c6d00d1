"""The derivation ``adam_ode_limit`` (see :func:`adam_ode_limit`)."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import sympy as sp

from ..algebra import assumption_texts, given_positive, pos, real
from ..claims import Derivation, claim
from ..twins import Twin

#: position in the catalogue of derivations
ORDER = 130

FINDINGS = (
    "With $lr = s$, $β₁ = 1 − as$, $β₂ = 1 − bs$, one step of torch's Adam divided by $s$ is exactly "
    "$m' = a(g − m)$, $v' = b(g² − v)$ evaluated at the old moments, and the bias corrections "
    "$1 − β^k$ become $1 − e^{−at}$ with a relative error of order $s$ "
    "($log β₁^{t/s} = −at − a²ts/2 + …$): the iterates follow the Adam ODE to first order, which "
    "the measured order (about 1.00 on three problems) confirms.",
    "The hatted moments obey $m̂' = a(g − m̂)/(1 − e^{−at})$, whose coefficient is $1/t + a/2 + O(t)$ "
    "near 0: a regular singular point. The bounded solution starts at $m̂(0) = g(0)$ with slope "
    "$g'(0)/2$ (and $v̂$ likewise), which is how AdamODE starts its solver at a small $t₀$.",
)


def _moment_rates(g: Any, m_prev: Any, v_prev: Any, *, beta1: Any, beta2: Any, s: Any) -> tuple[Any, Any, Any]:
    """One step of torch's moments (``exp_avg.lerp_(g, 1 − β1)``,
    ``exp_avg_sq.mul_(β2).addcmul_(g, g, value=1 − β2)``): ``m_k`` and both moments' changes
    divided by the step ``s``."""
    m_next = m_prev + (1 - beta1) * (g - m_prev)
    v_next = beta2 * v_prev + (1 - beta2) * g**2
    return m_next, sp.expand((m_next - m_prev) / s), sp.expand((v_next - v_prev) / s)


def _hatted_rate(g: Any, m_hat: Any, *, a: Any, t: Any) -> Any:
    """``m̂'`` of ``m̂ = M/(1 − e^{−at})`` along ``M' = a(g − M)``, written in ``m̂``."""
    M = sp.Function("M")(t)
    corr = 1 - sp.exp(-a * t)
    return sp.diff(M / corr, t).subs(sp.Derivative(M, t), a * (g - M)).subs(M, m_hat * corr)


def _start_slope(rate: Any, t: Any, *, u0: Any, u1: Any, x1: Any) -> Any:
    """The slope ``x₁`` of a smooth solution ``x = u₀ + x₁t`` of ``x' = rate·(u − x)`` against
    ``u = u₀ + u₁t``: the O(1) balance at ``t → 0`` (``rate`` singular like ``1/t``)."""
    balance = sp.limit(rate * ((u0 + u1 * t) - (u0 + x1 * t)), t, 0) - x1
    return sp.solve(balance, x1)[0]


def _twins() -> dict[str, Twin]:
    """AdamODE's coefficient of the hatted moments, ``a/(1 − e^{−at})`` evaluated as ``a/(−expm1(−at))``."""
    return {
        "bias_rate": Twin(
            function="heavyball.adam_ode._bias_rate",
            call=lambda fn, a_, t_: np.asarray(fn(a_, t_), dtype=float),
            domain=((0.1, 5.0), (1e-6, 5.0)),
            note="AdamODE's coefficient a/(−expm1(−at)), down to t = 1e-6",
        )
    }


@functools.cache
def adam_ode_limit(*, a: Any = None, b: Any = None, s: Any = None, eps: Any = None) -> Derivation:
    r"""torch's Adam with ``lr = s``, ``β₁ = 1 − a·s``, ``β₂ = 1 − b·s`` to first order in ``s``:
    the ODE ``θ' = −m̂/(√(v̂) + ε)``, ``m̂' = a(g − m̂)/(1 − e^{−at})``, ``v̂' = b(g² − v̂)/(1 − e^{−bt})``.

    One step, divided by ``s``: ``(m_k − m_{k−1})/s = a(g_k − m_{k−1})`` exactly, so ``m' = a(g − m)``
    (and ``v' = b(g² − v)``); the bias correction ``1 − β₁^k`` at ``k = t/s`` is
    ``1 − exp((t/s)·log(1 − as)) = 1 − e^{−at}(1 − a²ts/2 + O(s²))``; differentiating
    ``m̂ = m/(1 − e^{−at})`` along ``m' = a(g − m)`` gives the ``m̂`` equation. Near ``t = 0`` its
    coefficient is ``a/(1 − e^{−at}) = 1/t + a/2 + a²t/12 + O(t²)``, and a smooth solution has
    ``m̂₁ = g₁/2`` (the series start of :class:`~heavyball.AdamODE`). Barakat & Bianchi (2021)
    state the ODE in the un-hatted form.

    Examples
    --------
    >>> adam_ode_limit().result["m_hat_rate"]
    a*(g - m_hat)/(1 - exp(-a*t))
    """
    a, b, s, eps = given_positive(a=a, b=b, s=s, eps=eps)
    t = pos("t")
    g, m_prev, v_prev, m_hat = real("g"), real("m_prev"), pos("v_prev"), real("m_hat")
    beta1 = 1 - a * s
    m_next, m_rate, v_rate = _moment_rates(g, m_prev, v_prev, beta1=beta1, beta2=1 - b * s, s=s)
    # the bias correction at k = t/s
    log_series = sp.series((t / s) * sp.log(beta1), s, 0, 2).removeO()
    power_limit = sp.limit(beta1 ** (t / s), s, 0)
    m_hat_rate_derived = _hatted_rate(g, m_hat, a=a, t=t)
    m_hat_rate = a * (g - m_hat) / (1 - sp.exp(-a * t))
    bias_rate = a / (1 - sp.exp(-a * t))
    rate_series = sp.series(bias_rate, t, 0, 2).removeO()
    u1 = real("u_1")
    x1_solution = _start_slope(bias_rate, t, u0=real("u_0"), u1=u1, x1=real("x_1"))
    box = {
        a: (0.1, 5.0),
        b: (0.1, 5.0),
        s: (1e-4, 0.05),
        t: (0.05, 5.0),
        g: (-3.0, 3.0),
        m_prev: (-3.0, 3.0),
        v_prev: (0.1, 4.0),
        m_hat: (-3.0, 3.0),
        u1: (-3.0, 3.0),
    }
    claims = (
        claim("first_moment_rate", m_rate, a * (g - m_prev), box, note="(m_k − m_{k−1})/s = a(g − m_{k−1}) exactly"),
        claim("second_moment_rate", v_rate, b * (g**2 - v_prev), box, note="(v_k − v_{k−1})/s = b(g² − v_{k−1})"),
        claim("bias_power_limit", power_limit, sp.exp(-a * t), box, note="β₁^{t/s} → e^{−at} as s → 0"),
        claim(
            "bias_power_first_order",
            log_series,
            -a * t - a**2 * t * s / 2,
            box,
            note="log β₁^{t/s} = −at − a²ts/2 + O(s²): the correction is first order in s",
        ),
        claim(
            "m_hat_rate", m_hat_rate_derived, m_hat_rate, box, note="m_hat = m/(1 − e^{−at}) obeys the hatted equation"
        ),
        claim(
            "bias_rate_series",
            rate_series,
            1 / t + a / 2 + a**2 * t / 12,
            box,
            note="a/(1 − e^{−at}) = 1/t + a/2 + a²t/12 + O(t²): singular like 1/t",
        ),
        claim("series_start_slope", x1_solution, u1 / 2, box, note="a smooth solution starts with m_hat₁ = g₁/2"),
    )
    # every derivation module ends with its results, its steps and the keyword constructor, the
    # registry's interface: their shape repeats from module to module by design (the contents differ)
    result = {
        "first_moment_rate": m_rate,
        "bias_power_limit": power_limit,
        "m_hat_rate": m_hat_rate,
        "bias_rate": bias_rate,
        "series_start_slope": x1_solution,
    }
    steps_ = (
        ("torch's first moment with $β₁ = 1 − as$", sp.Eq(sp.Symbol("m_k"), m_next)),
        ("divided by s", sp.Eq(sp.Symbol("(m_k - m_{k-1})/s"), m_rate)),
        ("bias correction at k = t/s", sp.Eq(sp.Symbol("log beta1^k"), log_series)),
        ("hatted moment $m̂ = m/(1 − e^{−at})$", sp.Eq(sp.Symbol("m_hat'"), m_hat_rate)),
        ("the singular coefficient near t = 0", sp.Eq(sp.Symbol("a/(1 - e^{-at})"), rate_series)),
    )
    return Derivation(
        name="adam_ode_limit",
        title="Adam's ODE as the first-order limit of torch's update",
        assumptions=assumption_texts((a, b, s, eps, t), "β₁ = 1 − a·s, β₂ = 1 − b·s, time t = k·s"),
        symbols={"a": a, "b": b, "s": s, "eps": eps, "t": t, "g": g},
        result=result,
        steps=steps_,
        claims=claims,
        findings=FINDINGS,
        signatures={"bias_rate": (a, t)},
        twins=_twins(),
        references=(
            "Barakat & Bianchi (2021), SIAM J. Optim. 31(1)",
            "Belotto da Silva & Gazeau (2020), JMLR 21(129)",
        ),
    )
