r"""The run engine's lower layer: a validated run, its records, and the trajectory they make.

Both engines of :func:`heavyball.iterate` — the general stepping loop (``heavyball/iterate.py``)
and the fast path (``heavyball/fastpath.py``, ``heavyball/_fastadam.py``) — import this module
and nothing of each other's internals:

``prepare(method, problem, theta0, steps, *, record, every, tol, threads, state)``
    Validates every argument once and returns a :class:`RunSpec`: the flat batch
    (``theta0_flat`` shaped ``(B, d)``), the batch shape, the recorded steps (``theta_steps``,
    ``loss_steps``), the minimiser in the run's dtype, the tolerance and the per-configuration
    divergence bound. A run whose recording exceeds :data:`MEMORY_BUDGET`
    (:data:`LOSS_MEMORY_BUDGET` for ``record="loss"``) is refused before anything is allocated.
``allocate(spec)``
    The NaN-filled flat records ``theta (n_theta, B, d)``, ``loss (n_loss, B)`` and
    ``distance (n_loss, B)`` (``None`` without a minimiser).
``make_trajectory(spec, *, theta, loss, distance, diverged_at, periods)``
    Reshapes flat records to the batch, decides ``status``/``success`` (with the cycle test's
    ``periods`` of the undecided configurations, :mod:`heavyball.cycles`) and writes ``message``. Every
    engine that fills the same records gets the same result type, status rules and message.

Conventions (shared by every engine)
------------------------------------
* **Divergence.** Configuration ``i`` diverges at the first step ``k`` at which its iterate is
  non-finite or ``‖θ_k‖₂ > DIVERGENCE_FACTOR · (1 + ‖θ₀‖₂ + ‖θ*‖₂)`` (``θ* = 0`` when the
  minimiser is unknown); its records are NaN from step ``k`` on.
* **Convergence.** ``"converged"``: not diverged, and ``‖θ_K − θ*‖ <= tol·‖θ₀ − θ*‖`` when the
  minimiser is known, else ``‖∇f(θ_K)‖ <= tol·‖∇f(θ₀)‖``.
* **Cycle.** ``"cycle"``: neither, and the last ``p`` iterates, a ``p`` in ``2 … CYCLE_MAX_PERIOD``,
  repeat the ``p`` before them to rounding (:func:`~heavyball.cycles.cycle_periods`): a periodic orbit, which more
  steps will not change (Lessard, Recht & Packard 2016, §4.6: heavy ball at Polyak's tuning on
  a strongly convex function ends on a period-3 orbit). Otherwise ``"max_steps"``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from ._validation import as_choice, as_float_array, as_int, as_real, broadcast_shapes, check_theta, describe
from .compiled import check_engine
from .cycles import CYCLE_MAX_PERIOD
from .optimizers import _STATE_ARRAYS, _Optimizer
from .status import Status

__all__ = [
    "CYCLE_MAX_PERIOD",
    "DIVERGENCE_FACTOR",
    "LOSS_MEMORY_BUDGET",
    "MAX_STEPS",
    "MEMORY_BUDGET",
    "DiscreteTrajectory",
    "RunSpec",
    "allocate",
    "assemble",
    "make_trajectory",
    "prepare",
    "row_norm_sq",
    "status_codes",
]

#: bytes the recorded arrays of one run may take (1 GiB)
MEMORY_BUDGET = 2**30
#: the budget of a ``record="loss"`` run (2 GiB): loss curves are the product of a sweep
#: (every step's loss and distance of 10⁵ configurations over 1000 steps take 1.6 GB)
LOSS_MEMORY_BUDGET = 2**31
#: a configuration diverges when ‖θ_k‖ > DIVERGENCE_FACTOR·(1 + ‖θ₀‖ + ‖θ*‖), or θ_k is not finite
DIVERGENCE_FACTOR = 1e8
#: the largest step count: beyond 2**53 step indices are no longer exact in float64
MAX_STEPS = 2**53

_RECORDS = ("all", "loss", "final")
_STATUS_WORDS = np.array([s.value for s in (Status.CONVERGED, Status.DIVERGED, Status.MAX_STEPS, Status.CYCLE)])
_CONVERGED, _DIVERGED, _MAX_STEPS, _CYCLE = range(4)
#: ``success`` of each code, from the vocabulary's one rule (a gather instead of string matching)
_SUCCESS = np.array([Status(word).success for word in _STATUS_WORDS])


@dataclasses.dataclass(frozen=True, eq=False)
class DiscreteTrajectory:
    r"""The result of :func:`heavyball.iterate` (arrays are time-first and read-only).

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
    status : Status or ndarray of str (shape ``batch``)
        ``"converged"``, ``"diverged"``, ``"cycle"`` or ``"max_steps"`` (see
        :mod:`heavyball.iterate`); a :class:`~heavyball.Status` for an unbatched run.
    diverged_at : int or ndarray of int
        The step at which the configuration diverged, −1 if it did not.
    success : bool or ndarray of bool
        :func:`heavyball.status.succeeded` of ``status``: false for ``"diverged"`` and
        ``"cycle"``.
    message : str
        One sentence summarising the run.
    method, problem
        What was run (``method`` is the optimiser).
    record : str
    tol : float
        The convergence tolerance used.
    period : int or ndarray of int
        The period of the orbit for ``status == "cycle"``, 0 otherwise.
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
    period: Any = 0

    @property
    def batch_shape(self) -> tuple[int, ...]:
        """The batch shape ``theta.shape[1:-1]``."""
        return tuple(self.theta.shape[1:-1])

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


