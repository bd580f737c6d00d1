r"""Sweeps past one machine: :func:`sweep` runs :func:`heavyball.iterate` chunk by chunk.

A sweep is one batched run — hyperparameters and starting points broadcast to a batch of
``B`` configurations, flattened to rows ``0 … B − 1`` (the batch that
:func:`heavyball.iterate` runs) — split along that configuration axis into chunks of
``chunk`` rows. Each chunk is an ordinary run of the same optimiser restricted to its rows,
on the same problem, with the same options; chunks run in order here or as tasks of a dask
cluster (``client``: a ``distributed.Client``, the ``distributed`` extra), and their records
and per-row decisions are assembled into the trajectory of the whole batch.

Why the pieces make the whole, bit for bit: every update, gradient, divergence test and
status rule of a run acts on one row at a time, and with gradient noise row ``i`` draws
sample ``i``'s own stream (:class:`heavyball.noise.NormalStream`), which depends only on
``(seed, i)`` — a chunk of rows ``[start, stop)`` draws samples ``start … stop − 1``. So
``sweep(...)`` equals ``iterate(...)`` on the whole batch: iterates, losses, distances,
``status``, ``diverged_at``, ``period`` and ``message``, whatever ``chunk`` and the order
in which chunks finish.

A chunk that fails (a worker lost, a problem that raises) is run again up to ``retries``
times; the other chunks' results are kept. Results come back chunk by chunk as they finish
and are copied into the records at once, so the driver holds the result and one chunk in
flight, never all chunks' copies.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import numpy as np

from ._batch import restrict_batch
from ._run import DiscreteTrajectory, RunSpec, allocate, assemble, prepare, status_codes
from ._validation import as_int, describe
from .iterate import run_spec
from .noise import GradientSampler

__all__ = ["sweep"]

#: the options of :func:`heavyball.iterate` a sweep passes on to every chunk
OPTIONS = ("record", "every", "tol", "threads", "noise", "seed", "engine")
_INSTALL = 'pip install "heavyball-dynamics[distributed]"'

Progress = Callable[[int, int], Any]


class _Chunk(NamedTuple):
    """Rows ``[start, stop)`` of the flat batch: the optimiser and starting points of those rows."""

    number: int
    start: int
    stop: int
    optimizer: Any
    theta0: np.ndarray  # (stop − start, d)


class _Part(NamedTuple):
    """What a chunk sends back: its rows' flat records and decisions."""

    theta: np.ndarray  # (n_theta, n, d)
    loss: np.ndarray  # (n_loss, n)
    distance: np.ndarray | None
    diverged_at: np.ndarray  # (n,)
    codes: np.ndarray  # (n,) int8, see heavyball._run.status_codes
    period: np.ndarray  # (n,)


def _run_chunk(chunk: _Chunk, problem: Any, steps: int, options: dict[str, Any]) -> _Part:
    """Run one chunk (on a worker, or here): an ordinary run of its rows."""
    run = {k: v for k, v in options.items() if k not in ("noise", "seed")}
    spec = prepare(chunk.optimizer, problem, chunk.theta0, steps, **run)
    tr = run_spec(spec, noise=options.get("noise"), seed=options.get("seed"), first_row=chunk.start)
    n, d = spec.size, spec.dim
    return _Part(
        theta=tr.theta.reshape(tr.theta.shape[0], n, d),
        loss=tr.loss.reshape(tr.loss.shape[0], n),
        distance=None if tr.distance is None else tr.distance.reshape(tr.distance.shape[0], n),
        diverged_at=np.asarray(tr.diverged_at, np.int64).reshape(n),
        codes=status_codes(tr.status),
        period=np.asarray(tr.period, np.int64).reshape(n),
    )


def _chunks(spec: RunSpec, chunk: int) -> Iterator[_Chunk]:
    """The chunks of ``spec``'s flat batch, in order (made one at a time: each holds a copy of
    its rows' hyperparameters and starting points)."""
    for number, start in enumerate(range(0, spec.size, chunk)):
        stop = min(start + chunk, spec.size)
        rows = np.arange(start, stop)
        optimizer = restrict_batch(spec.method, spec.batch, rows)  # array hyperparameters as (n, last) rows
        yield _Chunk(number, start, stop, optimizer, spec.theta0_flat[start:stop].copy())


