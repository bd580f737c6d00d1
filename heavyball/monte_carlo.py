r"""The chunked engine of noisy Monte Carlo runs: many samples, only the final iterate recorded.

A noisy run of :func:`heavyball.iterate` with ``record="final"`` (the shape of a Monte Carlo
estimate: ``10⁶`` samples × ``10³`` steps) is stepped here, chunk after chunk of
:data:`CHUNK` rows (one :data:`~heavyball.noise.STREAM_BLOCK`), all steps of a chunk before
the next chunk: the working arrays of a chunk stay in the processor's cache, so each step costs
little beyond drawing its normal variates. The variates of :data:`DRAW_STEPS` steps are drawn
in one call of the chunk's generator (the same sequence as one call per step).

Every operation is the general loop's, element by element — the optimiser's own update, the
problem's gradient (row-independent for small ``d``), the same noise from the same per-sample
stream — so the result is the general loop's, bit for bit. Two layouts, one arithmetic:

* ``engine="numpy"`` keeps a chunk's iterates transposed, ``(d, rows)``, so that the
  coordinates of the small product ``θA`` are contiguous rows (the noise is transposed once
  per step, by the multiplication that scales it);
* ``engine="compiled"`` hands each block of :data:`DRAW_STEPS` steps to a numba kernel
  (:mod:`heavyball.compiled.noisy`) that applies the gradient, the noise and the optimiser's
  update to each row in one pass, with the variates still drawn by numpy. It covers SGD (every
  flag), HeavyBall and NesterovLookahead with scalar hyperparameters on a small-``d``
  :class:`~heavyball.problems.Quadratic`; other runs take the numpy layout.

Chunks are independent (each has its own streams), so they run in threads (``threads=``;
numpy's generators and ufuncs and the kernels release the GIL) with the same bytes whatever the
number of threads. A chunk in which a row diverges hands the whole run back to the general
loop, which owns the divergence rules.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from ._batch import Scratch as _Scratch
from ._batch import restrict_batch as _restrict
from ._run import RunSpec, allocate, make_trajectory, row_norm_sq
from .cycles import TAIL, tail_periods
from .noise import STREAM_BLOCK, GradientNoise, NormalStream
from .problems import SMALL_DIM, Quadratic

__all__ = ["CHUNK", "DRAW_STEPS", "THREAD_MIN_SAMPLES", "applies", "run_final", "threads_for"]

#: rows stepped together (a multiple of the stream block, so a chunk draws whole blocks)
CHUNK = STREAM_BLOCK
#: steps whose variates are drawn in one call: ``DRAW_STEPS × CHUNK × d`` float64 (512 KiB for
#: ``d = 2``), which stay in the L2 cache until they are used
DRAW_STEPS = 8
#: ``threads=None`` uses one thread per this many samples, at most ``os.cpu_count()``
THREAD_MIN_SAMPLES = 4 * CHUNK


def applies(spec: RunSpec) -> bool:
    """Whether the chunked engine runs ``spec``: a run from rest recording only the final step."""
    final = [int(spec.steps)]
    return spec.state is None and list(spec.theta_steps) == final and list(spec.loss_steps) == final


def threads_for(samples: int, threads: int | None) -> int:
    """Threads for a run of ``samples`` rows: ``threads`` if given, else one per
    :data:`THREAD_MIN_SAMPLES` samples, at most ``os.cpu_count()`` (never more than chunks)."""
    chunks = -(-samples // CHUNK)
    if threads is None:
        threads = min(os.cpu_count() or 1, samples // THREAD_MIN_SAMPLES)
    return max(1, min(int(threads), chunks))


def _transposed(method: Any) -> Any:
    """``method`` with its (rows, last) array hyperparameters transposed to (last, rows), for
    iterates kept as (d, rows); scalars and schedules are unchanged (a schedule's array values
    are transposed where they are read)."""
    changes = {}
    for f in dataclasses.fields(method):
        v = getattr(method, f.name)
        if isinstance(v, np.ndarray):
            changes[f.name] = v.T
        elif isinstance(v, tuple) and any(isinstance(x, np.ndarray) for x in v):
            changes[f.name] = tuple(x.T if isinstance(x, np.ndarray) else x for x in v)
    return dataclasses.replace(method, **changes) if changes else method


def _quadratic_grad_t(theta: np.ndarray, A: np.ndarray, b: np.ndarray, b_zero: bool, out: np.ndarray,
                      tmp: np.ndarray) -> np.ndarray:  # fmt: skip
    """``θA − b`` for iterates kept as ``(d, rows)``: ``Quadratic.grad``'s operations in its
    order, each over every output coordinate at once (``A``'s rows as columns ``(d, 1)``):
    ``g = θ_0A_0``, ``g += θ_iA_i``, ``g −= b`` (skipped when ``b`` is all ``+0.0``:
    ``x − (+0) = x`` for every ``x``)."""
    np.multiply(theta[0], A[0][:, None], out=out)
    for i in range(1, A.shape[0]):  # a loop over coordinates (≤ SMALL_DIM), never over samples
        np.multiply(theta[i], A[i][:, None], out=tmp)
        np.add(out, tmp, out=out)
    if not b_zero:
        np.subtract(out, b[:, None], out=out)
    return out


#: elements per call of BLAS's dot in :func:`_sum_sq`: OpenBLAS runs a longer dot in threads
#: (measured here: 3 µs for 8192 doubles, 21 µs for 16384 in CPU time of the calling thread)
DOT_PIECE = 8192


def _sum_sq(flat: np.ndarray) -> Any:
    """``Σ flat²`` (NaN if any entry is NaN, inf on overflow), by BLAS's dot in single-threaded
    pieces: one pass, where ``min`` and ``max`` would take two."""
    if flat.size <= DOT_PIECE:
        return np.dot(flat, flat)
    return sum(np.dot(p, p) for p in np.split(flat, range(DOT_PIECE, flat.size, DOT_PIECE)))


class _Run:
    """What every chunk of a run shares: the problem, the noise, the records."""

    def __init__(self, spec: RunSpec, noise: GradientNoise, seed: Any, first_row: int = 0):
        self.spec, self.seed, self.first_row = spec, seed, first_row  # row i draws sample first_row + i
        self.B, self.d, self.dtype, self.steps = spec.size, spec.dim, spec.dtype, spec.steps
        self.theta_rec, self.loss_rec, self.dist_rec = allocate(spec)
        self.tail = np.full((TAIL, self.B, self.d), np.nan, self.dtype)
        self.tail_first = self.steps - TAIL + 1
        self.method: Any = _restrict(spec.method, spec.batch)
        self.problem, self.star, self.bound2 = spec.problem, spec.minimizer, spec.bound2
        self.factor = None if noise.cov is None else noise.factor(self.d).T
        self.sigma = float(noise.sigma) if noise.cov is None else 0.0
        self.quad = None
        if isinstance(self.problem, Quadratic) and self.d <= SMALL_DIM:
            A, b = self.problem._A_b(self.dtype)  # Quadratic.grad's own coefficients
            self.quad = (A, b, bool(np.all((b == 0) & ~np.signbit(b))))
        self.stop = threading.Event()  # set when a chunk diverges or fails: the others stop too

    def limit(self, b2: np.ndarray) -> Any:
        """``max|θ|`` below this: no row can be past its bound (the general loop's cheap test)."""
        d = self.d
        return np.sqrt(b2.min() / (d * (1 + 2 * (d + 2) * np.finfo(self.dtype).eps)))

    def noise(self, z: np.ndarray, out: np.ndarray) -> np.ndarray:
        """The noise ``ξ = σz`` (or ``zLᵀ``, one step at a time as the general loop forms it)
        of a block of steps' variates ``z`` ``(steps, rows, d)``, in float64, into ``out``
        (which may be ``z``)."""
        if self.factor is None:
            return np.multiply(z, self.sigma, out=out)
        for s in range(len(z)):
            out[s] = z[s] @ self.factor
        return out

    def finish(self, start: int, stop: int, theta: np.ndarray) -> None:
        """Record a chunk's final iterates ``theta`` ``(rows, d)``, their losses and distances."""
        self.theta_rec[-1, start:stop] = theta
        self.loss_rec[-1, start:stop] = self.problem.value(theta)
        if self.dist_rec is not None:
            self.dist_rec[-1, start:stop] = np.sqrt(row_norm_sq(theta - self.star))


def _chunk_numpy(run: _Run, start: int, stop: int) -> bool:
    """Step rows ``start:stop`` with numpy, iterates kept as ``(d, rows)``; False on divergence."""
    n, d, dtype, steps = stop - start, run.d, run.dtype, run.steps
    m = _transposed(_restrict(run.method, (run.B,), np.arange(start, stop)))
    theta = np.array(run.spec.theta0_flat[start:stop].T, dtype=dtype, order="C")
    state = m._init((d, n), dtype)
    scratch = _Scratch((d, n), dtype)
    stream = NormalStream(run.seed, run.first_row + start, run.first_row + stop, d)
    zs = np.empty((max(min(DRAW_STEPS, steps), 1), n, d))
    xis = zs if run.factor is None else np.empty_like(zs)
    xi_cast = None if dtype == np.float64 else np.empty((len(zs), d, n), dtype)
    gbuf, tmp = np.empty((d, n), dtype), np.empty((d, n), dtype)
    b2 = run.bound2[start:stop]
    # Σ θ² over the chunk below half the smallest bound: no row is past its bound (every row's
    # ‖θ‖² is at most the sum, and the rounding of either sum is far below the factor ½)
    cheap = 0.5 * b2.min()
    flat = theta.reshape(-1)  # a view: the optimisers update theta in place
    scheduled = callable(getattr(m, m._RATE))
    rate = None if scheduled else m._rate(0)  # a constant rate (already transposed with `m`)
    tail, tail_first, problem, quad = run.tail[:, start:stop], run.tail_first, run.problem, run.quad
    if tail_first <= 0:
        tail[-tail_first] = theta.T
    k = 0
    while k < steps:
        kk = min(len(zs), steps - k)
        xi = run.noise(stream.draw_steps(zs[:kk]), xis[:kk])
        if xi_cast is not None:  # the general loop's astype (transposed: the steps' adds read rows)
            np.copyto(xi_cast[:kk], xi.transpose(0, 2, 1), casting="same_kind")
            xi = xi_cast[:kk].transpose(0, 2, 1)
        for xk in xi:
            k += 1
            point = m.grad_point(theta, state)
            if quad is None:
                grad = np.asarray(problem.grad(np.ascontiguousarray(point.T)), dtype=dtype).T
            else:  # Quadratic.grad's own operations, into buffers (the same bits)
                grad = _quadratic_grad_t(point, *quad, gbuf, tmp)
            np.add(grad, xk.T, out=grad)
            if scheduled:  # a schedule's array values are flat (rows, last): transposed here
                rate = m._rate(state.step, (n, d))
                rate = rate.T if isinstance(rate, np.ndarray) else rate
            state = m._apply(theta, grad, state, rate, scratch)
            if not _sum_sq(flat) <= cheap and np.any(~(row_norm_sq(np.ascontiguousarray(theta.T)) <= b2)):
                return False  # a diverging row: the general loop decides
            if k >= tail_first:
                tail[k - tail_first] = theta.T
        if run.stop.is_set():
            return False
    run.finish(start, stop, np.ascontiguousarray(theta.T))
    return True


def _chunk_compiled(run: _Run, start: int, stop: int, plan: Any) -> bool:
    """Step rows ``start:stop`` with the numba kernel of ``plan``; False on divergence (or when
    ``max|θ|`` passes the cheap bound: the general loop then gives the same bits)."""
    n, d, dtype, steps = stop - start, run.d, run.dtype, run.steps
    theta = np.array(run.spec.theta0_flat[start:stop], dtype=dtype, order="C")
    buf = np.zeros((n, d), dtype)
    stream = NormalStream(run.seed, run.first_row + start, run.first_row + stop, d)
    zs = np.empty((max(min(DRAW_STEPS, steps), 1), n, d))
    xis = zs if run.factor is None else np.empty_like(zs)
    limit = float(run.limit(run.bound2[start:stop]))
    tail, tail_first = run.tail[:, start:stop], run.tail_first
    A, b, _ = run.quad  # type: ignore[misc]
    if tail_first <= 0:
        tail[-tail_first] = theta
    k = 0
    while k < steps:
        kk = min(len(zs), steps - k)
        z = stream.draw_steps(zs[:kk])
        if run.factor is not None:
            for s in range(kk):
                xis[s] = z[s] @ run.factor
        if not plan.step(theta, buf, xis[:kk], run.sigma, A, b, k, tail, tail_first, limit):
            return False
        k += kk
        if run.stop.is_set():
            return False
    run.finish(start, stop, theta)
    return True


def _chunk_runner(run: _Run) -> Callable[[int, int], bool]:
    """The function that steps one chunk: the compiled kernel's when it covers the run."""
    spec = run.spec
    if spec.engine == "compiled" and run.quad is not None:
        from .compiled import noisy

        plan = noisy.plan(run.method, run.dtype, run.d, run.factor is None)
        if plan is not None:
            return lambda start, stop: _chunk_compiled(run, start, stop, plan)
    return lambda start, stop: _chunk_numpy(run, start, stop)


def run_final(spec: RunSpec, noise: GradientNoise, seed: Any, first_row: int = 0) -> Any:
    """The trajectory of a noisy ``record="final"`` run, or ``None`` if some row diverges (the
    caller then runs the general loop). Row ``i`` draws sample ``first_row + i``'s noise."""
    run = _Run(spec, noise, seed, first_row)
    B = run.B
    step_chunk = _chunk_runner(run)

    def work(start: int) -> bool:
        if run.stop.is_set():
            return False
        try:
            with np.errstate(all="ignore"):  # per thread: divergence is a status, not a warning
                ok = step_chunk(start, min(start + CHUNK, B))
        except BaseException:
            run.stop.set()
            raise
        if not ok:
            run.stop.set()
        return ok

    starts = range(0, B, CHUNK)
    threads = threads_for(B, spec.threads)
    if threads == 1:
        ok = all(work(s) for s in starts)
    else:
        with ThreadPoolExecutor(threads) as pool:
            ok = all(list(pool.map(work, starts)))
    if not ok:
        return None
    tail = run.tail
    return make_trajectory(spec, theta=run.theta_rec, loss=run.loss_rec, distance=run.dist_rec,
                           diverged_at=np.full(B, -1, np.int64),
                           periods=tail_periods(tail, spec.dtype))  # fmt: skip
