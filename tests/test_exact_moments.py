"""Exact moments and stationary laws of the noisy linear methods (heavyball.exact_moments).

Oracles: the closed-form stationary variance of torch's SGD with momentum on one curvature,
``scipy.linalg.solve_discrete_lyapunov`` of torch's own state-space matrices (θ, b) — written
out here from torch's update rule, independently of the per-mode recurrence the module uses —
and Monte Carlo of the optimisers themselves (torch-exact) with 10⁴ samples.
"""

import numpy as np
import pytest
import scipy.linalg as sl

import heavyball as hb
from heavyball.problems import random_orthogonal


def closed_form_var(lr, mu, s2, h):
    """Var θ of torch's SGD(lr, momentum=μ) on curvature h with gradient-noise variance σ²."""
    return lr * s2 * (1 + mu) / (h * (1 - mu) * (2 * (1 + mu) - lr * h))


def torch_state_space(A, lr, mu, nesterov):
    """torch's state (θ, b): b' = μb + g, θ' = θ − lr·b' (heavy ball) or θ − lr(g + μb')."""
    d = A.shape[0]
    eye = np.eye(d)
    if nesterov:
        M = np.block([[eye - lr * (1 + mu) * A, -lr * mu * mu * eye], [A, mu * eye]])
        B = np.vstack([-lr * (1 + mu) * eye, eye])
    else:
        M = np.block([[eye - lr * A, -lr * mu * eye], [A, mu * eye]])
        B = np.vstack([-lr * eye, eye])
    return M, B


def rotated(eigs, seed, b=None):
    R = random_orthogonal(len(eigs), seed=seed)
    return hb.Quadratic(R @ np.diag(eigs) @ R.T, b=b)


@pytest.mark.parametrize(
    "lr,mu,sigma,h", [(0.1, 0.9, 1.0, 1.0), (0.5, 0.5, 0.3, 2.0), (1.9, 0.0, 2.0, 1.0), (0.01, 0.99, 1.0, 10.0)]
)
def test_heavy_ball_stationary_variance_is_the_closed_form(lr, mu, sigma, h):
    law = hb.stationary(hb.SGD(lr=lr, momentum=mu), hb.Quadratic([[h]]), hb.GradientNoise.isotropic(sigma))
    expected = closed_form_var(lr, mu, sigma**2, h)
    assert law.cov[0, 0] == pytest.approx(expected, rel=1e-12)
    assert law.expected_loss == pytest.approx(0.5 * h * expected, rel=1e-12)


def test_batched_stationary_matches_the_closed_form_per_configuration():
    lr = np.array([[0.05], [0.2], [1.0]])
    mu = np.array([[0.0], [0.5], [0.9]])
    law = hb.stationary(hb.SGD(lr=lr, momentum=mu), hb.Quadratic([[1.5]]), hb.GradientNoise.isotropic(0.7))
    expected = closed_form_var(lr[:, 0], mu[:, 0], 0.49, 1.5)
    np.testing.assert_allclose(law.cov[:, 0, 0], expected, rtol=1e-12)


@pytest.mark.parametrize("nesterov", [False, True])
def test_stationary_on_rotated_quadratic_with_full_covariance_is_solve_discrete_lyapunov(nesterov):
    q = rotated([0.3, 1.0, 2.5], seed=3, b=[1.0, -2.0, 0.5])
    Sigma = np.array([[1.0, 0.3, -0.2], [0.3, 0.5, 0.1], [-0.2, 0.1, 0.8]])
    lr, mu = 0.2, 0.7
    law = hb.stationary(hb.SGD(lr=lr, momentum=mu, nesterov=nesterov), q, hb.GradientNoise(cov=Sigma))
    M, B = torch_state_space(q.A, lr, mu, nesterov)
    P = sl.solve_discrete_lyapunov(M, B @ Sigma @ B.T)
    np.testing.assert_allclose(law.cov, P[:3, :3], rtol=1e-10, atol=1e-10 * np.abs(P).max())
    np.testing.assert_allclose(law.mean, q.minimizer, rtol=1e-12)
    assert law.expected_loss == pytest.approx(0.5 * np.trace(q.A @ P[:3, :3]), rel=1e-10)


def test_one_curvature_nesterov_and_gd_against_their_companion_lyapunov():
    h, lr, mu, s2 = 1.3, 0.4, 0.6, 0.5
    for nest in (True,):
        M, B = torch_state_space(np.array([[h]]), lr, mu, nest)
        P = sl.solve_discrete_lyapunov(M, s2 * B @ B.T)
        law = hb.stationary(
            hb.SGD(lr=lr, momentum=mu, nesterov=nest), hb.Quadratic([[h]]), hb.GradientNoise.isotropic(np.sqrt(s2))
        )
        assert law.cov[0, 0] == pytest.approx(P[0, 0], rel=1e-10)
    gd = hb.stationary(hb.SGD(lr=lr), hb.Quadratic([[h]]), hb.GradientNoise.isotropic(np.sqrt(s2)))
    assert gd.cov[0, 0] == pytest.approx(lr * s2 / (h * (2 - lr * h)), rel=1e-12)  # 1-D AR(1)


