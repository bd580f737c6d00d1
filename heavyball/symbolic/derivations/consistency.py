"""The derivation ``consistency`` (see :func:`consistency`)."""

from __future__ import annotations

import functools
from typing import Any

import sympy as sp

from ..algebra import assumption_texts, box_of, given_positive, real
from ..claims import Claim, Derivation, claim
from ..rules import semi_implicit_euler
from .discretization import discretization

#: position in the catalogue of derivations
ORDER = 20

#: what the derivation shows, in words
FINDINGS = (
    "The characteristic roots of the semi-implicit scheme are $λ = 1 + sΔt + O(Δt²)$ with "
    "$ms² + cs + h = 0$: the discrete iteration is a first-order consistent discretisation "
    "($p(1 + Δtσ) = Δt²(mσ² + cσ + h)/m + Δt³hσ/m$ exactly).",
    "The discrete discriminant is $Δt²(c² − 4mh)/m² + O(Δt³)$: for small $Δt$ its sign is the "
    "sign of $c² − 4mh$, so complex (real) discrete roots correspond to under- (over-) damped motion.",
    "At continuous critical damping $c = 2√(mh)$ the $O(Δt³)$ term decides: the discriminant is "
    "$Δt³h(4√(mh) + Δt h)/m² > 0$, so the discrete scheme is slightly overdamped there.",
    "This consistency needs the displacement coefficient $Δt²/m$ (or the velocity form); with the "
    "lecture's literal pairing $θ ← θ + v$, $η = Δt/m$ the force is scaled by $1/Δt$ (see the "
    "derivation discretization).",
)


def _discriminant(poly: Any, z: Any, m: Any, c: Any, h: Any, dt: Any, box: dict) -> tuple[Any, Any, Any, list[Claim]]:
    """The discrete discriminant in powers of ``Δt``: its leading term and its value at critical damping."""
    disc = sp.expand(sp.discriminant(poly, z))
    dpoly = sp.Poly(disc, dt)
    d_leading = sp.factor(dpoly.coeff_monomial(dt**2))
    at_critical = sp.factor(disc.subs(c, 2 * sp.sqrt(m * h)))
    claims = [
        claim(
            "discriminant",
            disc,
            dt**2 * (c**2 - 4 * m * h) / m**2 + 2 * c * h * dt**3 / m**2 + h**2 * dt**4 / m**2,
            box,
        ),
        claim(
            "discriminant_low_orders", sp.Tuple(dpoly.coeff_monomial(1), dpoly.coeff_monomial(dt)), sp.Tuple(0, 0), box
        ),
        claim("discriminant_leading", d_leading, (c**2 - 4 * m * h) / m**2, box),
        claim(
            "discriminant_at_critical",
            at_critical,
            dt**3 * h * (4 * sp.sqrt(m * h) + dt * h) / m**2,
            box,
            note="at c = 2√(mh) the discrete roots are real and distinct",
        ),
    ]
    return disc, d_leading, at_critical, claims


