r"""The compiled Adam/AdamW kernel on a small quadratic (``engine="compiled"``).

The numba twin of the blocked numpy kernel of ``heavyball/_fastadam.py``: the same run, the
same per-configuration IEEE operations in the same order, so the iterates, losses, distances
and divergence steps are **bitwise equal** to ``engine="numpy"`` (float64 and float32).

* **the gradient** ``Aθ − b`` as ``problems.small_matvec`` forms it:
  ``g_l = θ_0A_{0l}``, then ``g_l ← g_l + θ_jA_{jl}`` for ``j = 1 … d−1``, then ``g_l − b_l``;
* **the update** in the order of :func:`heavyball._adamkernel.adam_update` (decay or
  ``maximize`` first, torch's two ``lerp`` branches, ``v ← β₂v + ((1−β₂)g)g``, the amsgrad
  maximum, ``(m·(−γ/(1−β₁ᵗ)))/(√v̂/√(1−β₂ᵗ) + ε)``), without fused multiply-adds
  (``fastmath=False``) except the explicit ones of the quotient's proof below, which change no
  result;
* **the divisions by a per-step constant** (``√v̂/√(1−β₂ᵗ)`` in float64, one divisor per
  step) go through its reciprocal with the proof of :mod:`heavyball.compiled.quotient`, which
  accepts a quotient only when it is the IEEE one (the rest are divided): the same bits, the
  divider left to the square root and the last division; with per-configuration ``lr``,
  ``lr/(1−β₁ᵗ)`` is divided again only while ``1−β₁ᵗ`` still changes (it is ``1.0`` from
  ``t ≈ 350`` at ``β₁ = 0.9``);
* **the per-step scalars** (``−γ/(1−β₁ᵗ)`` and ``√(1−β₂ᵗ)``) are not recomputed here: numpy
  forms them with :func:`heavyball._adamkernel.adam_scalars`, exactly as the numpy engine, and
  they are passed in as arrays (one value per step, or per step and configuration);
* **divergence**: every ``CHUNK`` steps the numpy engine's certificate (computed by numpy,
  :func:`heavyball._fastadam.certified`) marks the configurations that might pass their bound
  within the chunk; in a tile holding one of them, after every step ``‖θ‖² = θ_0² + θ_1² + …``
  (left to right) is compared with each configuration's bound, the numpy engine's rule;
* **records**: the loss ``f(θ) = Σ_l (½(Aθ)_l − b_l)θ_l`` and the distance ``‖θ − θ*‖`` are
  evaluated in the order numpy's ``Quadratic.value`` (``numpy.sum``: from ``0``, left to right
  for ``d < 8``, numpy's pairwise tree for ``d = 8``) and ``_run.row_norm_sq``
  (``numpy.einsum`` at numpy's x86-64 baseline: lanes of 16 bytes, multiply then add, the lanes
  summed pairwise) evaluate them.

A tile of configurations (a few KiB per coordinate) goes through all the steps before the
next (its ``θ, m, v`` stay in the L1 cache); every loop over configurations is innermost and
contiguous, so it vectorises. The kernel releases the GIL, so the numpy engine's thread pool
runs the blocks in parallel; a configuration's result does not depend on its block, its tile
or the thread (bitwise).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from numba import types
from numba.extending import overload

from . import jit
from .quotient import quotient, usable

__all__ = ["Plan", "Records", "adam_steps", "run_block"]

#: bytes per coordinate row of a tile (the tile's θ, m, v, g stay in L1)
TILE_BYTES = 4096
#: steps per call when the per-step scalars differ between configurations
ARRAY_CHUNK = 16
#: configurations per block when the per-step scalars differ between configurations
ARRAY_BLOCK = 4096


# ---------------------------------------------------------------------------------------
# hyperparameters that are a scalar or an array, resolved when numba compiles
# ---------------------------------------------------------------------------------------
def _row(a: Any, s: int, r: int, i0: int, i1: int) -> Any:
    """``a`` (a scalar), ``a[s]`` (one value per step) or ``a[s, r, i0:i1]`` / ``a[r, i0:i1]``.

    The Python reading of the rule; compiled code takes the overload below, which numba
    resolves once per argument type."""
    if isinstance(a, np.ndarray):
        if a.ndim == 3:
            return a[s, r, i0:i1]
        if a.ndim == 2:
            return a[r, i0:i1]
        return a[s]
    return a


@overload(_row, inline="always")
def _row_impl(a, s, r, i0, i1):  # type: ignore[no-untyped-def]  # numba compares the signatures
    if isinstance(a, types.Array) and a.ndim == 3:
        return lambda a, s, r, i0, i1: a[s, r, i0:i1]
    if isinstance(a, types.Array) and a.ndim == 2:
        return lambda a, s, r, i0, i1: a[r, i0:i1]
    if isinstance(a, types.Array):
        return lambda a, s, r, i0, i1: a[s]
    return lambda a, s, r, i0, i1: a


def _at(a: Any, i: int) -> Any:
    """``a[i]`` for a row, ``a`` for a scalar (compiled code takes the overload below)."""
    return a[i] if isinstance(a, np.ndarray) else a


@overload(_at, inline="always")
def _at_impl(a, i):  # type: ignore[no-untyped-def]  # numba compares the signatures
    if isinstance(a, types.Array):
        return lambda a, i: a[i]
    return lambda a, i: a


# ---------------------------------------------------------------------------------------
# the kernel
# ---------------------------------------------------------------------------------------
@jit()
def _matvec(x: Any, A: Any, g: Any, i0: int, cnt: int) -> None:  # pragma: no cover - compiled
    """``g[r, :cnt] = Σ_j x[j, i0:i0+cnt]·A[j, r]``, accumulated ``j = 0, 1, …``."""
    d = x.shape[0]
    for r in range(d):
        gl = g[r, :cnt]
        a = A[0, r]
        xj = x[0, i0 : i0 + cnt]
        for i in range(cnt):
            gl[i] = xj[i] * a
        for j in range(1, d):
            a = A[j, r]
            xj = x[j, i0 : i0 + cnt]
            for i in range(cnt):
                gl[i] = gl[i] + xj[i] * a


@jit(inline="always")
def _moments(gi: Any, mi: Any, vi: Any, coeff: Any, small: Any, beta2: Any, omb2: Any) -> Any:  # pragma: no cover
    """One element's ``(m, v)``: torch's ``lerp`` (``m + (g − m)·(1 − β₁)`` or its other branch,
    ``g + (g − m)·(1 − β₁ − 1)``, as ``small`` says) and ``v ← β₂v + ((1 − β₂)g)g``."""
    diff = (gi - mi) * coeff
    return (mi if small else gi) + diff, vi * beta2 + (gi * omb2) * gi


@jit(inline="always")
def _maximum(wi: Any, vi: Any) -> Any:  # pragma: no cover - compiled
    """``numpy.maximum(wi, vi)``: NaN propagates."""
    return wi if (wi >= vi or wi != wi) else vi


@jit()
def _update(
    xl: Any, gl: Any, ml: Any, vl: Any, wl: Any, cnt: Any, coeff: Any, small: Any, beta2: Any, omb2: Any,
    eps: Any, nss: Any, bc2: Any, amsgrad: Any,
) -> None:  # pragma: no cover - compiled  # fmt: skip
    """The moments and θ of one coordinate row (``adam_update`` after the decay/maximize)."""
    # two loops, not one with the branch inside: with the amsgrad test in the loop the compiler
    # does not vectorise it (measured about 3× slower)
    if amsgrad:
        for i in range(cnt):
            mi, vi = _moments(gl[i], ml[i], vl[i], _at(coeff, i), _at(small, i), _at(beta2, i), _at(omb2, i))
            ml[i], vl[i] = mi, vi
            wi = _maximum(wl[i], vi)
            wl[i] = wi
            den = np.sqrt(wi) / _at(bc2, i) + _at(eps, i)
            xl[i] = xl[i] + (mi * _at(nss, i)) / den
    else:
        for i in range(cnt):
            mi, vi = _moments(gl[i], ml[i], vl[i], _at(coeff, i), _at(small, i), _at(beta2, i), _at(omb2, i))
            ml[i], vl[i] = mi, vi
            den = np.sqrt(vi) / _at(bc2, i) + _at(eps, i)
            xl[i] = xl[i] + (mi * _at(nss, i)) / den


def _scalar(a: Any) -> Any:
    """``a`` for a scalar, ``0.0`` for an array (compiled code takes the overload below)."""
    return 0.0 if isinstance(a, np.ndarray) else a


@overload(_scalar, inline="always")
def _scalar_impl(a):  # type: ignore[no-untyped-def]  # numba compares the signatures
    if isinstance(a, types.Array):
        return lambda a: 0.0
    return lambda a: a


@jit(inline="always")
def _move(
    xl: Any, xs: Any, bad: Any, i: Any, vh: Any, mi: Any, nss: Any, eps: Any, bc2: Any, ybc2: Any
) -> Any:  # pragma: no cover
    """``θ_i ← θ_i + (m·(−step))/(√v̂/√(1 − β₂ᵗ) + ε)`` with the quotient through the reciprocal,
    the old ``θ_i`` kept in ``xs``; returns 1 where the proof did not pass (``bad[i]``)."""
    q, ok = quotient(np.sqrt(vh), bc2, ybc2)
    xi = xl[i]
    xs[i] = xi
    xl[i] = xi + (mi * nss) / (q + eps)
    bad[i] = not ok
    return 0 if ok else 1


@jit()
def _update_by_reciprocal(
    xl: Any, gl: Any, ml: Any, vl: Any, wl: Any, cnt: Any, coeff: Any, small: Any, beta2: Any, omb2: Any,
    eps: Any, nss: Any, bc2: Any, ybc2: Any, amsgrad: Any, xs: Any, bad: Any,
) -> None:  # pragma: no cover - compiled  # fmt: skip
    """:func:`_update` (float64, one ``√(1 − β₂ᵗ)`` for the row) with ``√v̂/√(1 − β₂ᵗ)`` by
    :func:`heavyball.compiled.quotient.quotient` (``ybc2`` its reciprocal): the same bits, the
    divider left to the square root and the last division. θ moves in the same pass (its old
    value kept in ``xs``); where the proof does not pass, a second pass divides and moves θ
    again from its old value."""
    nbad = 0
    if amsgrad:  # two loops, as in _update
        for i in range(cnt):
            mi, vi = _moments(gl[i], ml[i], vl[i], _at(coeff, i), _at(small, i), _at(beta2, i), _at(omb2, i))
            ml[i], vl[i] = mi, vi
            wi = _maximum(wl[i], vi)
            wl[i] = wi
            nbad += _move(xl, xs, bad, i, wi, mi, _at(nss, i), _at(eps, i), bc2, ybc2)
    else:
        for i in range(cnt):
            mi, vi = _moments(gl[i], ml[i], vl[i], _at(coeff, i), _at(small, i), _at(beta2, i), _at(omb2, i))
            ml[i], vl[i] = mi, vi
            nbad += _move(xl, xs, bad, i, vi, mi, _at(nss, i), _at(eps, i), bc2, ybc2)
    if nbad:
        src = wl if amsgrad else vl
        for i in range(cnt):
            if bad[i]:
                den = np.sqrt(src[i]) / bc2 + _at(eps, i)
                xl[i] = xs[i] + (ml[i] * _at(nss, i)) / den


@jit()
def _record_loss(
    x: Any, g: Any, b: Any, i0: Any, cnt: Any, half: Any, zero: Any, t: Any, out: Any
) -> None:  # pragma: no cover
    """``out[:cnt] = numpy.sum((½·g − b)·θ, axis=-1)`` (``g = Aθ``) in numpy's order."""
    d = x.shape[0]
    for r in range(d):
        xl = x[r, i0 : i0 + cnt]
        gl = g[r, :cnt]
        tl = t[r, :cnt]
        bl = b[r]
        for i in range(cnt):
            tl[i] = (half * gl[i] - bl) * xl[i]
    if d == 8:  # numpy's pairwise_sum of 8 terms, added to the zero it starts from
        for i in range(cnt):
            out[i] = zero + (((t[0, i] + t[1, i]) + (t[2, i] + t[3, i])) + ((t[4, i] + t[5, i]) + (t[6, i] + t[7, i])))
    else:
        for i in range(cnt):
            out[i] = zero
        for r in range(d):
            tl = t[r, :cnt]
            for i in range(cnt):
                out[i] = out[i] + tl[i]