def test_physical_forms_and_weight_decay():
    q = rotated([0.5, 2.0], seed=1)
    noise = hb.GradientNoise.isotropic(0.4)
    eta, mu, dt = 0.3, 0.8, 0.5
    hb_law = hb.stationary(hb.HeavyBall(eta=eta, mu=mu, dt=dt), q, noise)
    sgd_law = hb.stationary(hb.SGD(lr=eta * dt, momentum=mu), q, noise)
    np.testing.assert_allclose(hb_law.cov, sgd_law.cov, rtol=1e-12)
    # NesterovLookahead's own θ, state (v, θ): v' = (μI − ηΔtμA)v − ηAθ − ηξ, θ' = θ + Δt·v'
    A, eye = q.A, np.eye(2)
    Kv = mu * eye - eta * dt * mu * A
    M = np.block([[Kv, -eta * A], [dt * Kv, eye - eta * dt * A]])
    B = np.vstack([-eta * eye, -eta * dt * eye])
    P = sl.solve_discrete_lyapunov(M, 0.16 * B @ B.T)
    law = hb.stationary(hb.NesterovLookahead(eta=eta, mu=mu, dt=dt), q, noise)
    np.testing.assert_allclose(law.cov, P[2:, 2:], rtol=1e-10)
    # coupled weight decay λ: the curvatures shift by λ, the fixed point is (A + λI)⁻¹b
    qb = hb.Quadratic([[1.0]], b=[2.0])
    law = hb.stationary(hb.SGD(lr=0.1, momentum=0.5, weight_decay=0.25), qb, hb.GradientNoise.isotropic(1.0))
    assert law.cov[0, 0] == pytest.approx(closed_form_var(0.1, 0.5, 1.0, 1.25), rel=1e-12)
    assert law.mean[0] == pytest.approx(2.0 / 1.25, rel=1e-14)
    bias = 0.5 * (2.0 / 1.25 - 2.0) ** 2
    assert law.expected_loss == pytest.approx(0.5 * law.cov[0, 0] + bias, rel=1e-12)


def test_dampening_scales_the_noise_after_an_undamped_first_step():
    q, noise = hb.Quadratic([[1.0]]), hb.GradientNoise.isotropic(1.0)
    tau, lr, mu = 0.5, 0.2, 0.6
    law = hb.stationary(hb.SGD(lr=lr, momentum=mu, dampening=tau), q, noise)
    assert law.cov[0, 0] == pytest.approx(closed_form_var(lr * (1 - tau), mu, 1.0, 1.0), rel=1e-12)
    mo = hb.moments(hb.SGD(lr=lr, momentum=mu, dampening=tau), q, [1.0], 2, noise=noise)
    # step 1: θ₁ = θ₀ − lr·(θ₀ + ξ₀) (undamped); step 2: θ₂ = θ₁ − lr(μ g₀ + (1−τ) g₁)
    assert mo.cov[1, 0, 0] == pytest.approx(lr**2, rel=1e-14)
    a = 1 - lr * (1 - tau)  # θ₂ = a θ₁ − lr μ g₀ − lr(1−τ)ξ₁, g₀ = θ₀ + ξ₀, θ₁ = θ₀(1−lr) − lr ξ₀
    var2 = (a * (-lr) - lr * mu) ** 2 + (lr * (1 - tau)) ** 2
    assert mo.cov[2, 0, 0] == pytest.approx(var2, rel=1e-13)
    # no buffer where momentum is 0 (torch): dampening has no effect on plain SGD
    gd = hb.stationary(hb.SGD(lr=lr, dampening=tau), q, noise)
    assert gd.cov[0, 0] == pytest.approx(lr / (2 - lr), rel=1e-12)


