"""heavyball.sweep: a batched run in chunks, here or on a dask cluster, equal to iterate's.

The reference of every comparison is ``hb.iterate`` on the whole batch (the numpy engine,
which knows nothing of chunks); results must be *bitwise* equal (tolerance 0): iterates,
losses, distances, status, diverged_at, period, success and message.
"""

import os
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest

import heavyball as hb
from heavyball import compiled
from heavyball.noise import STREAM_BLOCK

STEPS = 60
D = 2


# -- problems (module level: they pickle to the workers) ---------------------------------------
class NoMinimizer:
    """A quadratic without a known minimiser: convergence is judged by the gradient norm."""

    def __init__(self, q):
        self.q, self.dim = q, q.dim

    def value(self, theta):
        return self.q.value(theta)

    def grad(self, theta):
        return self.q.grad(theta)


class Flaky:
    """A quadratic whose gradient raises once, at the first call anywhere, until ``marker``
    exists (the first caller writes its process id there): a transient failure of one chunk."""

    def __init__(self, q, marker):
        self.q, self.dim, self.minimizer, self.marker = q, q.dim, q.minimizer, pathlib.Path(marker)

    def value(self, theta):
        return self.q.value(theta)

    def grad(self, theta):
        if not self.marker.exists():
            self.marker.write_text(str(os.getpid()))
            raise RuntimeError("transient failure of a chunk")
        return self.q.grad(theta)


# -- the runs compared ----------------------------------------------------------------------------
VALLEY = hb.Quadratic.valley(kappa=10)
ROTATED = hb.Quadratic.from_eigenvalues([0.05, 0.4, 1.0], rotation="random", seed=3)


def _theta0(d=D, n=3):
    return np.random.default_rng(7).standard_normal((n, d))


# step sizes past the stability limit too, so that some configurations diverge mid-run
OPTIMIZERS = {
    "SGD": hb.SGD(lr=np.linspace(0.1, 3.4, 5)[:, None, None], momentum=0.5),
    "HeavyBall": hb.HeavyBall(eta=np.linspace(0.1, 3.4, 5)[:, None, None], mu=0.5),
    "Adam": hb.Adam(lr=np.linspace(0.01, 0.5, 5)[:, None, None]),
}


def assert_same(got, want):
    """Bitwise equality of two trajectories (tolerance 0; NaN where both are NaN)."""
    assert got.theta.shape == want.theta.shape
    assert got.batch_shape == want.batch_shape
    np.testing.assert_array_equal(got.theta, want.theta, strict=True)
    np.testing.assert_array_equal(got.loss, want.loss, strict=True)
    if want.distance is None:
        assert got.distance is None
    else:
        np.testing.assert_array_equal(got.distance, want.distance, strict=True)
    np.testing.assert_array_equal(got.steps, want.steps, strict=True)
    if isinstance(want.status, hb.Status):
        assert got.status is want.status
        assert (got.diverged_at, got.success, got.period) == (want.diverged_at, want.success, want.period)
    else:
        np.testing.assert_array_equal(got.status, want.status, strict=True)
        np.testing.assert_array_equal(got.diverged_at, want.diverged_at, strict=True)
        np.testing.assert_array_equal(got.success, want.success, strict=True)
        np.testing.assert_array_equal(got.period, want.period, strict=True)
    assert got.message == want.message
    assert (got.record, got.tol) == (want.record, want.tol)
    assert got.method is want.method and got.problem is want.problem
    assert not got.theta.flags.writeable and not got.loss.flags.writeable


@pytest.fixture(scope="module")
def client():
    """Two single-threaded worker processes (what a cluster does: the problem, optimiser and
    results pickled between processes); one cluster for the whole module."""
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0", silence_logs=40
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


# -- equal to iterate, run here -----------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("record", ["all", "loss", "final"])
@pytest.mark.parametrize("chunk", [1, 4, 5, 15, 100])  # 15 rows: chunks that do and do not divide them
def test_equal_to_iterate_here(name, record, chunk):
    opt, th0 = OPTIMIZERS[name], _theta0()
    want = hb.iterate(opt, VALLEY, th0, STEPS, record=record, every=7)
    got = hb.sweep(opt, VALLEY, th0, STEPS, chunk=chunk, record=record, every=7)
    assert_same(got, want)


