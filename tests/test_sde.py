"""The heavy-ball SDE (heavyball.sde): exact moments, stationary law, sampling schemes.

Oracles: the fluctuation–dissipation closed forms Var θ = σ²/(2ch), Var v = σ²/(2cm);
Van Loan's block exponential written out here; the Lyapunov ODE integrated by solve_ivp;
Euler–Maruyama's and BAOAB's linear maps written out by hand; the Gibbs density on a double
well by quadrature (Kolmogorov–Smirnov test).
"""

import numpy as np
import pytest
import scipy.linalg as sl
from scipy import integrate, stats

import heavyball as hb
from heavyball.problems import random_orthogonal
from heavyball.sde import scheme_map, sde_stationary


def rotated(eigs, seed, b=None):
    R = random_orthogonal(len(eigs), seed=seed)
    return hb.Quadratic(R @ np.diag(eigs) @ R.T, b=b)


def van_loan_oracle(A, b, m, c, S, theta0, v0, t):
    """Mean and covariance of (θ, v) at t: the 4d×4d block exponential of Van Loan (1978)."""
    d = A.shape[0]
    F = np.block([[np.zeros((d, d)), np.eye(d)], [-A / m, -c / m * np.eye(d)]])
    G = np.vstack([np.zeros((d, d)), S / m])
    n = 2 * d
    big = np.zeros((2 * n, 2 * n))
    big[:n, :n], big[:n, n:], big[n:, n:] = F, G @ G.T, -F.T
    E = sl.expm(big * t)
    Phi = sl.expm(F * t)
    cov = E[:n, n:] @ Phi.T  # ∫ e^{F(t−s)} GGᵀ e^{Fᵀ(t−s)} ds
    xs = np.r_[np.linalg.solve(A, b), np.zeros(d)]
    mean = xs + Phi @ (np.r_[theta0, v0] - xs)
    return mean, 0.5 * (cov + cov.T)


