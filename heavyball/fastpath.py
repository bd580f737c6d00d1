r"""The fast path: linear momentum methods on a quadratic, in the eigenbasis.

On a quadratic ``f(θ) = ½θᵀAθ − bᵀθ`` with ``A = V diag(h) Vᵀ`` every linear method of
:mod:`heavyball.optimizers` (``SGD`` with any flags, ``HeavyBall``, ``NesterovLookahead``)
decouples into one scalar *three-term recurrence* per eigen-mode ``z = Vᵀθ``:

.. math::

    z_{k+1} = a\,z_k + m\,z_{k-1} + e \qquad (k \ge 1),
    \qquad z_1 = f_1 z_0 + e_1 .

With the effective curvature ``ĥ = s·h + λ`` and linear term ``ĉ = s·(Vᵀb)`` (``s = −1`` for
``maximize``, ``λ`` the coupled weight decay) the coefficients are

====================================  ===================  ============  ===========  ============================
method                                ``a``                ``m``         ``e``        first step ``f₁, e₁``
====================================  ===================  ============  ===========  ============================
``SGD`` (``γ``, ``μ``, ``τ``)         ``1 + μ − γ(1−τ)ĥ``  ``−μ``        ``γ(1−τ)ĉ``  ``1 − γĥ``, ``γĉ``
``SGD(nesterov=True)``                ``(1+μ)(1−γĥ)``      ``−μ(1−γĥ)``  ``γĉ``       ``1 − γ(1+μ)ĥ``, ``γ(1+μ)ĉ``
``HeavyBall`` (``γ = dt·η``)          ``1 + μ − γh``       ``−μ``        ``γĉ``       ``1 − γh``, ``γĉ``
``NesterovLookahead`` (``γ = dt·η``)  ``(1+μ)(1−γh)``      ``−μ(1−γh)``  ``γĉ``       ``1 − γh``, ``γĉ``
====================================  ===================  ============  ===========  ============================

(torch's first SGD step sets the buffer to ``g`` without dampening, so ``γ(1−τ)`` enters only
from the second step; with ``momentum = 0`` torch ignores ``dampening``.) Derivation: with
``p_k = θ_{k+1} − θ_k``, SGD gives ``p_k = μ p_{k−1} − γ(1−τ) g_k`` for ``k ≥ 1``; torch's
Nesterov gives ``p_k = μ p_{k−1} − γ(1+μ) g_k + γμ g_{k−1}``; the heavy ball gives
``p_k = μ p_{k−1} − dt·η·g_k`` (look-ahead: ``g`` taken at ``θ_k + μ p_{k−1}``).

The engine rotates once into the eigenbasis (the stationary point is never subtracted: the
affine term ``e`` is kept, which is exact also for singular or indefinite ``A``), updates all
configurations and modes with in-place ufuncs on one ``(d, B_block)`` array, processes
cache-sized blocks of configurations through all steps before the next block (temporal
blocking), optionally on a small thread pool, and rotates back only what is recorded. The
loss is evaluated in the eigenbasis, ``f = Σᵢ (½hᵢzᵢ − (Vᵀb)ᵢ) zᵢ``. No BLAS call happens in
the hot loop (the two rotations are the only matrix products, outside the threads), so the
thread pool never oversubscribes BLAS.

Results equal the general path of :func:`heavyball.iterate` to about ``1e-12`` relative (the
largest deviation over the run divided by the largest ``|θ|`` of the run): the rotation and
the three-term form round differently, so the agreement is **not bitwise**. Runs with
``threads=1`` and ``threads=2`` are bitwise identical (every configuration sees the same
elementwise operations in the same order).

Divergence is reported exactly like the general path: the first step ``k`` at which
``‖θ_k‖₂`` passes the bound (or is not finite). The 2-norm is rotation-invariant, so it is
evaluated in the eigenbasis. Every ``CHUNK`` steps a cheap certificate bounds each mode over
the next ``CHUNK`` steps (``|U_j| ≤ j·ρ^{j−1}`` for the Lucas sequence of a 2×2 companion
matrix with spectral radius ``ρ``); only blocks that the certificate cannot clear are checked
step by step, so the first crossing is found exactly. A configuration keeps being stepped
after it diverged (its values are discarded: the recording is NaN after ``diverged_at``).

With ``engine="compiled"`` (the ``fast`` extra) each block is stepped, checked and recorded by
the numba kernel :func:`heavyball.compiled.linear.advance`, which performs the same
floating-point operations in the same order (no fused multiply-add), so every result is
bitwise equal to the numpy engine's; it releases the GIL, so the thread pool scales.

``record="final"`` jumps to the last iterate with :func:`~heavyball.eigenmodes.closed_form_iterate` (Lucas-style
fast doubling, ``O(log k)``) for every configuration that a certificate over the whole run
clears of divergence; the others are stepped (exactly as above), so ``status`` and
``diverged_at`` are the same as with stepping. The workers also run the cycle test on their
blocks (:class:`heavyball.cycles.ClosedFormCycles`): for the configurations not already
converged, the closed form gives the last iterates it reads.

``Adam``/``AdamW`` (not linear: no eigenbasis) are dispatched by :func:`supports`/:func:`run`
to the kernel of :mod:`heavyball._fastadam` (constant ``lr``, ``d ≤ problems.SMALL_DIM``): the
general path's operations in the same order on ``(d, block)`` arrays with temporal blocking,
**bitwise** equal to the general path; :func:`~heavyball.eigenmodes.closed_form_iterate` stays linear-only.

References: Polyak (1964) for the heavy ball's per-curvature recurrence; Goh (2017, Distill,
"Why Momentum Really Works") for PyTorch's form per curvature; Lucas sequences for the
doubling formulas ``U_{2n+1} = U_{n+1}² + mU_n²``, ``U_{2n} = U_n(U_{n+1} + mU_{n−1})``.
"""

