"""The compiled noisy Monte Carlo kernels (heavyball.compiled.noisy): bitwise the numpy engine's.

Oracles: the numpy engine of the chunked Monte Carlo (itself bitwise the general loop, checked
in test_noisy_iterate.py) and the general stepping loop, fed the same per-sample streams.
"""

import numpy as np
import pytest

pytest.importorskip("numba", reason="numba is not installed (the `fast` extra)")

import heavyball as hb
from heavyball import monte_carlo
from heavyball._run import prepare
from heavyball.compiled import noisy
from heavyball.iterate import _run_general
from heavyball.noise import STREAM_BLOCK, GradientSampler

OPTIMIZERS = [
    hb.SGD(lr=0.1, momentum=0.9),
    hb.SGD(lr=0.1),
    hb.SGD(lr=0.05, momentum=0.7, dampening=0.3, weight_decay=0.1),
    hb.SGD(lr=0.1, momentum=0.8, nesterov=True, weight_decay=0.05, maximize=True),
    hb.SGD(lr=0.1, maximize=True),
    hb.HeavyBall(eta=0.1, mu=0.9, dt=0.5),
    hb.HeavyBall(eta=0.2, mu=0.8),
    hb.NesterovLookahead(eta=0.1, mu=0.9, dt=0.7),
]
NOISES = [hb.GradientNoise.isotropic(0.3), hb.GradientNoise(cov=[[0.2, 0.05], [0.05, 0.1]])]


def _bytes(tr):
    return np.asarray(tr.theta).tobytes(), np.asarray(tr.loss).tobytes(), tr.status.tolist()


def _compiled_only(monkeypatch):
    """Make the numpy layout of the chunked engine unusable, so a run that succeeds with it
    disabled was stepped by the compiled kernels."""

    def refuse(*args, **kwargs):
        raise AssertionError("the numpy engine ran a chunk that the compiled kernel should cover")

    monkeypatch.setattr(monte_carlo, "_chunk_numpy", refuse)


@pytest.mark.parametrize("opt", OPTIMIZERS, ids=lambda o: o.label)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("noise", NOISES, ids=["isotropic", "correlated"])
def test_the_compiled_kernels_give_the_numpy_engines_bits(opt, dtype, noise, monkeypatch):
    q = hb.Quadratic([[2.0, 0.3], [0.3, 1.0]], b=[1.0, -0.5])
    theta0 = np.tile(np.array([1.0, -2.0], dtype), (STREAM_BLOCK + 300, 1))  # two chunks, the second partial
    ref = hb.iterate(opt, q, theta0, 37, record="final", noise=noise, seed=5)
    spec = prepare(opt, q, theta0, 37, record="final")
    slow = _run_general(spec, GradientSampler(noise, 5, spec.size, spec.dim, spec.dtype))
    assert _bytes(ref) == _bytes(slow)  # the numpy engine is the general loop
    _compiled_only(monkeypatch)
    for threads in (1, 3):
        fast = hb.iterate(opt, q, theta0, 37, record="final", noise=noise, seed=5, engine="compiled", threads=threads)
        assert np.asarray(fast.theta).dtype == dtype
        assert _bytes(fast) == _bytes(ref)


@pytest.mark.parametrize("d", [1, 3, 5])
def test_other_dimensions_and_a_short_run_whose_tail_starts_at_rest(d, monkeypatch):
    rng = np.random.default_rng(d)
    M = rng.standard_normal((d, d))
    q = hb.Quadratic(M @ M.T / d + np.eye(d), b=rng.standard_normal(d))
    theta0 = rng.standard_normal((300, d))
    for steps in (0, 1, 4, 30):  # fewer steps than the recorded tail, and more
        for opt in (hb.SGD(lr=0.1, momentum=0.9, nesterov=True), hb.NesterovLookahead(eta=0.1, mu=0.9)):
            ref = hb.iterate(opt, q, theta0, steps, record="final", noise=hb.GradientNoise.isotropic(0.2), seed=9)
            with monkeypatch.context() as mp:
                _compiled_only(mp)
                fast = hb.iterate(opt, q, theta0, steps, record="final", noise=hb.GradientNoise.isotropic(0.2),
                                  seed=9, engine="compiled")  # fmt: skip
            assert _bytes(fast) == _bytes(ref)
            np.testing.assert_array_equal(fast.diverged_at, ref.diverged_at)


def test_runs_no_kernel_covers_take_the_numpy_engine():
    q = hb.Quadratic.valley(kappa=10)
    noise = hb.GradientNoise.isotropic(0.1)
    theta0 = np.ones((50, 2))
    cases = [
        hb.Adam(lr=0.01),  # no Adam kernel here
        hb.SGD(lr=np.array([[[0.1]], [[0.05]]]), momentum=0.9),  # array hyperparameters
        hb.SGD(lr=lambda k: 0.1 / (1 + k), momentum=0.9),  # a schedule
    ]
    for opt in cases:
        assert noisy.plan(opt, np.float64, 2, True) is None
        a = hb.iterate(opt, q, theta0, 20, record="final", noise=noise, seed=1)
        b = hb.iterate(opt, q, theta0, 20, record="final", noise=noise, seed=1, engine="compiled")
        assert _bytes(a) == _bytes(b)
    a = hb.iterate(hb.SGD(lr=1e-3), hb.Rosenbrock(), theta0, 20, record="final", noise=noise, seed=1)
    b = hb.iterate(hb.SGD(lr=1e-3), hb.Rosenbrock(), theta0, 20, record="final", noise=noise, seed=1, engine="compiled")
    assert _bytes(a) == _bytes(b)


def test_a_diverging_compiled_run_is_handed_to_the_general_loop():
    q, noise = hb.Quadratic.valley(kappa=10), hb.GradientNoise.isotropic(0.1)
    lr = np.array([[[0.1]], [[5.0]]])  # the second configuration diverges
    ref = hb.iterate(hb.SGD(lr=lr), q, np.ones((10, 2)), 80, record="final", noise=noise, seed=2)
    fast = hb.iterate(hb.SGD(lr=lr), q, np.ones((10, 2)), 80, record="final", noise=noise, seed=2, engine="compiled")
    assert _bytes(fast) == _bytes(ref)
    # scalar hyperparameters (the kernel runs): every row diverges
    one = hb.iterate(hb.SGD(lr=5.0), q, np.ones((10, 2)), 80, record="final", noise=noise, seed=2, engine="compiled")
    ref = hb.iterate(hb.SGD(lr=5.0), q, np.ones((10, 2)), 80, record="final", noise=noise, seed=2)
    assert set(one.status.tolist()) == {"diverged"}
    assert _bytes(one) == _bytes(ref)
    np.testing.assert_array_equal(one.diverged_at, ref.diverged_at)