@jit()
def _record_distance(
    x: Any, star: Any, i0: Any, cnt: Any, lanes: Any, zero: Any, t: Any, out: Any
) -> None:  # pragma: no cover
    """``out[:cnt] = sqrt(einsum("ij,ij->i", e, e))``, ``e = θ − θ*``, in numpy's baseline order:
    ``lanes`` accumulators (16 bytes of the dtype), element ``j`` into lane ``j mod lanes``;
    blocks of ``4·lanes`` elements added last vector first; then the lanes pairwise, then ``0 +``."""
    d = x.shape[0]
    for r in range(d):  # t[r] = (θ_r − θ*_r)²; rows d … d+lanes−1 hold the lanes
        xl = x[r, i0 : i0 + cnt]
        tl = t[r, :cnt]
        sl = star[r]
        for i in range(cnt):
            e = xl[i] - sl
            tl[i] = e * e
    acc = t[d : d + lanes, :cnt]
    for k in range(lanes):
        for i in range(cnt):
            acc[k, i] = zero
    j = 0
    while d - j >= 4 * lanes:
        for blk in range(3, -1, -1):
            for k in range(lanes):
                tl = t[j + blk * lanes + k, :cnt]
                ak = acc[k]
                for i in range(cnt):
                    ak[i] = tl[i] + ak[i]
        j += 4 * lanes
    while j < d:
        for k in range(lanes):
            if j + k < d:
                tl = t[j + k, :cnt]
                ak = acc[k]
                for i in range(cnt):
                    ak[i] = tl[i] + ak[i]
        j += lanes
    if lanes == 2:
        for i in range(cnt):
            out[i] = np.sqrt(zero + (acc[0, i] + acc[1, i]))
    else:
        for i in range(cnt):
            out[i] = np.sqrt(zero + ((acc[0, i] + acc[1, i]) + (acc[2, i] + acc[3, i])))


