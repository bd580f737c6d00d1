"""``heavyball rates``: tuned parameters, rates and steps to a tolerance on a quadratic valley.

The numbers are :func:`rate_rows`; :func:`steps_to_tolerance` and :func:`time_to_tolerance`
count the steps (the time) after which every start at rest has its error below a tolerance,
the factor ``k`` of a repeated root included.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Sequence
from typing import Any

from ._common import EXIT_OK, UsageError
from ._parsing import add_curvature_range, curvature_range, tolerance

__all__ = [
    "DEFAULT_TOL",
    "DESCRIPTION",
    "DIGITS",
    "HELP",
    "add_arguments",
    "rate_rows",
    "rates_latex",
    "rates_table",
    "run",
    "steps_to_tolerance",
    "time_to_tolerance",
]

#: the error reduction `rates` counts steps to, unless --tol says otherwise
DEFAULT_TOL = 1e-6


#: the one-line summary in ``heavyball --help``
HELP = "optimal parameters and rates on a quadratic valley"
#: the paragraph of ``heavyball rates --help``
DESCRIPTION = (
    "Tuned parameters and asymptotic rates for GD, heavy ball (Polyak), Nesterov and "
    "the continuous heavy-ball ODE, for curvatures in [h_min, h_max]. --kappa K means h_min = 1/K, "
    "h_max = 1. 'rate per step' is the factor rho by which the error shrinks per step "
    "asymptotically; the ODE's 'decay rate' lambda is the exponent of e^(-lambda t). Steps (time) "
    "to TOL: the first step k (time t) from which the error stays below TOL times the initial "
    "error, for every initial point on the valley with curvatures h_min and h_max, started at "
    "rest, including the factor k of a repeated root."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``heavyball rates``."""
    add_curvature_range(parser, "smallest curvature (> 0; with --h-max)")
    parser.add_argument(
        "--tol",
        type=tolerance,
        default=DEFAULT_TOL,
        metavar="TOL",
        help=f"error reduction for the step counts (default {DEFAULT_TOL:g})",
    )
    parser.add_argument(
        "--format",
        dest="fmt",
        choices=("table", "json", "latex"),
        default="table",
        help="output format (default: table)",
    )


#: (JSON key, table label, LaTeX label) of the tunings of :func:`heavyball.rates.optimal_parameters`
_TUNED = (
    ("gd", "GD", "GD"),
    ("heavyball", "heavy ball (Polyak)", "heavy ball (Polyak)"),
    ("nesterov", "Nesterov (lr = 1/h_max)", r"Nesterov ($\gamma = 1/h_{\max}$)"),
    ("nesterov-quadratic", "Nesterov (Lessard et al.)", "Nesterov (Lessard et al.)"),
)
#: significant digits of every number `rates` prints (trailing zeros kept: 1.98020, 3.30579)
DIGITS = 6


def _short(x: float) -> str:
    """``1e-06`` as ``1e-6``: the shortest ``g`` form without exponent padding."""
    return format(x, "g").replace("e-0", "e-").replace("e+0", "e+")


def _g(x: float, digits: int = DIGITS) -> str:
    """``x`` to ``digits`` significant digits, trailing zeros kept (``1.98020``, ``0.00000``)."""
    if x == 0:
        return "0." + "0" * (digits - 1)
    text = format(x, f"#.{digits}g")
    return text[:-1] if text.endswith(".") else text