def _check_options(options: dict[str, Any]) -> None:
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        extra = " (a sweep starts every configuration at rest)" if "state" in unknown else ""
        raise TypeError(
            f"sweep() got unexpected keyword argument(s) {', '.join(f'`{k}`' for k in unknown)}{extra}; "
            f"its options are those of heavyball.iterate: {', '.join(f'`{k}`' for k in OPTIONS)}"
        )


def _check_noise(spec: RunSpec, noise: Any, seed: Any) -> None:
    """``noise`` and ``seed`` as :func:`heavyball.iterate` checks them (before any chunk runs)."""
    if noise is None and seed is None:
        return
    if noise is None:
        raise ValueError("`seed` is for noisy runs: give `noise` too (a noiseless run needs no seed)")
    GradientSampler(noise, seed, 0, spec.dim, spec.dtype)  # validates noise and seed


def _reporter(progress: Any) -> Progress | None:
    if progress is None or progress is False:
        return None
    if progress is True:
        return _stderr_line
    if callable(progress):
        return progress
    raise TypeError(f"`progress` must be True, False or a callable progress(done, total), got {describe(progress)}")


def _stderr_line(done: int, total: int) -> None:
    """One line on standard error per finished chunk (redrawn in place on a terminal)."""
    stream = sys.stderr
    text = f"sweep: {done}/{total} configurations done"
    if stream.isatty():
        stream.write(f"\r{text}" + ("\n" if done == total else ""))
    else:
        stream.write(text + "\n")
    stream.flush()


def _client_module(client: Any) -> Any:
    """``distributed``, imported for a ``client`` (a clear error naming the extra without it)."""
    try:
        import distributed
    except ModuleNotFoundError as exc:
        raise ModuleNotFoundError(
            f"`client` runs the sweep on a dask cluster, which needs dask's distributed scheduler: {_INSTALL}",
            name="distributed",
        ) from exc
    if not isinstance(client, distributed.Client):
        raise TypeError(f"`client` must be a distributed.Client or None (run here), got {describe(client)}")
    return distributed


def _failed(exc: BaseException, chunk: _Chunk, attempts: int) -> BaseException:
    """``exc`` with a note naming the chunk (Python >= 3.11 shows notes with the traceback)."""
    note = getattr(exc, "add_note", None)
    if note is not None:
        note(f"heavyball.sweep: chunk {chunk.number} (rows {chunk.start}…{chunk.stop - 1}) failed {attempts} times")
    return exc


def _run_here(spec: RunSpec, chunk: int, problem: Any, steps: int, options: dict[str, Any],
              retries: int) -> Iterator[tuple[_Chunk, _Part]]:  # fmt: skip
    for c in _chunks(spec, chunk):
        for attempt in range(retries + 1):
            try:
                part = _run_chunk(c, problem, steps, options)
            except Exception as exc:
                if attempt == retries:
                    raise _failed(exc, c, attempt + 1) from None
                continue
            yield c, part
            break


def _run_on(client: Any, spec: RunSpec, chunk: int, problem: Any, steps: int, options: dict[str, Any],
            retries: int) -> Iterator[tuple[_Chunk, _Part]]:  # fmt: skip
    distributed = _client_module(client)
    tag = uuid.uuid4().hex[:12]
    # the problem goes to every worker once (not once per task); the options are small
    problem_on = client.scatter(problem, broadcast=True, hash=False)
    futures = {}
    for c in _chunks(spec, chunk):
        fut = client.submit(_run_chunk, c, problem_on, steps, options, key=f"heavyball-sweep-{tag}-{c.number}",
                            retries=retries, pure=False)  # fmt: skip
        futures[fut.key] = (fut, c._replace(optimizer=None, theta0=np.empty(0)))  # the rows only
    try:
        for fut in distributed.as_completed([f for f, _ in futures.values()]):
            c = futures[fut.key][1]
            try:
                part = fut.result()
            except Exception as exc:
                raise _failed(exc, c, retries + 1) from None
            yield c, part
            del futures[fut.key]  # the worker's copy is released with the last reference
            fut.release()
    finally:
        if futures:  # a chunk failed for good or the caller stopped: cancel the rest
            client.cancel([f for f, _ in futures.values()])
        client.cancel(problem_on)