@jit()
def _check_tile(x: Any, i0: int, cnt: int, n2: Any, bd: Any, dd: Any, k: int) -> None:  # pragma: no cover
    """``dd[i] = k`` for the alive configurations of the tile with ``not (θ_0² + θ_1² + … <= bd)``."""
    d = x.shape[0]
    x0 = x[0, i0 : i0 + cnt]
    for i in range(cnt):
        n2[i] = x0[i] * x0[i]
    for r in range(1, d):
        xl = x[r, i0 : i0 + cnt]
        for i in range(cnt):
            n2[i] = n2[i] + xl[i] * xl[i]
    hits = 0
    for i in range(cnt):  # a count first (it vectorises), the marking only where one passed
        hits += (dd[i] < 0) & (not (n2[i] <= bd[i]))
    if hits:
        for i in range(cnt):
            if dd[i] < 0 and not (n2[i] <= bd[i]):
                dd[i] = k


@jit()
def _put_iterates(x: Any, i0: int, cnt: int, out: Any, c0: int) -> None:  # pragma: no cover - compiled
    """The tile's iterates (``x[:, i0 : i0 + cnt]``, modes × configurations) into the record
    ``out`` (configurations × coordinates) from column ``c0``."""
    d = x.shape[0]
    for r in range(d):
        xl = x[r, i0 : i0 + cnt]
        for i in range(cnt):
            out[c0 + i, r] = xl[i]