def _first_below(envelope: Callable[[float], float], tol: float, start: float, *, integer: bool) -> float:
    """The first ``x >= start`` with ``envelope(x) <= tol``, for ``envelope`` decreasing on ``[start, ∞)``.

    Doubling, then bisection: to the integer for step counts, to 1e-9 relative for times.
    ``inf`` when the envelope has not fallen below ``tol`` by 1e18.
    """
    lo = start
    if envelope(lo) <= tol:
        return float(math.ceil(lo)) if integer else lo
    hi = max(2.0 * lo, 1.0)
    while envelope(hi) > tol:
        lo, hi = hi, 2.0 * hi
        if hi > 1e18:
            return math.inf
    if integer:
        lo_i, hi_i = math.ceil(lo), math.ceil(hi)
        while hi_i - lo_i > 1:  # invariant: envelope(hi_i) <= tol, and above tol just before lo_i ... hi_i
            mid_i = (lo_i + hi_i) // 2
            lo_i, hi_i = (lo_i, mid_i) if envelope(mid_i) <= tol else (mid_i, hi_i)
        return float(lo_i if envelope(lo_i) <= tol else hi_i)
    while hi - lo > 1e-9 * hi:
        mid = 0.5 * (lo + hi)
        lo, hi = (lo, mid) if envelope(mid) <= tol else (mid, hi)
    return hi


def _mode_envelope(r1: complex, r2: complex, first: float) -> tuple[Callable[[float], float], float]:
    r"""The bound ``|x_k| <= E(k)`` of a scalar recurrence with roots ``r1, r2``, ``x_0 = 1``, ``x_1 = first``.

    Distinct roots: ``x_k = c_1 r_1^k + c_2 r_2^k`` with ``c_1 + c_2 = 1``, ``c_1 r_1 + c_2 r_2 = x_1``,
    and ``E(k) = |c_1||r_1|^k + |c_2||r_2|^k`` (exact for real roots of one sign pattern, the envelope
    of the oscillation for a complex pair). A repeated root ``r`` (roots within 1e-6 relative, as
    rounding leaves Polyak's): ``x_k = r^k (1 + k(x_1/r − 1))``, ``E(k) = |r|^k (1 + k|x_1/r − 1|)``:
    the factor ``k`` that a plain ``ρ^k`` misses. Returns ``E`` and the step from which ``E``
    decreases.
    """
    rho = max(abs(r1), abs(r2))
    if abs(r1 - r2) <= 1e-6 * rho or rho == 0.0:
        r = 0.5 * (r1 + r2)
        if r == 0:  # both roots zero: x_k = 0 from k = 2 on
            return (lambda k: 1.0 if k < 1 else (abs(first) if k < 2 else 0.0)), 0.0
        slope = abs(first / r - 1.0)
        peak = max(0.0, 1.0 / -math.log(abs(r)) - 1.0 / slope) if slope > 0 and abs(r) < 1 else 0.0
        return (lambda k: abs(r) ** k * (1.0 + k * slope)), peak
    c2 = (first - r1) / (r2 - r1)
    c1 = 1.0 - c2
    a1, a2, m1, m2 = abs(c1), abs(c2), abs(r1), abs(r2)
    return (lambda k: a1 * m1**k + a2 * m2**k), 0.0


def steps_to_tolerance(optimizer: Any, h: Sequence[float], tol: float) -> float:
    """Steps after which a linear optimiser, started at rest, has reduced every mode's error below ``tol``.

    Per curvature ``h`` the error follows ``x_{k+1} = T x_k − D x_{k−1}`` with the roots of
    :func:`heavyball.rates.characteristic_roots`, after the first step from rest
    ``x_1 = (1 − γ₁h)x_0`` (:func:`heavyball.recurrences.first_step`: ``γ₁ = γ`` for heavy ball
    and GD, ``γ(1 + μ)`` for torch's Nesterov). The result is the first ``k`` from which the
    per-mode bound of :func:`_mode_envelope` stays ``<= tol`` for every ``h``: then
    ``‖θ_j − θ*‖ <= tol·‖θ_0 − θ*‖`` for all ``j >= k`` and every ``θ_0`` (the modes are
    orthogonal). With a repeated root (Polyak, Nesterov) the error decays like ``k·ρ^k``,
    so this exceeds ``log tol / log ρ``: Polyak at ``κ = 100`` needs 95 steps, not 68.8.

    Parameters
    ----------
    optimizer : SGD, HeavyBall or NesterovLookahead
        With scalar hyperparameters (:func:`heavyball.recurrences.recurrence_of`).
    h : sequence of float
        The curvatures (the valley's ``h_min`` and ``h_max``).
    tol : float, in (0, 1)

    Returns
    -------
    float
        A whole number of steps, or ``inf`` when some mode does not decay.
    """
    from .. import rates
    from ..recurrences import first_step, recurrence_of

    rec = recurrence_of(optimizer)
    lr, momentum = float(rec.lr), float(rec.momentum)
    worst = 0.0
    for curvature in h:
        h_eff = float(rec.curvature(curvature))
        roots = rates.characteristic_roots(h_eff, lr=lr, momentum=momentum, family=rec.family)
        r1, r2 = complex(roots[0]), complex(roots[1])
        if max(abs(r1), abs(r2)) >= 1.0:
            return math.inf
        envelope, peak = _mode_envelope(r1, r2, float(first_step(float(rec.first_lr), h_eff)))
        worst = max(worst, _first_below(envelope, tol, math.floor(peak), integer=True))
    return worst


