"""Noisy gradients in ``iterate``: torch-exact stochastic iterates, reproducible streams, named errors.

Oracles: torch.optim (SGD with every flag, Adam, AdamW) fed the same gradient noise, drawn here
from the documented stream; the exact moments of the noisy linear methods (Monte Carlo with 10⁴
samples, tested in test_exact_moments.py).
"""

import numpy as np
import pytest

import heavyball as hb
from heavyball.noise import NormalStream


def _torch_run(torch, make_opt, q, theta0, steps, noise, seed, grad_point=None):
    """torch.optim on a (samples, d) parameter with the gradient A θ − b + L z_k."""
    S, d = theta0.shape
    p = torch.tensor(theta0, dtype=torch.float64, requires_grad=True)
    opt = make_opt([p])
    stream = NormalStream(seed, 0, S, d)
    L = noise.factor(d)
    A, b = torch.tensor(q.A), torch.tensor(q.b)
    for _ in range(steps):
        xi = torch.tensor(stream.draw() @ L.T)
        p.grad = (p.detach() @ A - b + xi).clone()
        opt.step()
    return p.detach().numpy()


CASES = [
    (hb.SGD(lr=0.1, momentum=0.9), lambda t: lambda ps: t.optim.SGD(ps, lr=0.1, momentum=0.9)),
    (hb.SGD(lr=0.1, momentum=0.8, nesterov=True), lambda t: lambda ps: t.optim.SGD(ps, lr=0.1, momentum=0.8, nesterov=True)),
    (hb.SGD(lr=0.05, momentum=0.7, dampening=0.3, weight_decay=0.1),
     lambda t: lambda ps: t.optim.SGD(ps, lr=0.05, momentum=0.7, dampening=0.3, weight_decay=0.1)),
    (hb.SGD(lr=0.1, maximize=True), lambda t: lambda ps: t.optim.SGD(ps, lr=0.1, maximize=True)),
    (hb.Adam(lr=0.01), lambda t: lambda ps: t.optim.Adam(ps, lr=0.01)),
    (hb.AdamW(lr=0.01, amsgrad=True), lambda t: lambda ps: t.optim.AdamW(ps, lr=0.01, amsgrad=True)),
]  # fmt: skip


@pytest.mark.torch
@pytest.mark.parametrize("case", range(len(CASES)))
def test_noisy_iterates_are_torchs(torch, case):
    opt, make = CASES[case]
    q = hb.Quadratic([[1.0, 0.3], [0.3, 0.5]], b=[0.2, -0.1])
    noise = hb.GradientNoise(cov=[[0.4, 0.1], [0.1, 0.2]])
    theta0 = np.array([[1.0, -1.0], [0.5, 2.0], [0.0, 0.0]])
    tr = hb.iterate(opt, q, theta0, 25, noise=noise, seed=17, record="final")
    ref = _torch_run(torch, make(torch), q, theta0, 25, noise, 17)
    np.testing.assert_allclose(np.asarray(tr.theta)[-1], ref, rtol=1e-13, atol=1e-15)  # same ops, same noise


def test_same_seed_same_bytes_whatever_the_threads_and_the_batch():
    q, noise = hb.Quadratic.valley(kappa=10), hb.GradientNoise.isotropic(0.3)
    opt = hb.SGD(lr=np.array([[[0.1]], [[0.2]]]), momentum=0.9)  # 2 configurations × 5 starts
    theta0 = np.tile([1.0, 1.0], (5, 1))
    a = hb.iterate(opt, q, theta0, 40, noise=noise, seed=3)
    b = hb.iterate(opt, q, theta0, 40, noise=noise, seed=3, threads=2)
    assert np.asarray(a.theta).tobytes() == np.asarray(b.theta).tobytes()
    # row i of the flat batch is sample i: the first configuration alone sees the same noise
    first = hb.iterate(hb.SGD(lr=0.1, momentum=0.9), q, theta0, 40, noise=noise, seed=3)
    np.testing.assert_array_equal(np.asarray(first.theta), np.asarray(a.theta)[:, 0])
    fewer = hb.iterate(hb.SGD(lr=0.1, momentum=0.9), q, theta0[:2], 40, noise=noise, seed=3)
    np.testing.assert_array_equal(np.asarray(fewer.theta), np.asarray(first.theta)[:, :2])
    other = hb.iterate(hb.SGD(lr=0.1, momentum=0.9), q, theta0, 40, noise=noise, seed=4)
    assert not np.array_equal(np.asarray(other.theta)[-1], np.asarray(first.theta)[-1])


def test_a_diverging_row_does_not_change_the_noise_of_the_others():
    q, noise = hb.Quadratic.valley(kappa=10), hb.GradientNoise.isotropic(0.3)
    lr = np.array([[0.1], [5.0], [0.1]])  # the middle configuration diverges
    tr = hb.iterate(hb.SGD(lr=lr), q, [1.0, 1.0], 60, noise=noise, seed=8)
    assert tr.status.tolist()[1] == "diverged"
    alone = hb.iterate(hb.SGD(lr=np.array([[0.1], [0.1], [0.1]])), q, [1.0, 1.0], 60, noise=noise, seed=8)
    np.testing.assert_array_equal(np.asarray(tr.theta)[:, 2], np.asarray(alone.theta)[:, 2])


def test_float32_noisy_run_stays_float32():
    q = hb.Quadratic.valley(kappa=10)
    tr = hb.iterate(hb.SGD(lr=0.1), q, np.ones(2, np.float32), 5, noise=hb.GradientNoise.isotropic(0.1), seed=0)
    assert np.asarray(tr.theta).dtype == np.float32