def test_the_cases_cover_every_outcome():
    """The runs above are not vacuous: some configurations diverge mid-run, some converge."""
    status = np.concatenate([hb.iterate(o, VALLEY, _theta0(), STEPS).status.ravel() for o in OPTIMIZERS.values()])
    assert {"diverged", "converged", "max_steps"} <= set(status.tolist())


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_equal_to_iterate_rotated_float32(name):
    """A non-diagonal quadratic in float32 (the fast paths in the eigenbasis)."""
    th0 = _theta0(3).astype(np.float32)
    want = hb.iterate(OPTIMIZERS[name], ROTATED, th0, STEPS)
    assert want.theta.dtype == np.float32
    assert_same(hb.sweep(OPTIMIZERS[name], ROTATED, th0, STEPS, chunk=4), want)


def test_unbatched_and_no_minimizer():
    """One configuration: scalar status and the message quoting the residual (here the
    gradient norm, as the minimiser is unknown)."""
    p = NoMinimizer(VALLEY)
    opt = hb.HeavyBall(eta=0.5, mu=0.6)
    want = hb.iterate(opt, p, [1.0, -2.0], 200)
    assert isinstance(want.status, hb.Status) and "gradient norm" in want.message
    assert_same(hb.sweep(opt, p, [1.0, -2.0], 200, chunk=3), want)


def test_schedule_and_empty_batch():
    """A schedule returning per-configuration values, restricted to each chunk's rows; and a
    batch of no configurations."""
    base = np.linspace(0.1, 2.0, 5)[:, None, None]
    opt = hb.SGD(lr=lambda k: base * 0.99**k, momentum=0.3)
    th0 = _theta0()[None].repeat(5, axis=0)  # the schedule's batch comes from theta0
    assert_same(hb.sweep(opt, VALLEY, th0, STEPS, chunk=4), hb.iterate(opt, VALLEY, th0, STEPS))
    empty = hb.SGD(lr=np.zeros((0, 1)))
    assert_same(hb.sweep(empty, VALLEY, [1.0, 1.0], 5, chunk=2), hb.iterate(empty, VALLEY, [1.0, 1.0], 5))


# -- noisy runs: row i's noise depends on (seed, i) only ---------------------------------------
NOISES = {"isotropic": hb.GradientNoise.isotropic(0.3), "hessian": hb.GradientNoise.hessian(VALLEY, 0.5)}


NOISY_CASES = [(name, record) for name in sorted(OPTIMIZERS) for record in ("all", "final")]


@pytest.mark.parametrize("noise", sorted(NOISES))
@pytest.mark.parametrize(("name", "record"), NOISY_CASES)
def test_noisy_equal_to_iterate_here(noise, record, name):
    opt, th0 = OPTIMIZERS[name], _theta0()
    want = hb.iterate(opt, VALLEY, th0, STEPS, record=record, noise=NOISES[noise], seed=11)
    got = hb.sweep(opt, VALLEY, th0, STEPS, chunk=4, record=record, noise=NOISES[noise], seed=11)
    assert_same(got, want)
    # not vacuous: the noise changed the run
    clean = hb.iterate(opt, VALLEY, th0, STEPS, record=record)
    assert not np.array_equal(want.theta, clean.theta, equal_nan=True)


def test_noisy_chunks_across_stream_blocks():
    """More rows than a noise stream block, chunks whose edges fall inside blocks: each row
    still draws its own sample's stream (record="final": the Monte Carlo engine; "loss": the
    general loop)."""
    n = STREAM_BLOCK + 904
    opt = hb.HeavyBall(eta=np.linspace(0.1, 1.0, n)[:, None], mu=0.5)
    noise = hb.GradientNoise.hessian(VALLEY, 0.25)
    for record in ("final", "loss"):
        want = hb.iterate(opt, VALLEY, [1.0, 1.0], 12, record=record, noise=noise, seed=5)
        assert_same(hb.sweep(opt, VALLEY, [1.0, 1.0], 12, chunk=1500, record=record, noise=noise, seed=5), want)