@jit()
def adam_steps(  # pragma: no cover - compiled
    x: Any, m: Any, v: Any, vmax: Any, A: Any, b: Any, has_b: Any, k0: Any, n: Any, neg_ss: Any, bc2s: Any,
    from_lr: Any, lr_rows: Any, bc1: Any,
    wd: Any, decay: Any, coeff: Any, small: Any, beta2: Any, omb2: Any, eps: Any, mode: Any, maximize: Any,
    amsgrad: Any, bound2: Any, dat: Any, col0: Any, loss_slot: Any, loss_out: Any, has_dist: Any,
    dist_out: Any, star: Any, theta_slot: Any, theta_out: Any, tail_first: Any, tail_out: Any, tile: Any,
    lanes: Any, half: Any, zero: Any, recip: Any, watch: Any,
) -> None:  # fmt: skip
    """Steps ``k0+1 … k0+n`` of the block ``x, m, v, vmax`` (``(d, w)``, C order, updated in
    place), tile by tile, with the records and the divergence steps of its configurations
    (global columns ``col0 …``). ``mode``: 0 no decay, 1 Adam's ``g + λθ``, 2 AdamW's
    ``(1 − γλ)θ``. Scalars or arrays: ``wd, coeff, small, beta2, omb2, eps`` (all ``(d, w)``
    or all scalars), ``decay`` (``(d, w)`` or a scalar, either way with scalars for the rest),
    and ``neg_ss, bc2s`` (``(n,)`` or ``(n, d, w)``). With
    ``from_lr`` the step size is ``−(lr/(1 − β₁ᵗ))`` of the rows ``lr_rows`` (``(1, w)`` or
    ``(d, w)``, float64) and ``bc1[s] = 1 − β₁ᵗ``, divided and cast here (IEEE division is
    exact-rounded: the value numpy forms) instead of ``neg_ss``. ``watch`` (``(w,)`` bool, by
    block column): the configurations the certificate did not clear; a tile without one is not
    tested for divergence."""
    d, w = x.shape
    R = lr_rows.shape[0]
    nrow = np.empty((R, tile), x.dtype)  # −step_size per lr row (from_lr)
    g = np.empty((d, tile), x.dtype)
    t = np.empty((d + 4, tile), x.dtype)  # the loss's terms, the distance's squares and lanes
    n2 = np.empty(tile, x.dtype)
    xs = np.empty(tile, x.dtype)  # a row's θ before the step (recip)
    bad = np.empty(tile, np.bool_)
    for i0 in range(0, w, tile):
        i1 = min(w, i0 + tile)
        cnt = i1 - i0
        c0 = col0 + i0
        careful = watch[i0:i1].any()
        have_mv = False  # g holds A·θ of the current θ (computed for the loss record)
        bc_rows = np.nan  # the 1 − β₁ᵗ that nrow was divided by (1.0 from t ≈ 350 on: kept)
        for s in range(n):
            k = k0 + s + 1
            if not have_mv:
                _matvec(x, A, g, i0, cnt)
            have_mv = False
            if has_b:
                for r in range(d):
                    gl = g[r, :cnt]
                    bl = b[r]
                    for i in range(cnt):
                        gl[i] = gl[i] - bl
            if from_lr and bc1[s] != bc_rows:  # cast(−(lr / bias_correction1), dtype) per configuration
                bc = bc1[s]
                bc_rows = bc
                for rr in range(R):
                    lrr = lr_rows[rr, i0:i1]
                    nr = nrow[rr]
                    for i in range(cnt):
                        nr[i] = -(lrr[i] / bc)
            by_recip = False
            ybc2 = 1.0
            if recip:  # float64, one √(1 − β₂ᵗ) per step
                b2s = _scalar(_row(bc2s, s, 0, i0, i1))
                by_recip = usable(b2s)
                ybc2 = 1.0 / b2s
            for r in range(d):
                xl = x[r, i0:i1]
                gl = g[r, :cnt]
                if mode == 2:  # param.mul_(1 - lr * weight_decay)
                    dl = _row(decay, s, r, i0, i1)
                    for i in range(cnt):
                        xl[i] = xl[i] * _at(dl, i)
                    if maximize:
                        for i in range(cnt):
                            gl[i] = -gl[i]
                elif mode == 1:  # grad.add(param, alpha=weight_decay)
                    wdl = _row(wd, s, r, i0, i1)
                    if maximize:
                        for i in range(cnt):
                            gl[i] = xl[i] * _at(wdl, i) - gl[i]
                    else:
                        for i in range(cnt):
                            gl[i] = xl[i] * _at(wdl, i) + gl[i]
                elif maximize:
                    for i in range(cnt):
                        gl[i] = -gl[i]
                ml, vl, wl = m[r, i0:i1], v[r, i0:i1], vmax[r, i0:i1]
                coeff_r, small_r, beta2_r = (
                    _row(coeff, s, r, i0, i1),
                    _row(small, s, r, i0, i1),
                    _row(beta2, s, r, i0, i1),
                )
                omb2_r, eps_r, bc2_r = _row(omb2, s, r, i0, i1), _row(eps, s, r, i0, i1), _row(bc2s, s, r, i0, i1)
                if from_lr:
                    nss_rows = nrow[r if R > 1 else 0, :cnt]
                    if by_recip:
                        _update_by_reciprocal(xl, gl, ml, vl, wl, cnt, coeff_r, small_r, beta2_r, omb2_r, eps_r,
                                              nss_rows, b2s, ybc2, amsgrad, xs, bad)  # fmt: skip
                    else:
                        _update(xl, gl, ml, vl, wl, cnt, coeff_r, small_r, beta2_r, omb2_r, eps_r, nss_rows, bc2_r,
                                amsgrad)  # fmt: skip
                else:
                    nss = _row(neg_ss, s, r, i0, i1)
                    if by_recip:
                        _update_by_reciprocal(xl, gl, ml, vl, wl, cnt, coeff_r, small_r, beta2_r, omb2_r, eps_r, nss,
                                              b2s, ybc2, amsgrad, xs, bad)  # fmt: skip
                    else:
                        _update(xl, gl, ml, vl, wl, cnt, coeff_r, small_r, beta2_r, omb2_r, eps_r, nss, bc2_r, amsgrad)
            # divergence: ~(θ_0² + θ_1² + … <= bound²), the first step only; a tile none of whose
            # configurations is watched (the certificate rules a divergence out) is not tested
            if careful:
                _check_tile(x, i0, cnt, n2, bound2[c0 : c0 + cnt], dat[c0 : c0 + cnt], k)
            # records
            if k >= tail_first:
                _put_iterates(x, i0, cnt, tail_out[k - tail_first], c0)
            slot = theta_slot[k]
            if slot >= 0:
                _put_iterates(x, i0, cnt, theta_out[slot], c0)
            slot = loss_slot[k]
            if slot >= 0:
                _matvec(x, A, g, i0, cnt)
                have_mv = True
                _record_loss(x, g, b, i0, cnt, half, zero, t, loss_out[slot, c0 : c0 + cnt])
                if has_dist:
                    _record_distance(x, star, i0, cnt, lanes, zero, t, dist_out[slot, c0 : c0 + cnt])


