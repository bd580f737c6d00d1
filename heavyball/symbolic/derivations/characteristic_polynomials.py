"""The derivation ``characteristic_polynomials`` (see :func:`characteristic_polynomials`)."""

from __future__ import annotations

import functools

import sympy as sp

from ... import recurrences
from ..algebra import assumption_texts, box_of, given, pos, real
from ..claims import Derivation, claim
from ..rules import iteration_matrix

#: position in the catalogue of derivations
ORDER = 80


@functools.cache
def characteristic_polynomials(*, h=None, lr=None, mu=None) -> Derivation:
    r"""Per-curvature characteristic polynomials of heavy ball, Nesterov and GD (torch forms).

    From the iteration matrices on ``f = ½hθ²`` (state ``(θ, b)``):
    heavy ball ``z² − (1 + μ − γh)z + μ``; Nesterov ``z² − (1+μ)(1−γh)z + μ(1−γh)``;
    GD ``z − (1 − γh)``. Jury: heavy ball is stable iff ``|μ| < 1`` and
    ``0 < γh < 2(1 + μ)``. Complex roots iff ``(1 + μ − γh)² < 4μ``, and then ``|z| = √μ``.

    Examples
    --------
    >>> characteristic_polynomials().result["modulus_complex"]
    sqrt(mu)
    """
    h, lr, mu = given(h, "h", positive=True), given(lr, "lr", positive=True), given(mu, "mu", positive=True)
    z = sp.Symbol("z")
    A, w = real("A"), pos("w")  # A = trace, w = 4μ − A² > 0 in the complex regime
    mats = {method: iteration_matrix(method, h, lr, mu) for method in ("heavyball", "nesterov", "gd")}
    polys = {method: sp.expand(M.charpoly(z).as_expr()) for method, M in mats.items()}
    p_hb, p_n, p_gd = polys["heavyball"], polys["nesterov"], polys["gd"]
    trace_hb, det_hb = sp.expand(-p_hb.coeff(z, 1)), p_hb.coeff(z, 0)
    trace_n, det_n = sp.factor(-p_n.coeff(z, 1)), sp.factor(p_n.coeff(z, 0))
    disc_hb = sp.discriminant(p_hb, z)
    roots = sp.solve(p_hb, z)
    vieta = sp.expand(roots[0] * roots[1])
    # complex regime: parametrise h by the trace A, then μ = (A² + w)/4 (w > 0)
    region = ((h, (1 + mu - A) / lr), (mu, (A**2 + w) / 4))
    modulus = sp.Abs(roots[1])
    root_c = roots[1]
    for old, new in region:
        root_c = root_c.subs(old, new)
    re_c, im_c = root_c.as_real_imag()
    modulus_derived = sp.sqrt(sp.expand(re_c**2 + im_c**2)).subs(w, 4 * mu - A**2)
    crit = sorted(sp.solve(disc_hb, mu), key=lambda e: float(e.subs({lr: 1, h: sp.Rational(1, 4)})))
    crit_mu = crit[0]
    crit_rate = sp.factor(trace_hb.subs(mu, crit_mu) / 2)

    def table_poly(family: str) -> sp.Expr:
        T, D = recurrences.trace_det(family, lr * h, mu)
        return z**2 - T * z + D

    box = box_of(h=h, lr=lr, mu=mu)
    zbox = {**box, z: (-2.0, 2.0)}
    complex_where = (1 + mu - lr * h) ** 2 < 4 * mu
    box_c = {h: (0.05, 4.0), lr: (0.05, 1.0), mu: (0.05, 0.95)}
    claims = (
        # the table of linear recurrences (heavyball.recurrences) checked against torch's update; GD's
        # map here is 1×1 (the table's second root 0 is left out)
        claim("heavyball", p_hb, table_poly("heavyball"), zbox),
        claim("nesterov", p_n, table_poly("nesterov"), zbox),
        claim("gd", p_gd, z - (1 - lr * h), zbox),
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
        claim("discriminant_heavyball", disc_hb, (1 + mu - lr * h) ** 2 - 4 * mu, box),
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
            modulus,
            sp.sqrt(mu),
            box_c,
            where=complex_where,
            region={h: region[0][1], mu: region[1][1]},
            note="|root| evaluated from the explicit root formula",
        ),
        claim("critical_momentum", crit_mu, (1 - sp.sqrt(lr * h)) ** 2, box),
        claim("critical_rate", crit_rate, 1 - sp.sqrt(lr * h), box),
    )
    result = {
        "heavyball": p_hb,
        "nesterov": p_n,
        "gd": p_gd,
        "heavyball_trace": trace_hb,
        "heavyball_det": det_hb,
        "nesterov_trace": trace_n,
        "nesterov_det": det_n,
        "gd_root": sp.solve(p_gd, z)[0],
        "discriminant_heavyball": disc_hb,
        "heavyball_roots": sp.Tuple(*roots),
        "modulus_complex": modulus_derived,
        "critical_momentum": crit_mu,
        "critical_rate": crit_rate,
        "stability_heavyball": sp.And(sp.Abs(mu) < 1, lr * h > 0, lr * h < 2 * (1 + mu)),
    }
    steps_ = (
        ("heavy-ball iteration matrix, state (theta, b)", mats["heavyball"]),
        ("Nesterov iteration matrix", mats["nesterov"]),
        ("Jury: p(1), p(-1), p(0)", sp.Tuple(p_hb.subs(z, 1), sp.expand(p_hb.subs(z, -1)), p_hb.subs(z, 0))),
        ("roots", sp.Tuple(*roots)),
        ("complex roots: |z|^2 = Re^2 + Im^2", modulus_derived),
        ("critical damping: discriminant = 0", sp.Eq(mu, crit_mu)),
    )
    findings = (
        "From the iteration matrices of torch's updates on f = ½hθ²: heavy ball z² − (1 + μ − γh)z + μ, "
        "Nesterov z² − (1 + μ)(1 − γh)z + μ(1 − γh), gradient descent z − (1 − γh).",
        "Jury's conditions p(1) = γh > 0, p(−1) = 2(1 + μ) − γh > 0, |p(0)| = |μ| < 1 give the heavy-ball "
        "stability region |μ| < 1, 0 < γh < 2(1 + μ); for Nesterov p(−1) = 1 + (1 + 2μ)(1 − γh).",
        "Roots are complex iff (1 + μ − γh)² < 4μ and then |z| = √μ (their product is μ). Goh's "
        "'Why Momentum Really Works' prints 2√μ (2√β) for this modulus; the correct value is √μ.",
        "Critical damping: μ = (1 − √(γh))², with the double root 1 − √(γh).",
    )
    sig = (h, lr, mu)
    signatures = {
        "heavyball": (z, *sig),
        "nesterov": (z, *sig),
        "gd": (z, *sig),
        "heavyball_trace": sig,
        "heavyball_det": sig,
        "nesterov_trace": sig,
        "nesterov_det": sig,
        "gd_root": sig,
        "discriminant_heavyball": sig,
        "modulus_complex": sig,
        "critical_momentum": (h, lr),
        "critical_rate": (h, lr),
    }
    return Derivation(
        name="characteristic_polynomials",
        title="Per-curvature characteristic polynomials, stability and the complex-root modulus",
        assumptions=assumption_texts(
            (h, lr, mu, z),
            "f(θ) = ½hθ²: one eigen-direction of a quadratic with curvature h",
            "torch forms: b ← μb + g, θ ← θ − γb (Nesterov: θ ← θ − γ(g + μb))",
        ),
        symbols={"h": h, "lr": lr, "mu": mu, "z": z},
        result=result,
        steps=steps_,
        claims=claims,
        findings=findings,
        signatures=signatures,
        references=("Goh (2017), Why Momentum Really Works, Distill", "Jury stability criterion"),
    )
