r"""The cycle test: whether a run that neither converged nor diverged ends on a periodic orbit.

A run settles into a cycle of period ``p`` when its last ``p`` iterates, the orbit, repeat
the ``p`` before them to rounding while they are not one point (:func:`cycle_periods`). Lessard,
Recht & Packard (2016, §4.6) give the classic case: heavy ball at Polyak's tuning on a strongly
convex function ends on a period-3 orbit, which more steps never leave.

Every engine of :func:`heavyball.iterate` asks the test for the configurations still undecided
at the end. The general loop and Adam's kernel keep the last :data:`TAIL` iterates; the
eigenbasis engine of the linear methods computes them by the closed form
(:func:`~heavyball.eigenmodes.last_iterates`), in its worker threads (:class:`ClosedFormCycles`):
the last ``CYCLE_MAX_PERIOD + 1`` iterates rule most configurations out
(:func:`cycle_candidates`), and only the few left are tested on all :data:`TAIL`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from .eigenmodes import Modes, columns, last_iterates

__all__ = [
    "CYCLE_MAX_PERIOD",
    "TAIL",
    "ClosedFormCycles",
    "cycle_candidates",
    "cycle_periods",
    "cycle_periods_of_modes",
    "periods_after",
    "tail_periods",
]

#: the longest period the cycle test looks for
CYCLE_MAX_PERIOD = 6
#: how many final iterates the cycle test reads (two periods of the longest)
TAIL = 2 * CYCLE_MAX_PERIOD


def cycle_periods(tail: np.ndarray, dtype: Any = np.float64) -> np.ndarray:
    r"""The period of the orbit the last iterates repeat, per configuration (0: none).

    With ``θ_{K−j}`` the last iterates (``tail[-1 − j]``), period ``p`` (the smallest in
    ``2 … CYCLE_MAX_PERIOD`` with ``2p ≤ len(tail)``) is found when the last ``p`` iterates,
    the orbit, repeat the ``p`` before them to rounding while the orbit is not a point:

    .. math:: \max_{0 \le j < p} \|θ_{K-j} - θ_{K-j-p}\| \le ε^{2/3} S_p, \qquad
              \max_{0 \le j < p} \|θ_{K-j} - θ_K\| > ε^{1/2} S_p, \qquad
              S_p = \max_{0 \le j < p} \|θ_{K-j}\|

    (``ε`` the dtype's machine epsilon). The orbit must so repeat to ``ε^{1/6} ≈ 2.4e-3`` (in
    float64) of its own extent. A mode ``λ^k`` repeats after ``p`` steps to ``|λ^p − 1|`` of
    its motion over the period, so only an eigenvalue within about that of a ``p``-th root of
    unity counts: a contraction, however close to the minimiser, and a slow spiral are not
    cycles, and a stalled iterate (a fixed point of the rounding) is never one.

    Parameters
    ----------
    tail : ndarray, shape (n, B, d)
        The last ``n`` iterates of ``B`` configurations, oldest first (NaN rows never cycle).
    dtype : numpy dtype
        The precision the iterates were computed in.

    Returns
    -------
    ndarray of int, shape (B,)
    """
    tail = np.asarray(tail, dtype=np.float64)
    return cycle_periods_of_modes(np.ascontiguousarray(np.swapaxes(tail, 1, 2)), dtype)


def tail_periods(tail: np.ndarray, dtype: Any) -> Callable[[np.ndarray], np.ndarray]:
    """``periods(rows)``: :func:`cycle_periods` of the flat configurations ``rows`` of a kept
    ``tail`` shaped ``(TAIL, B, d)`` (the form :func:`heavyball._run.make_trajectory` takes; all
    rows read the tail without a copy)."""
    return lambda rows: cycle_periods(tail if len(rows) == tail.shape[1] else tail[:, rows], dtype)


def _norm2(x: np.ndarray) -> np.ndarray:
    """Squared norms over the coordinates (axis −2) of arrays laid out ``(…, d, B)``."""
    return np.einsum("...ij,...ij->...j", x, x)


def cycle_candidates(tail: np.ndarray, dtype: Any = np.float64) -> np.ndarray:
    """The configurations :func:`cycle_periods` could find a period for, from the last
    ``CYCLE_MAX_PERIOD + 1`` iterates only (``tail`` laid out ``(n, d, B)``, configurations
    last): those with ``‖θ_K − θ_{K−p}‖ ≤ ε^{2/3}·S_P`` for some ``p`` (``S_P ≥ S_p``, so a
    configuration left out has no period). Boolean, shape ``(B,)``."""
    n = tail.shape[0]
    P = min(CYCLE_MAX_PERIOD, n - 1)
    eps = float(np.finfo(dtype).eps)
    with np.errstate(all="ignore"):
        near = np.min(_norm2(tail[n - 1 - P : n - 2] - tail[-1]), axis=0)  # ‖θ_K − θ_{K−p}‖², p = 2 … P
        scale2 = np.max(_norm2(tail[n - P :]), axis=0)
        return near <= eps ** (4.0 / 3.0) * scale2  # False for NaN


def cycle_periods_of_modes(tail: np.ndarray, dtype: Any = np.float64) -> np.ndarray:
    """:func:`cycle_periods` of iterates laid out with the configurations last: ``tail``
    shaped ``(n, d, B)`` (the coordinates may be any orthonormal ones, such as the eigenmodes
    ``z = Vᵀθ``: the test reads only norms)."""
    n, B = tail.shape[0], tail.shape[2]
    period = np.zeros(B, np.int64)
    P = min(CYCLE_MAX_PERIOD, n // 2)
    if P < 2 or B == 0:
        return period
    eps = float(np.finfo(dtype).eps)
    rows = np.flatnonzero(cycle_candidates(tail[n - P - 1 :], dtype))  # settles most rows at once
    if rows.size == 0:
        return period
    t = np.take(tail, rows, axis=-1)  # C-contiguous (tail[:, :, rows] is not: slow)
    with np.errstate(all="ignore"):
        norms2 = _norm2(t[n - P :])  # (P, rows): the last P iterates
        found = np.zeros(rows.size, np.int64)
        for p in range(2, P + 1):
            scale2 = np.max(norms2[P - p :], axis=0)  # S_p²
            moving = np.max(_norm2(t[n - p :] - t[-1]), axis=0) > eps * scale2
            mismatch2 = np.max(_norm2(t[n - p :] - t[n - 2 * p : n - p]), axis=0)
            hit = moving & (found == 0) & (mismatch2 <= eps ** (4.0 / 3.0) * scale2)
            found[hit] = p
        period[rows] = found
    return period


def periods_after(coef64: Any, z1: Any, z0: Any, short: Any, steps: int, dtype: Any) -> np.ndarray:
    """The cycle test's period (:func:`cycle_periods`) of each configuration,
    on the last iterates of the closed form, in the eigenbasis (the test reads norms, which the
    orthogonal rotation keeps): ``short``, the last ``CYCLE_MAX_PERIOD + 1``, rules most
    configurations out (:func:`cycle_candidates`); the others are tested on all
    ``TAIL``, from ``(z_1, z_0)``."""
    period = np.zeros(np.shape(z0)[1], np.int64)
    rows = np.flatnonzero(cycle_candidates(short, dtype))
    if rows.size:
        coef = (None, None) + tuple(columns(c, rows) for c in coef64[2:])
        period[rows] = cycle_periods_of_modes(
            last_iterates(coef, columns(z1, rows), columns(z0, rows), steps, TAIL), dtype
        )
    return period


@dataclasses.dataclass(frozen=True, kw_only=True, eq=False)
class ClosedFormCycles:
    """The cycle test of a run of the eigenbasis engine, run by its workers block by block.

    ``periods`` gets the period of each configuration (:func:`periods_after`), 0 for the
    diverged, and −1 for those the test was skipped for: configurations the eigenbasis already
    shows converged with a margin (``‖z_K − z*‖ ≤ ½·tol·‖z_0 − z*‖``), asked again only if
    the run's own test of convergence disagrees (:meth:`periods_of`)."""

    modes: Modes
    theta0: np.ndarray  # (B, d): the flat starts
    steps: int
    tol: float
    dtype: Any  # the run's dtype (its machine epsilon sets the test's tolerances)
    periods: np.ndarray  # (B,) int64
    zstar: np.ndarray | None  # (d, 1) float64: z* where the minimiser is known, else None

    def run(self, sl: slice, coef64: Any, z0: Any, rk: Any, dat: Any, compiled: bool = False) -> None:
        """Test the finished block ``sl`` from its start ``z0`` (float64 ``(d, w)``): the closed
        form gives the last iterates of the configurations to test (``rk``: their final
        distances, or None; ``compiled``: the Lucas sequence by the compiled kernel)."""
        test = self._untested(dat, z0, rk)
        out = np.where(test, 0, np.where(dat < 0, -1, 0))
        idx = np.flatnonzero(test)
        if idx.size:
            coef = tuple(columns(c, idx) for c in coef64)
            out[idx] = self._from_modes(coef, columns(z0, idx), compiled)
        self.periods[sl] = out

    def _untested(self, dat: Any, z0: Any, rk: Any) -> Any:
        """The configurations to test: not diverged, and not shown converged with a margin."""
        test = dat < 0
        if rk is not None and self.zstar is not None and self.tol > 0:
            with np.errstate(all="ignore"):
                dz = z0 - self.zstar
                r0 = np.sqrt(np.einsum("ij,ij->j", dz, dz))
                test &= ~(rk <= 0.5 * self.tol * r0)
        return test

    def periods_of(self, rows: np.ndarray) -> np.ndarray:
        """The periods of the flat configurations ``rows``, testing those the workers skipped."""
        out = self.periods[rows]
        skipped = np.flatnonzero(out < 0)
        if skipped.size:
            z0 = self.modes.rotate(self.theta0[rows[skipped]].T)  # (d, n)
            out[skipped] = self._from_modes(self.modes.coefficients(rows[skipped]), z0)
        return out

    def _from_modes(self, coef64: Any, z0: Any, compiled: bool = False) -> np.ndarray:
        """:func:`periods_after` from the modes' start ``z0`` (float64 ``(d, n)``)."""
        z1 = coef64[0] * z0
        if coef64[1] is not None:
            z1 += coef64[1]
        short = last_iterates(coef64, z1, z0, self.steps, CYCLE_MAX_PERIOD + 1, compiled)
        return periods_after(coef64, z1, z0, short, self.steps, self.dtype)