@pytest.mark.skipif(not compiled.available(), reason="the compiled engine needs numba (the fast extra)")
def test_compiled_engine():
    """The numba kernels, noiseless (Adam) and noisy (SGD, the Monte Carlo engine)."""
    opt, th0 = OPTIMIZERS["Adam"], _theta0()
    want = hb.iterate(opt, VALLEY, th0, STEPS, engine="compiled")
    assert_same(hb.sweep(opt, VALLEY, th0, STEPS, chunk=4, engine="compiled"), want)
    opt, noisy = hb.SGD(lr=np.linspace(0.1, 1.0, 9)[:, None], momentum=0.5), {"noise": NOISES["hessian"], "seed": 2}
    want = hb.iterate(opt, VALLEY, [1.0, 1.0], STEPS, record="final", engine="compiled", **noisy)
    got = hb.sweep(opt, VALLEY, [1.0, 1.0], STEPS, chunk=4, record="final", engine="compiled", **noisy)
    assert_same(got, want)


# -- on a cluster -------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("record", ["all", "loss", "final"])
def test_equal_to_iterate_on_cluster(client, name, record):
    opt, th0 = OPTIMIZERS[name], _theta0()
    want = hb.iterate(opt, VALLEY, th0, STEPS, record=record)
    assert_same(hb.sweep(opt, VALLEY, th0, STEPS, chunk=4, client=client, record=record), want)


@pytest.mark.parametrize("noise", sorted(NOISES))
@pytest.mark.parametrize(("name", "record"), NOISY_CASES)
def test_noisy_equal_to_iterate_on_cluster(client, noise, name, record):
    opt, th0 = OPTIMIZERS[name], _theta0()
    want = hb.iterate(opt, VALLEY, th0, STEPS, record=record, noise=NOISES[noise], seed=3)
    got = hb.sweep(opt, VALLEY, th0, STEPS, chunk=5, client=client, record=record, noise=NOISES[noise], seed=3)
    assert_same(got, want)


def test_schedule_on_cluster(client):
    """A lambda schedule pickles to the workers (cloudpickle)."""
    base = np.linspace(0.1, 2.0, 5)[:, None, None]
    opt = hb.SGD(lr=lambda k: base * 0.99**k, momentum=0.3)
    th0 = _theta0()[None].repeat(5, axis=0)
    assert_same(hb.sweep(opt, VALLEY, th0, STEPS, chunk=4, client=client), hb.iterate(opt, VALLEY, th0, STEPS))


def test_progress_on_cluster(client):
    calls = []
    opt, th0 = OPTIMIZERS["SGD"], _theta0()
    hb.sweep(opt, VALLEY, th0, STEPS, chunk=4, client=client, progress=lambda done, total: calls.append((done, total)))
    # chunks finish in any order: the counts grow by a chunk's size (4, 4, 4 and 3) up to 15
    steps = np.diff([0] + [done for done, _ in calls])
    assert sorted(steps.tolist()) == [3, 4, 4, 4]
    assert calls[-1] == (15, 15) and {total for _, total in calls} == {15}


# -- a failing chunk is retried ------------------------------------------------------------------
def _flaky_case(tmp_path):
    """A flaky problem and the same problem already past its failure (the reference)."""
    (tmp_path / "reference").write_text("")
    return Flaky(VALLEY, tmp_path / "failed-once"), Flaky(VALLEY, tmp_path / "reference")


def test_failing_chunk_retried_on_cluster(client, tmp_path):
    flaky, steady = _flaky_case(tmp_path)
    opt, th0 = OPTIMIZERS["HeavyBall"], _theta0()
    want = hb.iterate(opt, steady, th0, STEPS)
    got = hb.sweep(opt, flaky, th0, STEPS, chunk=4, client=client, retries=1)
    # a chunk failed once, in a worker process, and its rerun gave the same bits
    assert flaky.marker.read_text() != str(os.getpid())
    assert_same(got, dataclass_with(want, problem=flaky))