@dataclasses.dataclass(frozen=True, kw_only=True, eq=False)
class RunSpec:
    """A validated run (built by :func:`prepare`; arrays are owned by the spec)."""

    method: _Optimizer
    problem: Any
    theta0: np.ndarray  # as given, validated (dtype float32 or float64)
    theta0_flat: np.ndarray  # (B, d), broadcast against the hyperparameters, a fresh copy
    batch: tuple[int, ...]
    size: int  # B
    dim: int  # d
    dtype: np.dtype
    steps: int
    record: str
    every: int
    tol: float
    threads: int | None
    engine: str  # "numpy" (the reference) or "compiled" (heavyball.compiled, bitwise equal)
    theta_steps: np.ndarray  # steps whose iterate is stored
    loss_steps: np.ndarray  # steps whose loss and distance are stored
    minimizer: np.ndarray | None  # in the run's dtype
    bound: np.ndarray  # (B,) float64: the divergence bound on ‖θ_k‖₂
    state: Any = None  # the initial state, arrays flattened to (B, d) copies; None: method.init

    @property
    def bound2(self) -> np.ndarray:
        """The squared divergence bound in the run's dtype (capped at its largest finite value)."""
        return np.minimum(self.bound**2, np.finfo(self.dtype).max).astype(self.dtype)


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


def _initial_state(method: _Optimizer, state: Any, full: tuple[int, ...], size: int, dtype: np.dtype) -> Any:
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


def _check_method_and_problem(method: Any, problem: Any) -> int:
    if not isinstance(method, _Optimizer):
        raise TypeError(
            "`optimizer` must be a heavyball optimiser (SGD, Adam, AdamW, HeavyBall, NesterovLookahead), "
            f"got {describe(method)}"
        )
    for attr in ("value", "grad", "dim"):
        if not hasattr(problem, attr):
            raise TypeError(
                f"`problem` must have `value`, `grad` and `dim` (a heavyball Problem), got {describe(problem)}"
            )
    return as_int("problem.dim", problem.dim, minimum=1)


def _batch_shape(method: _Optimizer, theta0: np.ndarray, d: int) -> tuple[int, ...]:
    """The broadcast shape ``(*batch, d)`` of ``theta0`` and the array hyperparameters."""
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
    return tuple(full)


def _check_budget(record: str, every: int, n_theta: int, n_loss: int, size: int, d: int, nbytes: int) -> None:
    budget, budget_name = (
        (LOSS_MEMORY_BUDGET, "LOSS_MEMORY_BUDGET") if record == "loss" else (MEMORY_BUDGET, "MEMORY_BUDGET")
    )
    if nbytes > budget:
        raise ValueError(
            f"`record`={record!r} with `every`={every} would store {nbytes / 2**30:.3g} GiB "
            f"({n_theta} iterates and {n_loss} losses of {size} configurations × {d} "
            f"coordinates), more than the budget {budget_name} = {budget / 2**30:g} GiB; record less often "
            f"(a larger `every`), or use `record`='loss' or 'final'"
        )


