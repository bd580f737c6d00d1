r"""Running a discrete method on a problem, batched: :func:`iterate` and :class:`DiscreteTrajectory`.

``iterate(method, problem, theta0, steps)`` steps one of the optimisers of
:mod:`heavyball.optimizers` on a problem (``value``/``grad``/``dim``, optionally
``minimizer``), for one configuration or for thousands at once (array hyperparameters and/or
a batch of starting points), and returns the recorded iterates, losses and distances with a
per-configuration status.

Building blocks (private, shared with ``heavyball/fastpath.py`` and the tests)
-------------------------------------------------------------------------------
``_prepare(method, problem, theta0, steps, record="all", every=1, tol=None, threads=None)``
    Validates every argument and returns a :class:`RunSpec`: the flat batch
    (``theta0_flat`` shaped ``(B, d)``), the batch shape, the recorded steps
    (``theta_steps``, ``loss_steps``), the minimiser in the run's dtype, the tolerance and the
    per-configuration divergence bound. It refuses a run whose recording exceeds
    :data:`MEMORY_BUDGET` before anything is allocated.
``_allocate(spec)``
    The NaN-filled record arrays ``theta (n_theta, B, d)``, ``loss (n_loss, B)`` and
    ``distance (n_loss, B)`` (``None`` without a minimiser).
``_iterate_general(method, problem, theta0, steps, *, record="all", every=1, tol=None, threads=None)``
    The general stepping loop (any method, any problem): what :func:`iterate` runs when the
    fast path does not apply. Same signature and result as :func:`iterate`.
``_make_trajectory(spec, *, theta, loss, distance, diverged_at)``
    Builds the :class:`DiscreteTrajectory` from flat records (shapes as ``_allocate``'s, and
    ``diverged_at`` ``(B,)`` int, −1 where the configuration did not diverge): reshapes to the
    batch, decides ``status``/``success``, writes ``message``. A fast path that fills the same
    records gets an identical result type, status rules and message.

The fast path: at the top of :func:`iterate`, after validation, ``heavyball.fastpath`` is
imported if it exists and ``fastpath.supports(method, problem)`` is asked; if it says yes,
``fastpath.run(method, problem, theta0, steps, record=..., every=..., tol=..., threads=...)``
produces the trajectory. Otherwise (no module, no ``supports``/``run``, or not supported) the
general loop runs.

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
  (1.5e-8 in float64, 3.5e-4 in float32). Otherwise ``"max_steps"``.
* **Memory.** The recorded arrays may take at most :data:`MEMORY_BUDGET` (1 GiB) with
  ``record="all"`` and :data:`LOSS_MEMORY_BUDGET` (2 GiB) with ``record="loss"`` (loss curves
  are what a sweep is run for: every step's loss and distance of 10⁵ configurations over 1000
  steps take 1.6 GB; 2 GiB is still far from exhausting a workstation); a larger request
  raises a ``ValueError`` naming ``record`` and ``every`` before any allocation.
* **dtype.** A float32 ``theta0`` gives a float32 run end to end (hyperparameters are cast to
  it as torch casts Python scalars); anything else runs in float64.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
from typing import Any, NamedTuple

import numpy as np

from ._validation import as_choice, as_float_array, as_int, as_real, broadcast_shapes, check_theta, describe
from .optimizers import _STATE_ARRAYS, _Optimizer, _restrict, _Scratch

__all__ = ["DIVERGENCE_FACTOR", "LOSS_MEMORY_BUDGET", "MEMORY_BUDGET", "DiscreteTrajectory", "iterate"]

#: bytes the recorded arrays of one run may take (1 GiB)
MEMORY_BUDGET = 2**30
#: the budget of a ``record="loss"`` run (2 GiB): loss curves are the product of a sweep
#: (every step's loss and distance of 10⁵ configurations over 1000 steps take 1.6 GB)
LOSS_MEMORY_BUDGET = 2**31
#: a configuration diverges when ‖θ_k‖ > DIVERGENCE_FACTOR·(1 + ‖θ₀‖ + ‖θ*‖), or θ_k is not finite
DIVERGENCE_FACTOR = 1e8

_RECORDS = ("all", "loss", "final")
_STATUS_WORDS = np.array(["converged", "diverged", "max_steps"])


@dataclasses.dataclass(frozen=True, eq=False)
class DiscreteTrajectory:
    r"""The result of :func:`iterate` (arrays are time-first and read-only).

    Attributes
    ----------
    theta : ndarray, shape (n_theta, *batch, d)
        The recorded iterates: every ``every``-th step and the last for ``record="all"``
        (``theta[k]`` is ``θ_k`` when ``every=1``); only the final iterate (``n_theta = 1``)
        for ``record="loss"`` and ``record="final"``.
    loss : ndarray, shape (n_loss, *batch)
        ``f(θ_k)`` at the steps in ``steps``.
    distance : ndarray, shape (n_loss, *batch), or None
        ``‖θ_k − θ*‖₂`` at the steps in ``steps``; ``None`` when the minimiser is unknown.
    steps : ndarray of int, shape (n_loss,)
        The recorded step indices (``loss[j]`` is at step ``steps[j]``; ``theta[-1]`` is at
        ``steps[-1]``, the last step).
    status : str or ndarray of str (shape ``batch``)
        ``"converged"``, ``"diverged"`` or ``"max_steps"`` (see the module notes).
    diverged_at : int or ndarray of int
        The step at which the configuration diverged, −1 if it did not.
    success : bool or ndarray of bool
        ``status != "diverged"``.
    message : str
        One sentence summarising the run.
    method, problem
        What was run.
    record : str
    tol : float
        The convergence tolerance used.
    """

    theta: np.ndarray
    loss: np.ndarray
    distance: np.ndarray | None
    steps: np.ndarray
    status: Any
    diverged_at: Any
    success: Any
    message: str
    method: Any
    problem: Any
    record: str = "all"
    tol: float = float("nan")

    @property
    def batch_shape(self) -> tuple:
        return self.theta.shape[1:-1]

    @property
    def final(self) -> np.ndarray:
        """The final iterate, shape ``(*batch, d)`` (NaN for diverged configurations)."""
        return self.theta[-1]

    def __repr__(self) -> str:
        return (
            f"DiscreteTrajectory(method={self.method.label if hasattr(self.method, 'label') else self.method!r}, "
            f"problem={self.problem!r}, theta shape={self.theta.shape}, record={self.record!r}, "
            f"message={self.message!r})"
        )


class RunSpec(NamedTuple):
    """A validated run (see :func:`_prepare`)."""

    method: Any
    problem: Any
    theta0: np.ndarray  # as given, validated (dtype float32 or float64)
    theta0_flat: np.ndarray  # (B, d), broadcast against the hyperparameters, a fresh copy
    batch: tuple
    size: int  # B
    dim: int
    dtype: np.dtype
    steps: int
    record: str
    every: int
    tol: float
    threads: int | None
    theta_steps: np.ndarray  # steps whose iterate is stored
    loss_steps: np.ndarray  # steps whose loss and distance are stored
    minimizer: np.ndarray | None  # in the run's dtype
    bound: np.ndarray  # (B,) float64: the divergence bound on ‖θ_k‖₂
    state: Any = None  # the initial state, arrays flattened to (B, d) copies; None: method.init


#: the largest step count: beyond 2**53 step indices are no longer exact in float64
MAX_STEPS = 2**53


def _record_steps(steps: int, every: int) -> np.ndarray:
    count = steps // every + 1 + (steps % every != 0)
    if count * 8 > MEMORY_BUDGET:  # even the index grid alone would not fit
        raise ValueError(
            f"`steps`={steps} with `every`={every} would record {count} steps, more than the memory "
            f"budget of {MEMORY_BUDGET / 2**30:g} GiB allows; record less often (a larger `every`) or "
            "use `record`='final'"
        )
    grid = np.arange(0, steps + 1, every, dtype=np.int64)
    if grid[-1] != steps:
        grid = np.append(grid, np.int64(steps))
    return grid


def _initial_state(method, state, full, size, dtype):
    """Validate a caller's initial ``state`` against the structure of ``method.init`` and
    flatten its arrays to fresh ``(B, d)`` copies (the loop updates them in place)."""
    template = method._init(full, dtype)
    if type(state) is not type(template):
        raise TypeError(
            f"`state` must be a {type(template).__name__} (from `method.init(theta0)`), got {describe(state)}"
        )
    step = as_int("state.step", state.step, minimum=0)
    arrays = {}
    for name in _STATE_ARRAYS[type(template)]:
        given, expected = getattr(state, name), getattr(template, name)
        if (given is None) != (expected is None):
            raise ValueError(
                f"`state.{name}` must be {'None' if expected is None else 'an array'} for {describe(method)}, "
                f"as `method.init(theta0)` returns it"
            )
        if given is not None:
            given = as_float_array(f"state.{name}", given, dtype=dtype)
            broadcast_shapes(**{f"state.{name}": given.shape, "theta0 and hyperparameters": full})
            arrays[name] = np.broadcast_to(given, full).reshape(size, full[-1]).copy()
    return template._replace(step=step, **arrays)


def _prepare(method, problem, theta0, steps, record="all", every=1, tol=None, threads=None, state=None) -> RunSpec:
    """Validate the arguments of :func:`iterate` and describe the run (see the module notes)."""
    if not isinstance(method, _Optimizer):
        raise TypeError(
            "`method` must be a heavyball optimiser (SGD, Adam, AdamW, HeavyBall, NesterovLookahead), "
            f"got {describe(method)}"
        )
    for attr in ("value", "grad", "dim"):
        if not hasattr(problem, attr):
            raise TypeError(
                f"`problem` must have `value`, `grad` and `dim` (a heavyball Problem), got {describe(problem)}"
            )
    d = as_int("problem.dim", problem.dim, minimum=1)
    theta0 = check_theta("theta0", theta0, d, finite=True)
    dtype = theta0.dtype
    steps = as_int("steps", steps, minimum=0, maximum=MAX_STEPS)
    record = as_choice("record", record, _RECORDS)
    every = as_int("every", every, minimum=1)
    if tol is None:
        tol = float(np.sqrt(np.finfo(dtype).eps))
    else:
        tol = as_real("tol", tol, lower=0.0)
    if threads is not None:
        threads = as_int("threads", threads, minimum=1)
    for name, shape in method._array_shapes().items():
        if len(shape) == 1 and shape[0] == d and d > 1:
            raise ValueError(
                f"`{name}` has shape ({d},), which is ambiguous for a problem of dimension {d}: numpy "
                f"broadcasting would read it per coordinate, not per configuration. Pass shape ({d}, 1) "
                f"(e.g. `{name.split('[')[0]}`=values[:, None]) for one value per configuration, or shape "
                f"(1, {d}) for one value per coordinate"
            )
    full = broadcast_shapes(theta0=theta0.shape, **method._array_shapes())
    if full[-1] != d:
        raise ValueError(
            f"the hyperparameters' last axis must be 1 or the problem's dimension {d}; with `theta0` "
            f"{theta0.shape} they broadcast to {full}"
        )
    batch = tuple(full[:-1])
    size = int(np.prod(batch, dtype=np.int64))
    if record == "all":
        theta_steps = loss_steps = _record_steps(steps, every)
    elif record == "loss":
        theta_steps, loss_steps = np.array([steps], np.int64), _record_steps(steps, every)
    else:
        theta_steps = loss_steps = np.array([steps], np.int64)
    minimizer = getattr(problem, "minimizer", None)
    if minimizer is not None:
        minimizer = np.asarray(minimizer, dtype=dtype)
    item = dtype.itemsize
    nbytes = (len(theta_steps) * size * d + len(loss_steps) * size * (1 + (minimizer is not None))) * item
    budget, budget_name = (
        (LOSS_MEMORY_BUDGET, "LOSS_MEMORY_BUDGET") if record == "loss" else (MEMORY_BUDGET, "MEMORY_BUDGET")
    )
    if nbytes > budget:
        raise ValueError(
            f"`record`={record!r} with `every`={every} would store {nbytes / 2**30:.3g} GiB "
            f"({len(theta_steps)} iterates and {len(loss_steps)} losses of {size} configurations × {d} "
            f"coordinates), more than the budget {budget_name} = {budget / 2**30:g} GiB; record less often "
            f"(a larger `every`), or use `record`='loss' or 'final'"
        )
    theta0_flat = np.broadcast_to(theta0, full).reshape(size, d).copy()
    with np.errstate(over="ignore"):
        norm0 = np.sqrt(np.einsum("ij,ij->i", theta0_flat, theta0_flat, dtype=np.float64))
        star = 0.0 if minimizer is None else float(np.linalg.norm(np.asarray(minimizer, np.float64)))
        bound = DIVERGENCE_FACTOR * (1.0 + norm0 + star)
    if state is not None:
        state = _initial_state(method, state, full, size, dtype)
    return RunSpec(method, problem, theta0, theta0_flat, batch, size, d, dtype, steps, record, every, tol,
                   threads, theta_steps, loss_steps, minimizer, bound, state)  # fmt: skip


def _allocate(spec: RunSpec):
    """NaN-filled records: ``theta (n_theta, B, d)``, ``loss (n_loss, B)``, ``distance`` or None."""
    B, d, dtype = spec.size, spec.dim, spec.dtype
    theta = np.full((len(spec.theta_steps), B, d), np.nan, dtype)
    loss = np.full((len(spec.loss_steps), B), np.nan, dtype)
    distance = None if spec.minimizer is None else np.full((len(spec.loss_steps), B), np.nan, dtype)
    return theta, loss, distance


def _fastpath_module():
    """``heavyball.fastpath`` if it exists and offers ``supports`` and ``run``, else None."""
    name = f"{__package__}.fastpath"
    if importlib.util.find_spec(name) is None:
        return None
    module = importlib.import_module(name)
    if callable(getattr(module, "supports", None)) and callable(getattr(module, "run", None)):
        return module
    return None


def iterate(method, problem, theta0, steps, *, record="all", every=1, tol=None, threads=None,
            state=None) -> DiscreteTrajectory:  # fmt: skip
    r"""Run ``method`` on ``problem`` from ``theta0`` for ``steps`` steps, batched.

    At each step ``k = 0, 1, …``: ``y = method.grad_point(θ_k, state)``,
    ``θ_{k+1}, state = method.step(θ_k, ∇f(y), state)``, starting from
    ``state = method.init(θ₀)`` (zero buffers and velocities) unless ``state`` is given.

    Parameters
    ----------
    method : SGD, Adam, AdamW, HeavyBall or NesterovLookahead
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
        Threads for the fast path (``heavyball.fastpath``); the general loop runs on one thread.
    state : NamedTuple, optional
        The initial optimiser state, for a run that does not start at rest: what
        ``method.init(theta0)`` returns, with its fields changed (e.g.
        ``HeavyBall.init(θ₀)._replace(v=v0)``); its arrays broadcast against the batch. Such a
        run takes the general loop.

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
    spec = _prepare(method, problem, theta0, steps, record, every, tol, threads, state)
    fastpath = _fastpath_module()
    if state is None and fastpath is not None and fastpath.supports(method, problem):
        return fastpath.run(method, problem, spec.theta0, spec.steps, record=spec.record, every=spec.every,
                            tol=tol, threads=spec.threads)  # fmt: skip
    return _run_general(spec)


