"""The derivation ``characteristic_polynomials`` (see :func:`characteristic_polynomials`)."""

from __future__ import annotations

import functools
from typing import Any

import sympy as sp

from ...recurrences import trace_det
from ..algebra import assumption_texts, box_of, given_positive, pos, real
from ..claims import Claim, Derivation, claim
from ..rules import torch_sgd_step, torch_step_matrix
from ..twins import Twin

#: position in the catalogue of derivations
ORDER = 80

FINDINGS = (
    "From the iteration matrices of torch's updates on $f = ½hθ²$: heavy ball $z² − (1 + μ − γh)z + μ$, "
    "Nesterov $z² − (1 + μ)(1 − γh)z + μ(1 − γh)$, gradient descent $z − (1 − γh)$; they are the "
    "families $z² − Tz + D$ of the recurrence table that the numeric code uses.",
    "Jury's conditions $p(1) = γh > 0$, $p(−1) = 2(1 + μ) − γh > 0$, $|p(0)| = |μ| < 1$ give the heavy-ball "
    "stability region $|μ| < 1$, $0 < γh < 2(1 + μ)$; for Nesterov $p(−1) = 1 + (1 + 2μ)(1 − γh)$.",
    "Roots are complex iff $(1 + μ − γh)² < 4μ$ and then $|z| = √μ$ (their product is $μ$). Goh's "
    "'Why Momentum Really Works' prints $2√μ$ ($2√β$) for this modulus; the correct value is $√μ$.",
    "Critical damping: $μ = (1 − √(γh))²$, with the double root $1 − √(γh)$.",
)


def _polynomials(h: Any, lr: Any, mu: Any, z: sp.Symbol) -> tuple[dict[str, sp.Matrix], dict[str, Any]]:
    """The step matrices of torch's updates and their characteristic polynomials."""
    theta = real("theta")
    gd_step, _ = torch_sgd_step(theta, 0, h * theta, lr=lr, momentum=0)
    mats = {
        "heavyball": torch_step_matrix(h, lr, mu),
        "nesterov": torch_step_matrix(h, lr, mu, nesterov=True),
        "gd": sp.Matrix([[sp.diff(gd_step, theta)]]),
    }
    return mats, {family: sp.expand(M.charpoly(z).as_expr()) for family, M in mats.items()}


def _table_claims(polys: dict[str, Any], z: sp.Symbol, h: Any, lr: Any, mu: Any, box: dict) -> list[Claim]:
    """Each derived polynomial is the recurrence table's ``z² − Tz + D`` (GD: times ``z``)."""
    zbox = {**box, z: (-2.0, 2.0)}
    out = []
    for family, poly in polys.items():
        T, D = trace_det(family, lr * h, mu)
        lifted = sp.expand(z * poly) if family == "gd" else poly
        out.append(claim(f"table_{family}", lifted, z**2 - T * z + D, zbox, note="the table's trace and determinant"))
    for family in ("heavyball", "nesterov"):
        T, D = trace_det(family, lr * h, mu)
        poly = polys[family]
        out.append(claim(f"{family}_trace", sp.factor(-poly.coeff(z, 1)), T, box))
        out.append(claim(f"{family}_det", sp.factor(poly.coeff(z, 0)), D, box))
    out.append(claim("gd_root", sp.solve(polys["gd"], z)[0], trace_det("gd", lr * h, mu)[0], box))
    return out


def _complex_modulus(root: Any, h: Any, lr: Any, mu: Any) -> tuple[Any, tuple[tuple[Any, Any], ...]]:
    """``|root|`` derived in the complex regime, and the parametrisation used there.

    With the trace ``A = 1 + μ − γh`` and ``4μ = A² + w`` (``w > 0``) the root is
    ``(A ± i√w)/2``; its modulus is then written back in ``(h, γ, μ)``.
    """
    A, w = real("A"), pos("w")
    region = ((h, (1 + mu - A) / lr), (mu, (A**2 + w) / 4))
    for old, new in region:
        root = root.subs(old, new)
    re_c, im_c = root.as_real_imag()
    return sp.sqrt(sp.expand(re_c**2 + im_c**2)).subs(w, 4 * mu - A**2), region


