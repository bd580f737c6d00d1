r"""The chunked engine of noisy Monte Carlo runs: many samples, only the final iterate recorded.

A noisy run of :func:`heavyball.iterate` with ``record="final"`` (the shape of a Monte Carlo
estimate: ``10⁶`` samples × ``10³`` steps) is stepped here, chunk after chunk of
:data:`~heavyball.noise.STREAM_BLOCK` rows, all steps of a chunk before the next chunk: the
working arrays of a chunk (``4096 × d`` numbers) stay in the processor's cache, so each step
costs little beyond drawing its normal variates. Every operation is the general loop's, row by
row — the optimiser's own update, the problem's gradient (row-independent for small ``d``), the
same noise from the same per-sample stream — so the result is the general loop's, bit for bit;
a chunk in which a row diverges hands the whole run back to the general loop, which owns the
divergence rules.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._batch import Scratch as _Scratch
from ._batch import restrict_batch as _restrict
from ._run import TAIL, RunSpec, allocate, make_trajectory, row_norm_sq
from .noise import STREAM_BLOCK, GradientNoise, NormalStream
from .problems import SMALL_DIM, Quadratic

__all__ = ["CHUNK", "run_final"]

#: rows stepped together (a multiple of the stream block, so a chunk draws whole blocks)
CHUNK = STREAM_BLOCK


def applies(spec: RunSpec) -> bool:
    """Whether the chunked engine runs ``spec``: a run from rest recording only the final step."""
    final = [int(spec.steps)]
    return spec.state is None and list(spec.theta_steps) == final and list(spec.loss_steps) == final


def _quadratic(problem: Any, d: int, dtype: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """``(A, b)`` in the run's dtype when the gradient can be formed in buffers exactly as
    ``Quadratic.grad`` forms it (small ``d``: the row-independent multiply-adds), else None."""
    if not isinstance(problem, Quadratic) or d > SMALL_DIM:
        return None
    return problem._A_b(dtype)


def _quadratic_grad(theta: np.ndarray, quad: tuple[np.ndarray, np.ndarray], out: np.ndarray,
                    tmp: np.ndarray) -> np.ndarray:  # fmt: skip
    """``θA − b`` row by row with ``_rowwise_matvec``'s operations in the same order, one output
    column at a time (long inner loops): ``g_j = θ_0A_{0j}``, ``g_j += θ_iA_{ij}``, ``g_j −= b_j``."""
    A, b = quad
    d = A.shape[0]
    for j in range(d):
        col = out[:, j]
        np.multiply(theta[:, 0], A[0, j], out=col)
        for i in range(1, d):
            np.multiply(theta[:, i], A[i, j], out=tmp[:, 0])
            col += tmp[:, 0]
        col -= b[j]
    return out


def run_final(spec: RunSpec, noise: GradientNoise, seed: Any) -> Any:
    """The trajectory of a noisy ``record="final"`` run, or ``None`` if some row diverges (the
    caller then runs the general loop)."""
    B, d, dtype, steps = spec.size, spec.dim, spec.dtype, spec.steps
    theta_rec, loss_rec, dist_rec = allocate(spec)
    tail = np.full((TAIL, B, d), np.nan, dtype)
    tail_first = steps - TAIL + 1
    method: Any = _restrict(spec.method, spec.batch)
    problem, star = spec.problem, spec.minimizer
    bound2 = spec.bound2
    factor = None if noise.cov is None else noise.factor(d).T
    sigma = float(noise.sigma) if noise.cov is None else 0.0
    quad = _quadratic(problem, d, dtype)
    with np.errstate(all="ignore"):
        for start in range(0, B, CHUNK):
            stop = min(start + CHUNK, B)
            rows = np.arange(start, stop)
            m: Any = _restrict(method, (B,), rows)
            theta = spec.theta0_flat[start:stop].copy()
            state = m._init(theta.shape, dtype)
            scratch = _Scratch(theta.shape, dtype)
            stream = NormalStream(seed, start, stop, d)
            z = np.empty((stop - start, d))
            b2 = bound2[start:stop]
            limit = np.sqrt(b2.min() / (d * (1 + 2 * (d + 2) * np.finfo(dtype).eps)))
            gbuf = np.empty_like(theta)
            tmp = np.empty_like(theta)
            for k in range(steps + 1):
                if k > 0:
                    point = m.grad_point(theta, state)
                    if quad is None:
                        grad = np.asarray(problem.grad(point), dtype=dtype)
                    else:  # Quadratic.grad's own operations, into buffers (the same bits)
                        grad = _quadratic_grad(point, quad, gbuf, tmp)
                    stream.draw(out=z)
                    if factor is None:
                        np.multiply(z, sigma, out=z)
                        xi = z
                    else:
                        xi = z @ factor
                    grad += xi.astype(dtype, copy=False)
                    rate = m._rate(state.step, theta.shape)
                    state = m._apply(theta, grad, state, rate, scratch)
                    top = max(-theta.min(), theta.max())
                    if not top <= limit and np.any(~(row_norm_sq(theta) <= b2)):
                        return None  # a diverging row: the general loop decides
                if k >= tail_first:
                    tail[k - tail_first, start:stop] = theta
            theta_rec[-1, start:stop] = theta
            loss_rec[-1, start:stop] = problem.value(theta)
            if dist_rec is not None:
                dist_rec[-1, start:stop] = np.sqrt(row_norm_sq(theta - star))
    return make_trajectory(spec, theta=theta_rec, loss=loss_rec, distance=dist_rec,
                           diverged_at=np.full(B, -1, np.int64), tail=lambda r: tail[:, r])  # fmt: skip