def test_failing_chunk_retried_here(tmp_path):
    flaky, steady = _flaky_case(tmp_path)
    opt, th0 = OPTIMIZERS["SGD"], _theta0()
    calls = []
    got = hb.sweep(opt, flaky, th0, STEPS, chunk=4, retries=1, progress=lambda d, t: calls.append(d))
    assert flaky.marker.exists()
    assert_same(got, dataclass_with(hb.iterate(opt, steady, th0, STEPS), problem=flaky))
    assert calls == [4, 8, 12, 15]  # each chunk reported once, the retried one included


@pytest.mark.parametrize("where", ["here", "cluster"])
def test_chunk_failing_past_its_retries_raises(request, tmp_path, where):
    flaky, _ = _flaky_case(tmp_path)
    client = request.getfixturevalue("client") if where == "cluster" else None
    with pytest.raises(RuntimeError, match="transient failure") as info:
        hb.sweep(OPTIMIZERS["SGD"], flaky, _theta0(), STEPS, chunk=4, client=client, retries=0)
    if sys.version_info >= (3, 11):  # the note names the chunk (on a cluster, whichever ran first)
        pattern = r"chunk 0 \(rows 0…3\)" if client is None else r"chunk [0-3] \(rows (0…3|4…7|8…11|12…14)\)"
        assert any(re.fullmatch(f"heavyball.sweep: {pattern} failed 1 times", n) for n in info.value.__notes__)


def dataclass_with(tr, **changes):
    import dataclasses

    return dataclasses.replace(tr, **changes)


# -- progress, arguments, imports ---------------------------------------------------------------
def test_progress_line_on_stderr(capsys):
    hb.sweep(OPTIMIZERS["SGD"], VALLEY, _theta0(), 10, chunk=8, progress=True)
    err = capsys.readouterr().err
    assert err.splitlines() == ["sweep: 8/15 configurations done", "sweep: 15/15 configurations done"]


class _NeverRun:
    dim = D

    def value(self, theta):
        raise AssertionError("a chunk ran before the arguments were checked")

    grad = value


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"chunk": 0}, ValueError, "`chunk` must be an integer >= 1, got 0"),
        ({"chunk": 2.0}, TypeError, "`chunk` must be an integer"),
        ({"chunk": 2, "retries": -1}, ValueError, "`retries` must be an integer >= 0"),
        ({"chunk": 2, "progress": "yes"}, TypeError, "`progress` must be True, False or a callable"),
        ({"chunk": 2, "client": "tcp://localhost:8786"}, TypeError, "`client` must be a distributed.Client"),
        ({"chunk": 2, "state": None}, TypeError, "`state`"),
        ({"chunk": 2, "record": "some"}, ValueError, "`record`"),
        ({"chunk": 2, "seed": 1}, ValueError, "`seed` is for noisy runs"),
        ({"chunk": 2, "noise": hb.GradientNoise.isotropic(1.0)}, TypeError, "`seed` must be"),
        ({"chunk": 2, "noise": hb.GradientNoise(cov=np.eye(3)), "seed": 1}, ValueError, "`noise`"),
    ],
)
def test_bad_arguments_named_before_any_chunk_runs(kwargs, error, match):
    with pytest.raises(error, match=match):
        hb.sweep(OPTIMIZERS["SGD"], _NeverRun(), _theta0(), 5, **kwargs)


def test_without_distributed_a_client_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # `import distributed` now fails
    with pytest.raises(ModuleNotFoundError, match=r'pip install "heavyball-dynamics\[distributed\]"'):
        hb.sweep(OPTIMIZERS["SGD"], VALLEY, _theta0(), 5, chunk=2, client=object())
    # run here, a sweep needs no dask
    assert_same(
        hb.sweep(OPTIMIZERS["SGD"], VALLEY, _theta0(), 5, chunk=2), hb.iterate(OPTIMIZERS["SGD"], VALLEY, _theta0(), 5)
    )


def test_import_heavyball_does_not_import_dask():
    code = (
        "import sys, heavyball as hb; hb.sweep; import heavyball.sweep; "
        "assert callable(hb.sweep), hb.sweep; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