from __future__ import annotations

import dataclasses
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from . import _fastadam, recurrences
from ._run import DiscreteTrajectory, RunSpec, make_trajectory, prepare
from ._validation import as_int
from .cycles import ClosedFormCycles, tail_periods
from .eigenmodes import Modes, columns, companion_radius, lucas, recurrence_on
from .problems import Quadratic

__all__ = [
    "BLOCK_BYTES",
    "CHUNK",
    "COMPILED_THREAD_MIN_WORK",
    "THREAD_MIN_CONFIGS",
    "run",
    "supports",
]

#: steps between divergence certificates (checked step by step only where a certificate fails)
CHUNK = 64
#: bytes of one ``(d, B_block)`` state array: three of them stay in a 1 MiB L2 cache
BLOCK_BYTES = 256 * 1024
#: ``threads=None`` uses one thread per slice of at least this many configurations
THREAD_MIN_CONFIGS = 16384
#: with ``engine="compiled"``, ``threads=None`` uses one thread per this many mode-steps
#: (modes × configurations × steps: a few milliseconds of one core), at most ``os.cpu_count()``
COMPILED_THREAD_MIN_WORK = 4_000_000
#: with ``engine="compiled"`` the configurations are split over threads in multiples of this
COMPILED_SPLIT = 512


# ---------------------------------------------------------------------------------------
# which runs the eigenbasis engine takes
# ---------------------------------------------------------------------------------------
def _linear(method: Any, problem: Any) -> bool:
    """Whether the eigenbasis engine (and :func:`~heavyball.eigenmodes.closed_form_iterate`) handles ``method``."""
    return recurrence_on(method, problem) is not None


def supports(method: Any, problem: Any) -> bool:
    """Whether :func:`run` handles ``method`` on ``problem``.

    True for ``SGD`` (every flag), ``HeavyBall`` and ``NesterovLookahead`` with constant
    (non-callable) hyperparameters that do not vary along the coordinate axis, on a
    :class:`~heavyball.problems.Quadratic` (the eigenbasis engine); and for ``Adam``/``AdamW``
    with a constant ``lr`` (every flag, array hyperparameters allowed) on a ``Quadratic`` of
    dimension ``≤ problems.SMALL_DIM`` (the kernel of :mod:`heavyball._fastadam`, bitwise
    identical to the general path).
    """
    return _linear(method, problem) or _fastadam.supports(method, problem)


