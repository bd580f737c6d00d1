"""The derivation ``adam_rotation_invariance`` (see :func:`adam_rotation_invariance`)."""

from __future__ import annotations

import functools
from typing import Any

import sympy as sp

from ..algebra import assumption_texts, box_of, given, given_positive, pos, real
from ..claims import Derivation, claim

#: position in the catalogue of derivations
ORDER = 133

FINDINGS = (
    "The heavy-ball ODE (and gradient flow) commutes with every rotation for any $f$: the path on a "
    "rotated valley is the rotated path. The sign flow, Adam's fixed-$β$ limit, does not: its "
    "velocity has speed 1 along an axis and $√2$ on a diagonal ($ε = 0$), so rotating a valley by 45 "
    "degrees changes the path (the defect is $√2 − 1$ in norm), the continuous reason why Adam "
    "slows down on a rotated valley.",
)


@functools.cache
def adam_rotation_invariance(*, m: Any = None, c: Any = None, alpha: Any = None) -> Derivation:
    r"""The heavy-ball ODE commutes with rotations; the sign-gradient flow does not.

    Rotate the landscape: ``f_R(θ) = f(Rᵀθ)``, so ``∇f_R(Rθ) = R∇f(θ)``. The heavy ball's
    acceleration ``−(cv + ∇f(θ))/m`` at the rotated state ``(Rθ, Rv)`` is ``R`` times the
    original: rotated solutions are solutions, for a general ``f``. The sign flow's velocity
    ``−∇f/(|∇f| + ε)`` (elementwise) at ``Rθ`` is ``−R∇f/(|R∇f| + ε)``, which is not
    ``R·(−∇f/(|∇f| + ε))``: at ``ε = 0`` its speed is ``√(number of non-zero gradient
    components)``, 1 along an axis and ``√2`` on a diagonal. This is the continuous reason why
    Adam's path on a valley depends on how the valley is oriented (the ``adam_rotation``
    figure) while heavy ball's is just rotated.

    Examples
    --------
    >>> adam_rotation_invariance().result["sign_flow_defect_45"]
    3 - 2*sqrt(2)
    """
    m, c = given_positive(m=m, c=c)
    alpha = given(alpha, "alpha", real=True)
    x1, x2, v1, v2 = real("x1"), real("x2"), real("v1"), real("v2")
    g1, g2 = pos("g1"), pos("g2")
    f = sp.Function("f")
    R = sp.Matrix([[sp.cos(alpha), -sp.sin(alpha)], [sp.sin(alpha), sp.cos(alpha)]])
    X, V = sp.Matrix([x1, x2]), sp.Matrix([v1, v2])
    y1, y2 = real("y1"), real("y2")

    def grad_f(point: Any) -> Any:
        expr = sp.Matrix([f(y1, y2).diff(y1), f(y1, y2).diff(y2)])
        return expr.subs({y1: point[0], y2: point[1]}, simultaneous=True)

    def grad_rotated(point: Any) -> Any:
        back = R.T * point  # ∇f_R(θ) = R ∇f(Rᵀθ)
        return R * grad_f(back)

    accel = -(c * V + grad_f(X)) / m
    accel_rotated = -(c * (R * V) + grad_rotated(R * X)) / m
    rotated_accel = R * accel
    # the sign flow at ε = 0 on a gradient (g1, 0) rotated by 45°
    quarter = {alpha: sp.pi / 4}
    g_axis = sp.Matrix([g1, 0])
    Rq = R.subs(quarter)
    rotated_g = Rq * g_axis
    sign_of = sp.Matrix([rotated_g[0] / sp.Abs(rotated_g[0]), rotated_g[1] / sp.Abs(rotated_g[1])])
    flow_at_rotated = -sign_of  # velocity of the rotated problem at Rθ
    rotated_flow = Rq * sp.Matrix([-1, 0])  # R times the velocity −(1, 0) of the original
    defect = flow_at_rotated - rotated_flow
    defect_sq = sp.nsimplify(sp.radsimp(sp.expand((defect.T * defect)[0])))
    speed_diag = sp.sqrt(sum((gi / sp.Abs(gi)) ** 2 for gi in (g1, g2)))
    box = {
        m: (0.1, 5.0),
        c: (0.0, 3.0),
        alpha: (-3.0, 3.0),
        **box_of(value=[x1, x2, v1, v2]),
        g1: (0.1, 3.0),
        g2: (0.1, 3.0),
    }
    ffun = {f: sp.Lambda((y1, y2), sp.sin(y1) * y2 + y1**2 * y2**2 / 3 + sp.cos(y2))}
    claims = (
        claim(
            "heavy_ball_commutes",
            accel_rotated,
            rotated_accel,
            box,
            functions=ffun,
            note="a(Rθ, Rv) of the rotated landscape = R·a(θ, v), any f",
        ),
        claim("gradient_flow_commutes", -grad_rotated(R * X), -R * grad_f(X), box, functions=ffun),
        claim(
            "sign_flow_defect_45",
            defect_sq,
            3 - 2 * sp.sqrt(2),
            box,
            note="‖velocity at Rθ − R·velocity‖² = (√2 − 1)² for ∇f on an axis, R a 45° rotation",
        ),
        claim("sign_flow_speed_diagonal", speed_diag, sp.sqrt(2), box, note="ε = 0, both components non-zero"),
    )
    # every derivation module ends with its results, its steps and the keyword constructor, the
    # registry's interface: their shape repeats from module to module by design (the contents differ)
    result = {"heavy_ball_rotated": rotated_accel, "sign_flow_defect_45": defect_sq, "sign_flow_speed": speed_diag}
    steps_ = (
        ("rotated landscape", sp.Eq(sp.Symbol("grad f_R(R theta)"), sp.Symbol("R grad f(theta)"))),
        ("heavy ball at the rotated state", sp.Eq(sp.Symbol("a_R(R theta, R v)"), accel_rotated)),
        ("sign flow, eps = 0, 45 degrees", sp.Eq(sp.Symbol("defect^2"), defect_sq)),
    )
    return Derivation(
        name="adam_rotation_invariance",
        title="Rotations: the heavy ball commutes with them, the sign flow does not",
        assumptions=assumption_texts((m, c, alpha), "f a general function of two coordinates; ε = 0 for the sign flow"),
        symbols={"m": m, "c": c, "alpha": alpha, "f": f},
        result=result,
        steps=steps_,
        claims=claims,
        findings=FINDINGS,
        references=("Ma, Wu & E (2022)", "Kingma & Ba (2015)"),
    )