def _jury_claims(p_hb: Any, p_n: Any, z: sp.Symbol, h: Any, lr: Any, mu: Any, box: dict) -> list[Claim]:
    """Jury's conditions: the polynomials at ``z = 1, −1, 0``."""
    return [
        claim("jury_p1_heavyball", p_hb.subs(z, 1), lr * h, box, note="p(1) > 0 ⇔ γh > 0"),
        claim("jury_pm1_heavyball", p_hb.subs(z, -1), 2 * (1 + mu) - lr * h, box, note="p(−1) > 0 ⇔ γh < 2(1+μ)"),
        claim("jury_p0_heavyball", p_hb.subs(z, 0), mu, box, note="|p(0)| < 1 ⇔ |μ| < 1"),
        claim("jury_p1_nesterov", p_n.subs(z, 1), lr * h, box),
        claim(
            "jury_pm1_nesterov",
            p_n.subs(z, -1),
            1 + (1 + 2 * mu) * (1 - lr * h),
            box,
            note="Nesterov: γh < 2(1+μ)/(1+2μ)",
        ),
    ]


def _signatures(h: Any, lr: Any, mu: Any, z: Any, table: dict[str, Any]) -> dict[str, tuple[Any, ...]]:
    """The argument order of each numeric result."""
    sig = (h, lr, mu)
    signatures: dict[str, tuple[Any, ...]] = {key: (z, *sig) for key in ("heavyball", "nesterov", "gd")}
    signatures.update(
        {key: sig for key in (*table, "discriminant_heavyball", "modulus_complex", "stability_heavyball")}
    )
    signatures.update({"critical_momentum": (h, lr), "critical_rate": (h, lr)})
    return signatures


def _twins() -> dict[str, Twin]:
    """The results that the library computes too."""
    return {
        "stability_heavyball": Twin(
            "heavyball.rates.is_stable",
            lambda f, h, lr, mu: f(h, lr=lr, momentum=mu, family="heavyball"),
            domain=((0.05, 10.0), (0.01, 1.0), (0.0, 0.99)),
            note="Jury's region against the library's stability test (both sides of γh = 2(1 + μ))",
        ),
        "critical_momentum": Twin(
            "heavyball.rates.critical_momentum", lambda f, h, lr: f(h, lr), domain=((0.05, 1.0), (0.001, 0.5))
        ),
    }