def time_to_tolerance(h: Sequence[float], m: float, c: float, tol: float) -> float:
    r"""Time after which the heavy-ball ODE, started at rest, has reduced every mode below ``tol``.

    Per curvature the mode is ``x(t) = c_1 e^{s_1 t} + c_2 e^{s_2 t}``, ``m s² + c s + h = 0``,
    ``x(0) = 1``, ``x'(0) = 0``: ``c_1 = s_2/(s_2 − s_1)``, ``c_2 = −s_1/(s_2 − s_1)``; at critical
    damping ``x(t) = e^{st}(1 − st)``. The bound ``|c_1|e^{Re s_1 t} + |c_2|e^{Re s_2 t}`` (or
    ``e^{st}(1 + |s|t)``) is solved for the first ``t`` from which it stays ``<= tol``.

    Parameters
    ----------
    h : sequence of float
        The curvatures.
    m, c : float
        Mass and friction.
    tol : float, in (0, 1)

    Returns
    -------
    float
        The time, or ``inf`` when some mode does not decay (``c = 0``).
    """
    import cmath

    worst = 0.0
    for curvature in h:
        disc = complex(c * c - 4.0 * m * curvature)
        if abs(disc) <= 1e-12 * (c * c + 4.0 * m * curvature):
            s = -c / (2.0 * m)
            if s >= 0:
                return math.inf
            worst = max(worst, _first_below(_critical_envelope(-s), tol, 0.0, integer=False))
            continue
        root = cmath.sqrt(disc)
        s1, s2 = (-c + root) / (2.0 * m), (-c - root) / (2.0 * m)
        if max(s1.real, s2.real) >= 0:
            return math.inf
        envelope = _two_exponentials(abs(s2 / (s2 - s1)), s1.real, abs(s1 / (s2 - s1)), s2.real)
        worst = max(worst, _first_below(envelope, tol, 0.0, integer=False))
    return worst


def _critical_envelope(rate: float) -> Callable[[float], float]:
    """``t -> e^{−rate·t}(1 + rate·t)``: a critically damped mode from rest."""
    return lambda t: math.exp(-rate * t) * (1.0 + rate * t)


def _two_exponentials(a1: float, e1: float, a2: float, e2: float) -> Callable[[float], float]:
    """``t -> a1·e^{e1·t} + a2·e^{e2·t}``."""
    return lambda t: a1 * math.exp(e1 * t) + a2 * math.exp(e2 * t)


