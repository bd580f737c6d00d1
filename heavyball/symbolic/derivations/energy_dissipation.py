"""The derivation ``energy_dissipation`` (see :func:`energy_dissipation`)."""

from __future__ import annotations

import functools
from typing import Any

import sympy as sp

from ..._validation import as_int
from ..algebra import BOX, assumption_texts, given_positive, real
from ..claims import Derivation, claim

#: position in the catalogue of derivations
ORDER = 110

#: what the derivation shows, in words
FINDINGS = (
    "Along $mv' = −∇f − cv$, $θ' = v$ the energy $E = ½m‖v‖² + f(θ)$ satisfies $dE/dt = −c‖v‖² ≤ 0$ for "
    "any $f$: friction is the only sink, and with $c = 0$ energy is conserved.",
)


def _distributed(expr: Any) -> Any:
    """``expr`` with each term expanded but the terms kept apart (for display: cancellations
    between the terms stay visible)."""
    return sp.Add(
        *[part for term in sp.Add.make_args(expr) for part in sp.Add.make_args(sp.expand(term))], evaluate=False
    )


@functools.cache
def energy_dissipation(*, m: Any = None, c: Any = None, dim: int = 3) -> Derivation:
    r"""``E = ½m‖v‖² + f(θ)`` decreases along the heavy-ball ODE: ``dE/dt = −c‖v‖²``.

    Differentiated along a trajectory ``θ(t), v(t)`` of a general (undefined) ``f`` in
    ``dim`` dimensions, then the ODE ``θ' = v``, ``m v' = −∇f − cv`` substituted.

    Examples
    --------
    >>> energy_dissipation(dim=1).result["dE_dt"]
    -c*v1**2
    """
    m, c = given_positive(m=m, c=c)
    dim = as_int("dim", dim, minimum=1, maximum=4)
    t = real("t")
    f = sp.Function("f")
    th = [sp.Function(f"theta{i}")(t) for i in range(1, dim + 1)]
    vv = [sp.Function(f"v{i}")(t) for i in range(1, dim + 1)]
    energy = m / 2 * sum(v**2 for v in vv) + f(*th)
    dE = energy.diff(t)
    grad = [f(*th).diff(x) for x in th]
    ode = {
        **{x.diff(t): v for x, v in zip(th, vv, strict=False)},
        **{v.diff(t): (-g - c * v) / m for v, g in zip(vv, grad, strict=False)},
    }
    along = dE.subs(ode)
    # evaluate at a point of phase space: θ_i(t) -> x_i, v_i(t) -> v_i
    xs = sp.symbols(f"x1:{dim + 1}", real=True)
    vs = sp.symbols(f"v1:{dim + 1}", real=True)
    point = {**dict(zip(th, xs, strict=False)), **dict(zip(vv, vs, strict=False))}
    along_point = along.subs(point)
    dE_dt = sp.expand(along_point)
    box = {m: BOX["m"], c: BOX["c"], **{x: (-2.0, 2.0) for x in (*xs, *vs)}}
    ffun = {f: sp.Lambda(xs, sum(sp.sin(x) * xs[(j + 1) % dim] + x**2 / (j + 2) for j, x in enumerate(xs)))}
    claims = (
        claim("dE_dt", dE_dt, -c * sum(v**2 for v in vs), box, functions=ffun),
        claim(
            "conservative_without_friction",
            along_point.subs(c, 0),
            sp.Integer(0),
            box,
            functions=ffun,
            note="c = 0: energy is conserved",
        ),
    )
    # every derivation module ends with its results, its steps and the keyword constructor, the
    # registry's interface: their shape repeats from module to module by design (the contents differ)
    result = {"dE_dt": dE_dt}
    steps_ = (
        ("energy", sp.Eq(sp.Symbol("E"), energy)),
        ("time derivative (chain rule)", sp.Eq(sp.Symbol("dE/dt"), sp.expand(dE))),
        ("substitute $θ' = v$, $mv' = −∇f − cv$", sp.Eq(sp.Symbol("dE/dt"), _distributed(along_point))),
        ("expand", sp.Eq(sp.Symbol("dE/dt"), dE_dt)),
    )
    return Derivation(
        name="energy_dissipation",
        title="Energy dissipation along the heavy-ball ODE",
        assumptions=assumption_texts((m, c, t), f"$f$ is an undefined (general) function of {dim} coordinates"),
        symbols={"m": m, "c": c, "f": f, "x": sp.Matrix(xs), "v": sp.Matrix(vs)},
        result=result,
        steps=steps_,
        claims=claims,
        findings=FINDINGS,
        references=("any mechanics text; Qian (1999)",),
    )