# ---------------------------------------------------------------------------------------
# the run, block by block (called from heavyball/_fastadam.py's worker threads)
# ---------------------------------------------------------------------------------------
class Records(NamedTuple):
    """A run's outputs, filled by the blocks: ``theta (n_θ, B, d)``, ``loss``, ``distance``
    (``(n_loss, B)``, or ``None``), ``tail (TAIL, B, d)`` and, per step ``0 … K``, the slot of
    its θ and loss records (``−1``: not recorded); the tail holds steps ``tail_first …``."""

    theta: np.ndarray
    loss: np.ndarray
    distance: np.ndarray | None
    tail: np.ndarray
    theta_slot: np.ndarray
    loss_slot: np.ndarray
    tail_first: int


class Plan:
    """What every block of one run shares: the dtype's constants, the problem's ``A``, ``b``,
    the records, which compiled variant runs and the per-step scalars formed by numpy.

    Per-step scalars: with scalar ``lr`` and betas, ``−lr/(1 − β₁ᵗ)`` and ``√(1 − β₂ᵗ)`` per step
    (``adam_scalars``, once per run); with an array ``lr`` and scalar betas, ``1 − β₁ᵗ`` and
    ``√(1 − β₂ᵗ)`` per step, the kernel dividing ``lr`` (``from_lr``); with array betas, both
    per step and configuration, ``ARRAY_CHUNK`` steps at a time (``chunked``)."""

    def __init__(self, K: Any, records: Any) -> None:
        from .._adamkernel import adam_scalars, bias_correction1

        dtype = np.dtype(K.dtype)
        self.K, self.dtype, self.records = K, dtype, records
        A, b = K.spec.problem.coefficients(dtype)
        # copies: writable C arrays whatever the problem stores (one compiled type per dtype)
        self.A = np.array(A, dtype, order="C")
        self.b = np.array(b, dtype, order="C")
        self.has_b = bool(np.any(b != 0))  # the numpy engine skips x − 0 (== x)
        self.half, self.zero = dtype.type(0.5), dtype.type(0.0)
        self.lanes = 16 // dtype.itemsize  # numpy's baseline vectors: SSE, 16 bytes
        self.tile = max(8, TILE_BYTES // dtype.itemsize)
        c = K.c
        hyper = (c.weight_decay, c.lerp_coeff, c.lerp_small, c.beta2_cast, c.one_minus_beta2, c.eps)
        # one compiled variant per dtype for scalar hyperparameters, one for arrays; AdamW's decay
        # 1 − lr·λ is an array of its own wherever lr is one (per-configuration lr, scalar betas)
        self.scalar = not any(isinstance(h, np.ndarray) for h in hyper)
        self.chunked = not K.scalar_betas
        # float64 with one √(1 − β₂ᵗ) per step: divided through its reciprocal (the same bits)
        self.recip = dtype == np.float64 and not self.chunked
        self.from_lr = K.scalar_betas and not K.scalar_lr
        steps = np.arange(1.0, K.steps + 1.0)
        self.neg_ss = np.zeros(0, dtype)
        self.bc2s = np.zeros(0, dtype)
        self.bc1 = np.zeros(0, np.float64)
        if K.scalars is not None:
            self.neg_ss = np.array([s[0] for s in K.scalars], dtype)
            self.bc2s = np.array([s[1] for s in K.scalars], dtype)
        elif self.from_lr:  # the same expressions as adam_scalars (lr enters in the kernel)
            self.bc1 = np.array(bias_correction1(c, steps), np.float64, ndmin=1)
            self.bc2s = np.array(adam_scalars(c, 1.0, steps, dtype)[1], dtype, ndmin=1)

    @property
    def block_width(self) -> int:
        """Configurations per block."""
        return ARRAY_BLOCK if self.chunked else 1 << 16


def _full(x: Any, d: int, w: int, dtype: Any) -> np.ndarray:
    """``x`` broadcast to ``(d, w)``: a new writable C array (one compiled type for all)."""
    return np.array(np.broadcast_to(np.asarray(x, dtype), (d, w)), order="C")


def run_block(P: Plan, Z: np.ndarray, sl: slice, dat: np.ndarray, bound2: np.ndarray, rec: Any) -> None:
    """All the steps of the configurations ``sl`` of ``Z`` (``(d, B)``, updated in place).

    ``rec(x, 0, sl)`` records step 0 (the numpy engine's own recorder); the kernel records the
    steps after it into ``P.records``.
    """
    from .._adamkernel import adam_scalars
    from .._fastadam import CHUNK, _block_consts, certified

    K, dtype, d = P.K, P.dtype, P.K.d
    r = P.records
    w = sl.stop - sl.start
    x = np.ascontiguousarray(Z[:, sl])
    m = np.zeros((d, w), dtype)
    v = np.zeros((d, w), dtype)
    vmax = np.zeros((d, w), dtype) if K.amsgrad else v
    rec(x, 0, sl)
    c, lr, wdf = _block_consts(K, sl)
    mode = 2 if wdf is not None else (1 if K.wd_on and not K.decoupled else 0)
    wd = c.weight_decay if mode == 1 else 0.0
    decay = wdf if mode == 2 else 1.0
    values = (wd, decay, c.lerp_coeff, c.beta2_cast, c.one_minus_beta2, c.eps)
    if P.scalar:
        wd_, coeff, beta2, omb2, eps = (dtype.type(h) for h in values[:1] + values[2:])
        decay_ = _full(decay, d, w, dtype) if np.ndim(decay) else dtype.type(decay)
        small: Any = bool(c.lerp_small)
    else:
        wd_, decay_, coeff, beta2, omb2, eps = (_full(h, d, w, dtype) for h in values)
        small = _full(c.lerp_small, d, w, np.bool_)
    lr_rows = np.zeros((1, 1), np.float64)
    if P.from_lr:  # (1, w) or (d, w): one row per distinct lr row (numpy promotes lr to float64)
        lr_rows = np.array(np.asarray(lr, np.float64).reshape(-1, w), order="C")
    dist = r.distance if r.distance is not None else r.loss
    star = np.zeros(d, dtype) if K.spec.minimizer is None else np.array(K.spec.minimizer, dtype, order="C")

    watch = np.ones(w, np.bool_)
    scratch = np.empty((d, w), dtype)

    def call(k0: int, n: int, neg_ss: Any, bc2s: Any) -> None:
        if k0 % CHUNK == 0:  # the numpy engine's certificate: only the configurations it cannot clear are tested
            ok = certified(K, x, k0 // CHUNK, k0, min(CHUNK, K.steps - k0), lr, wdf, c, bound2[sl], scratch)
            np.logical_and(~ok, dat[sl] < 0, out=watch)
        adam_steps(
            x, m, v, vmax, P.A, P.b, P.has_b, k0, n, neg_ss, bc2s, P.from_lr, lr_rows, P.bc1[k0:], wd_, decay_,
            coeff, small, beta2, omb2, eps, mode, K.maximize, K.amsgrad, bound2, dat, sl.start, r.loss_slot,
            r.loss, r.distance is not None, dist, star, r.theta_slot, r.theta, r.tail_first, r.tail, P.tile,
            P.lanes, P.half, P.zero, P.recip, watch,
        )  # fmt: skip

    steps = K.steps
    assert CHUNK % ARRAY_CHUNK == 0  # a call never spans two certificate chunks
    if not P.chunked:  # certificate chunks: the per-step scalars of steps k0+1 … k0+n
        for k0 in range(0, steps, CHUNK):
            n = min(CHUNK, steps - k0)
            call(k0, n, P.neg_ss[k0 : k0 + n], P.bc2s[k0 : k0 + n])
    else:  # per-configuration betas: adam_scalars exactly as the numpy engine calls it
        for k0 in range(0, steps, ARRAY_CHUNK):
            n = min(ARRAY_CHUNK, steps - k0)
            neg_ss = np.empty((n, d, w), dtype)
            bc2s = np.empty((n, d, w), dtype)
            for s in range(n):
                neg_ss[s], bc2s[s] = adam_scalars(c, lr, float(k0 + s + 1), dtype)
            call(k0, n, neg_ss, bc2s)
    Z[:, sl] = x