def run(args: argparse.Namespace) -> int:
    """Run ``heavyball rates``: the tuned methods on the curvature range, as a table, JSON or LaTeX."""
    import json

    h_min, h_max = curvature_range(args)
    try:
        rows = rate_rows(h_min, h_max, tol=args.tol)
    except ValueError as exc:  # the library's own range checks (e.g. magnitudes it cannot represent)
        raise UsageError(str(exc)) from None
    if args.fmt == "json":
        doc = {"h_min": h_min, "h_max": h_max, "kappa": h_max / h_min, "tol": args.tol, "methods": rows}
        print(json.dumps(doc, indent=2, allow_nan=False, default=str))
    elif args.fmt == "latex":
        print(rates_latex(rows, h_min, h_max, args.tol))
    else:
        print(rates_table(rows, h_min, h_max, args.tol))
    return EXIT_OK


def rate_rows(h_min: float, h_max: float, *, tol: float = DEFAULT_TOL) -> list[dict[str, Any]]:
    """Tuned parameters from :mod:`heavyball.rates`, one row per method, as ``rates`` prints them.

    Parameters
    ----------
    h_min, h_max : float
        The curvature range, ``0 < h_min <= h_max``.
    tol : float, optional
        The error reduction the step counts and times refer to.

    Returns
    -------
    list of dict
        Discrete methods: ``method``, ``label``, ``lr``, ``momentum``, ``rate_per_step`` (the
        spectral radius ρ: the error shrinks like ρᵏ) and ``steps`` (an int, ``None`` when it
        does not converge; see :func:`steps_to_tolerance`). The ODE (``method = "ode"``):
        ``m``, ``c`` (the fastest uniform friction), ``decay_rate`` (λ: the error shrinks like
        e^(−λt)) and ``time`` (:func:`time_to_tolerance`).
    """
    from .. import rates
    from ..optimizers import SGD

    rows: list[dict[str, Any]] = []
    for key, label, _ in _TUNED:
        tuned = rates.optimal_parameters(h_min, h_max, key)
        lr, momentum = float(tuned.lr), float(tuned.momentum)
        steps = math.inf  # a rate that rounds to 1 (κ beyond 1e16) never reaches tol
        if float(tuned.rate) < 1.0:
            opt = SGD(lr=lr, momentum=momentum, nesterov=rates.TUNINGS[key] == "nesterov")
            steps = steps_to_tolerance(opt, (h_min, h_max), tol)
        rows.append({"method": key, "label": label, "lr": lr, "momentum": momentum,
                     "rate_per_step": float(tuned.rate), "steps": None if math.isinf(steps) else int(steps)})  # fmt: skip
    # the continuous heavy-ball ODE with m = 1 and the damping that is fastest uniformly
    m = 1.0
    c = float(rates.optimal_damping(m, h_min))
    decay = float(rates.continuous_rate(m, c, [h_min, h_max]))
    t = time_to_tolerance((h_min, h_max), m, c, tol)
    rows.append({"method": "ode", "label": "heavy-ball ODE (m = 1)", "m": m, "c": c, "decay_rate": decay,
                 "time": None if math.isinf(t) else t})  # fmt: skip
    return rows


def _steps_text(steps: int | None) -> str:
    return "never" if steps is None else str(steps)


def rates_table(rows: Sequence[dict[str, Any]], h_min: float, h_max: float, tol: float = DEFAULT_TOL) -> str:
    """The plain-text table of :func:`rate_rows` (every number to :data:`DIGITS` significant digits).

    Parameters
    ----------
    rows : sequence of dict
        :func:`rate_rows`.
    h_min, h_max : float
        The curvature range.
    tol : float, optional
        The error reduction the step counts refer to.

    Returns
    -------
    str
    """
    lines = [
        f"curvatures h in [{_g(h_min)}, {_g(h_max)}], kappa = {_g(h_max / h_min)}",
        f"{'method':<28} {'lr':>12} {'momentum':>12} {'rate/step':>12} {'steps to ' + _short(tol):>14}",
    ]
    ode = None
    for r in rows:
        if r["method"] == "ode":
            ode = r
            continue
        lines.append(f"{r['label']:<28} {_g(r['lr']):>12} {_g(r['momentum']):>12} {_g(r['rate_per_step']):>12} "
                     f"{_steps_text(r['steps']):>14}")  # fmt: skip
    if ode is not None:
        time_text = "never" if ode["time"] is None else _g(ode["time"])
        lines.append(f"{ode['label']:<28} friction c = {_g(ode['c'])}, decay rate {_g(ode['decay_rate'])}, "
                     f"time to {_short(tol)}: {time_text}")  # fmt: skip
    lines.append(
        f"rate/step: the error shrinks like rate^k; decay rate: like e^(-rate t). Steps (time) to {_short(tol)}: "
        f"from then on the error stays below {_short(tol)} of its initial value, from rest (the factor k of a "
        "repeated root included)."
    )
    return "\n".join(lines)