def _iterate_general(method, problem, theta0, steps, *, record="all", every=1, tol=None,
                     threads=None) -> DiscreteTrajectory:  # fmt: skip
    """The general stepping loop, whatever the method and problem (no fast path)."""
    return _run_general(_prepare(method, problem, theta0, steps, record, every, tol, threads))


def _row_norm_sq(x: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", x, x)


def _safe_row_norm(x: np.ndarray) -> np.ndarray:
    """Row norms that neither overflow nor underflow: ``s·‖x/s‖`` with ``s = max|x|`` per row
    (``inf`` only for rows holding ``inf``; ``NaN`` for rows holding NaN)."""
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(all="ignore"):
        scale = np.max(np.abs(x), axis=-1) if x.shape[-1] else np.zeros(x.shape[:-1])
        unit = np.where(scale[:, None] > 0, x / np.where(scale > 0, scale, 1.0)[:, None], 0.0)
        return scale * np.sqrt(_row_norm_sq(unit))


def _diverging_rows(theta: np.ndarray, bound2: np.ndarray, cheap_limit) -> np.ndarray | None:
    """Rows with ``‖θ_i‖² > bound2_i`` or a non-finite entry; ``None`` when there are none.

    For large arrays a cheap sufficient test runs first: if ``d·max|θ|² <= min_i bound2_i`` no
    row can exceed its bound (two SIMD reductions instead of a row-wise norm); NaN fails it.
    """
    if theta.size >= 4096:
        top = max(-theta.min(), theta.max())
        if top <= cheap_limit:  # False for NaN
            return None
    bad = ~(_row_norm_sq(theta) <= bound2)  # also catches NaN and inf
    return np.flatnonzero(bad) if bad.any() else None


def _run_general(spec: RunSpec) -> DiscreteTrajectory:
    theta_rec, loss_rec, dist_rec = _allocate(spec)
    diverged_at = np.full(spec.size, -1, np.int64)
    if spec.size == 0:
        return _make_trajectory(spec, theta=theta_rec, loss=loss_rec, distance=dist_rec, diverged_at=diverged_at)
    problem, dtype, steps, d = spec.problem, spec.dtype, spec.steps, spec.dim
    star = spec.minimizer
    theta = spec.theta0_flat.copy()
    method = _restrict(spec.method, spec.batch)  # array hyperparameters as (B, last) rows
    state = method._init(theta.shape, dtype) if spec.state is None else spec.state
    scratch = _Scratch(theta.shape, dtype)
    bound2 = np.minimum(spec.bound**2, np.finfo(dtype).max).astype(dtype)

    def cheap_limit(bound2):  # max|θ| below this: no row can be past its bound, whatever the
        # rounding of the row norm (a relative error below 2d·eps is allowed for)
        return np.sqrt(bound2.min() / (d * (1 + 2 * (d + 2) * np.finfo(dtype).eps)))

    limit = cheap_limit(bound2)
    rows = None  # global indices of the working rows (None: all rows, in order)
    theta_steps, loss_steps = spec.theta_steps, spec.loss_steps
    ti = li = 0

    def put(rec, j, values):
        if rows is None:
            rec[j] = values
        else:
            rec[j, rows] = values

    with np.errstate(all="ignore"):  # divergence is reported as a status, never as a warning
        for k in range(steps + 1):
            if k > 0:
                point = method.grad_point(theta, state)
                grad = np.asarray(problem.grad(point), dtype=dtype)
                if grad.shape != theta.shape:
                    raise ValueError(f"`problem.grad` returned shape {grad.shape} for points shaped {theta.shape}")
                rate = method._rate(state.step, theta.shape)
                state = method._apply(theta, grad, state, rate, scratch)
                bad = _diverging_rows(theta, bound2, limit)
                if bad is not None:
                    # record the divergence and drop those rows: their state is frozen and
                    # their records stay NaN from this step on
                    diverged_at[bad if rows is None else rows[bad]] = k
                    if len(bad) == len(theta):
                        break
                    keep = np.setdiff1d(np.arange(len(theta)), bad, assume_unique=True)
                    method = _restrict(method, (len(theta),), keep)
                    theta = theta[keep]
                    state = state._replace(**{
                        name: getattr(state, name)[keep]
                        for name in _STATE_ARRAYS[type(state)] if getattr(state, name) is not None
                    })  # fmt: skip
                    bound2 = bound2[keep]
                    limit = cheap_limit(bound2)
                    rows = keep if rows is None else rows[keep]
                    scratch = _Scratch(theta.shape, dtype)
            if ti < len(theta_steps) and theta_steps[ti] == k:
                put(theta_rec, ti, theta)
                ti += 1
            if li < len(loss_steps) and loss_steps[li] == k:
                put(loss_rec, li, problem.value(theta))
                if dist_rec is not None:
                    put(dist_rec, li, np.sqrt(_row_norm_sq(theta - star)))
                li += 1
    return _make_trajectory(spec, theta=theta_rec, loss=loss_rec, distance=dist_rec, diverged_at=diverged_at)


def _readonly(arr):
    if isinstance(arr, np.ndarray):
        arr.flags.writeable = False
    return arr


def _make_trajectory(spec: RunSpec, *, theta, loss, distance, diverged_at) -> DiscreteTrajectory:
    """Build the :class:`DiscreteTrajectory` from flat records (see the module notes)."""
    B, d, batch = spec.size, spec.dim, spec.batch
    diverged_at = np.asarray(diverged_at, np.int64).reshape(B)
    diverged = diverged_at >= 0
    final = theta[-1]
    problem, star = spec.problem, spec.minimizer
    with np.errstate(all="ignore"):
        if star is not None:
            r0 = np.sqrt(_row_norm_sq(spec.theta0_flat - star)) if B else np.zeros(0)
            rk = np.sqrt(_row_norm_sq(final - star)) if B else np.zeros(0)
            what = "distance to the minimiser"
        else:
            g0 = np.asarray(problem.grad(spec.theta0_flat)) if B else np.zeros((0, d))
            gk = np.asarray(problem.grad(final)) if B else np.zeros((0, d))
            r0, rk = _safe_row_norm(g0), _safe_row_norm(gk)
            what = "gradient norm"
        converged = ~diverged & (rk <= spec.tol * r0)
    # one int8 code per configuration, then a single gather into the str array (one '<U9'
    # array of 36 bytes per configuration instead of two nested np.where temporaries)
    codes = np.full(B, 2, np.int8)
    codes[converged] = 0
    codes[diverged] = 1
    status = _STATUS_WORDS[codes]
    success = ~diverged
    message = _message(spec, diverged_at, converged, r0, rk, what)
    theta = theta.reshape((theta.shape[0],) + batch + (d,))
    loss = loss.reshape((loss.shape[0],) + batch)
    if distance is not None:
        distance = distance.reshape((distance.shape[0],) + batch)
    if batch == ():
        status, success, diverged_at = str(status[0]), bool(success[0]), int(diverged_at[0])
    else:
        status, success, diverged_at = status.reshape(batch), success.reshape(batch), diverged_at.reshape(batch)
        for arr in (status, success, diverged_at):
            _readonly(arr)
    for arr in (theta, loss, distance):
        _readonly(arr)
    steps = _readonly(spec.loss_steps.copy())
    return DiscreteTrajectory(theta, loss, distance, steps, status, diverged_at, success, message,
                              spec.method, spec.problem, spec.record, spec.tol)  # fmt: skip


def _message(spec, diverged_at, converged, r0, rk, what) -> str:
    B, steps, tol = spec.size, spec.steps, spec.tol
    if spec.batch == ():
        k = int(diverged_at[0])
        if k >= 0:
            return (
                f"diverged at step {k}: the iterate became non-finite or its norm passed "
                f"{DIVERGENCE_FACTOR:g}·(1 + ‖θ₀‖ + ‖θ*‖) = {spec.bound[0]:.3g}."
            )
        with np.errstate(all="ignore"):
            ratio = float(rk[0] / r0[0]) if r0[0] > 0 else float("nan")
        if converged[0]:
            return (
                f"converged: after {steps} steps the {what} is {float(rk[0]):.3g} "
                f"({ratio:.3g} of its initial value; tol {tol:.3g})."
            )
        return (
            f"stopped after {steps} steps without converging: the {what} is {ratio:.3g} of its "
            f"initial value (tol {tol:.3g})."
        )
    if B == 0:
        return f"empty batch {spec.batch}: 0 configurations, nothing was run."
    nd = int(np.count_nonzero(diverged_at >= 0))
    nc = int(np.count_nonzero(converged))
    first = f" (first at step {int(diverged_at[diverged_at >= 0].min())})" if nd else ""
    return (
        f"{nd} of {B} configurations diverged{first}; {nc} converged and {B - nd - nc} reached "
        f"max_steps after {steps} steps."
    )
