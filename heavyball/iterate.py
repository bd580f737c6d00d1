r"""Running a discrete method on a problem, batched: :func:`iterate` and :class:`DiscreteTrajectory`.

``iterate(method, problem, theta0, steps)`` steps one of the optimisers of
:mod:`heavyball.optimizers` on a problem (``value``/``grad``/``dim``, optionally
``minimizer``), for one configuration or for thousands at once (array hyperparameters and/or
a batch of starting points), and returns the recorded iterates, losses and distances with a
per-configuration status.

Layers
------
The run is specified, validated (once per call) and turned into a trajectory by
``heavyball/_run.py`` (``prepare``, ``allocate``, ``make_trajectory``), which both engines
import: the general stepping loop here (any method, any problem) and the fast path
(:mod:`heavyball.fastpath`: linear methods in the eigenbasis of a quadratic, and Adam's blocked
kernel), which :func:`iterate` calls whenever ``fastpath.supports(optimizer, problem)`` says
so. The general loop evaluates the gradient in exactly one place, :func:`_gradient`.

Conventions
-----------
* **Divergence.** Configuration ``i`` diverges at the first step ``k`` at which its iterate is
  non-finite or ``‖θ_k‖₂ > DIVERGENCE_FACTOR · (1 + ‖θ₀‖₂ + ‖θ*‖₂)`` (``θ* = 0`` when the
  minimiser is unknown; ``DIVERGENCE_FACTOR = 1e8``). Its records are NaN from step ``k`` on,
  ``diverged_at = k``, ``status = "diverged"``; it is no longer stepped (its row is dropped
  from the working arrays at once, and the run stops when all have diverged). No warning is
  emitted: overflow is expected and silenced with ``numpy.errstate``.
* **Convergence.** ``"converged"`` means the run finished (not diverged) with
  ``‖θ_K − θ*‖ <= tol·‖θ₀ − θ*‖`` when the minimiser is known, else
  ``‖∇f(θ_K)‖ <= tol·‖∇f(θ₀)‖``. The default ``tol`` is ``sqrt(eps)`` of the run's dtype
  (1.5e-8 in float64, 3.5e-4 in float32).
* **Cycle.** ``"cycle"`` means neither, and the last ``p`` iterates, a ``p`` in
  ``2 … CYCLE_MAX_PERIOD``, repeat the ``p`` before them to rounding while they are not one
  point (``heavyball.cycles.cycle_periods``; ``period`` gives ``p``): a periodic orbit, and more
  steps will not converge. Lessard, Recht & Packard (2016, §4.6) give the classic case,
  heavy ball at Polyak's tuning on a strongly convex function ending on a period-3 orbit.
  Otherwise ``"max_steps"``. Statuses are :class:`~heavyball.Status` words.
* **Memory.** The recorded arrays may take at most :data:`MEMORY_BUDGET` (1 GiB) with
  ``record="all"`` and :data:`LOSS_MEMORY_BUDGET` (2 GiB) with ``record="loss"`` (loss curves
  are what a sweep is run for: every step's loss and distance of 10⁵ configurations over 1000
  steps take 1.6 GB; 2 GiB is still far from exhausting a workstation); a larger request
  raises a ``ValueError`` naming ``record`` and ``every`` before any allocation.
* **dtype.** A float32 ``theta0`` gives a float32 run end to end (hyperparameters are cast to
  it as torch casts Python scalars); anything else runs in float64.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import fastpath, monte_carlo
from ._batch import Scratch as _Scratch
from ._batch import restrict_batch
from ._run import (
    DIVERGENCE_FACTOR,
    LOSS_MEMORY_BUDGET,
    MEMORY_BUDGET,
    DiscreteTrajectory,
    RunSpec,
    allocate,
    make_trajectory,
    prepare,
    row_norm_sq,
)
from ._run import MAX_STEPS as MAX_STEPS
from ._validation import renamed_keyword
from .cycles import CYCLE_MAX_PERIOD, TAIL, tail_periods
from .noise import GradientSampler
from .optimizers import _STATE_ARRAYS

__all__ = ["DiscreteTrajectory", "iterate"]
__all__ += ["CYCLE_MAX_PERIOD", "DIVERGENCE_FACTOR", "LOSS_MEMORY_BUDGET", "MEMORY_BUDGET"]  # from the run layer


@renamed_keyword("method", "optimizer")
def iterate(
    optimizer: Any,
    problem: Any,
    theta0: Any,
    steps: int,
    *,
    record: str = "all",
    every: int = 1,
    tol: float | None = None,
    threads: int | None = None,
    state: Any = None,
    noise: Any = None,
    seed: Any = None,
    engine: str = "numpy",
) -> DiscreteTrajectory:
    r"""Run ``optimizer`` on ``problem`` from ``theta0`` for ``steps`` steps, batched.

    At each step ``k = 0, 1, …``: ``y = optimizer.grad_point(θ_k, state)``,
    ``θ_{k+1}, state = optimizer.step(θ_k, ∇f(y), state)``, starting from
    ``state = optimizer.init(θ₀)`` (zero buffers and velocities) unless ``state`` is given.

    Parameters
    ----------
    optimizer : SGD, Adam, AdamW, HeavyBall or NesterovLookahead
        (``method=`` is the deprecated spelling of this keyword.)
        Array hyperparameters broadcast against ``theta0`` and define the batch with it:
        ``theta0`` ``(d,)`` with ``lr`` ``(B, 1)`` runs ``B`` configurations from one start.
        A schedule (callable ``lr``/``eta``) may return an array, which must broadcast into
        that batch: a schedule does not define the batch.
    problem : Problem
        ``value``, ``grad``, ``dim`` and optionally ``minimizer``.
    theta0 : array_like, shape (d,) or (*batch, d)
        Finite starting point(s). float32 keeps the run in float32; other input runs in float64.
    steps : int
        Number of steps, ``>= 0``.
    record : {"all", "loss", "final"}
        ``"all"``: iterates, losses and distances every ``every`` steps (and at the last step);
        ``"loss"``: losses and distances every ``every`` steps, only the final iterate;
        ``"final"``: only the final iterate, loss and distance.
    every : int
        Recording stride, ``>= 1``.
    tol : float, optional
        Relative convergence tolerance; default ``sqrt(eps)`` of the dtype.
    threads : int, optional
        Threads for the fast path (``heavyball.fastpath``) and for the chunked Monte Carlo
        engine of noisy ``record="final"`` runs (:mod:`heavyball.monte_carlo`); the same bytes
        whatever their number. ``None``: one per 16384 configurations (or samples), at most the
        number of CPUs. The general loop runs on one thread.
    state : NamedTuple, optional
        The initial optimiser state, for a run that does not start at rest: what
        ``optimizer.init(theta0)`` returns, with its fields changed (e.g.
        ``HeavyBall.init(θ₀)._replace(v=v0)``); its arrays broadcast against the batch. Such a
        run takes the general loop.
    noise : GradientNoise, optional
        Stochastic gradients: each step adds independent Gaussian noise
        :math:`\xi \sim N(0, \Sigma)` to the gradient the optimiser sees,
        ``g = ∇f(y) + ξ`` (before weight decay and ``maximize``, as a mini-batch gradient would
        be). Such a run takes the general loop, or with ``record="final"`` the same loop chunk
        by chunk (:mod:`heavyball.monte_carlo`, identical bits). Row ``i`` of the flat batch
        (configurations × starting points) is sample ``i``, with its own random stream
        (:class:`heavyball.noise.NormalStream`).
    seed : int or numpy.random.SeedSequence
        Required with ``noise`` (a noisy run is always reproducible): the same seed gives the
        same bytes, and row ``i``'s noise depends only on ``(seed, i)``.
    engine : {"numpy", "compiled"}
        ``"numpy"`` (the default and the reference) or ``"compiled"``: the same recurrences as
        numba kernels (:mod:`heavyball.compiled`, the ``fast`` extra), bitwise equal to numpy's.
        Runs that no compiled kernel covers take the numpy engine.

    Returns
    -------
    DiscreteTrajectory
        Unbatched input (no batch axes) gives scalar ``status``, ``diverged_at``, ``success``.

    Raises
    ------
    ValueError
        Bad arguments; shapes that do not broadcast; a recording larger than
        :data:`MEMORY_BUDGET` (:data:`LOSS_MEMORY_BUDGET` for ``record="loss"``; naming ``record``
        and ``every``). A diverging configuration is
        *not* an error: it is reported in ``status``.

    Examples
    --------
    >>> import numpy as np, heavyball as hb
    >>> q = hb.Quadratic.valley(kappa=10)
    >>> tr = hb.iterate(hb.SGD(lr=np.array([[0.5], [3.5]]), momentum=0.5), q, [1.0, 1.0], 200)
    >>> tr.theta.shape, tr.status.tolist(), tr.diverged_at.tolist()
    ((201, 2, 2), ['converged', 'diverged'], [-1, 36])
    >>> tr.message
    '1 of 2 configurations diverged (first at step 36); 1 converged and 0 reached max_steps after 200 steps.'
    """
    spec = prepare(optimizer, problem, theta0, steps, record=record, every=every, tol=tol, threads=threads,
                   state=state, engine=engine)  # fmt: skip
    return run_spec(spec, noise=noise, seed=seed)


def run_spec(spec: RunSpec, *, noise: Any = None, seed: Any = None, first_row: int = 0) -> DiscreteTrajectory:
    """(Package-internal.) Run a validated ``spec`` on the engine that applies to it.

    ``first_row``: the flat batch is rows ``first_row … first_row + B − 1`` of a larger run (a
    chunk of :func:`heavyball.sweep`); with ``noise``, row ``i`` draws sample
    ``first_row + i``'s stream, so the chunk's bits are those rows' bits in the whole run.
    """
    if noise is not None or seed is not None:
        if noise is None:
            raise ValueError("`seed` is for noisy runs: give `noise` too (a noiseless run needs no seed)")
        # validates noise and seed
        sampler = GradientSampler(noise, seed, spec.size, spec.dim, spec.dtype, first=first_row)
        if monte_carlo.applies(spec):  # record="final" from rest: the cache-resident chunked engine
            tr = monte_carlo.run_final(spec, noise, seed, first_row=first_row)
            if tr is not None:
                return tr
        return _run_general(spec, sampler)
    if spec.state is None and fastpath.supports(spec.method, spec.problem):
        return fastpath.run_spec(spec)
    return _run_general(spec)


def _iterate_general(method: Any, problem: Any, theta0: Any, steps: int, **options: Any) -> DiscreteTrajectory:
    """The general stepping loop, whatever the method and problem (no fast path)."""
    return _run_general(prepare(method, problem, theta0, steps, **options))


def _gradient(problem: Any, point: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """∇f at the working rows ``point`` (shape ``(B, d)``), in the run's dtype: the one place
    the general loop evaluates the gradient of a step."""
    grad = np.asarray(problem.grad(point), dtype=dtype)
    if grad.shape != point.shape:
        raise ValueError(f"`problem.grad` returned shape {grad.shape} for points shaped {point.shape}")
    return grad


def _diverging_rows(theta: np.ndarray, bound2: np.ndarray, cheap_limit: Any) -> np.ndarray | None:
    """Rows with ``‖θ_i‖² > bound2_i`` or a non-finite entry; ``None`` when there are none.

    For large arrays a cheap sufficient test runs first: if ``d·max|θ|² <= min_i bound2_i`` no
    row can exceed its bound (two SIMD reductions instead of a row-wise norm); NaN fails it.
    """
    if theta.size >= 4096:
        top = max(-theta.min(), theta.max())
        if top <= cheap_limit:  # False for NaN
            return None
    bad = ~(row_norm_sq(theta) <= bound2)  # also catches NaN and inf
    return np.flatnonzero(bad) if bad.any() else None


class _Working:
    """The rows still being stepped: their iterates, optimiser, state and divergence bounds."""

    def __init__(self, spec: RunSpec):
        self.dtype, self.d = spec.dtype, spec.dim
        self.theta = spec.theta0_flat.copy()
        self.method = restrict_batch(spec.method, spec.batch)  # array hyperparameters as (B, last) rows
        self.state = self.method._init(self.theta.shape, self.dtype) if spec.state is None else spec.state
        self.scratch = _Scratch(self.theta.shape, self.dtype)
        self.bound2 = spec.bound2
        self.limit = self._cheap_limit()
        self.rows: np.ndarray | None = None  # global indices of the working rows (None: all, in order)

    def _cheap_limit(self) -> Any:
        """``max|θ|`` below this: no row can be past its bound, whatever the rounding of the row
        norm (a relative error below ``2d·eps`` is allowed for)."""
        d, eps = self.d, np.finfo(self.dtype).eps
        return np.sqrt(self.bound2.min() / (d * (1 + 2 * (d + 2) * eps)))

    def put(self, rec: np.ndarray, j: int, values: np.ndarray) -> None:
        """Write the working rows' ``values`` into ``rec[j]`` at their global indices."""
        if self.rows is None:
            rec[j] = values
        else:
            rec[j, self.rows] = values

    def drop(self, bad: np.ndarray) -> None:
        """Stop stepping the rows ``bad`` (local indices): their state is frozen."""
        keep = np.setdiff1d(np.arange(len(self.theta)), bad, assume_unique=True)
        self.method = restrict_batch(self.method, (len(self.theta),), keep)
        self.theta = self.theta[keep]
        arrays = _STATE_ARRAYS[type(self.state)]
        self.state = self.state._replace(
            **{name: getattr(self.state, name)[keep] for name in arrays if getattr(self.state, name) is not None}
        )
        self.bound2 = self.bound2[keep]
        self.limit = self._cheap_limit()
        self.rows = keep if self.rows is None else self.rows[keep]
        self.scratch = _Scratch(self.theta.shape, self.dtype)


