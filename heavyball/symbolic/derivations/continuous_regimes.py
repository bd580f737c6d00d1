"""The derivation ``continuous_regimes`` (see :func:`continuous_regimes`)."""

from __future__ import annotations

import functools
from typing import Any

import sympy as sp

from ..algebra import BOX, assumption_texts, given_positive, pos, real
from ..claims import Derivation, claim
from ..twins import Twin

#: position in the catalogue of derivations
ORDER = 100

#: what the derivation shows, in words
FINDINGS = (
    "$θ = e^{st}$ turns $mθ'' + cθ' + hθ = 0$ into $ms² + cs + h = 0$; critical damping is $c = 2√(mh)$.",
    "Decay rate: $c/(2m)$ when underdamped or critical ($√(h/m)$ at $c = 2√(mh)$); "
    "$(c − √(c² − 4mh))/(2m)$ when overdamped, i.e. $(c − √max(c² − 4mh, 0))/(2m)$ everywhere.",
    "For fixed $c$ the rate is non-decreasing in $h$, so the smallest curvature is the slowest; past "
    "critical damping more friction slows it. The fastest uniform decay over $[h_min, h_max]$ is "
    "therefore critical damping of $h_min$: $c^* = 2√(m h_min)$, rate $√(h_min/m)$.",
)


def _twins() -> dict[str, Twin]:
    """The results that the library computes too."""
    return {
        "rate": Twin(
            "heavyball.rates.continuous_rate",
            lambda f, m, c, h: [f(mi, ci, [hi]) for mi, ci, hi in zip(m, c, h, strict=True)],
            domain=(BOX["m"], BOX["c"], BOX["h"]),
            note="the decay rate against the library's",
        ),
        "optimal_c": Twin(
            "heavyball.rates.optimal_damping", lambda f, m, h_min: f(m, h_min), domain=(BOX["m"], BOX["h"])
        ),
    }


def _characteristic(ode: Any, theta: Any, t: Any, s: Any, *, m: Any, c: Any) -> tuple[Any, Any, Any, Any]:
    """The ansatz ``θ = e^{st}`` in the linear ``ode``: its characteristic polynomial in ``s``,
    the discriminant, and the roots ``s₊ = (−c + √disc)/(2m)`` and ``s₋``."""
    char = sp.expand(sp.simplify(ode.subs(theta, sp.exp(s * t)).doit() / sp.exp(s * t)))
    roots = sp.solve(char, s)
    disc = sp.discriminant(char, s)
    s_plus = next(r for r in roots if sp.expand(r - (-c + sp.sqrt(disc)) / (2 * m)) == 0)
    s_minus = next(r for r in roots if r is not s_plus)
    return char, disc, s_plus, s_minus


