"""The derivation ``optimal_parameters`` (see :func:`optimal_parameters`)."""

from __future__ import annotations

import functools
from typing import Any

import sympy as sp

from ..algebra import assumption_texts, given_positive, pos
from ..claims import Derivation, claim
from ..twins import Twin

#: position in the catalogue of derivations
ORDER = 90

#: what the derivation shows, in words
FINDINGS = (
    "Polyak's tuning follows from the equal-ripple conditions: $γ^* = 4/(√h_max + √h_min)²$, "
    "$μ^* = ((√κ − 1)/(√κ + 1))²$, and every curvature in $[h_min, h_max]$ then has complex or "
    "double roots of modulus $√(μ^*) = (√κ − 1)/(√κ + 1)$ (9/11 for $κ = 100$, $h_max = 1$).",
    "Gradient descent: $γ = 2/(h_min + h_max)$, rate $(κ − 1)/(κ + 1)$ (99/101 for $κ = 100$).",
    "Nesterov at $γ = 1/h_max$, $μ = (√κ − 1)/(√κ + 1)$: $h_min$ sits exactly at critical damping "
    "(double root $1 − 1/√κ$), larger curvatures have complex roots of smaller modulus, so the "
    "rate is $1 − 1/√κ$ (0.9 for $κ = 100$).",
)


def _twin(key: str) -> Twin:
    """``result[key]`` against the same field of :func:`heavyball.rates.optimal_parameters`."""
    tuning, _, field = key.partition("_")
    tuning = {"polyak": "heavyball"}.get(tuning, tuning)
    return Twin(
        "heavyball.rates.optimal_parameters",
        lambda f, h_min, h_max: getattr(f(h_min, h_max, tuning=tuning), field),
        domain=((0.01, 1.0), (1.0, 100.0)),
        note=f"the library's {tuning} tuning, field {field}",
    )