def test_moments_converge_to_the_stationary_law_and_start_deterministic():
    q = rotated([0.5, 1.5], seed=7, b=[1.0, 1.0])
    noise = hb.GradientNoise(cov=[[0.5, 0.2], [0.2, 0.3]])
    opt = hb.SGD(lr=0.3, momentum=0.5, nesterov=True)
    mo = hb.moments(opt, q, [3.0, -1.0], 400, noise=noise, every=100)
    law = hb.stationary(opt, q, noise)
    assert mo.steps.tolist() == [0, 100, 200, 300, 400]
    np.testing.assert_array_equal(mo.cov[0], 0.0)
    np.testing.assert_allclose(mo.mean[0], [3.0, -1.0], rtol=1e-15)
    np.testing.assert_allclose(mo.cov[-1], law.cov, rtol=1e-10)
    np.testing.assert_allclose(mo.mean[-1], law.mean, rtol=1e-10)
    # without noise the mean is the deterministic run (iterate)
    tr = hb.iterate(opt, q, [3.0, -1.0], 37)
    mo0 = hb.moments(opt, q, [3.0, -1.0], 37)
    np.testing.assert_allclose(mo0.mean, tr.theta, rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(mo0.cov, 0.0)


def _monte_carlo(opt, q, theta0, steps, noise, samples, seed):
    """The (torch-exact) optimiser itself on `samples` noisy runs: ``iterate(noise=, seed=)``."""
    tr = hb.iterate(opt, q, np.tile(np.asarray(theta0, float), (samples, 1)), steps, noise=noise, seed=seed)
    return np.asarray(tr.theta)


METHODS = [
    hb.SGD(lr=0.15),
    hb.SGD(lr=0.15, momentum=0.8),
    hb.SGD(lr=0.15, momentum=0.8, nesterov=True),
    hb.SGD(lr=0.15, momentum=0.6, dampening=0.3, weight_decay=0.1),
    hb.HeavyBall(eta=0.3, mu=0.7, dt=0.5),
    hb.NesterovLookahead(eta=0.3, mu=0.7, dt=0.5),
]


@pytest.mark.parametrize("opt", METHODS, ids=lambda o: o.label)
def test_monte_carlo_of_the_optimisers_falls_within_four_standard_errors(opt):
    q = rotated([0.4, 2.0], seed=5, b=[0.5, -0.5])
    noise = hb.GradientNoise(cov=[[0.6, 0.25], [0.25, 0.4]])
    theta0, N, record = [2.0, 1.0], 10_000, (1, 5, 20, 60)
    mc = _monte_carlo(opt, q, theta0, 60, noise, N, seed=11)
    mo = hb.moments(opt, q, theta0, 60, noise=noise)
    for k in record:
        x = mc[k]
        m, C = mo.mean[k], mo.cov[k]
        se_mean = np.sqrt(np.diag(C) / N)
        assert np.all(np.abs(x.mean(0) - m) <= 4 * se_mean), (k, x.mean(0), m)
        Chat = np.cov(x.T)
        se_cov = np.sqrt((np.outer(np.diag(C), np.diag(C)) + C**2) / N)  # Gaussian: Var(x_i x_j)
        assert np.all(np.abs(Chat - C) <= 4 * se_cov), (k, Chat, C)


def test_unstable_configuration_has_no_stationary_law():
    q, noise = hb.Quadratic([[1.0]]), hb.GradientNoise.isotropic(1.0)
    with pytest.raises(hb.NoStationaryLawError, match="spectral radius"):
        hb.stationary(hb.SGD(lr=3.9, momentum=0.9), q, noise)  # lr·h > 2(1+μ) = 3.8
    with pytest.raises(ValueError, match="no stationary law"):
        hb.stationary(hb.SGD(lr=0.1), hb.Quadratic([[0.0]]), noise)  # zero curvature: a random walk


def test_bad_input_is_named():
    q = hb.Quadratic([[1.0]])
    noise = hb.GradientNoise.isotropic(1.0)
    with pytest.raises(ValueError, match="`optimizer`"):
        hb.stationary(hb.Adam(lr=0.1), q, noise)
    with pytest.raises(TypeError, match="`q`"):
        hb.stationary(hb.SGD(lr=0.1), hb.Rosenbrock(), noise)
    with pytest.raises(TypeError, match="`noise`"):
        hb.moments(hb.SGD(lr=0.1), q, [1.0], 3, noise=1.0)
    with pytest.raises(ValueError, match="`noise`"):
        hb.moments(hb.SGD(lr=0.1), q, [1.0], 3, noise=hb.GradientNoise(cov=np.eye(2)))
    with pytest.raises(ValueError, match="`optimizer`"):
        hb.stationary(hb.SGD(lr=lambda k: 0.1), q, noise)


def test_the_recorded_steps_do_not_depend_on_how_many_are_formed_together(monkeypatch):
    from heavyball import exact_moments

    q = hb.Quadratic.valley(kappa=10.0, angle=0.5)
    opt = hb.SGD(lr=np.array([[0.1], [0.05]]), momentum=0.9, nesterov=True)
    noise = hb.GradientNoise(cov=[[0.2, 0.05], [0.05, 0.1]])  # not aligned with A's eigenbasis: all pairs
    ref = hb.moments(opt, q, [1.0, 2.0], 50, noise=noise, every=3)
    monkeypatch.setattr(exact_moments, "RECORD_BLOCK", 4)  # 18 records in blocks of 4, the last partial
    got = hb.moments(opt, q, [1.0, 2.0], 50, noise=noise, every=3)
    np.testing.assert_array_equal(got.steps, ref.steps)
    np.testing.assert_array_equal(got.mean, ref.mean)  # elementwise, the same operations
    np.testing.assert_array_equal(got.expected_loss, ref.expected_loss)
    # the rotation back is a matrix product (BLAS): blocks of another size may round otherwise
    np.testing.assert_allclose(got.cov, ref.cov, rtol=1e-14, atol=1e-16 * np.abs(ref.cov).max())