@functools.cache
def consistency(*, m: Any = None, c: Any = None, h: Any = None, dt: Any = None) -> Derivation:
    r"""The discrete roots tend to ``1 + sΔt`` with ``m s² + c s + h = 0``: first-order consistency.

    On ``f = ½hθ²`` the semi-implicit step is linear; its characteristic polynomial is the
    heavy-ball polynomial with ``μ = 1 − cΔt/m``, ``γ = Δt²/m``. Substituting
    ``z = 1 + Δt·σ``: ``p(1 + Δtσ) = Δt²(mσ² + cσ + h)/m + Δt³hσ/m`` exactly, so the roots are
    ``λ = 1 + sΔt + O(Δt²)``. The discrete discriminant is
    ``Δt²(c² − 4mh)/m² + 2chΔt³/m² + h²Δt⁴/m²``.

    Examples
    --------
    >>> consistency().result["discriminant_leading"]
    (c**2 - 4*h*m)/m**2
    """
    m, c, h, dt = given_positive(m=m, c=c, h=h, dt=dt)
    theta, v = real("theta"), real("v")
    z, sigma = sp.Symbol("z"), sp.Symbol("sigma")
    base = discretization(m=m, c=c, dt=dt)
    mu, gamma = base.result["mu"], base.result["eta_displacement"]

    theta1, v1 = semi_implicit_euler(theta, v, h * theta, m=m, c=c, dt=dt)
    matrix = sp.Matrix([theta1, v1]).jacobian([theta, v])
    poly = sp.expand(matrix.charpoly(z).as_expr())
    scaled = sp.expand(poly.subs(z, 1 + dt * sigma))
    coeffs = sp.Poly(scaled, dt)
    order0, order1 = coeffs.coeff_monomial(1), coeffs.coeff_monomial(dt)
    leading = sp.factor(coeffs.coeff_monomial(dt**2))
    remainder = sp.factor(sp.expand(scaled - leading * dt**2) / dt**3)
    # the explicit roots, expanded to first order in Δt
    roots = sp.solve(poly, z)
    first = [sp.expand(sp.series(r, dt, 0, 2).removeO()).coeff(dt, 1) for r in roots]
    zeroth = [sp.expand(sp.series(r, dt, 0, 2).removeO()).coeff(dt, 0) for r in roots]

    box = box_of(m=m, c=c, h=h, dt=dt, value=sigma)
    box_sigma = {**box, sigma: (-3.0, 3.0)}
    disc, d_leading, at_critical, disc_claims = _discriminant(poly, z, m, c, h, dt, box)
    claims = (
        claim(
            "charpoly",
            poly,
            z**2 - (1 + mu - gamma * h) * z + mu,
            {**box, z: (-2.0, 2.0)},
            note="the heavy-ball polynomial with μ = 1 − cΔt/m, γ = Δt²/m",
        ),
        claim("order_0", order0, sp.Integer(0), box_sigma),
        claim("order_1", order1, sp.Integer(0), box_sigma),
        claim(
            "leading_order",
            leading,
            (m * sigma**2 + c * sigma + h) / m,
            box_sigma,
            note="p(1 + Δtσ)/Δt² → (mσ² + cσ + h)/m as Δt → 0",
        ),
        claim("remainder", remainder, h * sigma / m, box_sigma),
        claim(
            "scaled",
            scaled,
            leading * dt**2 + remainder * dt**3,
            box_sigma,
            note="p(1 + Δtσ) has no terms of order Δt⁰, Δt¹ or above Δt³",
        ),
        claim("roots_zeroth_order", sp.Tuple(*zeroth), sp.Tuple(1, 1), box),
        claim(
            "root_first_order",
            sp.Tuple(*first),
            sp.Tuple(*[(-c + sign * sp.sqrt(c**2 - 4 * m * h)) / (2 * m) for sign in (-1, 1)]),
            box,
            note="the first-order coefficients are the roots s of m s² + c s + h = 0",
        ),
        claim("roots_first_order_sum", sp.Add(*first), -c / m, box, note="first-order coefficients: their sum"),
        claim(
            "roots_first_order_product",
            sp.Mul(*first),
            h / m,
            box,
            note="and product: they are the roots of m s² + c s + h",
        ),
        *disc_claims,
    )
    # every derivation module ends with its results, its steps and the keyword constructor, the
    # registry's interface: their shape repeats from module to module by design (the contents differ)
    result = {
        "charpoly": poly,
        "scaled": sp.Eq(scaled, leading * dt**2 + remainder * dt**3),
        "root_first_order": sp.Tuple(*first),
        "discriminant": disc,
        "discriminant_leading": d_leading,
        "discriminant_at_critical": at_critical,
    }
    steps = (
        ("iteration matrix of $(θ, v)$", matrix),
        ("characteristic polynomial", sp.Eq(sp.Symbol("p(z)"), poly)),
        ("substitute $z = 1 + Δt σ$", sp.Eq(sp.Symbol("p(1 + Δt σ)"), leading * dt**2 + remainder * dt**3)),
        ("roots", sp.Tuple(*roots)),
        ("first-order coefficients", sp.Tuple(*first)),
        ("discriminant in powers of $Δt$", sp.Eq(sp.Symbol("D"), disc)),
    )
    return Derivation(
        name="consistency",
        title="First-order consistency of the discrete characteristic roots",
        assumptions=assumption_texts(
            (m, c, h, dt, sigma, z),
            "f(θ) = ½hθ² (one curvature h of a quadratic)",
            "semi-implicit Euler step of the heavy-ball ODE, as in the derivation discretization",
        ),
        symbols={"m": m, "c": c, "h": h, "dt": dt, "z": z, "sigma": sigma},
        result=result,
        steps=steps,
        claims=claims,
        findings=FINDINGS,
        signatures={"discriminant": (m, c, h, dt)},
        references=("Hairer, Lubich & Wanner, Geometric Numerical Integration (consistency of one-step maps)",),
    )