@functools.cache
def optimal_parameters(*, h_min: Any = None, h_max: Any = None) -> Derivation:
    r"""Polyak's optimal heavy ball, optimal GD and tuned Nesterov on ``[h_min, h_max]``.

    Heavy ball: the equal-ripple conditions ``1 + μ − γh_min = 2√μ`` and
    ``1 + μ − γh_max = −2√μ`` give ``γ* = 4/(√h_max + √h_min)²``,
    ``μ* = ((√κ − 1)/(√κ + 1))²`` and the rate ``(√κ − 1)/(√κ + 1)``. GD:
    ``γ = 2/(h_min + h_max)``, rate ``(κ − 1)/(κ + 1)``. Nesterov at ``γ = 1/h_max``,
    ``μ = (√κ − 1)/(√κ + 1)``: rate ``1 − 1/√κ``.

    The algebra is done with ``h_max = h_min(1 + δ)²`` (``δ = √κ − 1 > 0``), which makes
    every square root sign-definite; results are reported in ``(h_min, h_max)``.

    Examples
    --------
    >>> from sympy import Rational
    >>> d = optimal_parameters()
    >>> d.result["polyak_rate"].subs({d.symbols["h_min"]: Rational(1, 100), d.symbols["h_max"]: 1})
    9/11
    """
    h_min, h_max = given_positive(h_min=h_min, h_max=h_max)
    delta, h = pos("delta"), pos("h")
    r, gamma, mu = sp.symbols("r gamma mu")
    hmax_d = h_min * (1 + delta) ** 2
    kappa = hmax_d / h_min
    sk = sp.sqrt(kappa)  # = 1 + δ
    # Polyak: both extreme curvatures at the edge of the complex region, opposite signs
    eqs = [sp.Eq(1 + r**2 - gamma * h_min, 2 * r), sp.Eq(1 + r**2 - gamma * hmax_d, -2 * r)]
    sols = sp.solve(eqs, [r, gamma], dict=True)
    chosen = [s for s in sols if sp.factor(s[r] - 1).is_negative and sp.factor(s[r]).is_positive]
    polyak = chosen[0]
    p_lr, p_r = sp.factor(polyak[gamma]), sp.factor(polyak[r])
    p_mu = sp.factor(p_r**2)
    disc_at = sp.factor((1 + p_mu - p_lr * h) ** 2 - 4 * p_mu)
    # gradient descent: equal ripple |1 − γh_min| = |1 − γh_max|
    g_lr = sp.solve(sp.Eq(1 - gamma * h_min, -(1 - gamma * hmax_d)), gamma)[0]
    g_rate = sp.factor(1 - g_lr * h_min)
    # Nesterov at the standard tuning
    n_lr, n_mu = 1 / hmax_d, (sk - 1) / (sk + 1)
    x = sp.Symbol("x")  # x = 1 − γh
    z = sp.Symbol("z")
    p_n = z**2 - (1 + mu) * x * z + mu * x
    disc_n = sp.factor(sp.discriminant(p_n, z))
    threshold = sp.factor(sp.solve(disc_n / x, x)[0].subs(mu, n_mu))
    x_min = 1 - n_lr * h_min
    n_disc_min = sp.factor(disc_n.subs({mu: n_mu, x: x_min}))
    n_rate = sp.factor(((1 + mu) * x / 2).subs({mu: n_mu, x: x_min}))
    n_modulus = sp.sqrt(sp.factor(n_mu * x_min))

    to_h = {delta: sp.sqrt(h_max / h_min) - 1}
    in_h = lambda e: sp.factor(e.subs(to_h))  # noqa: E731
    K = h_max / h_min
    box = {h_min: (0.01, 2.0), delta: (0.01, 30.0), h: (0.01, 50.0)}
    hbox = {h_min: (0.01, 1.0), h_max: (1.0, 100.0)}
    example = {h_min: sp.Rational(1, 100), delta: 9}
    claims = (
        claim("polyak_lr", p_lr, 4 / (sp.sqrt(hmax_d) + sp.sqrt(h_min)) ** 2, box),
        claim("polyak_momentum", p_mu, ((sk - 1) / (sk + 1)) ** 2, box),
        claim("polyak_rate", p_r, (sk - 1) / (sk + 1), box, note="the modulus √μ* of every root"),
        claim(
            "polyak_equal_ripple",
            disc_at,
            p_lr**2 * (h - h_min) * (h - hmax_d),
            box,
            note="≤ 0 on [h_min, h_max]: all roots complex or double, modulus √μ*",
        ),
        claim(
            "polyak_example",
            sp.Tuple(p_lr, p_mu, p_r).subs(example),
            sp.Tuple(sp.Rational(400, 121), sp.Rational(81, 121), sp.Rational(9, 11)),
            {},
        ),
        claim("gd_lr", g_lr, 2 / (h_min + hmax_d), box),
        claim("gd_rate", g_rate, (kappa - 1) / (kappa + 1), box),
        claim("gd_example", g_rate.subs(example), sp.Rational(99, 101), {}),
        claim("nesterov_threshold", threshold, 1 - 1 / kappa, box, note="roots complex iff 0 < 1 − γh < 1 − 1/κ"),
        claim("nesterov_critical_at_h_min", n_disc_min, sp.Integer(0), box),
        claim("nesterov_rate", n_rate, 1 - 1 / sk, box),
        claim("nesterov_modulus_at_h_min", n_modulus, 1 - 1 / sk, box),
        claim("nesterov_example", n_rate.subs(example), sp.Rational(9, 10), {}),
        claim("polyak_lr_in_h", in_h(p_lr), 4 / (sp.sqrt(h_max) + sp.sqrt(h_min)) ** 2, hbox),
        claim("polyak_momentum_in_h", in_h(p_mu), ((sp.sqrt(K) - 1) / (sp.sqrt(K) + 1)) ** 2, hbox),
        claim("polyak_rate_in_h", in_h(p_r), (sp.sqrt(K) - 1) / (sp.sqrt(K) + 1), hbox),
        claim("gd_lr_in_h", in_h(g_lr), 2 / (h_min + h_max), hbox),
        claim("gd_rate_in_h", in_h(g_rate), (K - 1) / (K + 1), hbox),
        claim("nesterov_rate_in_h", in_h(n_rate), 1 - 1 / sp.sqrt(K), hbox),
    )
    # every derivation module ends with its results, its steps and the keyword constructor, the
    # registry's interface: their shape repeats from module to module by design (the contents differ)
    result = {
        "polyak_lr": in_h(p_lr),
        "polyak_momentum": in_h(p_mu),
        "polyak_rate": in_h(p_r),
        "gd_lr": in_h(g_lr),
        "gd_rate": in_h(g_rate),
        "nesterov_lr": 1 / h_max,
        "nesterov_momentum": in_h(n_mu),
        "nesterov_rate": in_h(n_rate),
    }
    steps_ = (
        ("equal-ripple conditions ($r = √μ$, $h_max = h_min(1 + δ)²$)", sp.Tuple(*eqs)),
        ("solutions", sp.Tuple(*[sp.Tuple(s[r], s[gamma]) for s in sols])),
        ("discriminant at the optimum", sp.Eq(sp.Symbol("D(h)"), disc_at)),
        ("GD equal ripple", sp.Eq(1 - gamma * h_min, -(1 - gamma * hmax_d))),
        ("Nesterov discriminant, $x = 1 − γh$", sp.Eq(sp.Symbol("D_N"), disc_n)),
    )
    sig = (h_min, h_max)
    return Derivation(
        name="optimal_parameters",
        title="Optimal parameters on a spectrum $[h_min, h_max]$: Polyak, GD, Nesterov",
        assumptions=assumption_texts(
            (h_min, h_max, delta),
            "$0 < h_min < h_max$; $κ = h_max/h_min$; $δ = √κ − 1 > 0$",
            "the heavy-ball, Nesterov and GD characteristic polynomials (see the derivation characteristic polynomials)",
        ),
        symbols={"h_min": h_min, "h_max": h_max, "delta": delta, "h": h},
        result=result,
        steps=steps_,
        claims=claims,
        findings=FINDINGS,
        signatures={key: sig for key in result},
        twins={key: _twin(key) for key in result},
        references=("Polyak (1964)", "Nesterov (1983)", "Lessard, Recht & Packard (2016)"),
    )