def _tex_number(x: float, digits: int = DIGITS) -> str:
    """``x`` to ``digits`` significant digits as LaTeX maths: ``1.00000{\\cdot}10^{-150}`` for tiny or huge ``x``."""
    if not math.isfinite(x):
        return r"\infty" if x > 0 else r"-\infty"
    if x != 0 and not 1e-4 <= abs(x) < 1e6:
        mantissa, exponent = format(x, f".{digits - 1}e").split("e")
        return rf"{mantissa}{{\cdot}}10^{{{int(exponent)}}}"
    return _g(x, digits)


def rates_latex(rows: Sequence[dict[str, Any]], h_min: float, h_max: float, tol: float = DEFAULT_TOL) -> str:
    r"""A LaTeX ``tabular`` of :func:`rate_rows`; needs ``\usepackage{booktabs}``.

    Every cell is text or inline maths (``$...$``), so the fragment compiles in any
    document that loads booktabs (stated in its first line, a comment); ``\small`` and narrow
    column gaps keep it within the 345 pt text width of a 10 pt ``article``. The arguments
    are those of :func:`rates_table`.
    """
    exponent = math.log10(tol)
    tol_tex = f"10^{{{round(exponent)}}}" if abs(exponent - round(exponent)) < 1e-12 else _tex_number(tol, 2)
    lines = [
        r"% heavyball rates: needs \usepackage{booktabs}",
        r"% rho: the error shrinks like rho^k per step; lambda: like e^{-lambda t}; steps and time from rest",
        r"{\small\setlength{\tabcolsep}{4pt}\begin{tabular}{@{}lrrrr@{}}",
        r"\toprule",
        rf"\multicolumn{{5}}{{@{{}}l}}{{$h \in [{_tex_number(h_min)}, {_tex_number(h_max)}]$, "
        rf"$\kappa = {_tex_number(h_max / h_min)}$}} \\",
        rf"\multicolumn{{5}}{{@{{}}l}}{{steps (time): to reduce the error by ${tol_tex}$, from rest}} \\",
        r"\midrule",
        r"method & $\gamma$ & $\mu$ & $\rho$ & steps \\",
        r"\midrule",
    ]
    tex_labels = {key: tex for key, _, tex in _TUNED}
    for r in rows:
        if r["method"] == "ode":
            time_text = "never" if r["time"] is None else f"$t = {_tex_number(r['time'])}$"
            lines += [
                r"\midrule",
                rf"heavy-ball ODE ($m = 1$) & \multicolumn{{2}}{{r}}{{$c = {_tex_number(r['c'])}$}} & "
                rf"$\lambda = {_tex_number(r['decay_rate'])}$ & {time_text} \\",
            ]
        else:
            steps = "never" if r["steps"] is None else str(r["steps"])
            lines.append(rf"{tex_labels[r['method']]} & ${_tex_number(r['lr'])}$ & ${_tex_number(r['momentum'])}$ & "
                         rf"${_tex_number(r['rate_per_step'])}$ & {steps} \\")  # fmt: skip
    lines += [
        r"\bottomrule",
        r"\end{tabular}}",
    ]
    return "\n".join(lines)