def prepare(method: Any, problem: Any, theta0: Any, steps: Any, *, record: str = "all", every: int = 1,
            tol: float | None = None, threads: int | None = None, state: Any = None,
            engine: str = "numpy") -> RunSpec:  # fmt: skip
    """Validate the arguments of :func:`heavyball.iterate` once and describe the run.

    Parameters
    ----------
    method, problem, theta0, steps, record, every, tol, threads, state, engine
        As in :func:`heavyball.iterate` (``method`` is its ``optimizer``).

    Returns
    -------
    RunSpec

    Raises
    ------
    TypeError, ValueError
        Naming the argument (see :func:`heavyball.iterate`).
    """
    d = _check_method_and_problem(method, problem)
    theta0 = check_theta("theta0", theta0, d, finite=True)
    dtype = theta0.dtype
    steps = as_int("steps", steps, minimum=0, maximum=MAX_STEPS)
    record = as_choice("record", record, _RECORDS)
    every = as_int("every", every, minimum=1)
    tol = float(np.sqrt(np.finfo(dtype).eps)) if tol is None else float(as_real("tol", tol, lower=0.0))
    if threads is not None:
        threads = as_int("threads", threads, minimum=1)
    engine = check_engine(engine)
    full = _batch_shape(method, theta0, d)
    batch = full[:-1]
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
    _check_budget(record, every, len(theta_steps), len(loss_steps), size, d, nbytes)
    theta0_flat = np.broadcast_to(theta0, full).reshape(size, d).copy()
    with np.errstate(over="ignore"):
        norm0 = np.sqrt(np.einsum("ij,ij->i", theta0_flat, theta0_flat, dtype=np.float64))
        star = 0.0 if minimizer is None else float(np.linalg.norm(np.asarray(minimizer, np.float64)))
        bound = DIVERGENCE_FACTOR * (1.0 + norm0 + star)
    if state is not None:
        state = _initial_state(method, state, full, size, dtype)
    return RunSpec(
        method=method, problem=problem, theta0=theta0, theta0_flat=theta0_flat, batch=batch, size=size, dim=d,
        dtype=dtype, steps=steps, record=record, every=every, tol=tol, threads=threads, engine=engine,
        theta_steps=theta_steps,
        loss_steps=loss_steps, minimizer=minimizer, bound=bound, state=state,
    )  # fmt: skip


def allocate(spec: RunSpec) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """NaN-filled records: ``theta (n_theta, B, d)``, ``loss (n_loss, B)``, ``distance`` or None.

    Parameters
    ----------
    spec : RunSpec

    Returns
    -------
    theta, loss, distance
    """
    B, d, dtype = spec.size, spec.dim, spec.dtype
    theta = np.full((len(spec.theta_steps), B, d), np.nan, dtype)
    loss = np.full((len(spec.loss_steps), B), np.nan, dtype)
    distance = None if spec.minimizer is None else np.full((len(spec.loss_steps), B), np.nan, dtype)
    return theta, loss, distance


def row_norm_sq(x: np.ndarray) -> np.ndarray:
    """``Σⱼ x[i, j]²`` per row (einsum, in ``x``'s dtype).

    Parameters
    ----------
    x : ndarray, shape (n, d)

    Returns
    -------
    ndarray, shape (n,)
    """
    return np.einsum("ij,ij->i", x, x)


def _safe_row_norm(x: np.ndarray) -> np.ndarray:
    """Row norms that neither overflow nor underflow: ``s·‖x/s‖`` with ``s = max|x|`` per row
    (``inf`` only for rows holding ``inf``; ``NaN`` for rows holding NaN)."""
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(all="ignore"):
        scale = np.max(np.abs(x), axis=-1) if x.shape[-1] else np.zeros(x.shape[:-1])
        unit = np.where(scale[:, None] > 0, x / np.where(scale > 0, scale, 1.0)[:, None], 0.0)
        return scale * np.sqrt(row_norm_sq(unit))