@functools.cache
def characteristic_polynomials(*, h: Any = None, lr: Any = None, mu: Any = None) -> Derivation:
    r"""Per-curvature characteristic polynomials of heavy ball, Nesterov and GD (torch forms).

    From the iteration matrices on ``f = ½hθ²`` (state ``(θ, b)``):
    heavy ball ``z² − (1 + μ − γh)z + μ``; Nesterov ``z² − (1+μ)(1−γh)z + μ(1−γh)``;
    GD ``z − (1 − γh)``, each checked against the trace and determinant of the recurrence
    table (:mod:`heavyball.recurrences`). Jury: heavy ball is stable iff ``|μ| < 1`` and
    ``0 < γh < 2(1 + μ)`` (compared with :func:`heavyball.rates.is_stable`). Complex roots iff
    ``(1 + μ − γh)² < 4μ``, and then ``|z| = √μ``.

    Examples
    --------
    >>> characteristic_polynomials().result["modulus_complex"]
    sqrt(mu)
    """
    h, lr, mu = given_positive(h=h, lr=lr, mu=mu)
    z = sp.Symbol("z")
    mats, polys = _polynomials(h, lr, mu, z)
    p_hb, p_n = polys["heavyball"], polys["nesterov"]
    disc_hb = sp.discriminant(p_hb, z)
    roots = sp.solve(p_hb, z)
    vieta = sp.expand(roots[0] * roots[1])
    modulus_derived, region = _complex_modulus(roots[1], h, lr, mu)
    crit = sorted(sp.solve(disc_hb, mu), key=lambda e: float(e.subs({lr: 1, h: sp.Rational(1, 4)})))
    crit_mu = crit[0]
    crit_rate = sp.factor(sp.expand(-p_hb.coeff(z, 1)).subs(mu, crit_mu) / 2)

    box = box_of(h=h, lr=lr, mu=mu)
    zbox = {**box, z: (-2.0, 2.0)}
    complex_where = (1 + mu - lr * h) ** 2 < 4 * mu
    box_c = {h: (0.05, 4.0), lr: (0.05, 1.0), mu: (0.05, 0.95)}
    trace = 1 + mu - lr * h
    claims = (
        claim("heavyball", p_hb, z**2 - (1 + mu - lr * h) * z + mu, zbox),
        claim("nesterov", p_n, z**2 - (1 + mu) * (1 - lr * h) * z + mu * (1 - lr * h), zbox),
        claim("gd", polys["gd"], z - (1 - lr * h), zbox),
        *_table_claims(polys, z, h, lr, mu, box),
        *_jury_claims(p_hb, p_n, z, h, lr, mu, box),
        claim("discriminant_heavyball", disc_hb, trace**2 - 4 * mu, box),
        claim(
            "heavyball_roots",
            sp.Tuple(*roots),
            sp.Tuple(*[(trace + sign * sp.sqrt(trace**2 - 4 * mu)) / 2 for sign in (-1, 1)]),
            box,
            note="the quadratic formula",
        ),
        claim("vieta_product", vieta, mu, box_c),
        claim(
            "modulus",
            modulus_derived,
            sp.sqrt(mu),
            box_c,
            where=complex_where,
            note="complex roots have |z| = √μ (Goh prints 2√μ)",
        ),
        claim(
            "modulus_of_root",
            sp.Abs(roots[1]),
            sp.sqrt(mu),
            box_c,
            where=complex_where,
            region={h: region[0][1], mu: region[1][1]},
            note="|root| evaluated from the explicit root formula",
        ),
        claim("critical_momentum", crit_mu, (1 - sp.sqrt(lr * h)) ** 2, box),
        claim("critical_rate", crit_rate, 1 - sp.sqrt(lr * h), box),
    )
    table = {c.name: c.lhs for c in claims if c.name.endswith(("_trace", "_det", "_root"))}
    # every derivation module ends with its results, its steps and the keyword constructor, the
    # registry's interface: their shape repeats from module to module by design (the contents differ)
    result = {
        "heavyball": p_hb,
        "nesterov": p_n,
        "gd": polys["gd"],
        **table,
        "discriminant_heavyball": disc_hb,
        "heavyball_roots": sp.Tuple(*roots),
        "modulus_complex": modulus_derived,
        "critical_momentum": crit_mu,
        "critical_rate": crit_rate,
        "stability_heavyball": sp.And(sp.Abs(mu) < 1, lr * h > 0, lr * h < 2 * (1 + mu)),
    }
    steps_ = (
        ("heavy-ball iteration matrix, state $(θ, b)$", mats["heavyball"]),
        ("Nesterov iteration matrix", mats["nesterov"]),
        ("Jury: $p(1)$, $p(−1)$, $p(0)$", sp.Tuple(p_hb.subs(z, 1), sp.expand(p_hb.subs(z, -1)), p_hb.subs(z, 0))),
        ("roots", sp.Tuple(*roots)),
        ("complex roots: $|z|² = (Re z)² + (Im z)²$", modulus_derived),
        ("critical damping: discriminant = 0", sp.Eq(mu, crit_mu)),
    )
    signatures = _signatures(h, lr, mu, z, table)
    return Derivation(
        name="characteristic_polynomials",
        title="Characteristic polynomials, stability and the complex-root modulus",
        assumptions=assumption_texts(
            (h, lr, mu, z),
            "$f(θ) = ½hθ²$: one eigen-direction of a quadratic with curvature $h$",
            "torch forms: $b ← μb + g$, $θ ← θ − γb$ (Nesterov: $θ ← θ − γ(g + μb)$)",
        ),
        symbols={"h": h, "lr": lr, "mu": mu, "z": z},
        result=result,
        steps=steps_,
        claims=claims,
        findings=FINDINGS,
        signatures=signatures,
        references=("Goh (2017), Why Momentum Really Works, Distill", "Jury stability criterion"),
        twins=_twins(),
    )
