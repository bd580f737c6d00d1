r"""The empirical rate of a decaying (or growing) error sequence: :func:`fit_rate`.

A least-squares line through the logarithm of the errors' envelope over a window that skips
the transient and stops before a round-off floor; oscillating errors are fitted through their
peaks. :mod:`heavyball.rates` compares the result with the spectral radius
(``rates.predicted_vs_measured``) and exports both names.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar

import numpy as np
from numpy.typing import ArrayLike

from ._validation import as_float_array, as_int, as_real, describe

__all__ = ["RateFit", "fit_rate"]

_F = TypeVar("_F", bound=Callable[..., Any])


def _quiet(fn: _F) -> _F:
    """Run ``fn`` with numpy's floating-point warnings off. Extreme but valid inputs (e.g.
    ``lr·h = 1e300``) give results that overflow float64: they come out as ``inf`` (an
    unstable rate) without a ``RuntimeWarning``; the functions never return NaN for finite
    input."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _out(x: Any) -> Any:
    """A 0-d result becomes a plain Python scalar (``float``, ``int``, ``bool``, ``str``), so
    that scalar inputs give results that print cleanly; anything else stays an array."""
    x = np.asarray(x)
    return x if x.ndim else x.item()


class RateFit(NamedTuple):
    """A fitted per-step rate and the window ``errors[start:stop]`` it was fitted on.

    A Python ``float`` and two ``int`` values for a 1-D error sequence; arrays shaped ``batch`` for
    errors shaped ``(n, *batch)``.
    """

    rate: float | np.ndarray
    start: int | np.ndarray
    stop: int | np.ndarray


#: a round-off floor is detected when the error settles this far below its initial value
_PLATEAU_DROP = 1e-3
#: ... and the window then stops where the error is still this many times above the floor
_PLATEAU_MARGIN = 10.0
#: an oscillating error is fitted through its peaks when there are at least this many ...
_MIN_PEAKS = 4
#: ... spanning at least this fraction of the window
_PEAK_SPAN = 0.5