def _readonly(arr: Any) -> Any:
    if isinstance(arr, np.ndarray):
        arr.flags.writeable = False
    return arr


def _residuals(spec: RunSpec, final: np.ndarray) -> tuple[np.ndarray, np.ndarray, str]:
    """``(r0, rk, what)``: the initial and final distance to the minimiser (or gradient norm)."""
    B, d, problem, star = spec.size, spec.dim, spec.problem, spec.minimizer
    with np.errstate(all="ignore"):
        if star is not None:
            r0 = np.sqrt(row_norm_sq(spec.theta0_flat - star)) if B else np.zeros(0)
            rk = np.sqrt(row_norm_sq(final - star)) if B else np.zeros(0)
            return r0, rk, "distance to the minimiser"
        g0 = np.asarray(problem.grad(spec.theta0_flat)) if B else np.zeros((0, d))
        gk = np.asarray(problem.grad(final)) if B else np.zeros((0, d))
        return _safe_row_norm(g0), _safe_row_norm(gk), "gradient norm"


def make_trajectory(
    spec: RunSpec,
    *,
    theta: np.ndarray,
    loss: np.ndarray,
    distance: np.ndarray | None,
    diverged_at: np.ndarray,
    periods: Callable[[np.ndarray], np.ndarray] | None = None,
) -> DiscreteTrajectory:
    """Build the :class:`DiscreteTrajectory` from flat records (shapes as :func:`allocate`'s).

    Parameters
    ----------
    spec : RunSpec
    theta, loss, distance : ndarray
        Flat records, NaN after a configuration's divergence.
    diverged_at : ndarray of int, shape (B,)
        The step of divergence, −1 where the configuration did not diverge.
    periods : callable, optional
        ``periods(rows)``: the cycle test's periods of the flat configurations ``rows``
        (:func:`heavyball.cycles.tail_periods` of the last iterates an engine kept, or the
        engine's own); asked only for configurations that neither converged nor diverged.
        ``None``: no cycle test.

    Returns
    -------
    DiscreteTrajectory
    """
    B = spec.size
    diverged_at = np.asarray(diverged_at, np.int64).reshape(B)
    diverged = diverged_at >= 0
    r0, rk, what = _residuals(spec, theta[-1])
    with np.errstate(invalid="ignore"):
        converged = ~diverged & (rk <= spec.tol * r0)
    # one int8 code per configuration, then a single gather into the str array
    codes = np.full(B, _MAX_STEPS, np.int8)
    codes[converged] = _CONVERGED
    codes[diverged] = _DIVERGED
    period = np.zeros(B, np.int64)
    undecided = np.flatnonzero(codes == _MAX_STEPS)
    if undecided.size and spec.steps >= 4:
        if periods is not None:
            period[undecided] = periods(undecided)
        codes[period > 0] = _CYCLE
    message = _message(spec, diverged_at, codes, period, r0, rk, what)
    return _build(spec, theta, loss, distance, diverged_at, codes, period, message)


def status_codes(status: Any) -> np.ndarray:
    """The int8 code of each status word (as :func:`assemble` takes them), flat.

    Parameters
    ----------
    status : Status or array_like of str
        A trajectory's ``status``.

    Returns
    -------
    ndarray of int8, shape (B,)
    """
    words = np.asarray(status.value if isinstance(status, Status) else status, dtype=str).reshape(-1)
    codes = np.full(words.shape, -1, np.int8)
    for code, word in enumerate(_STATUS_WORDS):
        codes[words == word] = code
    if np.any(codes < 0):
        raise ValueError(f"`status` holds words outside {_STATUS_WORDS.tolist()}")
    return codes


