"""Gradient noise (heavyball.noise): the covariance, its validation, and reproducible streams."""

import numpy as np
import pytest

import heavyball as hb
from heavyball.noise import STREAM_BLOCK, NormalStream


def test_covariances_and_factor():
    q = hb.Quadratic([[2.0, 0.5], [0.5, 1.0]])
    np.testing.assert_array_equal(hb.GradientNoise.isotropic(0.5).covariance(3), 0.25 * np.eye(3))
    noise = hb.GradientNoise.hessian(q, scale=1 / 8)
    np.testing.assert_allclose(noise.covariance(2), q.A / 8, rtol=1e-15)
    S = np.array([[1.0, 0.9], [0.9, 0.81]])  # singular (rank 1): still a covariance
    L = hb.GradientNoise(cov=S).factor(2)
    np.testing.assert_allclose(L @ L.T, S, atol=1e-15)


def test_draws_have_the_covariance():
    S = np.array([[1.0, -0.4], [-0.4, 0.5]])
    noise = hb.GradientNoise(cov=S)
    x = noise.draw(np.random.default_rng(0), (40_000,), 2)
    se = np.sqrt((np.outer(np.diag(S), np.diag(S)) + S**2) / 40_000)
    assert np.all(np.abs(np.cov(x.T) - S) <= 4 * se)


def test_stream_is_independent_of_chunking_and_sample_count():
    n, width, steps = 2 * STREAM_BLOCK + 100, 3, 4
    whole = NormalStream(7, 0, n, width)
    ref = [whole.draw() for _ in range(steps)]
    for start, stop in [(0, 10), (STREAM_BLOCK - 5, STREAM_BLOCK + 5), (2 * STREAM_BLOCK, n), (17, n)]:
        part = NormalStream(7, start, stop, width)
        for k in range(steps):
            np.testing.assert_array_equal(part.draw(), ref[k][start:stop])
    fewer = NormalStream(7, 0, 50, width)  # a run with fewer samples sees the same first 50 paths
    np.testing.assert_array_equal(fewer.draw(), ref[0][:50])
    seq = np.random.SeedSequence(7)
    np.testing.assert_array_equal(NormalStream(seq, 0, 5, width).draw(), ref[0][:5])
    assert seq.n_children_spawned == 0  # the caller's SeedSequence is not advanced
    other = NormalStream(8, 0, n, width).draw()
    assert not np.any(other == ref[0])


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="positive semidefinite"):
        hb.GradientNoise(cov=[[1.0, 0.0], [0.0, -0.1]])
    with pytest.raises(ValueError, match="symmetric"):
        hb.GradientNoise(cov=[[1.0, 0.2], [0.1, 1.0]])
    with pytest.raises(ValueError, match="`cov`"):
        hb.GradientNoise(cov=[[np.nan]])
    with pytest.raises(ValueError, match="`cov`"):
        hb.GradientNoise(cov=[1.0, 2.0])
    with pytest.raises(ValueError, match="`sigma`"):
        hb.GradientNoise.isotropic(-1.0)
    with pytest.raises(ValueError, match="`scale`"):
        hb.GradientNoise.hessian(hb.Quadratic([[1.0]]), -0.5)
    with pytest.raises(TypeError, match="`q`"):
        hb.GradientNoise.hessian(hb.Rosenbrock(), 0.5)
    for bad in (None, 1.5, "1", np.random.default_rng(0), True):
        with pytest.raises(TypeError, match="`seed`"):
            NormalStream(bad, 0, 3, 1)
    with pytest.raises(ValueError, match="`seed`"):
        NormalStream(-1, 0, 3, 1)
    with pytest.raises(ValueError, match="dimension"):
        hb.GradientNoise(cov=np.eye(2)).covariance(3)


def test_drawing_several_steps_at_once_is_drawing_them_one_by_one():
    for start, stop in [(0, STREAM_BLOCK), (5, 300), (STREAM_BLOCK - 7, STREAM_BLOCK + 9), (0, 2 * STREAM_BLOCK)]:
        one, many = NormalStream(11, start, stop, 3), NormalStream(11, start, stop, 3)
        ref = np.stack([one.draw() for _ in range(7)])
        got = np.concatenate(
            [many.draw_steps(np.empty((4, stop - start, 3))), many.draw_steps(np.empty((3, stop - start, 3)))]
        )
        np.testing.assert_array_equal(got, ref)
        np.testing.assert_array_equal(many.draw(), one.draw())  # and the streams go on alike


def test_block_j_draws_from_child_j_of_the_seed_sequence():
    # the documented definition: block j's generator is SFC64 on SeedSequence(seed).spawn(j + 1)[j]
    for seed in (3, np.random.SeedSequence(5, spawn_key=(2,))):
        j = 3
        start = j * STREAM_BLOCK + 10
        stream = NormalStream(seed, start, start + 20, 2)
        fresh = seed if isinstance(seed, int) else np.random.SeedSequence(5, spawn_key=(2,))
        child = np.random.SeedSequence(fresh).spawn(j + 1)[j] if isinstance(fresh, int) else fresh.spawn(j + 1)[j]
        gen = np.random.Generator(np.random.SFC64(child))
        np.testing.assert_array_equal(stream.draw(), gen.standard_normal((STREAM_BLOCK, 2))[10:30])