@_quiet
def fit_rate(errors: ArrayLike, *, floor: float = 1e-12, skip: int | None = None, multiplicity: int = 1) -> RateFit:
    r"""The empirical per-step rate ``ρ`` of a decaying error sequence, ``e_k ≈ C·ρᵏ``.

    A least-squares line through ``log ê_k`` against ``k`` over a window ``[start, stop)``;
    ``ρ = exp(slope)``.

    * **Window end** ``stop``: the first index where ``e_k ≤ floor·e_0`` (``floor`` is
      relative to the *initial* error ``e_0 = errors[0]``), or the first non-finite value
      (divergence), whichever comes first. Round-off floors above ``floor·e_0`` (float32
      iterates, a minimiser far from the origin) are detected too: when the largest error
      over the last tenth of the finite sequence, ``L``, is below ``1e-3·e_0``, the window
      also ends at the first index where ``e_k ≤ 10·L``. (A clean decay to the end then only
      loses its last decade or so.)
    * **Window start**: ``skip`` if given, else ``stop // 3`` — the first third of the usable
      sequence is treated as a transient (faster modes, momentum build-up).
    * **Envelope**: ``ê_k = max_{k ≤ j < stop} e_j``, the running maximum from the right,
      which removes the near-zero dips of oscillating (complex-root) errors; for a monotone
      decay ``ê = e``. (For a growing sequence the running maximum from the left,
      ``max_{start ≤ j ≤ k} e_j``, plays that role: both are fitted — their slopes have
      opposite signs — and the steeper one is kept, so growth gives a rate above 1.)
    * **Peaks**: when the error oscillates — at least 4 interior local maxima of ``e`` that
      are records of the envelope, spanning at least half the window — the line is fitted
      through those peaks only. The peaks of ``ρᵏ|cos(kω + φ)|`` lie on a line up to the
      sampling jitter ``≈ ω²/8``, whereas the envelope is a staircase whose effect on the
      slope shrinks only like ``1/N²`` with the number ``N`` of periods in the window (about
      1% at ``N = 3``). Monotone errors (real roots) have no interior peaks and use the
      envelope.

    **Repeated roots.** Where the slowest curvature has a repeated root (Polyak's and both
    Nesterov tunings, critical momentum) the error is ``≈ (A + Bk)ρᵏ``, and the plain fit
    returns the slope of ``log k + k·log ρ``: ``ρ_fit ≈ ρ·exp(s)`` with ``s`` the
    least-squares slope of ``log k`` over the window, ``s ≈ log(stop/start)/(stop − start)``.
    So the fitted rate is *slower* than ``ρ``, by a relative exponent error
    ``≈ s/|log ρ|`` (about 5% at Polyak's optimum for κ = 100 with the default window).
    Either read it that way, or pass ``multiplicity=2`` to fit ``log(ê_k / k)`` instead,
    which removes the ``k`` factor (a leftover ``B/(Ak)`` bias decays with the window).
    In general ``multiplicity = p`` divides by ``k^{p−1}``.

    Parameters
    ----------
    errors : array_like, shape (n, *batch)
        Non-negative errors (e.g. ``‖θ_k − θ*‖``), one column per configuration; the fit is
        vectorised over columns. NaN/inf mark divergence.
    floor : float in (0, 1)
        Relative floor.
    skip : int, optional
        Index where the window starts (overrides ``stop // 3``).
    multiplicity : int >= 1
        Multiplicity of the slowest root.

    Returns
    -------
    RateFit(rate, start, stop)
        Per-sample rate (``rate**(1/every)`` per step if errors were recorded every
        ``every`` steps), and the window used (``stop`` exclusive); arrays shaped ``batch``
        for 2-D input. ``rate`` is NaN when fewer than 3 points are usable (``e_0 = 0``,
        immediate convergence to ``0``, or immediate divergence).

    Examples
    --------
    >>> import numpy as np
    >>> from heavyball import rates
    >>> k = np.arange(400)
    >>> fit = rates.fit_rate(0.9**k * (1 + 0.5 * 0.5**k))
    >>> round(fit.rate, 12), fit.start, fit.stop   # stop: the first 0.9ᵏ <= 1e-12·1.5
    (0.9, 86, 259)
    """
    e = as_float_array("errors", errors, dtype=np.float64, finite=False)
    if e.ndim == 0:
        raise ValueError("`errors` must be a sequence shaped (n, *batch), got a scalar")
    if e.shape[0] == 0:
        raise ValueError(f"`errors` must hold at least one error (n >= 1), got shape {e.shape}")
    if np.any(e < 0):
        raise ValueError(f"`errors` must be non-negative (norms of errors), got {describe(errors)}")
    floor = as_real("floor", floor, lower=0.0, upper=1.0, lower_inclusive=False, upper_inclusive=False)
    multiplicity = as_int("multiplicity", multiplicity, minimum=1)
    if skip is not None:
        skip = as_int("skip", skip, minimum=0)
    n = e.shape[0]
    batch = e.shape[1:]
    e2 = e.reshape(n, -1)
    k = np.arange(n, dtype=np.float64)[:, None]

    def first(mask: np.ndarray, default: Any) -> np.ndarray:
        """First row index where ``mask`` holds, per column (``default`` if never)."""
        hit = mask.any(axis=0)
        return np.where(hit, mask.argmax(axis=0), default)

    e0 = e2[0]
    finite = np.isfinite(e2)
    n_finite = first(~finite, n)
    stop = np.minimum(n_finite, first(e2 <= floor * e0, n))
    # round-off plateau: largest error over the last tenth of the finite sequence
    tail_start = n_finite - np.maximum(1, n_finite // 10)
    in_tail = (k >= tail_start) & (k < n_finite)
    level = np.max(np.where(in_tail, e2, -np.inf), axis=0)
    plateau = level < _PLATEAU_DROP * e0
    stop = np.where(plateau, np.minimum(stop, first(e2 <= _PLATEAU_MARGIN * level, n)), stop)
    start = np.full_like(stop, skip) if skip is not None else stop // 3
    if multiplicity > 1:
        start = np.maximum(start, 1)
    window = (k >= start) & (k < stop)
    # envelopes: running max from the right (non-increasing: tracks a decay's peaks) and
    # from the left (non-decreasing: a growth's peaks); their slopes have opposite signs
    masked = np.where(window, e2, 0.0)
    env_right = np.maximum.accumulate(masked[::-1], axis=0)[::-1]
    env_left = np.maximum.accumulate(masked, axis=0)
    # interior local maxima of the window (the peaks of an oscillating error)
    local_max = np.zeros_like(window)
    with np.errstate(invalid="ignore"):
        local_max[1:-1] = (e2[1:-1] >= e2[:-2]) & (e2[1:-1] > e2[2:])
    local_max &= (k > start) & (k < stop - 1)
    length = (stop - start).astype(np.float64)
    ok = (e0 > 0) & np.isfinite(e0)
    slopes = []
    for env in (env_right, env_left):
        usable = window & (env > 0)
        peaks = local_max & usable & (e2 >= env)  # peaks that are records of this envelope
        count = peaks.sum(axis=0)
        first_peak = peaks.argmax(axis=0)
        last_peak = n - 1 - peaks[::-1].argmax(axis=0)
        use_peaks = (count >= _MIN_PEAKS) & (last_peak - first_peak >= _PEAK_SPAN * length)
        points = np.where(use_peaks, peaks, usable)
        y = np.log(np.where(points, env, 1.0))
        if multiplicity > 1:
            y = y - (multiplicity - 1) * np.log(np.maximum(k, 1.0))
        slope, enough = _ls_slope(k, y, points.astype(np.float64))
        slopes.append(slope)
        ok = ok & enough
    slope = np.where(np.abs(slopes[0]) >= np.abs(slopes[1]), slopes[0], slopes[1])
    with np.errstate(over="ignore"):
        rate = np.where(ok, np.exp(np.where(ok, slope, 0.0)), np.nan)
    start = np.where(ok, start, 0)
    stop = np.where(ok, stop, 0)
    return RateFit(_out(rate.reshape(batch)), _out(start.reshape(batch)), _out(stop.reshape(batch)))


def _ls_slope(k: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted least-squares slope of ``y`` on ``k`` per column (weights 0/1), and ``count ≥ 3``."""
    count = w.sum(axis=0)
    enough = count >= 3
    cw = np.where(enough, count, 1.0)
    kbar = (w * k).sum(axis=0) / cw
    ybar = (w * y).sum(axis=0) / cw
    dk = (k - kbar) * w
    sxx = (dk * dk).sum(axis=0)
    sxy = (dk * (y - ybar)).sum(axis=0)
    return sxy / np.where(sxx > 0, sxx, 1.0), enough & (sxx > 0)