def _tail_store(spec: RunSpec, theta_rec: np.ndarray) -> tuple[np.ndarray, int, bool]:
    """Where the last :data:`TAIL` iterates go: ``(array, first step stored, separate?)``.

    Every step's iterate is already in ``theta_rec`` with ``record="all", every=1``; otherwise
    a NaN-filled ``(TAIL, B, d)`` array is filled during the last steps.
    """
    first = spec.steps - TAIL + 1
    if spec.record == "all" and spec.every == 1:
        if first >= 0:
            return theta_rec[first:], first, False
        pad = np.full((-first, spec.size, spec.dim), np.nan, spec.dtype)
        return np.concatenate([pad, theta_rec]), first, False
    return np.full((TAIL, spec.size, spec.dim), np.nan, spec.dtype), first, True


def _run_general(spec: RunSpec, noise: GradientSampler | None = None) -> DiscreteTrajectory:
    """The general stepping loop on a validated run (``noise``: added to every gradient)."""
    theta_rec, loss_rec, dist_rec = allocate(spec)
    diverged_at = np.full(spec.size, -1, np.int64)
    if spec.size == 0:
        return make_trajectory(spec, theta=theta_rec, loss=loss_rec, distance=dist_rec, diverged_at=diverged_at)
    problem, dtype, star = spec.problem, spec.dtype, spec.minimizer
    w = _Working(spec)
    theta_steps, loss_steps = spec.theta_steps, spec.loss_steps
    ti = li = 0
    tail, tail_first, tail_separate = _tail_store(spec, theta_rec)
    with np.errstate(all="ignore"):  # divergence is reported as a status, never as a warning
        for k in range(spec.steps + 1):
            if k > 0:
                point = w.method.grad_point(w.theta, w.state)
                grad = _gradient(problem, point, dtype)
                if noise is not None:
                    grad += noise.draw(w.rows)
                rate = w.method._rate(w.state.step, w.theta.shape)
                w.state = w.method._apply(w.theta, grad, w.state, rate, w.scratch)
                bad = _diverging_rows(w.theta, w.bound2, w.limit)
                if bad is not None:
                    # record the divergence and drop those rows: their records stay NaN from here on
                    diverged_at[bad if w.rows is None else w.rows[bad]] = k
                    if len(bad) == len(w.theta):
                        break
                    w.drop(bad)
            if ti < len(theta_steps) and theta_steps[ti] == k:
                w.put(theta_rec, ti, w.theta)
                ti += 1
            if tail_separate and k >= tail_first:
                w.put(tail, k - tail_first, w.theta)
            if li < len(loss_steps) and loss_steps[li] == k:
                w.put(loss_rec, li, problem.value(w.theta))
                if dist_rec is not None:
                    w.put(dist_rec, li, np.sqrt(row_norm_sq(w.theta - star)))
                li += 1
    return make_trajectory(spec, theta=theta_rec, loss=loss_rec, distance=dist_rec, diverged_at=diverged_at,
                           periods=tail_periods(tail, spec.dtype))  # fmt: skip