def assemble(
    spec: RunSpec,
    *,
    theta: np.ndarray,
    loss: np.ndarray,
    distance: np.ndarray | None,
    diverged_at: np.ndarray,
    codes: np.ndarray,
    period: np.ndarray,
) -> DiscreteTrajectory:
    """The :class:`DiscreteTrajectory` of a run whose rows were decided in pieces.

    Where :func:`make_trajectory` decides each configuration's status itself, this takes the
    decisions (``codes`` from :func:`status_codes` and ``period``, flat) of runs over parts of
    the batch — each part's rows decided by the rules above, which look at one row at a time —
    and writes the message of the whole batch: the trajectory that :func:`make_trajectory`
    gives for the same records.

    Parameters
    ----------
    spec : RunSpec
    theta, loss, distance : ndarray
        Flat records, shapes as :func:`allocate`'s.
    diverged_at, codes, period : ndarray, shape (B,)

    Returns
    -------
    DiscreteTrajectory
    """
    B = spec.size
    diverged_at = np.asarray(diverged_at, np.int64).reshape(B)
    codes = np.asarray(codes, np.int8).reshape(B)
    period = np.asarray(period, np.int64).reshape(B)
    if spec.batch == ():  # the one-configuration message quotes the residuals
        r0, rk, what = _residuals(spec, theta[-1])
    else:  # a batch's message counts outcomes only
        r0 = rk = np.zeros(B)
        what = ""
    message = _message(spec, diverged_at, codes, period, r0, rk, what)
    return _build(spec, theta, loss, distance, diverged_at, codes, period, message)


# make_trajectory's and assemble's records and decisions, passed on as they are: the one place
# that turns them into a trajectory (the parameter list repeats assemble's)
def _build(
    spec: RunSpec,
    theta: np.ndarray,
    loss: np.ndarray,
    distance: np.ndarray | None,
    diverged_at: np.ndarray,
    codes: np.ndarray,
    period: np.ndarray,
    message: str,
) -> DiscreteTrajectory:
    """Reshape flat records and decisions to the batch, read-only, into a trajectory."""
    d, batch = spec.dim, spec.batch
    status = _STATUS_WORDS[codes]
    success = _SUCCESS[codes]
    theta = theta.reshape((theta.shape[0], *batch, d))
    loss = loss.reshape((loss.shape[0], *batch))
    if distance is not None:
        distance = distance.reshape((distance.shape[0], *batch))
    if batch == ():
        status_out: Any = Status(str(status[0]))
        success_out: Any = bool(success[0])
        dat_out: Any = int(diverged_at[0])
        period_out: Any = int(period[0])
    else:
        status_out, success_out = status.reshape(batch), success.reshape(batch)
        dat_out, period_out = diverged_at.reshape(batch), period.reshape(batch)
        for arr in (status_out, success_out, dat_out, period_out):
            _readonly(arr)
    for arr in (theta, loss, distance):
        _readonly(arr)
    return DiscreteTrajectory(
        theta=theta, loss=loss, distance=distance, steps=_readonly(spec.loss_steps.copy()), status=status_out,
        diverged_at=dat_out, success=success_out, message=message, method=spec.method, problem=spec.problem,
        record=spec.record, tol=spec.tol, period=period_out,
    )  # fmt: skip


def _message(
    spec: RunSpec,
    diverged_at: np.ndarray,
    codes: np.ndarray,
    period: np.ndarray,
    r0: np.ndarray,
    rk: np.ndarray,
    what: str,
) -> str:
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
        if codes[0] == _CONVERGED:
            return (
                f"converged: after {steps} steps the {what} is {float(rk[0]):.3g} "
                f"({ratio:.3g} of its initial value; tol {tol:.3g})."
            )
        if codes[0] == _CYCLE:
            return (
                f"settled into a cycle of period {int(period[0])}: after {steps} steps the iterates repeat "
                f"every {int(period[0])} steps to rounding, neither converging nor diverging (the {what} is "
                f"{ratio:.3g} of its initial value)."
            )
        return (
            f"stopped after {steps} steps without converging: the {what} is {ratio:.3g} of its "
            f"initial value (tol {tol:.3g})."
        )
    if B == 0:
        return f"empty batch {spec.batch}: 0 configurations, nothing was run."
    nd = int(np.count_nonzero(codes == _DIVERGED))
    nc = int(np.count_nonzero(codes == _CONVERGED))
    ny = int(np.count_nonzero(codes == _CYCLE))
    first = f" (first at step {int(diverged_at[diverged_at >= 0].min())})" if nd else ""
    cycles = f", {ny} settled into a cycle" if ny else ""
    return (
        f"{nd} of {B} configurations diverged{first}; {nc} converged{cycles} and {B - nd - nc - ny} reached "
        f"max_steps after {steps} steps."
    )