@functools.cache
def continuous_regimes(*, m: Any = None, c: Any = None, h: Any = None) -> Derivation:
    r"""Roots of ``m s² + c s + h = 0``, critical damping ``c = 2√(mh)``, decay rates, and the
    fastest uniform decay over ``[h_min, h_max]``: ``c* = 2√(m h_min)``, rate ``√(h_min/m)``.

    The decay rate of ``m θ'' + c θ' + hθ = 0`` is ``c/(2m)`` (under- and critically damped)
    and ``(c − √(c² − 4mh))/(2m)`` (overdamped), i.e. ``(c − √max(c² − 4mh, 0))/(2m)``.

    Examples
    --------
    >>> continuous_regimes().result["critical_c"]
    2*sqrt(h)*sqrt(m)
    """
    m, c, h = given_positive(m=m, c=c, h=h)
    h_min, w, t = pos("h_min"), pos("w"), real("t")
    s = sp.Symbol("s")
    theta = sp.Function("theta")
    ode = m * theta(t).diff(t, 2) + c * theta(t).diff(t) + h * theta(t)
    char, disc, s_plus, s_minus = _characteristic(ode, theta(t), t, s, m=m, c=c)
    crit = next(x for x in sp.solve(disc, c) if x.is_positive)
    # underdamped: c² − 4mh = −w < 0
    under = {h: (c**2 + w) / (4 * m)}
    rate_under = sp.factor(-sp.re(s_plus.subs(under)))
    rate_over = sp.factor(-s_plus)
    rate_crit = sp.factor(rate_under.subs(c, crit))
    rate = (c - sp.sqrt(sp.Max(c**2 - 4 * m * h, 0))) / (2 * m)
    d_rate_dh, d_rate_dc = sp.diff(rate_over, h), sp.diff(rate_over, c)
    c_star = crit.subs(h, h_min)
    rate_star = sp.factor(rate_crit.subs(h, h_min))

    box = {m: BOX["m"], c: BOX["c"], h: BOX["h"]}
    over_where = c**2 > 4 * m * h
    under_where = c**2 < 4 * m * h
    claims = (
        claim("characteristic_equation", char, m * s**2 + c * s + h, {**box, s: (-3.0, 3.0)}),
        claim("vieta_sum", s_plus + s_minus, -c / m, box),
        claim("vieta_product", s_plus * s_minus, h / m, box),
        claim("s_plus", s_plus, (-c + sp.sqrt(c**2 - 4 * m * h)) / (2 * m), box),
        claim("s_minus", s_minus, (-c - sp.sqrt(c**2 - 4 * m * h)) / (2 * m), box),
        claim("discriminant", disc, c**2 - 4 * m * h, box, note="c² − 4mh: its sign decides the regime"),
        claim("critical_damping", crit, 2 * sp.sqrt(m * h), box),
        claim("rate_underdamped", rate_under, c / (2 * m), {m: BOX["m"], c: BOX["c"], w: (0.01, 10.0)}),
        claim("rate_overdamped", rate_over, (c - sp.sqrt(c**2 - 4 * m * h)) / (2 * m), box, where=over_where),
        claim("rate_critical", rate_crit, sp.sqrt(h / m), box),
        claim(
            "rate_formula_underdamped", rate, c / (2 * m), box, where=under_where, region={c: sp.sqrt(4 * m * h - w)}
        ),
        claim("rate_formula_overdamped", rate, rate_over, box, where=over_where, region={c: sp.sqrt(4 * m * h + w)}),
        claim(
            "rate_increasing_in_h",
            d_rate_dh,
            1 / sp.sqrt(c**2 - 4 * m * h),
            box,
            where=over_where,
            note="overdamped: the slowest curvature is the smallest",
        ),
        claim("rate_decreasing_in_c", d_rate_dc, (1 - c / sp.sqrt(c**2 - 4 * m * h)) / (2 * m), box, where=over_where),
        claim(
            "rate_decreasing_in_c_sign",
            (c / sp.sqrt(c**2 - 4 * m * h)) ** 2 - 1,
            4 * m * h / (c**2 - 4 * m * h),
            box,
            where=over_where,
            note="c/√(c² − 4mh) > 1, so more friction past critical slows the decay",
        ),
        claim("optimal_damping", c_star, 2 * sp.sqrt(m * h_min), {m: BOX["m"], h_min: BOX["h"]}),
        claim("optimal_rate", rate_star, sp.sqrt(h_min / m), {m: BOX["m"], h_min: BOX["h"]}),
    )
    # every derivation module ends with its results, its steps and the keyword constructor, the
    # registry's interface: their shape repeats from module to module by design (the contents differ)
    result = {
        "characteristic_equation": sp.Eq(char, 0),
        "s_plus": s_plus,
        "s_minus": s_minus,
        "discriminant": disc,
        "critical_c": crit,
        "rate_underdamped": rate_under,
        "rate_overdamped": rate_over,
        "rate": rate,
        "optimal_c": c_star,
        "optimal_rate": rate_star,
    }
    steps_ = (
        ("ansatz $θ = e^{st}$", sp.Eq(ode.subs(theta(t), sp.exp(s * t)).doit(), 0)),
        ("characteristic equation", sp.Eq(char, 0)),
        ("roots", sp.Tuple(s_plus, s_minus)),
        ("critical damping: discriminant = 0", sp.Eq(c, crit)),
        ("underdamped, $c² − 4mh = −w$", sp.Eq(sp.Symbol("s_+"), s_plus.subs(under))),
        ("decay rate", sp.Eq(sp.Symbol("r(m, c, h)"), rate)),
        ("derivatives of the rate in $h$ and in $c$ (overdamped)", sp.Tuple(d_rate_dh, d_rate_dc)),
    )
    return Derivation(
        name="continuous_regimes",
        title="Damping regimes of the heavy-ball ODE on a quadratic",
        assumptions=assumption_texts((m, c, h, h_min), "$mθ'' + cθ' + hθ = 0$ for each curvature $h$ of the quadratic"),
        symbols={"m": m, "c": c, "h": h, "h_min": h_min, "s": s},
        result=result,
        steps=steps_,
        claims=claims,
        findings=FINDINGS,
        twins=_twins(),
        signatures={
            "s_plus": (m, c, h),
            "s_minus": (m, c, h),
            "rate": (m, c, h),
            "discriminant": (m, c, h),
            "critical_c": (m, h),
            "optimal_c": (m, h_min),
            "optimal_rate": (m, h_min),
        },
        references=("Qian (1999)", "any text on the damped harmonic oscillator"),
    )
