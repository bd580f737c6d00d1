r"""Eigenvalue-based convergence rates of linear momentum methods on quadratic valleys.

On a quadratic :math:`f(\theta) = \tfrac12\theta^\top A\theta - b^\top\theta` every linear
method decouples, in the eigenbasis of ``A``, into one scalar recurrence per curvature ``h``
(an eigenvalue of ``A``). With ``x_k`` the coordinate of :math:`\theta_k - \theta^*` along an
eigenvector, ``γ = lr`` and ``μ = momentum`` (torch's convention, ``docs/glossary.md``), each
recurrence *family* (the ``family=`` keyword of every function here) is

* ``"gd"``: :math:`x_{k+1} = (1-\gamma h)\,x_k`;
* ``"heavyball"``: :math:`x_{k+1} = (1+\mu-\gamma h)\,x_k - \mu\,x_{k-1}`;
* ``"nesterov"``: :math:`x_{k+1} = (1+\mu)(1-\gamma h)\,x_k - \mu(1-\gamma h)\,x_{k-1}`.

Each is the recurrence of the monic quadratic :math:`z^2 - Tz + D` (``T`` and ``D`` the trace
and determinant of :func:`iteration_matrix`, from the table :mod:`heavyball.recurrences`):
heavy ball ``T = 1 + μ − γh``, ``D = μ``; Nesterov ``T = (1 + μ)(1 − γh)``, ``D = μ(1 − γh)``;
GD ``T = 1 − γh``, ``D = 0`` (the heavy-ball polynomial at ``μ = 0``; its second root ``0`` is
kept so every family has two). The keyword was called ``method`` before; that spelling still
works for this release, with a ``DeprecationWarning``.

Which optimiser is which (:func:`heavyball.recurrences.recurrence_of`): ``torch.optim.SGD(lr, momentum)`` (and ``HeavyBall(eta, mu, dt)``,
with ``lr = eta·dt``) is ``"heavyball"``; ``SGD(lr, momentum, nesterov=True)`` and
``NesterovLookahead(eta, mu, dt)`` are ``"nesterov"`` — torch's parameters are the
look-ahead point ``y_k = (1+μ)x_k − μx_{k−1}`` of textbook NAG, a fixed linear combination of
NAG's iterates, so they obey the same recurrence; ``SGD(lr)`` is ``"gd"``. Dampening ``τ``
scales the gradient, ``lr → lr·(1 − τ)`` (after torch's undamped first step; torch ignores it
without momentum), and weight
decay ``λ`` shifts every curvature, ``h → h + λ``.

The asymptotic rate of a run is the spectral radius: the largest root modulus over the
spectrum. Everything here is vectorised, float64, and uses real-branch closed forms (no
``numpy.linalg.eigvals``, no complex square roots on large grids).

Domain: every real input (curvatures, ``lr``, ``momentum``, ``m``, ``c``) must be finite with
magnitude at most ``MAX_MAGNITUDE = 1e50`` (a ``ValueError`` naming the argument otherwise), so
that the squares and products inside the closed forms stay within float64 and no result is
NaN; unstable settings inside that range give rates ``>= 1``, never errors. No function emits
a numpy ``RuntimeWarning``.

References: Polyak (1964), "Some methods of speeding up the convergence of iteration
methods"; Nesterov (1983); Lessard, Recht & Packard (2016), "Analysis and design of
optimization algorithms via integral quadratic constraints", SIAM J. Optim.; Goh (2017),
"Why Momentum Really Works", Distill.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import recurrences
from ._validation import (
    MAX_MOMENTUM,
    as_choice,
    as_int,
    as_real,
    broadcast_shapes,
    check_momentum,
    describe,
    renamed_keyword,
)
from .iterate import iterate
from .problems import Quadratic
from .ratefit import RateFit, _out, _quiet, fit_rate
from .recurrences import FAMILIES
from .status import Status
from .tunings import MIN_CURVATURE, TUNINGS, Tuned, critical_momentum, critical_rate, optimal_parameters

#: an array_like of reals (validated into a float64 array at the boundary)
RealLike = Any

__all__ = [
    "FAMILIES",
    "MAX_MAGNITUDE",
    "METHODS",
    "MIN_CURVATURE",
    "REPEATED_RTOL",
    "TUNINGS",
    "RateComparison",
    "RateFit",
    "Tuned",
    "characteristic_roots",
    "continuous_rate",
    "critical_momentum",
    "critical_rate",
    "fit_rate",
    "is_stable",
    "iteration_matrix",
    "optimal_damping",
    "optimal_parameters",
    "predicted_vs_measured",
    "root_regime",
    "spectral_radius",
]

#: the former name of :data:`FAMILIES` (the recurrence families this module knows), kept for this release
METHODS = FAMILIES
#: default relative tolerance of :func:`root_regime` for "repeated": |T² − 4D| <= rtol·(T² + 4|D|)
REPEATED_RTOL = 1e-10
#: largest magnitude of every real input (curvatures, lr, momentum, m, c): products and squares
#: of such numbers in the closed forms stay far inside float64's range, so no result is NaN
MAX_MAGNITUDE = MAX_MOMENTUM
#: elements per block when a radius map is evaluated blockwise (keeps temporaries in cache)
_BLOCK = 1 << 14


# -------------------------------------------------------------------------------------------
# validation
# -------------------------------------------------------------------------------------------
def _check_family(family: str) -> str:
    return as_choice("family", family, FAMILIES)


def _check_lr(lr: RealLike) -> np.ndarray:
    return as_real("lr", lr, lower=0.0, upper=MAX_MAGNITUDE, array=True)


def _check_spectrum(eigenvalues: RealLike) -> np.ndarray:
    h = as_real("eigenvalues", eigenvalues, lower=-MAX_MAGNITUDE, upper=MAX_MAGNITUDE, array=True)
    if h.ndim > 1 or h.size == 0:
        raise ValueError(f"`eigenvalues` must be a scalar or a non-empty 1-D spectrum, got shape {h.shape}")
    return h.reshape(-1)


def _check_mass(m: RealLike) -> np.ndarray:
    return as_real("m", m, lower=0.0, lower_inclusive=False, upper=MAX_MAGNITUDE, array=True)


def _elementwise_args(
    h: RealLike, lr: RealLike, momentum: RealLike, family: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, str, tuple[int, ...]]:
    family = _check_family(family)
    h = as_real("h", h, lower=-MAX_MAGNITUDE, upper=MAX_MAGNITUDE, array=True)
    lr = _check_lr(lr)
    momentum = check_momentum(momentum, family=family)
    shape = broadcast_shapes(h=h.shape, lr=lr.shape, momentum=momentum.shape)
    return h, lr, momentum, family, shape


# -------------------------------------------------------------------------------------------
# the quadratic z² − T z + D of one curvature
# -------------------------------------------------------------------------------------------
def _trace_det_disc(h: Any, lr: Any, mu: Any, family: str) -> tuple[Any, Any, Any]:
    """``T``, ``D`` (:func:`heavyball.recurrences.trace_det`, broadcast to one shape) and the
    discriminant ``T² − 4D`` (:func:`heavyball.recurrences.discriminant`, factored where that
    is more accurate).

    heavy ball, μ ≥ 0: ``T² − 4μ = ((1−√μ)² − γh)·((1+√μ)² − γh)`` with
    ``(1−√μ)² = ((1−μ)/(1+√μ))²`` (no cancellation in ``1 − √μ`` as ``μ → 1``; it needs a
    square root, so it lives here and not in the table); Nesterov: ``a·((1+μ)²a − 4μ)`` with
    ``a = 1 − γh``. Near the repeated-root curve the remaining cancellation is inherent: the
    roots are not Lipschitz there.
    """
    g = lr * h
    T, D = recurrences.trace_det(family, g, mu)
    shape = np.broadcast_shapes(np.shape(T), np.shape(D))
    T, D = np.broadcast_to(T, shape), np.broadcast_to(D, shape)
    if family == "heavyball":
        return T, D, _heavyball_disc(g, mu, T, _heavyball_parts(mu))
    return T, D, recurrences.discriminant(family, g, mu)


def _heavyball_parts(mu: Any) -> tuple[Any, Any, Any]:
    """The momentum-only pieces of the heavy-ball discriminant: ``√|μ|``, ``(1−√μ)²``, ``(1+√μ)²``."""
    s = np.sqrt(np.abs(mu))
    return s, ((1.0 - mu) / (1.0 + s)) ** 2, (1.0 + s) ** 2


def _heavyball_disc(g: Any, mu: Any, T: Any, parts: tuple[Any, Any, Any]) -> Any:
    """``T² − 4μ`` as ``((1−√μ)² − γh)((1+√μ)² − γh)`` for ``μ ≥ 0`` (directly for ``μ < 0``,
    where it is a sum of positive terms); ``g = γh``, ``T = 1 + μ − γh`` (or ``|T|``)."""
    _, lo, hi = parts
    factored = (lo - g) * (hi - g)
    return factored if np.all(mu >= 0) else np.where(mu >= 0, factored, T * T - 4.0 * mu)


def _radius(h: Any, lr: Any, mu: Any, family: str, parts: tuple[Any, Any, Any] | None = None) -> Any:
    """Largest root modulus of ``z² − Tz + D`` per element, in real arithmetic.

    ``disc < 0`` (complex pair): ``√D``. ``disc ≥ 0`` (real roots): ``½(|T| + √disc)``, the
    modulus of the larger root ``q = ½(T + sign(T)√disc)``; the other root ``D/q`` is smaller.
    ``parts`` are :func:`_heavyball_parts` of ``mu``, shared between curvatures.
    """
    g = lr * h
    if family == "gd":
        return np.abs(recurrences.trace_det(family, g, mu)[0])
    if family == "nesterov":
        T, D, disc = _trace_det_disc(h, lr, mu, family)
        real = 0.5 * (np.abs(T) + np.sqrt(np.maximum(disc, 0.0)))
        return np.where(disc < 0, np.sqrt(np.abs(D)), real)  # D > 0 wherever disc < 0
    parts = _heavyball_parts(mu) if parts is None else parts
    real = np.abs(recurrences.trace_det(family, g, mu)[0])  # |T|
    disc = _heavyball_disc(g, mu, real, parts)
    real += np.sqrt(np.maximum(disc, 0.0))
    real *= 0.5
    return np.where(disc < 0, parts[0], real)  # √μ: μ > 0 wherever disc < 0


def _radius_map(points: tuple[float, ...], lr: Any, mu: Any, family: str, shape: tuple[int, ...]) -> np.ndarray:
    """``max over h in points of _radius(h, lr, mu)`` on the broadcast ``shape``.

    Large maps are evaluated in blocks of rows along the first axis so that the dozen
    temporaries of :func:`_radius` stay in cache (about 2.5× faster than whole-array
    evaluation on a 1000×1000 map); broadcast inputs are sliced as views, never copied.
    """
    size = int(np.prod(shape, dtype=np.int64))
    if len(shape) == 0 or size <= _BLOCK:
        parts = _heavyball_parts(mu) if family == "heavyball" else None
        r = _radius(points[0], lr, mu, family, parts)
        for h in points[1:]:
            r = np.maximum(r, _radius(h, lr, mu, family, parts))
        return np.broadcast_to(r, shape).copy() if np.shape(r) != shape else r
    lr_b = np.broadcast_to(lr, shape)
    mu_b = np.broadcast_to(mu, shape)
    out = np.empty(shape)
    row = size // shape[0]
    step = max(1, _BLOCK // max(row, 1))
    for i in range(0, shape[0], step):
        sl = slice(i, i + step)
        lr_s, mu_s = lr_b[sl], mu_b[sl]
        parts = _heavyball_parts(mu_s) if family == "heavyball" else None
        r = _radius(points[0], lr_s, mu_s, family, parts)
        for h in points[1:]:
            np.maximum(r, _radius(h, lr_s, mu_s, family, parts), out=r)
        out[sl] = r
    return out


# -------------------------------------------------------------------------------------------
# public: matrices, roots, radius, stability, regimes
# -------------------------------------------------------------------------------------------
# The elementwise functions below (iteration_matrix … root_regime) share their parameters, and
# each docstring lists them in full (numpydoc: a function's help stands alone); that repeated
# text is the only repetition among them.
@renamed_keyword("method", "family")
@_quiet
def iteration_matrix(h: RealLike, *, lr: RealLike, momentum: RealLike = 0.0, family: str = "heavyball") -> np.ndarray:
    r"""The 2×2 iteration matrix of one curvature, acting on the state ``(x_k, x_{k−1})``.

    .. math:: \begin{pmatrix}x_{k+1}\\ x_k\end{pmatrix} = M\begin{pmatrix}x_k\\ x_{k-1}\end{pmatrix},
              \qquad M = \begin{pmatrix}T & -D\\ 1 & 0\end{pmatrix}

    heavy ball ``T = 1 + μ − γh``, ``D = μ``; Nesterov ``T = (1+μ)(1−γh)``, ``D = μ(1−γh)``;
    GD ``T = 1 − γh``, ``D = 0`` (second column zero: the GD iterate ignores ``x_{k−1}``).
    ``x`` is the error coordinate along the eigenvector of ``h``. torch's own state
    ``(θ_k, b_k)`` is related to it by the invertible change ``b_k = (x_{k−1} − x_k)/γ``
    (heavy ball, ``γ > 0``), so the two matrices are similar and share eigenvalues; for heavy
    ball, torch's first step (``b = g``) is this recurrence started from ``x_{−1} = x_0``.

    Parameters
    ----------
    h, lr, momentum : array_like
        Curvature, learning rate ``γ ≥ 0`` and momentum ``μ``; broadcast elementwise.
    family : {"heavyball", "nesterov", "gd"}
        The recurrence (:mod:`heavyball.recurrences`); ``method=`` is its deprecated spelling.

    Returns
    -------
    ndarray, shape ``broadcast(h, lr, momentum) + (2, 2)``

    Examples
    --------
    >>> from heavyball import rates
    >>> rates.iteration_matrix(1.0, lr=0.5, momentum=0.25)
    array([[ 0.75, -0.25],
           [ 1.  ,  0.  ]])
    """
    h, lr, momentum, family, shape = _elementwise_args(h, lr, momentum, family)
    T, D, _ = _trace_det_disc(h, lr, momentum, family)
    M = np.zeros(shape + (2, 2))
    M[..., 0, 0] = T
    M[..., 0, 1] = -np.asarray(D)
    M[..., 1, 0] = 1.0
    return M


@renamed_keyword("method", "family")
@_quiet
def characteristic_roots(
    h: RealLike, *, lr: RealLike, momentum: RealLike = 0.0, family: str = "heavyball"
) -> np.ndarray:
    r"""Both roots of the characteristic polynomial ``z² − Tz + D`` of one curvature.

    Closed form, numerically stable (the "citardauq" form of the quadratic formula): for a
    non-negative discriminant ``Δ = T² − 4D`` the larger root is
    ``q = ½(T + sign(T)·√Δ)`` — no cancellation — and the other is ``D/q`` — no cancellation
    when it is tiny; for ``Δ ≤ 0`` the roots are ``T/2 ± i·√(−Δ)/2`` (exactly equal when
    ``Δ = 0``). ``Δ`` is computed in factored form (see the module notes), so the roots are
    accurate to a few ulps away from the repeated-root curve; on it they move by ``~√ε`` under
    rounding of the inputs, which no algorithm can avoid.

    Parameters
    ----------
    h, lr, momentum : array_like
        Broadcast elementwise; ``lr ≥ 0``.
    family : {"heavyball", "nesterov", "gd"}
        The recurrence (:mod:`heavyball.recurrences`); ``method=`` is its deprecated spelling.

    Returns
    -------
    ndarray of complex128, shape ``broadcast(h, lr, momentum) + (2,)``
        Ordered so that ``|z[..., 0]| ≥ |z[..., 1]|``; a complex pair is ``(x + iy, x − iy)``
        with ``y > 0``. GD gives ``(1 − γh, 0)``.

    Examples
    --------
    >>> from heavyball import rates
    >>> rates.characteristic_roots(0.01, lr=400/121, momentum=81/121).round(6)   # Polyak, κ = 100
    array([0.818182+0.j, 0.818182+0.j])
    """
    h, lr, momentum, family, shape = _elementwise_args(h, lr, momentum, family)
    T, D, disc = _trace_det_disc(h, lr, momentum, family)
    T = np.broadcast_to(T, shape)
    D = np.broadcast_to(D, shape)
    disc = np.broadcast_to(disc, shape)
    z = np.empty(shape + (2,), dtype=np.complex128)
    if family == "gd":
        z[..., 0] = T
        z[..., 1] = 0.0
        return z
    sq = np.sqrt(np.abs(disc))
    q = 0.5 * (T + np.copysign(sq, T))
    with np.errstate(divide="ignore", invalid="ignore"):
        other = np.where(q != 0, D / np.where(q != 0, q, 1.0), 0.0)
    cplx = disc <= 0
    z[..., 0] = np.where(cplx, 0.5 * T + 0.5j * sq, q)
    z[..., 1] = np.where(cplx, 0.5 * T - 0.5j * sq, other)
    return z


@renamed_keyword("method", "family")
@_quiet
def spectral_radius(
    eigenvalues: RealLike, *, lr: RealLike, momentum: RealLike = 0.0, family: str = "heavyball"
) -> float | np.ndarray:
    r"""The asymptotic rate: the largest root modulus over a spectrum of curvatures.

    .. math:: \rho(\gamma, \mu) = \max_{h \in \mathrm{spec}}\ \max\{|z| : z^2 - T(h)z + D(h) = 0\}

    Per curvature, in real arithmetic: ``√D`` when the roots are complex
    (``T² < 4D``), else ``½(|T| + √(T² − 4D))``.

    **Only the spectrum's smallest and largest elements are evaluated, and this is exact for
    all three families.** Proof: the per-curvature radius ``r`` is quasi-convex in ``h``, and a
    quasi-convex function on ``[h_min, h_max]`` attains its maximum at an endpoint, which
    belongs to the spectrum. Heavy ball and GD: ``D = μ`` does not depend on ``h`` and
    ``r = φ(|T|)`` with ``φ(t) = √μ`` for ``t < 2√μ`` and ``½(t + √(t² − 4μ))`` (increasing)
    beyond (for ``μ < 0``, ``φ(t) = ½(t + √(t² + 4|μ|))``, increasing); ``|T| = |1 + μ − γh|``
    is convex in ``h``, so every sublevel set ``{h : r(h) ≤ α} = {h : |T(h)| ≤ φ⁻¹(α)}`` is an
    interval. Nesterov: with ``a = 1 − γh`` the polynomial is ``z² − a((1+μ)z − μ)`` and
    ``r`` is non-increasing in ``a`` on ``a ≤ 0`` and non-decreasing on ``a ≥ 0`` (``r = 0``
    at ``a = 0``): in the complex region ``r = √(μa)`` grows with ``|a|``, and in the real
    region ``½(|1+μ||a| + √(a((1+μ)²a − 4μ)))`` grows with ``|a|`` because the radicand's
    derivative ``2(1+μ)²a − 4μ`` has the sign of ``a`` wherever the radicand is ``≥ 0``.
    So ``r`` is unimodal in ``a`` — quasi-convex — and ``a`` is affine in ``h``. (Note that
    Nesterov's complex-region modulus ``√(μ(1−γh))`` is *not* constant in ``h``, unlike heavy
    ball's ``√μ``; the endpoint property holds all the same.) The property is checked against
    the full spectrum by a hypothesis test.

    Parameters
    ----------
    eigenvalues : float or array_like, shape (n,)
        A curvature or a spectrum (any order; e.g. ``Quadratic.eigenvalues``).
    lr, momentum : array_like
        Broadcast with each other (not with ``eigenvalues``); ``lr ≥ 0``.
    family : {"heavyball", "nesterov", "gd"}
        The recurrence (:mod:`heavyball.recurrences`); ``method=`` is its deprecated spelling.

    Returns
    -------
    float or ndarray, shape ``broadcast(lr, momentum)``
        ``< 1`` converges; unstable settings give ``≥ 1`` (not an error); ``lr = 0`` gives
        ``max(1, |μ|)``. On the repeated-root curve ``(1 + μ − γh)² = 4μ`` the value is
        ``√μ`` up to ``~√ε ≈ 1e-8`` (the radius is not Lipschitz there).

    Notes
    -----
    Cost: two closed-form evaluations per (lr, momentum) pair whatever the spectrum's size,
    done in cache-sized blocks; a 1000×1000 grid takes about 10 ms here, against about a
    minute for ``numpy.linalg.eigvals`` of the 10⁸ stacked 2×2 matrices of a 100-point
    spectrum.

    Examples
    --------
    >>> from heavyball import rates
    >>> rates.spectral_radius([0.01, 1.0], lr=2 / 1.01, family="gd")   # 99/101
    0.9801980198019802
    >>> rates.spectral_radius([0.01, 0.5, 1.0], lr=[1.0, 3.0], momentum=0.5).round(4)
    array([0.9796, 1.    ])
    """
    family = _check_family(family)
    h = _check_spectrum(eigenvalues)
    lr = _check_lr(lr)
    momentum = check_momentum(momentum, family=family)
    shape = broadcast_shapes(lr=lr.shape, momentum=momentum.shape)
    lo, hi = float(h.min()), float(h.max())
    points = (lo,) if lo == hi else (lo, hi)
    return _out(_radius_map(points, lr, momentum, family, shape))


@renamed_keyword("method", "family")
@_quiet
def is_stable(h: RealLike, *, lr: RealLike, momentum: RealLike = 0.0, family: str = "heavyball") -> bool | np.ndarray:
    r"""Whether both roots of one curvature lie strictly inside the unit circle.

    Jury's (Schur–Cohn) criterion for ``z² − Tz + D``: ``|D| < 1`` and ``|T| < 1 + D`` —
    exact, without roots. Heavy ball: ``|μ| < 1`` and ``0 < γh < 2(1 + μ)`` (Goh 2017);
    GD: ``0 < γh < 2``. For a whole spectrum use ``spectral_radius(...) < 1``.

    Parameters
    ----------
    h, lr, momentum : array_like
        Curvature, learning rate ``γ ≥ 0`` and momentum ``μ``; broadcast elementwise.
    family : {"heavyball", "nesterov", "gd"}
        The recurrence (:mod:`heavyball.recurrences`); ``method=`` is its deprecated spelling.

    Returns
    -------
    bool or ndarray of bool, shape ``broadcast(h, lr, momentum)``

    Examples
    --------
    >>> from heavyball import rates
    >>> rates.is_stable([0.5, 4.0], lr=1.0, momentum=0.9)     # γh < 2(1 + μ) = 3.8
    array([ True, False])
    """
    h, lr, momentum, family, shape = _elementwise_args(h, lr, momentum, family)
    T, D, _ = _trace_det_disc(h, lr, momentum, family)
    stable = (np.abs(D) < 1.0) & (np.abs(T) < 1.0 + D)
    return _out(np.broadcast_to(stable, shape).copy())


@renamed_keyword("method", "family")
@_quiet
def root_regime(
    h: RealLike, *, lr: RealLike, momentum: RealLike = 0.0, family: str = "heavyball", rtol: float = REPEATED_RTOL
) -> str | np.ndarray:
    r"""``"complex"``, ``"real"`` or ``"repeated"``: the discrete damping regime per curvature.

    The discrete counterparts of under-, over- and critically damped. With ``Δ = T² − 4D``
    (computed as in :func:`characteristic_roots`): ``"repeated"`` when
    ``|Δ| ≤ rtol·(T² + 4|D|)`` — i.e. the roots agree to about ``√rtol`` relative;
    otherwise ``"complex"`` for ``Δ < 0`` and ``"real"`` for ``Δ > 0``. With the default
    ``rtol = 1e-10`` inputs rounded from an exact repeated root (e.g. Polyak's tuning, or
    ``critical_momentum``) are classified ``"repeated"``.

    Parameters
    ----------
    h, lr, momentum : array_like
        Curvature, learning rate ``γ ≥ 0`` and momentum ``μ``; broadcast elementwise.
    family : {"heavyball", "nesterov", "gd"}
        The recurrence (:mod:`heavyball.recurrences`); ``method=`` is its deprecated spelling.
    rtol : float >= 0
        Relative tolerance of ``"repeated"`` (default :data:`REPEATED_RTOL`).

    Returns
    -------
    str or ndarray of str, shape ``broadcast(h, lr, momentum)``

    Examples
    --------
    >>> from heavyball import rates
    >>> rates.root_regime([0.01, 0.2, 4.0], lr=1.0, momentum=rates.critical_momentum(0.01, 1.0))
    array(['repeated', 'complex', 'real'], dtype='<U8')
    """
    h, lr, momentum, family, shape = _elementwise_args(h, lr, momentum, family)
    rtol = as_real("rtol", rtol, lower=0.0)
    T, D, disc = _trace_det_disc(h, lr, momentum, family)
    repeated = np.isfinite(disc) & (np.abs(disc) <= rtol * (T * T + 4.0 * np.abs(D)))  # inf: real, far apart
    regime = np.where(repeated, "repeated", np.where(disc < 0, "complex", "real"))
    return _out(np.broadcast_to(regime, shape).copy())


# -------------------------------------------------------------------------------------------
# continuous time
# -------------------------------------------------------------------------------------------
def _ode_rate(m: Any, c: Any, h: Any) -> Any:
    """``−max Re s`` over ``m s² + c s + h = 0``, elementwise (stable form when overdamped)."""
    disc = c * c - 4.0 * m * h
    # within its own rounding (each term carries a relative error ε) the discriminant is 0:
    # critical damping, whose rate 2h/c = c/(2m) would otherwise lose half its digits to √disc
    disc = np.where(np.abs(disc) <= 4.0 * np.finfo(float).eps * (c * c + 4.0 * m * np.abs(h)), 0.0, disc)
    root = np.sqrt(np.maximum(disc, 0.0))
    den = c + root
    with np.errstate(divide="ignore", invalid="ignore"):
        over = np.where(den > 0, 2.0 * h / np.where(den > 0, den, 1.0), 0.0)
    return np.where(disc < 0, c / (2.0 * m), over)


@_quiet
def continuous_rate(m: RealLike, c: RealLike, eigenvalues: RealLike) -> float | np.ndarray:
    r"""The exponential decay rate of the heavy-ball ODE ``m·θ'' + c·θ' + ∇f(θ) = 0``.

    Per curvature the modes are ``e^{st}`` with ``m s² + c s + h = 0``; the rate is
    ``−max Re s`` over the spectrum: ``c/(2m)`` when underdamped (``c² < 4mh``), else
    ``(c − √(c² − 4mh))/(2m) = 2h/(c + √(c² − 4mh))`` (the stable form). As a function of
    ``h`` it is non-decreasing (it grows in the overdamped range and is the constant
    ``c/(2m)`` beyond), so over a spectrum it is the rate of the smallest curvature. A
    negative value means growth (``h < 0``); ``0`` means no decay (``c = 0`` or ``h = 0``).
    The critically damped mode decays like ``t·e^{−rate·t}``.

    Parameters
    ----------
    m : array_like, > 0
    c : array_like, >= 0
        Mass and friction, broadcast with each other.
    eigenvalues : float or array_like, shape (n,)

    Returns
    -------
    float or ndarray, shape ``broadcast(m, c)``

    Examples
    --------
    >>> from heavyball import rates
    >>> rates.continuous_rate(1.0, 0.1, [0.01, 1.0])   # underdamped: c/(2m)
    0.05
    >>> round(rates.continuous_rate(1.0, 0.2, [0.01, 1.0]), 12)   # critical for h_min: √(h_min/m)
    0.1
    """
    m = _check_mass(m)
    c = as_real("c", c, lower=0.0, upper=MAX_MAGNITUDE, array=True)
    h = _check_spectrum(eigenvalues)
    shape = broadcast_shapes(m=m.shape, c=c.shape)
    r = _ode_rate(m, c, float(h.min()))
    return _out(np.broadcast_to(r, shape).copy())


# the docstring's Returns/Examples layout repeats tunings.critical_momentum's (numpydoc: each
# function's help stands alone); the closed forms and their validation differ
@_quiet
def optimal_damping(m: RealLike, h_min: RealLike) -> float | np.ndarray:
    r"""The friction with the fastest uniform decay over curvatures ``[h_min, h_max]``: ``2√(m·h_min)``.

    Derivation: by :func:`continuous_rate` the decay over the spectrum is the rate of
    ``h_min`` (independent of ``h_max``), ``c/(2m)`` for ``c < 2√(m h_min)`` (increasing) and
    ``2h_min/(c + √(c² − 4m h_min))`` beyond (decreasing). The maximum is at the kink: the
    critical damping of the slowest mode, with rate ``√(h_min/m)``.

    Parameters
    ----------
    m : array_like, > 0
        Mass.
    h_min : array_like, > 0
        Smallest curvature; broadcast with ``m``.

    Returns
    -------
    float or ndarray, shape ``broadcast(m, h_min)``

    Examples
    --------
    >>> from heavyball import rates
    >>> rates.optimal_damping(1.0, 0.01)
    0.2
    """
    m = _check_mass(m)
    h_min = as_real("h_min", h_min, lower=0.0, lower_inclusive=False, upper=MAX_MAGNITUDE, array=True)
    broadcast_shapes(m=m.shape, h_min=h_min.shape)
    return _out(2.0 * np.sqrt(m * h_min))


@dataclass(frozen=True)
class RateComparison:
    """Predicted (spectral radius) and measured (fitted) rates of one run, side by side.

    Attributes
    ----------
    family : str
        The recurrence the optimiser follows on quadratics: "gd", "heavyball" or "nesterov"
        (:func:`heavyball.recurrences.recurrence_of`). ``method`` is its deprecated name.
    lr, momentum : float or ndarray
        The effective ``γ`` and ``μ`` of that recurrence.
    eigenvalues : ndarray
        The effective curvatures (``h``, shifted by weight decay, negated by ``maximize``).
    predicted : float or ndarray
        :func:`spectral_radius` at those parameters.
    measured : float or ndarray
        :func:`fit_rate` of ``‖θ_k − θ*‖`` (``fit.rate``).
    fit : RateFit
        The fit, with its window.
    errors : ndarray, shape (steps + 1, *batch)
        The measured errors ``‖θ_k − θ*‖`` the fit was made on (NaN after a divergence).
    multiplicity : int
        The multiplicity used in the fit (2 when the slowest curvature has repeated roots).
    regime : str or ndarray
        :func:`root_regime` of the curvature that sets the rate.
    exponent_error : float or ndarray
        ``|log measured / log predicted − 1|``.
    success : bool
    status : str
        :class:`~heavyball.Status` ``"measured"``, ``"diverged"`` or ``"no-window"``
        (``success`` is :attr:`Status.success`).
    message : str
    """

    family: str
    lr: object
    momentum: object
    eigenvalues: np.ndarray
    predicted: object
    measured: object
    fit: RateFit
    errors: np.ndarray
    multiplicity: int
    regime: object
    exponent_error: object
    success: bool
    status: Status
    message: str

    @property
    def method(self) -> str:
        """The deprecated name of :attr:`family`."""
        warnings.warn("RateComparison.method is deprecated; use `family`", DeprecationWarning, stacklevel=2)
        return self.family


@renamed_keyword("method", "optimizer")
def predicted_vs_measured(
    optimizer: Any,
    q: Quadratic,
    theta0: RealLike,
    steps: int | None,
    *,
    floor: float = 1e-12,
    skip: int | None = None,
    multiplicity: int | None = None,
) -> RateComparison:
    r"""Run a linear method on a quadratic and compare the fitted rate with the spectral radius.

    The optimiser is mapped to its per-curvature recurrence
    (:func:`heavyball.recurrences.recurrence_of`): ``SGD`` → "gd" (momentum 0),
    "heavyball", or "nesterov" (``nesterov=True``), with ``lr·(1 − dampening)`` (``lr`` without
    momentum) and curvatures ``±h + weight_decay`` (``−`` if ``maximize``);
    ``HeavyBall(eta, mu, dt)`` → "heavyball" and ``NesterovLookahead(eta, mu, dt)`` →
    "nesterov" with ``lr = eta·dt``. The predicted rate is :func:`spectral_radius` of the
    effective spectrum; the measured one is :func:`fit_rate` of ``‖θ_k − θ*‖``, with ``θ*``
    the fixed point of the effective gradient map (``q.minimizer`` without weight decay).

    Parameters
    ----------
    optimizer : SGD, HeavyBall or NesterovLookahead
        Constant hyperparameters (scalars, or arrays broadcasting with ``theta0``'s batch);
        ``method=`` is the deprecated spelling of this keyword.
    q : Quadratic
    theta0 : array_like, shape (..., d)
    steps : int or None
        Number of steps; ``None`` picks enough to reach ``floor`` at the predicted rate
        (``≈ 1.3·log(floor)/log ρ + 50``, at most 10⁶).
    floor, skip : see :func:`fit_rate`
    multiplicity : int, optional
        Passed to :func:`fit_rate`; by default 2 when the curvature that sets the rate has
        repeated roots (:func:`root_regime`), else 1 — see :func:`fit_rate` for the bias a
        plain fit shows there.

    Returns
    -------
    RateComparison

    Examples
    --------
    >>> import heavyball as hb
    >>> q = hb.Quadratic.from_eigenvalues([0.01, 1.0], rotation="random", seed=0)
    >>> r = hb.rates.predicted_vs_measured(hb.SGD(lr=1.0, momentum=0.5), q, [1.0, 1.0], None)
    >>> round(r.predicted, 6), r.exponent_error < 0.01, r.regime
    (0.979574, True, 'real')
    """
    if not isinstance(q, Quadratic):
        raise TypeError(f"`q` must be a Quadratic, got {describe(q)}")
    rec = recurrences.recurrence_of(optimizer)
    if np.ndim(rec.shift) != 0:
        raise ValueError(
            "`optimizer` must have a scalar `weight_decay` for a rate comparison (it shifts the spectrum), "
            f"got shape {np.shape(rec.shift)}"
        )
    kind, lr, momentum, sign, shift = rec.family, rec.lr, rec.momentum, rec.sign, float(rec.shift)
    h_eff = rec.curvature(q.eigenvalues)
    predicted = spectral_radius(h_eff, lr=lr, momentum=momentum, family=kind)
    # the regime of the curvature(s) that set the rate: an endpoint whose radius ties with the
    # max (relative 1e-6: tunings balance both ends) and has a repeated root makes the error
    # ~ k·ρᵏ, which wins over a simple root of the same modulus
    regimes, ties = [], []
    for h in (float(h_eff.min()), float(h_eff.max())):
        r_h = np.asarray(spectral_radius(h, lr=lr, momentum=momentum, family=kind))
        ties.append(r_h >= np.asarray(predicted) * (1 - 1e-6))
        regimes.append(np.asarray(root_regime(h, lr=lr, momentum=momentum, family=kind)))
    repeated = (ties[0] & (regimes[0] == "repeated")) | (ties[1] & (regimes[1] == "repeated"))
    regime = _out(np.where(repeated, "repeated", np.where(ties[0], regimes[0], regimes[1])))
    if multiplicity is None:
        multiplicity = 2 if np.all(repeated) else 1
    if steps is None:
        rho = float(np.max(predicted))
        steps = int(min(1e6, np.ceil(1.3 * np.log(floor) / np.log(rho)) + 50)) if 0 < rho < 1 else 1000
    steps = as_int("steps", steps, minimum=3)
    if sign == 1.0 and shift == 0.0 and q.minimizer is not None:
        tr = iterate(optimizer, q, theta0, steps, record="loss")
        dist = np.asarray(tr.distance, dtype=np.float64)
    else:  # the fixed point of the effective gradient sign·(Aθ − b) + λθ
        A_eff = sign * np.asarray(q.A) + shift * np.eye(q.dim)
        if np.min(np.abs(h_eff)) <= q.zero_tol:
            raise ValueError(
                "`optimizer` makes the effective Hessian singular: no fixed point to measure the error against"
            )
        theta_star = np.linalg.solve(A_eff, sign * np.asarray(q.b))
        tr = iterate(optimizer, q, theta0, steps, record="all")
        dist = np.linalg.norm(np.asarray(tr.theta, dtype=np.float64) - theta_star, axis=-1)
    status = np.asarray(tr.status)
    fit = fit_rate(dist, floor=floor, skip=skip, multiplicity=multiplicity)
    measured = fit.rate
    with np.errstate(divide="ignore", invalid="ignore"):
        exponent_error = np.abs(np.log(measured) / np.log(predicted) - 1.0)
    if np.all(np.isfinite(measured)):
        status_word = Status.MEASURED
        message = (
            f"fitted on errors[{describe(fit.start)}:{describe(fit.stop)}] "
            f"(multiplicity {multiplicity}); predicted {describe(predicted)}, measured {describe(measured)}"
        )
    elif np.any(status == "diverged"):
        status_word = Status.DIVERGED
        message = "the run diverged before a rate could be fitted (predicted rate " + describe(predicted) + ")"
    else:
        status_word = Status.NO_WINDOW
        message = "fewer than 3 usable errors: the run converged or stopped too soon to fit a rate"
    return RateComparison(
        family=kind,
        lr=_out(lr),
        momentum=_out(momentum),
        eigenvalues=h_eff,
        predicted=predicted,
        measured=measured,
        fit=fit,
        errors=dist,
        multiplicity=multiplicity,
        regime=regime,
        exponent_error=_out(exponent_error),
        success=status_word.success,
        status=status_word,
        message=message,
    )