def _block_width(d: int, itemsize: int) -> int:
    return max(1, BLOCK_BYTES // (itemsize * d))


# ---------------------------------------------------------------------------------------
# the stepping engine
# ---------------------------------------------------------------------------------------
def _growth(a: Any, m: Any, n: int) -> Any:
    """``2·(n+1)·max(ρ, 1)ⁿ`` per mode, ``ρ`` the spectral radius of ``[[a, m], [1, 0]]``.

    Bounds ``max_{1≤j≤n} |U_{j+1}|`` and ``max |U_j|`` (``|U_j| ≤ j·ρ^{j−1}``), with a factor 2
    for rounding (of ``ρ`` itself and of the floating-point recurrence)."""
    return 2.0 * (n + 1) * np.maximum(companion_radius(a, m), 1.0) ** n


@dataclasses.dataclass(slots=True, kw_only=True, eq=False)
class _Block:
    """One block of configurations: the state ``(x, p)`` = ``(z_k, z_{k−1})`` and its bookkeeping.

    Arrays are ``(d, w)`` over modes × configurations, ``(w,)`` per configuration.
    """

    x: np.ndarray  # z_k
    p: np.ndarray  # z_{k−1}
    t: np.ndarray  # scratch (d, w)
    s: np.ndarray  # scratch (d, w)
    n2: np.ndarray  # scratch (w,): squared norms
    bad: np.ndarray  # scratch (w,) bool
    alive: np.ndarray  # (w,) bool: not yet diverged
    dat: np.ndarray  # (w,) int64: diverged_at (a view into the run's array)
    bound2: np.ndarray  # (w,): squared divergence bounds
    coef: tuple[np.ndarray | None, ...]  # (f1, e1, a, m, e) in the run's dtype
    cert: tuple[np.ndarray | None, ...]  # (|m|, growth over CHUNK steps, CHUNK/2·|e|)
    dtype: np.dtype


def _rowsum(a: Any, out: Any) -> Any:
    """``Σᵢ a[i]`` over the mode axis, sequentially, ``(a₀ + a₁) + a₂ + …`` (the same for any
    block width, and the compiled kernel's order)."""
    if a.shape[0] == 1:
        np.copyto(out, a[0])
    elif a.shape[0] == 2:
        np.add(a[0], a[1], out=out)
    elif a.shape[1] == 1:
        # one configuration: numpy's reduction would run along the modes, pairwise; the
        # running sum is sequential by definition
        out[0] = np.add.accumulate(a[:, 0])[-1]
    else:
        np.sum(a, axis=0, out=out)  # the configurations are the inner loop: row after row
    return out


def _check(blk: _Block, k: int) -> Any:
    """Mark the alive configurations whose ``‖z_k‖₂`` passes the bound (or is not finite)."""
    np.multiply(blk.x, blk.x, out=blk.t)
    _rowsum(blk.t, blk.n2)
    np.less_equal(blk.n2, blk.bound2, out=blk.bad)
    np.logical_not(blk.bad, out=blk.bad)  # the general path's ~(‖θ‖² <= bound²): NaN and inf too
    blk.bad &= blk.alive
    if blk.bad.any():
        blk.dat[blk.bad] = k
        blk.alive &= ~blk.bad


def _certified(blk: _Block, K: Any, halfe: Any) -> bool:
    """True when no alive configuration can pass the bound within the next ``K``'s horizon:
    ``Σᵢ (Kᵢ(|xᵢ| + |m||pᵢ| + n/2·|eᵢ|))² ≤ bound²``."""
    np.abs(blk.p, out=blk.t)
    blk.t *= blk.cert[0]  # |m|
    np.abs(blk.x, out=blk.s)
    blk.s += blk.t
    if halfe is not None:
        blk.s += halfe
    blk.s *= K
    np.multiply(blk.s, blk.s, out=blk.s)
    _rowsum(blk.s, blk.n2)
    np.less_equal(blk.n2, blk.bound2, out=blk.bad)
    np.logical_not(blk.bad, out=blk.bad)
    blk.bad &= blk.alive
    return not blk.bad.any()


def _step_block(blk: _Block, k_from: int, k_to: int, recorder: Any = None, rec_steps: Any = (), r: int = 0) -> Any:
    """Advance ``blk`` from step ``k_from`` (≥ 1) to ``k_to``, certificates every ``CHUNK`` steps."""
    _f1, _e1, a, m, e = blk.coef
    _absm, Kc, halfe = blk.cert
    x, p, t = blk.x, blk.p, blk.t
    k = k_from
    n_rec = len(rec_steps)
    while k < k_to:
        n = min(CHUNK, k_to - k)
        blk.x, blk.p = x, p
        careful = not _certified(blk, Kc, halfe)
        for _ in range(n):
            np.multiply(x, a, out=t)  # type: ignore[arg-type]
            p *= m
            p += t
            if e is not None:
                p += e
            x, p = p, x
            k += 1
            if careful:
                blk.x = x
                _check(blk, k)
            if r < n_rec and rec_steps[r] == k:
                recorder(x, r)
                r += 1
    blk.x, blk.p = x, p
    return r


def _constants(coef64: Any, dtype: Any) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """The coefficients ``(f1, e1, a, m, e)`` cast to ``dtype`` and the divergence
    certificate's constants ``(|m|, growth over CHUNK steps, CHUNK/2·|e|)``."""
    _f1, _e1, a, m, e = coef64
    K = _growth(a, m, CHUNK)
    cert = (
        np.abs(m).astype(dtype),
        K.astype(dtype) if dtype == np.float64 else np.minimum(K, np.finfo(dtype).max).astype(dtype),
        None if e is None else (0.5 * CHUNK * np.abs(e)).astype(dtype),
    )
    return tuple(None if c is None else c.astype(dtype) for c in coef64), cert


def _make_block(
    *, coef64: Any, x: Any, p: Any, t: Any, s: Any, n2: Any, bad: Any, dat: Any, bound2: Any, dtype: Any
) -> _Block:
    """A block over the state ``x = z_0`` (and scratch arrays), with its coefficients cast to
    ``dtype`` and the divergence certificate's constants."""
    coef, cert = _constants(coef64, dtype)
    return _Block(
        x=x, p=p, t=t, s=s, n2=n2, bad=bad, alive=np.ones(x.shape[1], dtype=bool), dat=dat, bound2=bound2,
        coef=coef, cert=cert, dtype=dtype,
    )  # fmt: skip


class _Targets:
    """Where and what to record: flat records and the loss/distance constants in the eigenbasis."""

    def __init__(
        self, modes: Modes, q: Quadratic, dtype: Any, minimizer: Any, theta: Any, loss: Any, distance: Any
    ) -> None:
        self.theta, self.loss, self.distance = theta, loss, distance
        self.h2 = (0.5 * modes.h)[:, None].astype(dtype)
        self.bt = modes.bt[:, None].astype(dtype)
        if minimizer is not None:
            # f(θ) = f* + ½Σ hᵢ(zᵢ − zᵢ*)²  and  ‖θ − θ*‖ = ‖z − z*‖ (V orthogonal)
            star = np.asarray(minimizer, dtype=np.float64)
            zs = modes.rotate(star)
            self.zstar = zs[:, None].astype(dtype) if np.any(zs != 0) else None
            fstar = 0.5 * float(star @ (q.A @ star)) - float(q.b @ star)
            self.fstar = np.asarray(fstar, dtype=dtype) if fstar != 0.0 else None
            self.known = True
        else:
            self.zstar = self.fstar = None
            self.known = False

    def kernel_args(self, dtype: Any) -> tuple[Any, ...]:
        """The recording arguments of :func:`heavyball.compiled.linear.advance`, from
        ``rec_theta`` to ``has_fstar`` (empty placeholders where there is nothing)."""
        empty2 = np.empty((0, 0), dtype)
        d = self.h2.shape[0]
        return (
            self.theta is not None, np.empty((0, 0, 0), dtype) if self.theta is None else self.theta,
            True, self.loss, empty2 if self.distance is None else self.distance, self.distance is not None,
            self.known, np.ascontiguousarray(self.h2[:, 0]), np.ascontiguousarray(self.bt[:, 0]),
            np.zeros(d, dtype) if self.zstar is None else np.ascontiguousarray(self.zstar[:, 0]),
            self.zstar is not None,
            np.zeros(1, dtype) if self.fstar is None else np.reshape(self.fstar, (1,)).astype(dtype),
            self.fstar is not None,
        )  # fmt: skip

    def loss_distance(self, x: Any, s: Any, loss_row: Any, dist_row: Any) -> Any:
        """``f`` and ``‖θ − θ*‖`` of the modes ``x`` (``(d, w)``) into the given rows; ``s`` scratch."""
        if self.known:
            if self.zstar is not None:
                np.subtract(x, self.zstar, out=s)
                s *= s
            else:
                np.multiply(x, x, out=s)
            if dist_row is not None:
                _rowsum(s, dist_row)
                np.sqrt(dist_row, out=dist_row)
            s *= self.h2
            _rowsum(s, loss_row)
            if self.fstar is not None:
                loss_row += self.fstar
        else:
            np.multiply(x, self.h2, out=s)
            s -= self.bt
            s *= x
            _rowsum(s, loss_row)


@dataclasses.dataclass(frozen=True, kw_only=True, eq=False)
class _Engine:
    """What every worker of one run shares (read-only, except the slices it owns of ``Z``,
    ``dat`` and the records of ``targets``)."""

    modes: Modes
    Z: np.ndarray  # (d, B): the modes, z_0 on entry, z_K on exit
    steps: int
    dtype: np.dtype
    bound2: np.ndarray  # (B,)
    dat: np.ndarray  # (B,) int64: diverged_at
    rec_steps: np.ndarray  # the steps recorded inside the loop
    targets: _Targets
    closed_final: bool  # jump to the last step by the closed form (record="final")
    compiled: bool = False  # step with the kernel of heavyball.compiled.linear
    cycle: ClosedFormCycles | None = None  # the cycle test, run by the workers (None below 4 steps)


def _full(c: Any, d: int, w: int, dtype: Any) -> Any:
    """A coefficient as a C-contiguous ``(d, w)`` array (an empty placeholder for ``None``)."""
    if c is None:
        return np.empty((0, 0), dtype)
    return np.array(np.broadcast_to(c, (d, w)), dtype=dtype, order="C")  # a writable copy: one signature


def _writable(a: Any) -> Any:
    """``a`` as a writable C-contiguous array (the kernel is compiled for those only)."""
    return a if a.flags.c_contiguous and a.flags.writeable else np.array(a, order="C")


_NO_RECORD = (False, None, False, None, None, False, False, None, None, None, False, None, False)


def _advance(
    x: Any, p: Any, k_from: int, k_to: int, coef: Any, cert: Any, bound2: Any, dat: Any,
    rec_steps: Any = None, col: int = 0, targets: Any = _NO_RECORD,
) -> None:  # fmt: skip
    """:func:`heavyball.compiled.linear.advance` on a block: ``x``, ``p`` (C-contiguous
    ``(d, w)``, ``z_k`` and ``z_{k−1}``) from step ``k_from`` to ``k_to``, in place."""
    from .compiled import linear

    d, w = x.shape
    dtype = x.dtype
    f1, e1, a, m, e = (_full(c, d, w, dtype) for c in coef)
    cm, ck, ce = (_full(c, d, w, dtype) for c in cert)
    if targets is _NO_RECORD:
        e2, e1d = np.empty((0, 0), dtype), np.empty(0, dtype)
        targets = (False, np.empty((0, 0, 0), dtype), False, e2, e2, False, False, e1d, e1d, e1d, False, e1d, False)
    # scaled stepping of the modes near underflow: no linear term, and a loss that a
    # signed zero gives exactly (no z*, no f*; Vᵀb of positive sign where the minimiser is unknown)
    emulate = bool(
        coef[4] is None and not targets[10] and not targets[12]
        and (targets[6] or not np.any(np.signbit(targets[8])))
    )  # fmt: skip
    args: tuple[Any, ...] = (
        x, p, k_from, k_to, CHUNK, f1, e1, coef[1] is not None, a, m, e, coef[4] is not None,
        cm, ck, ce, cert[2] is not None, _writable(bound2), dat,
        np.zeros(0, np.int64) if rec_steps is None else _writable(rec_steps), col,
        *(_writable(t) if isinstance(t, np.ndarray) else t for t in targets), emulate,
        linear.take_levels(a, m, CHUNK) if emulate else np.empty((0, 0), dtype), linear.group_width(d),
    )  # fmt: skip
    linear.advance(*args)


def _run_range_compiled(eng: _Engine, c0: int, c1: int) -> None:
    """:func:`_run_range` with the compiled kernel: the same blocks, each stepped (and
    recorded) by :func:`heavyball.compiled.linear.advance` without the GIL."""
    modes, Z, steps, dtype = eng.modes, eng.Z, eng.steps, eng.dtype
    width = _block_width(modes.d, np.dtype(dtype).itemsize)
    targets = eng.targets.kernel_args(dtype)
    k_end = min(steps, 1) if eng.closed_final else steps
    with np.errstate(all="ignore"):
        for b0 in range(c0, c1, width):
            sl = slice(b0, min(c1, b0 + width))
            zv = Z[:, sl]
            coef64 = modes.coefficients(sl)
            coef, cert = _constants(coef64, dtype)
            x = np.array(zv, dtype=dtype, order="C")
            p = np.empty_like(x)
            dat, b2 = eng.dat[sl], eng.bound2[sl]
            z0 = x.astype(np.float64) if eng.cycle is not None else None
            _advance(x, p, 0, k_end, coef, cert, b2, dat, eng.rec_steps, b0, targets)
            if eng.closed_final and steps >= 2:
                nil = np.empty(0, dtype)
                blk = _Block(x=x, p=p, t=nil, s=nil, n2=nil, bad=np.empty(0, bool), alive=dat < 0, dat=dat,
                             bound2=b2, coef=coef, cert=cert, dtype=dtype)  # fmt: skip
                _final_closed_form(blk, coef64, zv, steps, dtype, compiled=True)
            else:
                zv[...] = x
            if eng.closed_final:
                _finish_final(eng, sl, zv, p)
            if z0 is not None:
                _cycle_test(eng, sl, coef64, z0, compiled=True)


def _run_range(eng: _Engine, c0: int, c1: int) -> None:
    """Run configurations ``[c0, c1)`` block by block through all steps (one worker)."""
    if eng.compiled:
        _run_range_compiled(eng, c0, c1)
        return
    modes, Z, steps, dtype, bound2, dat = eng.modes, eng.Z, eng.steps, eng.dtype, eng.bound2, eng.dat
    rec_steps, tg, closed_final = eng.rec_steps, eng.targets, eng.closed_final
    d = modes.d
    width = _block_width(d, np.dtype(dtype).itemsize)
    P = np.empty((d, width), dtype)
    T = np.empty((d, width), dtype)
    S = np.empty((d, width), dtype)
    N2 = np.empty(width, dtype)
    BAD = np.empty(width, dtype=bool)
    n_rec = len(rec_steps)
    with np.errstate(all="ignore"):  # per thread: numpy's error state is context-local
        for b0 in range(c0, c1, width):
            b1 = min(c1, b0 + width)
            w = b1 - b0
            sl = slice(b0, b1)
            zv = Z[:, sl]
            s = S[:, :w]

            def recorder(x: Any, r: Any, sl: Any = sl, s: Any = s) -> Any:
                if tg.theta is not None:
                    np.copyto(tg.theta[r, sl].T, x)
                tg.loss_distance(x, s, tg.loss[r, sl], None if tg.distance is None else tg.distance[r, sl])

            coef64 = modes.coefficients(sl)
            b2 = bound2[sl]
            z0 = zv.astype(np.float64) if eng.cycle is not None else None
            blk = _make_block(coef64=coef64, x=zv, p=P[:, :w], t=T[:, :w], s=s, n2=N2[:w], bad=BAD[:w], dat=dat[sl],
                              bound2=b2, dtype=dtype)  # fmt: skip
            f1, e1 = blk.coef[0], blk.coef[1]
            r = 0
            if r < n_rec and rec_steps[r] == 0:
                recorder(blk.x, r)
                r += 1
            if steps == 0:
                if closed_final:
                    _finish_final(eng, sl, zv, s)
                continue
            np.multiply(blk.x, f1, out=blk.p)  # type: ignore[arg-type]
            if e1 is not None:
                blk.p += e1
            blk.x, blk.p = blk.p, blk.x  # x = z_1 (scratch), p = z_0 (in Z)
            _check(blk, 1)
            if r < n_rec and rec_steps[r] == 1:
                recorder(blk.x, r)
                r += 1
            if closed_final and steps >= 2:
                _final_closed_form(blk, coef64, zv, steps, dtype)
            else:
                _step_block(blk, 1, steps, recorder, rec_steps, r)
                if blk.x is not zv:
                    zv[...] = blk.x
            if closed_final:
                _finish_final(eng, sl, zv, s)
            if z0 is not None:
                _cycle_test(eng, sl, coef64, z0)


def _final_closed_form(blk: _Block, coef64: Any, zv: Any, steps: int, dtype: Any, compiled: bool = False) -> None:
    """``z_steps`` into ``zv`` by the closed form where a certificate over the whole run rules
    divergence out; configurations it cannot clear are stepped exactly (gathered)."""
    _f1, _e1, a, m, e = coef64
    n = steps - 1
    z1 = blk.x.astype(np.float64)  # scratch: copy before zv is overwritten
    z0 = blk.p.astype(np.float64)  # == zv
    # certificate over steps 2..steps, in float64: Σᵢ (Kᵢ(|z1| + |m||z0| + n/2·|e|))² ≤ bound²
    cert = np.abs(z0) * np.abs(m)
    cert += np.abs(z1)
    if e is not None:
        cert += 0.5 * n * np.abs(e)
    cert *= _growth(a, m, n)
    cert *= cert
    todo = ~(np.sum(cert, axis=0) <= np.asarray(blk.bound2, dtype=np.float64)) & blk.alive
    if dtype != np.float64:
        # float32 stepping can overflow where float64 does not: step what could pass float32's range
        todo |= ~(np.sum(cert, axis=0) <= float(np.finfo(dtype).max)) & blk.alive
    p, q, g = lucas(a, m, e, n, compiled)
    out = p * z1
    out += q * z0
    if e is not None:
        out += e * g
    zv[...] = out
    idx = np.flatnonzero(todo)
    if idx.size:
        _step_exactly(blk, idx, z1, z0, zv, steps, dtype, compiled)


def _finish_final(eng: _Engine, sl: slice, zv: Any, s: Any) -> None:
    """The last iterate's loss and distance of the block ``sl`` (``s``: scratch)."""
    tg = eng.targets
    tg.loss_distance(zv, s, tg.loss[0, sl], None if tg.distance is None else tg.distance[0, sl])


def _cycle_test(eng: _Engine, sl: slice, coef64: Any, z0: Any, compiled: bool = False) -> None:
    """The cycle test of the finished block ``sl``, from its start ``z0`` (float64); the final
    distance (the records' last row: every run records its last step) tells the converged apart."""
    tg, cycle = eng.targets, eng.cycle
    assert cycle is not None
    rk = None if tg.distance is None else tg.distance[-1, sl]
    cycle.run(sl, coef64, z0, rk, eng.dat[sl], compiled)


def _step_exactly(blk: _Block, idx: Any, z1: Any, z0: Any, zv: Any, steps: int, dtype: Any, compiled: bool) -> None:
    """Step the configurations ``idx`` of the block from ``(z_1, z_0)`` to ``z_steps`` into ``zv``."""
    w, d = idx.size, zv.shape[0]
    sub = _Block(
        x=columns(z1, idx).astype(dtype), p=columns(z0, idx).astype(dtype), t=np.empty((d, w), dtype),
        s=np.empty((d, w), dtype), n2=np.empty(w, dtype), bad=np.empty(w, dtype=bool), alive=blk.alive[idx],
        dat=blk.dat[idx], bound2=blk.bound2[idx], coef=tuple(columns(c, idx) for c in blk.coef),
        cert=tuple(columns(c, idx) for c in blk.cert), dtype=dtype,
    )  # fmt: skip
    if compiled:
        sub.x, sub.p = np.ascontiguousarray(sub.x), np.ascontiguousarray(sub.p)
        _advance(sub.x, sub.p, 1, steps, sub.coef, sub.cert, sub.bound2, sub.dat)
    else:
        _step_block(sub, 1, steps)
    zv[:, idx] = sub.x
    blk.dat[idx] = sub.dat


def _split(n: int, width: int, threads: int) -> Any:
    """Contiguous config ranges aligned to blocks, one per thread."""
    nblocks = -(-n // width)
    threads = max(1, min(threads, nblocks))
    edges = [min(n, (nblocks * i // threads) * width) for i in range(threads + 1)]
    return [(edges[i], edges[i + 1]) for i in range(threads) if edges[i + 1] > edges[i]]


def auto_threads(n_configs: int, threads: Any = None) -> int:
    """Threads used for ``n_configs`` configurations: ``threads`` if given, else one per
    ``THREAD_MIN_CONFIGS`` configurations, at most ``os.cpu_count()``."""
    if threads is not None:
        return as_int("threads", threads, minimum=1)
    return max(1, min(os.cpu_count() or 1, n_configs // THREAD_MIN_CONFIGS))


def _compiled_threads(n_configs: int, steps: int, d: int, threads: Any = None) -> int:
    """Threads for the compiled kernel: ``threads`` if given, else one per
    ``COMPILED_THREAD_MIN_WORK`` mode-steps (and per ``COMPILED_SPLIT`` configurations), at
    most ``os.cpu_count()``: the kernel holds no GIL, so a thread is worth its start-up cost
    once it has a few milliseconds of work."""
    if threads is not None:
        return as_int("threads", threads, minimum=1)
    work = n_configs * d * max(steps, 1)
    return max(1, min(os.cpu_count() or 1, work // COMPILED_THREAD_MIN_WORK, n_configs // COMPILED_SPLIT))


def _nan_after(rec: Any, steps_rec: Any, dat: Any) -> Any:
    """NaN in ``rec[j, i]`` wherever ``steps_rec[j] >= dat[i] >= 0`` (the general path's rule)."""
    dead = np.flatnonzero(dat >= 0)
    if rec is None or dead.size == 0:
        return
    order = dead[np.argsort(dat[dead], kind="stable")]
    sdat = dat[order]
    for j, k in enumerate(steps_rec):
        cnt = int(np.searchsorted(sdat, k, side="right"))
        if cnt:
            rec[j, order[:cnt]] = np.nan


def run(method: Any, problem: Any, theta0: Any, steps: int, **options: Any) -> DiscreteTrajectory:
    """The fast path of :func:`heavyball.iterate` (same arguments, same result).

    Runs a linear method (see :func:`supports`) on a :class:`~heavyball.problems.Quadratic`
    in the eigenbasis; see the module documentation for the scheme, the accuracy (``1e-12``
    relative to the general path, not bitwise) and the divergence rule (identical to the
    general path's). ``threads``: ``None`` uses one thread per ``THREAD_MIN_CONFIGS``
    configurations (with ``engine="compiled"``: per ``COMPILED_THREAD_MIN_WORK`` mode-steps),
    at most ``os.cpu_count()``; an int forces that many; results do not depend on it (bitwise).

    Parameters
    ----------
    method, problem, theta0, steps
        As in :func:`heavyball.iterate`.
    **options
        ``record``, ``every``, ``tol``, ``threads`` as in :func:`heavyball.iterate` (not ``state``:
        the fast path starts at rest).

    Returns
    -------
    DiscreteTrajectory

    Examples
    --------
    >>> import numpy as np, heavyball as hb
    >>> from heavyball import fastpath
    >>> q = hb.Quadratic.valley(kappa=10)
    >>> tr = fastpath.run(hb.SGD(lr=np.array([[0.5], [3.5]]), momentum=0.5), q, [1.0, 1.0], 200)
    >>> tr.status.tolist(), tr.diverged_at.tolist()
    (['converged', 'diverged'], [-1, 36])
    """
    if "state" in options:
        raise TypeError("fastpath.run() starts at rest: pass `state` to heavyball.iterate instead")
    spec = prepare(method, problem, theta0, steps, **options)
    if not supports(method, problem):
        raise TypeError(f"the fast path does not apply to {type(method).__name__} on {type(problem).__name__}")
    return run_spec(spec)


def run_spec(spec: RunSpec) -> DiscreteTrajectory:
    """The fast path on a validated run (``heavyball._run.prepare``): the trajectory.

    Parameters
    ----------
    spec : RunSpec
        A run whose method and problem :func:`supports` accepts, starting at rest.

    Returns
    -------
    DiscreteTrajectory
    """
    recurrence = recurrence_on(spec.method, spec.problem)
    if recurrence is not None:
        theta, loss, distance, dat, periods = _run_spec(spec, recurrence)
        return make_trajectory(spec, theta=theta, loss=loss, distance=distance, diverged_at=dat, periods=periods)
    if spec.engine == "compiled":  # the kernel holds no GIL: threads from a few milliseconds of work
        threads = _compiled_threads(spec.size, spec.steps, spec.dim, spec.threads)
    else:
        threads = auto_threads(spec.size, spec.threads)
    theta, loss, distance, dat, tail = _fastadam.run_spec(spec, threads)
    for rec, steps_rec in ((theta, spec.theta_steps), (loss, spec.loss_steps), (distance, spec.loss_steps)):
        _nan_after(rec, steps_rec, dat)
    return make_trajectory(spec, theta=theta, loss=loss, distance=distance, diverged_at=dat,
                           periods=tail_periods(tail, spec.dtype))  # fmt: skip


def _run_spec(spec: RunSpec, rec: recurrences.Recurrence) -> Any:
    """The engine on a validated ``RunSpec``: flat records ``theta (n_theta, B, d)``, ``loss``
    and ``distance`` ``(n_loss, B)``, ``diverged_at (B,)``, and ``periods(rows)``, the cycle
    test's periods of the flat configurations ``rows`` (``None`` below 4 steps: no test)."""
    q, dtype, steps, B, d = spec.problem, spec.dtype, spec.steps, spec.size, spec.dim
    modes = Modes(rec, q, tuple(spec.batch) + (d,))
    Z = modes.to_modes(spec.theta0_flat, dtype)
    n_theta, n_loss = len(spec.theta_steps), len(spec.loss_steps)
    loss = np.empty((n_loss, B), dtype)
    distance = None if spec.minimizer is None else np.empty((n_loss, B), dtype)
    theta = np.empty((n_theta, B, d), dtype)
    in_loop = spec.record != "final"
    tg = _Targets(modes, q, dtype, spec.minimizer, theta if spec.record == "all" else None,
                  loss, distance)  # fmt: skip
    rec_steps = spec.loss_steps if in_loop else np.zeros(0, np.int64)
    dat = np.full(B, -1, dtype=np.int64)
    bound2 = spec.bound2
    width = _block_width(d, np.dtype(dtype).itemsize)
    if spec.engine == "compiled":  # the kernel's blocks need not align with the threads' ranges
        ranges = _split(B, COMPILED_SPLIT, _compiled_threads(B, steps, d, spec.threads))
    else:
        ranges = _split(B, width, auto_threads(B, spec.threads))

    cycle = None
    if steps >= 4:
        zstar = None if spec.minimizer is None else modes.rotate(spec.minimizer)[:, None]
        cycle = ClosedFormCycles(modes=modes, theta0=spec.theta0_flat, steps=steps, tol=spec.tol, dtype=dtype,
                                 periods=np.empty(B, np.int64), zstar=zstar)  # fmt: skip
    eng = _Engine(modes=modes, Z=Z, steps=steps, dtype=np.dtype(dtype), bound2=bound2, dat=dat, rec_steps=rec_steps,
                  targets=tg, closed_final=not in_loop, compiled=spec.engine == "compiled", cycle=cycle)  # fmt: skip

    def work(rng: Any) -> Any:
        _run_range(eng, rng[0], rng[1])

    if len(ranges) <= 1:
        for rng in ranges:
            work(rng)
    else:
        with ThreadPoolExecutor(max_workers=len(ranges)) as pool:
            list(pool.map(work, ranges))
    with np.errstate(all="ignore"):
        # rotate back only what was recorded (no BLAS inside the threads)
        if spec.record == "all":
            if modes.V is not None:
                for j in range(n_theta):
                    theta[j] = modes.from_modes(theta[j].T)
            theta[0] = spec.theta0_flat  # θ₀ itself, not rotated there and back (an ulp off)
        else:
            theta[0] = spec.theta0_flat if steps == 0 else modes.from_modes(Z)
    for record, steps_rec in ((theta, spec.theta_steps), (loss, spec.loss_steps), (distance, spec.loss_steps)):
        _nan_after(record, steps_rec, dat)
    return theta, loss, distance, dat, None if cycle is None else cycle.periods_of