def test_noise_never_makes_a_run_silently_non_reproducible():
    q = hb.Quadratic.valley(kappa=10)
    noise = hb.GradientNoise.isotropic(0.1)
    for bad in (None, 1.5, "7", np.random.default_rng(1)):
        with pytest.raises(TypeError, match="`seed`"):
            hb.iterate(hb.SGD(lr=0.1), q, [1.0, 1.0], 3, noise=noise, seed=bad)
    with pytest.raises(ValueError, match="`seed`"):
        hb.iterate(hb.SGD(lr=0.1), q, [1.0, 1.0], 3, seed=1)
    with pytest.raises(ValueError, match="`noise`"):
        hb.iterate(hb.SGD(lr=0.1), q, [1.0, 1.0], 3, noise=hb.GradientNoise(cov=np.eye(3)), seed=1)
    with pytest.raises(TypeError, match="`noise`"):
        hb.iterate(hb.SGD(lr=0.1), q, [1.0, 1.0], 3, noise=0.1, seed=1)


@pytest.mark.parametrize(
    "opt,noise,d",
    [
        (hb.SGD(lr=np.array([[[0.1]], [[0.05]]]), momentum=0.9, nesterov=True), hb.GradientNoise(cov=[[0.2, 0.05], [0.05, 0.1]]), 2),
        (hb.NesterovLookahead(eta=0.1, mu=0.9, dt=0.5), hb.GradientNoise.isotropic(0.1), 3),
        (hb.Adam(lr=0.01), hb.GradientNoise.isotropic(0.1), 2),
    ],
)  # fmt: skip
def test_the_chunked_monte_carlo_engine_gives_the_general_loops_bits(opt, noise, d):
    from heavyball._run import prepare
    from heavyball.iterate import _run_general
    from heavyball.noise import STREAM_BLOCK, GradientSampler

    A = np.array([[2.0, 0.3, 0.1], [0.3, 1.0, -0.2], [0.1, -0.2, 0.5]])[:d, :d]
    q = hb.Quadratic(A, b=np.arange(1.0, d + 1))
    theta0 = np.ones((STREAM_BLOCK + 300, d))  # two chunks, the second partial
    fast = hb.iterate(opt, q, theta0, 60, record="final", noise=noise, seed=5)
    spec = prepare(opt, q, theta0, 60, record="final")
    slow = _run_general(spec, GradientSampler(noise, 5, spec.size, spec.dim, spec.dtype))
    assert np.asarray(fast.theta).tobytes() == np.asarray(slow.theta).tobytes()
    np.testing.assert_array_equal(fast.loss, slow.loss)
    assert fast.status.tolist() == slow.status.tolist()
    # a run that records everything (the general loop) of the first 50 rows ends on the same
    # iterates (rows of the first configuration keep their flat index, hence their noise)
    full = hb.iterate(opt, q, theta0[:50], 60, noise=noise, seed=5)
    first = np.asarray(full.theta)[-1].reshape(-1, 50, d)[0]
    np.testing.assert_array_equal(first, np.asarray(fast.theta)[-1].reshape(-1, len(theta0), d)[0, :50])


def test_a_diverging_monte_carlo_run_is_handed_to_the_general_loop():
    q, noise = hb.Quadratic.valley(kappa=10), hb.GradientNoise.isotropic(0.1)
    lr = np.array([[[0.1]], [[5.0]]])  # the second configuration diverges
    tr = hb.iterate(hb.SGD(lr=lr), q, np.ones((10, 2)), 80, record="final", noise=noise, seed=2)
    assert set(tr.status[1].tolist()) == {"diverged"} and "diverged" not in tr.status[0].tolist()


def test_the_chunked_engine_with_array_schedules_float32_and_threads_gives_the_general_loops_bits():
    from heavyball._run import prepare
    from heavyball.iterate import _run_general
    from heavyball.noise import STREAM_BLOCK, GradientSampler

    q = hb.Quadratic([[1.5, -0.2], [-0.2, 0.7]], b=[0.0, -0.3])  # one b_j is +0 (its subtraction is skipped)
    noise = hb.GradientNoise.isotropic(0.2)
    lrs = np.array([[[0.1]], [[0.05]], [[0.02]]])
    opts = [
        hb.SGD(lr=lambda k: lrs / (1 + 0.1 * k), momentum=np.array([[[0.9]], [[0.5]], [[0.0]]]), dampening=0.1),
        hb.HeavyBall(eta=lrs, mu=0.9, dt=np.array([[[0.5]], [[1.0]], [[2.0]]])),
        hb.AdamW(lr=0.01, weight_decay=lrs, amsgrad=True),
        hb.Adam(lr=lrs / 10, betas=(0.8, 0.99)),  # an array rate, which Adam's update reads directly
        hb.NesterovLookahead(eta=lambda k: 0.1 / (1 + k), mu=np.array([[[0.9]], [[0.5]], [[0.2]]])),
    ]
    theta0 = np.tile(np.array([1.0, -1.0], np.float32), (STREAM_BLOCK // 2 + 40, 1))  # 3 × that: three chunks
    for opt in opts:
        spec = prepare(opt, q, theta0, 30, record="final")
        slow = _run_general(spec, GradientSampler(noise, 4, spec.size, spec.dim, spec.dtype))
        for threads in (1, 2, 3):
            fast = hb.iterate(opt, q, theta0, 30, record="final", noise=noise, seed=4, threads=threads)
            assert np.asarray(fast.theta).dtype == np.float32
            assert np.asarray(fast.theta).tobytes() == np.asarray(slow.theta).tobytes()
            assert fast.status.tolist() == slow.status.tolist()