def test_stationary_law_is_fluctuation_dissipation():
    q = rotated([0.5, 1.0, 3.0], seed=2, b=[1.0, 0.0, -1.0])
    m, c, sigma = 2.0, 0.7, 0.3
    law = hb.stationary(hb.HeavyBallSDE(m=m, c=c, sigma=sigma), q)
    T = sigma**2 / (2 * c)
    np.testing.assert_allclose(law.cov, T * np.linalg.inv(q.A), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(law.cov_v, T / m * np.eye(3), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(law.mean, q.minimizer, rtol=1e-14)
    assert law.expected_loss == pytest.approx(1.5 * T, rel=1e-12)  # equipartition: ½T per mode


@pytest.mark.parametrize("matrix_sigma", [False, True])
def test_moments_agree_with_van_loan(matrix_sigma):
    q = rotated([0.4, 2.0], seed=4, b=[1.0, -1.0])
    S = np.array([[0.5, 0.1], [-0.2, 0.3]]) if matrix_sigma else 0.4 * np.eye(2)
    sde = hb.HeavyBallSDE(m=1.5, c=0.6, sigma=S if matrix_sigma else 0.4)
    t = np.array([0.0, 0.3, 1.0, 4.0, 20.0])
    theta0, v0 = np.array([2.0, -1.0]), np.array([0.5, 0.0])
    mo = hb.sde.sde_moments(sde, q, theta0, t, v0=v0)
    for i, ti in enumerate(t):
        mean, cov = van_loan_oracle(q.A, q.b, 1.5, 0.6, S, theta0, v0, ti)
        np.testing.assert_allclose(mo.mean[i], mean[:2], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(mo.mean_v[i], mean[2:], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(mo.cov[i], cov[:2, :2], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(mo.cov_v[i], cov[2:, 2:], rtol=1e-10, atol=1e-12)


def test_frictionless_moments_follow_the_lyapunov_ode():
    # c = 0: no stationary law; the module uses the block exponential, checked against the ODE
    q = hb.Quadratic([[1.0, 0.2], [0.2, 0.5]])
    sde = hb.HeavyBallSDE(m=1.0, c=0.0, sigma=0.3)
    mo = hb.moments(sde, q, [1.0, 0.0], [0.0, 2.0, 5.0])
    F = np.block([[np.zeros((2, 2)), np.eye(2)], [-q.A, np.zeros((2, 2))]])
    GG = np.zeros((4, 4))
    GG[2:, 2:] = 0.09 * np.eye(2)
    sol = integrate.solve_ivp(
        lambda _, p: (F @ p.reshape(4, 4) + p.reshape(4, 4) @ F.T + GG).ravel(),
        (0, 5),
        np.zeros(16),
        t_eval=[0.0, 2.0, 5.0],
        rtol=1e-12,
        atol=1e-14,
        method="DOP853",
    )
    for i in range(3):
        np.testing.assert_allclose(mo.cov[i], sol.y[:, i].reshape(4, 4)[:2, :2], rtol=1e-8, atol=1e-12)
    with pytest.raises(hb.NoStationaryLawError, match="friction"):
        hb.stationary(sde, q)


def test_euler_maruyama_map_and_first_order_weak_error_in_the_stationary_variance():
    h, m, c, sigma = 2.0, 1.0, 1.0, 0.5
    q, sde = hb.Quadratic([[h]]), hb.HeavyBallSDE(m=m, c=c, sigma=sigma)
    dt = 0.1
    M, u, B = scheme_map(sde, q, scheme="euler-maruyama", dt=dt)
    np.testing.assert_array_equal(u, 0.0)  # b = 0: no constant term
    np.testing.assert_allclose(M, [[1, dt], [-h * dt / m, 1 - c * dt / m]], rtol=1e-15)
    np.testing.assert_allclose(B, [[0], [np.sqrt(dt) * sigma / m]], rtol=1e-15)
    exact = sigma**2 / (2 * c * h)
    dts = 0.02 / 2.0 ** np.arange(6)
    err = np.array([sde_stationary(sde, q, scheme="euler-maruyama", dt=s).cov[0, 0] - exact for s in dts])
    order = np.polyfit(np.log(dts), np.log(np.abs(err)), 1)[0]
    assert order == pytest.approx(1.0, abs=0.03)  # weak order 1 (measured 1.012 over Δt = 0.02 … 6e-4)
    assert err[-2] / err[-1] == pytest.approx(2.0, abs=0.01)  # successive ratio 2.003 at the finest pair


@pytest.mark.parametrize("dt", [0.1, 0.5, 1.0, 1.9])
def test_baoab_configurational_variance_is_exact_at_every_stable_step(dt):
    h, m, c, sigma = 1.0, 1.0, 0.8, 0.6
    law = sde_stationary(hb.HeavyBallSDE(m=m, c=c, sigma=sigma), hb.Quadratic([[h]]), scheme="baoab", dt=dt)
    assert law.cov[0, 0] == pytest.approx(sigma**2 / (2 * c * h), rel=1e-12)
    assert law.cov_v[0, 0] == pytest.approx(sigma**2 / (2 * c * m) * (1 - dt**2 * h / (4 * m)), rel=1e-12)
    with pytest.raises(hb.NoStationaryLawError, match="unstable"):
        sde_stationary(hb.HeavyBallSDE(m=m, c=c, sigma=sigma), hb.Quadratic([[h]]), scheme="baoab", dt=2.1)


def _within_4se(x, mean, var):
    n = x.shape[0]
    assert abs(x.mean() - mean) <= 4 * np.sqrt(var / n), (x.mean(), mean)
    assert abs(x.var() - var) <= 4 * var * np.sqrt(2 / n), (x.var(), var)  # Gaussian: Var s² = 2σ⁴/n


@pytest.mark.parametrize("scheme", ["baoab", "exact", "euler-maruyama"])
def test_sampled_paths_match_their_laws_within_four_standard_errors(scheme):
    h, m, c, sigma = 2.0, 1.0, 1.0, 0.5
    q, sde = hb.Quadratic([[h]], b=[1.0]), hb.HeavyBallSDE(m=m, c=c, sigma=sigma)
    t = np.array([0.0, 1.0, 30.0])
    p = hb.sample_paths(sde, q, [2.0], t, samples=10_000, seed=3, scheme=scheme, dt=0.25)
    assert p.theta.shape == (3, 10_000, 1) and p.v.shape == (3, 10_000, 1)
    np.testing.assert_array_equal(p.theta[0], 2.0)
    if scheme == "exact":  # the Gaussian transition: the SDE's own law at t = 1 and at t = 30
        mo = hb.moments(sde, q, [2.0], t)
        for i in (1, 2):
            _within_4se(p.theta[i, :, 0], mo.mean[i, 0], mo.cov[i, 0, 0])
            _within_4se(p.v[i, :, 0], mo.mean_v[i, 0], mo.cov_v[i, 0, 0])
    else:  # the scheme's stationary law (BAOAB: exactly the Gibbs variance)
        law = sde_stationary(sde, q, scheme=scheme, dt=0.25)
        _within_4se(p.theta[2, :, 0], 0.5, law.cov[0, 0])
        if scheme == "baoab":
            assert law.cov[0, 0] == pytest.approx(sigma**2 / (2 * c * h), rel=1e-12)


def test_baoab_on_a_tilted_double_well_samples_the_gibbs_density():
    # f = (x² − 1)² + 0.3x, T = σ²/(2c) = 0.5: barriers of about 1.3 and 0.7 (2.6T and 1.4T) are
    # crossed many times in t = 200, and the BAOAB bias at Δt = 0.05 (O(Δt²)) is far below the KS resolution
    f = lambda x: (x * x - 1) ** 2 + 0.3 * x  # noqa: E731
    well = hb.Objective(lambda th: f(th[..., 0]), lambda th: 4 * th * (th * th - 1) + 0.3, 1)
    sde = hb.HeavyBallSDE(m=1.0, c=1.0, sigma=1.0)
    T = sde.temperature
    p = hb.sample_paths(sde, well, [0.0], [0.0, 200.0], samples=2000, seed=5, scheme="baoab", dt=0.05)
    x = p.theta[-1, :, 0]
    grid = np.linspace(-3.5, 3.5, 20001)
    dens = np.exp(-f(grid) / T)
    cdf = integrate.cumulative_trapezoid(dens, grid, initial=0.0)
    cdf /= cdf[-1]
    res = stats.kstest(x, lambda s: np.interp(s, grid, cdf))
    assert res.pvalue > 0.01  # KS at the 1% level, fixed seed
    # the test has power: a wrong temperature (T/2) is rejected
    dens2 = np.exp(-2 * f(grid) / T)
    cdf2 = integrate.cumulative_trapezoid(dens2, grid, initial=0.0)
    assert stats.kstest(x, lambda s: np.interp(s, grid, cdf2 / cdf2[-1])).pvalue < 1e-6


def test_paths_are_reproducible_and_independent_of_the_number_of_samples():
    q, sde = hb.Quadratic([[1.0]]), hb.HeavyBallSDE(m=1.0, c=0.5, sigma=1.0)
    a = hb.sample_paths(sde, q, [1.0], [0.0, 1.0, 2.0], samples=5000, seed=9)
    b = hb.sample_paths(sde, q, [1.0], [0.0, 1.0, 2.0], samples=5000, seed=9)
    c = hb.sample_paths(sde, q, [1.0], [0.0, 1.0, 2.0], samples=4200, seed=9)
    assert a.theta.tobytes() == b.theta.tobytes()
    np.testing.assert_array_equal(a.theta[:, :4200], c.theta)
    d = hb.sample_paths(sde, q, [1.0], [0.0, 1.0, 2.0], samples=5000, seed=10)
    assert not np.array_equal(a.theta[-1], d.theta[-1])


def test_map_to_the_discrete_heavy_ball_and_agreement_of_the_stationary_variances():
    m, c, sigma, h = 1.0, 0.5, 0.4, 1.0
    sde = hb.HeavyBallSDE(m=m, c=c, sigma=sigma)
    q = hb.Quadratic([[h]])
    ratios = []
    for dt in (0.2, 0.1, 0.05):
        opt, noise = sde.to_discrete(dt)
        assert opt.lr == pytest.approx(dt**2 / m, rel=1e-15) and opt.momentum == pytest.approx(1 - c * dt / m)
        assert noise.sigma == pytest.approx(sigma / np.sqrt(dt), rel=1e-15)  # σ_g² Δt = σ²
        back, dt_back = hb.HeavyBallSDE.from_discrete(opt, noise, m=m)
        assert dt_back == pytest.approx(dt, rel=1e-14) and back.c == pytest.approx(c, rel=1e-12)
        assert back.sigma == pytest.approx(sigma, rel=1e-14)
        r = hb.stationary(opt, q, noise).cov[0, 0] / hb.stationary(sde, q).cov[0, 0]
        ratios.append(r - 1)
        assert r - 1 == pytest.approx(dt**2 * h / (4 * m), rel=0.15)  # 1 + Δt²h/(4m) + O(Δt³)


def test_bad_input_is_named():
    q = hb.Quadratic([[1.0]])
    sde = hb.HeavyBallSDE(m=1.0, c=1.0, sigma=1.0)
    with pytest.raises(ValueError, match="`samples`"):
        hb.sample_paths(sde, q, [0.0], [1.0], samples=0, seed=1)
    with pytest.raises(TypeError, match="`seed`"):
        hb.sample_paths(sde, q, [0.0], [1.0], samples=3, seed=1.5)
    with pytest.raises(TypeError, match="`seed`"):
        hb.sample_paths(sde, q, [0.0], [1.0], samples=3, seed=None)
    with pytest.raises(ValueError, match="`scheme`"):
        hb.sample_paths(sde, q, [0.0], [1.0], samples=3, seed=1, scheme="milstein")
    with pytest.raises(TypeError, match="`problem`"):
        hb.sample_paths(sde, hb.Rosenbrock(), [0.0, 0.0], [1.0], samples=3, seed=1, scheme="exact")
    with pytest.raises(ValueError, match="`t`"):
        hb.sample_paths(sde, q, [0.0], [1.0, 0.5], samples=3, seed=1)
    with pytest.raises(ValueError, match="`c`"):
        hb.HeavyBallSDE(m=1.0, c=-1.0, sigma=1.0)
    with pytest.raises(ValueError, match="`m`"):
        hb.HeavyBallSDE(m=0.0, c=1.0, sigma=1.0)
    with pytest.raises(ValueError, match="`sigma`"):
        hb.HeavyBallSDE(m=1.0, c=1.0, sigma=-0.1)
    with pytest.raises(ValueError, match="`sigma`"):
        hb.HeavyBallSDE(m=1.0, c=1.0, sigma=np.ones(3))


def test_analysis_noise_tables_agree_three_ways():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "analysis" / "noise_tables.py"
    spec = importlib.util.spec_from_file_location("noise_tables_script", path)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    rows = script.stationary_rows(samples=2000)
    for r in rows:
        assert abs(r["mc"] - r["exact"]) <= 4 * r["mc_se"], r  # Monte Carlo within 4 standard errors
        assert r["baoab"] == pytest.approx(r["sde"], rel=1e-12)  # BAOAB is exact on a quadratic
        assert r["em"] > r["sde"]  # Euler–Maruyama overheats
    gap = [r["ratio"] - r["predicted"] for r in rows]  # the O(Δt³) remainder of 1 + Δt²h/(4m)
    assert 7.0 < gap[-2] / gap[-1] < 10.0  # halving Δt divides it by about 8
    text = script.tables(samples=500)
    assert "| 0.05 | 0.0025 | 0.975 |" in text and "| nesterov | 200 |" in text