def sweep(
    optimizer: Any,
    problem: Any,
    theta0: Any,
    steps: int,
    *,
    chunk: int,
    client: Any = None,
    retries: int = 2,
    progress: bool | Progress = False,
    **options: Any,
) -> DiscreteTrajectory:
    r"""Run a batched :func:`heavyball.iterate` in chunks of configurations, here or on a dask cluster.

    The configurations — the flat batch that ``theta0`` and the optimiser's array
    hyperparameters broadcast to — are split into chunks of ``chunk`` consecutive rows; each
    chunk is run as its own :func:`heavyball.iterate` (on a worker of ``client``, or here in
    order), and the results are assembled into the trajectory of the whole batch, bitwise
    equal to ``iterate(optimizer, problem, theta0, steps, **options)``: iterates, losses,
    distances, ``status``, ``diverged_at``, ``period``, ``message``, with the batch shape
    restored. With ``noise``, row ``i`` draws the same noise in its chunk as in the whole run
    (it depends only on ``(seed, i)``).

    Parameters
    ----------
    optimizer, problem, theta0, steps
        As in :func:`heavyball.iterate`. On a cluster the problem and the optimiser's
        schedules must pickle (dask uses cloudpickle: lambdas are fine).
    chunk : int
        Configurations per chunk, ``>= 1``. A chunk is one task: large enough to amortise
        the task's overhead (milliseconds) and its recording's transfer, small enough that
        several chunks keep every worker busy. With ``noise``, multiples of
        :data:`heavyball.noise.STREAM_BLOCK` (4096) draw whole blocks of the noise streams.
    client : distributed.Client, optional
        Where the chunks run; ``None`` runs them here, one after the other (a test of the
        chunking, or a sweep that fits this machine). Needs the ``distributed`` extra.
    retries : int
        How many times a failed chunk is run again (``>= 0``) before the sweep fails with its
        error; the other chunks' results are kept meanwhile.
    progress : bool or callable
        ``True``: a line on standard error per finished chunk. A callable is called as
        ``progress(done, total)`` with the configurations finished so far and in all.
    **options
        ``record``, ``every``, ``tol``, ``threads``, ``noise``, ``seed``, ``engine``: as in
        :func:`heavyball.iterate`, for every chunk (``threads`` are per chunk, on its worker).

    Returns
    -------
    DiscreteTrajectory
        Equal to ``iterate``'s; ``method`` and ``problem`` are the ones given.

    Raises
    ------
    TypeError, ValueError
        Bad arguments (named), checked here before any chunk runs; a recording larger than
        :data:`heavyball.iterate.MEMORY_BUDGET` (the whole sweep's result comes back here:
        ``record="final"`` keeps it small).
    ModuleNotFoundError
        A ``client`` without dask's ``distributed`` installed.
    Exception
        The error of a chunk that failed ``retries + 1`` times, with a note naming its rows.

    Examples
    --------
    >>> import numpy as np, heavyball as hb
    >>> q = hb.Quadratic.valley(kappa=10)
    >>> opt = hb.SGD(lr=np.linspace(0.1, 3.5, 5)[:, None], momentum=0.5)
    >>> tr = hb.sweep(opt, q, [1.0, 1.0], 200, chunk=2, record="final")
    >>> np.array_equal(tr.theta, hb.iterate(opt, q, [1.0, 1.0], 200, record="final").theta, equal_nan=True)
    True
    >>> tr.message
    '1 of 5 configurations diverged (first at step 36); 3 converged and 1 reached max_steps after 200 steps.'
    """
    _check_options(options)
    run = {k: v for k, v in options.items() if k not in ("noise", "seed")}
    spec = prepare(optimizer, problem, theta0, steps, **run)
    _check_noise(spec, options.get("noise"), options.get("seed"))
    chunk = as_int("chunk", chunk, minimum=1)
    retries = as_int("retries", retries, minimum=0)
    report = _reporter(progress)
    if client is not None:
        _client_module(client)  # before any chunk runs: the extra, and the client's type
    theta, loss, distance = allocate(spec)
    diverged_at = np.full(spec.size, -1, np.int64)
    codes = np.zeros(spec.size, np.int8)
    period = np.zeros(spec.size, np.int64)
    parts = (
        _run_here(spec, chunk, problem, spec.steps, options, retries)
        if client is None
        else _run_on(client, spec, chunk, problem, spec.steps, options, retries)
    )
    done = 0
    for c, part in parts:
        rows = slice(c.start, c.stop)
        theta[:, rows], loss[:, rows] = part.theta, part.loss
        if distance is not None:
            distance[:, rows] = part.distance
        diverged_at[rows], codes[rows], period[rows] = part.diverged_at, part.codes, part.period
        done += c.stop - c.start
        if report is not None:
            report(done, spec.size)
    return assemble(spec, theta=theta, loss=loss, distance=distance, diverged_at=diverged_at, codes=codes,
                    period=period)  # fmt: skip
