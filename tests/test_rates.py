"""Tests for heavyball.rates: roots, spectral radius, tunings, continuous rates, rate fits.

Oracles (never the code under test):
- ``numpy.linalg.eigvals`` of companion matrices built here from the characteristic
  polynomials, written out from each method's recurrence (not from ``iteration_matrix``);
- the exact sign of the discriminant in rational arithmetic (``fractions.Fraction``);
- closed forms and numbers from the literature (Polyak 1964, Nesterov 1983, Lessard, Recht &
  Packard 2016, Goh 2017);
- ``numpy.roots`` of the ODE's characteristic polynomial, brute-force grid searches,
  the scalar recurrences stepped by hand, the closed-form ODE solution ``exact``, and
  iterates of the optimisers run by ``iterate``.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import heavyball as hb
from heavyball import rates

METHODS = ("heavyball", "nesterov", "gd")
EPS = np.finfo(float).eps


# ------------------------------------------------------------------------------------------
# oracles written here, independently of heavyball.rates
# ------------------------------------------------------------------------------------------
def poly_coeffs(h, lr, mu, method):
    """``(c1, c0)`` of the monic characteristic polynomial ``z² + c1·z + c0``.

    From the recurrences x_{k+1} = α x_k + β x_{k−1} (z² − αz − β):
    heavy ball α = 1 + μ − γh, β = −μ; Nesterov α = (1+μ)(1−γh), β = −μ(1−γh);
    GD α = 1 − γh, β = 0.
    """
    h, lr, mu = np.broadcast_arrays(*(np.asarray(x, dtype=float) for x in (h, lr, mu)))
    if method == "heavyball":
        alpha, beta = 1 + mu - lr * h, -mu
    elif method == "nesterov":
        alpha, beta = (1 + mu) * (1 - lr * h), -mu * (1 - lr * h)
    else:
        alpha, beta = 1 - lr * h, np.zeros_like(h)
    return -alpha, -beta


def companion_eigvals(h, lr, mu, method):
    """Eigenvalues of the companion matrix [[0, −c0], [1, −c1]] (numpy's convention)."""
    c1, c0 = poly_coeffs(h, lr, mu, method)
    C = np.zeros(c1.shape + (2, 2))
    C[..., 0, 1] = -c0
    C[..., 1, 0] = 1.0
    C[..., 1, 1] = -c1
    return np.linalg.eigvals(C)


def exact_disc_sign(h, lr, mu, method):
    """Sign of the discriminant c1² − 4c0 in exact rational arithmetic of the float inputs."""
    h, lr, mu = Fraction(float(h)), Fraction(float(lr)), Fraction(float(mu))
    if method == "heavyball":
        alpha, beta = 1 + mu - lr * h, -mu
    elif method == "nesterov":
        alpha, beta = (1 + mu) * (1 - lr * h), -mu * (1 - lr * h)
    else:
        alpha, beta = 1 - lr * h, Fraction(0)
    d = alpha * alpha + 4 * beta
    return (d > 0) - (d < 0)


def ls_slope(k, y):
    """Least-squares slope (numpy.polyfit) — the oracle for fit_rate's windows."""
    return np.polyfit(np.asarray(k, float), np.asarray(y, float), 1)[0]


# ------------------------------------------------------------------------------------------
# roots and radius against eigvals of companion matrices
# ------------------------------------------------------------------------------------------
settings_params = dict(
    h=st.floats(1e-3, 10.0),
    gh=st.floats(0.0, 6.0),  # γh: 0 (lr = 0) to well past every stability limit
    mu=st.one_of(st.just(0.0), st.floats(-0.5, 1.5)),
    method=st.sampled_from(METHODS),
)


@settings(max_examples=50)
@given(**settings_params)
def test_roots_and_radius_match_companion_eigvals(h, gh, mu, method):
    if method == "gd":
        mu = 0.0
    lr = gh / h
    ev = companion_eigvals(h, lr, mu, method)
    scale = max(1.0, float(np.max(np.abs(ev))))
    # away from repeated roots: eigvals is accurate to ~ε·‖C‖/separation there
    assume(abs(ev[0] - ev[1]) > 1e-2 * scale)
    z = rates.characteristic_roots(h, lr=lr, momentum=mu, family=method)
    assert z.shape == (2,)
    for root in z:  # every root of ours is one of eigvals' (and they are distinct)
        assert np.min(np.abs(ev - root)) <= 1e-12 * scale
    assert abs(z[0] - z[1]) > 0
    assert abs(z[0]) >= abs(z[1])
    rho = rates.spectral_radius(h, lr=lr, momentum=mu, family=method)
    assert rho == pytest.approx(np.max(np.abs(ev)), abs=1e-12 * scale)


def test_roots_and_radius_match_eigvals_on_random_grid(rng):
    n = 20000
    h = 10 ** rng.uniform(-3, 1, n)
    lr = rng.uniform(0, 6, n) / h
    mu = np.where(rng.random(n) < 0.1, 0.0, rng.uniform(-0.5, 1.5, n))  # 10% momentum 0
    for method in METHODS:
        m = np.zeros(n) if method == "gd" else mu
        ev = companion_eigvals(h, lr, m, method)
        scale = np.maximum(1.0, np.abs(ev).max(-1))
        keep = np.abs(ev[:, 0] - ev[:, 1]) > 1e-2 * scale
        assert keep.mean() > 0.9
        z = rates.characteristic_roots(h, lr=lr, momentum=m, family=method)
        assert z.shape == (n, 2)
        # match each of ours to the nearest eigenvalue
        err = np.abs(z[:, :, None] - ev[:, None, :]).min(-1).max(-1)
        assert np.all(err[keep] <= 1e-12 * scale[keep])
        # radius: a scalar spectrum per configuration, lr and momentum as arrays
        rho = rates.spectral_radius(1.0, lr=lr * h, momentum=m, family=method)
        assert rho.shape == (n,)
        np.testing.assert_allclose(rho[keep], np.abs(ev).max(-1)[keep], rtol=0, atol=1e-12 * 6)
        # unstable settings are among them and give radii >= 1 (not errors)
        assert np.any(rho > 1.5)


@pytest.mark.parametrize("branch", [-1.0, 1.0])
def test_repeated_root_curve_radius_is_sqrt_mu(rng, branch):
    # (1 + μ − γh)² = 4μ  ⇔  γh = (1 ∓ √μ)²: the roots are ±√μ, the radius √μ.
    mu = rng.uniform(0.01, 0.99, 2000)
    lr = rng.uniform(0.1, 5.0, 2000)
    h = (1 + branch * np.sqrt(mu)) ** 2 / lr
    rho = rates.spectral_radius(1.0, lr=lr * h, momentum=mu)  # one curvature each (lr·h per row)
    # The inputs are rounded, so the exact radius of the float inputs is √μ + O(√ε):
    # 5e-8 is "a few √ε ≈ 1.5e-8", and the radius is never more than that above √μ.
    assert np.all(np.abs(rho - np.sqrt(mu)) <= 5e-8)
    assert np.all(rho - np.sqrt(mu) <= 5e-8)
    z = rates.characteristic_roots(h, lr=lr, momentum=mu)
    # both roots ≈ T/2 = −branch·√μ (T = 1 + μ − γh = ∓2√μ)
    np.testing.assert_allclose(z, np.stack([-branch * np.sqrt(mu)] * 2, -1), rtol=0, atol=5e-8)
    assert np.all(rates.root_regime(h, lr=lr, momentum=mu) == "repeated")


def test_exact_repeated_roots_are_equal():
    # γ = 1, h = 1/4, μ = 1/4: γh = (1 − √μ)² exactly in binary; roots exactly 1/2, 1/2.
    z = rates.characteristic_roots(0.25, lr=1.0, momentum=0.25)
    assert z[0] == z[1] == 0.5
    assert rates.spectral_radius(0.25, lr=1.0, momentum=0.25) == 0.5


def test_nesterov_repeated_root_curve(rng):
    # a = 1 − γh = 4μ/(1+μ)²: repeated root (1+μ)a/2 = 2μ/(1+μ) = √(μa).
    mu = rng.uniform(0.05, 0.95, 1000)
    lr = rng.uniform(0.1, 3.0, 1000)
    a = 4 * mu / (1 + mu) ** 2
    h = (1 - a) / lr
    rho = rates.spectral_radius(1.0, lr=lr * h, momentum=mu, family="nesterov")
    expect = 2 * mu / (1 + mu)
    assert np.all(np.abs(rho - expect) <= 5e-8)  # √ε sensitivity, as on the heavy-ball curve


def test_tiny_root_is_accurate():
    # heavy ball with tiny μ and γh = 0.5: roots ≈ 0.5 and μ/0.5; the small one from C/q.
    mu = 1e-12
    z = rates.characteristic_roots(1.0, lr=0.5, momentum=mu)
    big = 0.5 * ((0.5 + mu) + np.sqrt((0.5 + mu) ** 2 - 4 * mu))
    assert z[1].real == pytest.approx(mu / big, rel=1e-14)  # the naive formula loses ~4 digits
    assert z[0].real == pytest.approx(big, rel=1e-15)


# ------------------------------------------------------------------------------------------
# the endpoint property of the spectral radius
# ------------------------------------------------------------------------------------------
@settings(max_examples=50)
@given(
    spectrum=st.lists(st.floats(-0.5, 10.0), min_size=1, max_size=25),
    lr=st.floats(0.0, 3.0),
    mu=st.one_of(st.just(0.0), st.floats(-0.5, 1.5)),
    method=st.sampled_from(METHODS),
)
def test_radius_of_a_spectrum_is_attained_at_its_extremes(spectrum, lr, mu, method):
    if method == "gd":
        mu = 0.0
    spectrum = np.array(spectrum)
    got = rates.spectral_radius(spectrum, lr=lr, momentum=mu, family=method)
    # every element evaluated on its own: the max over the *full* spectrum
    each = np.array([rates.spectral_radius(x, lr=lr, momentum=mu, family=method) for x in spectrum])
    assert got == each.max()
    # and against eigvals of every curvature's companion matrix; 1e-7 because an interior
    # element may sit on the repeated-root curve, where eigvals itself is only √ε-accurate
    ev = companion_eigvals(spectrum, lr, mu, method)
    assert got == pytest.approx(np.abs(ev).max(), abs=1e-7)


def test_nesterov_complex_modulus_varies_but_endpoints_still_win():
    # Nesterov's complex-region modulus √(μ(1−γh)) depends on h (heavy ball's √μ does not);
    # a dense spectrum shows the max over [h_min, h_max] is still at an endpoint.
    lr, mu = 1.0, 0.9
    h = np.linspace(0.005, 1.9, 4001)
    ev = np.abs(companion_eigvals(h, lr, mu, "nesterov")).max(-1)
    assert np.ptp(ev[(h > 0.01) & (h < 0.9)]) > 0.1  # the modulus really varies
    for lo, hi in [(0, 4000), (100, 3000), (2000, 4000), (500, 900)]:
        got = rates.spectral_radius(h[lo : hi + 1], lr=lr, momentum=mu, family="nesterov")
        assert got == pytest.approx(ev[lo : hi + 1].max(), abs=1e-7)
        assert got == pytest.approx(max(ev[lo], ev[hi]), abs=1e-7)


def test_radius_map_shapes_and_blocked_path(rng):
    # a 300×200 map (> one block) from broadcasting lr (300, 1) and momentum (200,)
    spectrum = 10 ** rng.uniform(-2, 0, 100)
    lr = np.linspace(0.0, 4.0, 300)[:, None]
    mu = np.linspace(0.0, 1.0, 200)
    for method in ("heavyball", "nesterov"):
        R = rates.spectral_radius(spectrum, lr=lr, momentum=mu, family=method)
        assert R.shape == (300, 200)
        # subsample against eigvals of all 100 curvatures (the stacked-matrices baseline)
        i = rng.integers(0, 300, 400)
        j = rng.integers(0, 200, 400)
        ev = companion_eigvals(spectrum[None, :], lr[i], mu[j, None], method)
        rad = np.abs(ev).max(-1)
        sep = np.abs(ev[..., 0] - ev[..., 1]).min(-1)
        keep = sep > 1e-2  # away from repeated roots (see the hypothesis tests)
        np.testing.assert_allclose(R[i, j][keep], rad.max(-1)[keep], rtol=0, atol=1e-12 * 5)
        # the same map from full-shape arrays and from single points agrees exactly
        L, M = np.broadcast_arrays(lr, mu)
        R2 = rates.spectral_radius(spectrum, lr=L.copy(), momentum=M.copy(), family=method)
        np.testing.assert_array_equal(R, R2)
        one = rates.spectral_radius(spectrum, lr=float(lr[7, 0]), momentum=float(mu[11]), family=method)
        assert one == R[7, 11]
    assert rates.spectral_radius([0.1, 1.0], lr=lr, family="gd").shape == (300, 1)
    assert np.ndim(rates.spectral_radius([0.1, 1.0], lr=0.5, momentum=0.3)) == 0


def test_unstable_and_degenerate_settings_give_rates_not_errors():
    spec = [0.01, 1.0]
    assert rates.spectral_radius(spec, lr=0.0, momentum=0.9) == 1.0  # lr = 0: nothing moves
    assert rates.spectral_radius(spec, lr=0.0, family="gd") == 1.0
    assert rates.spectral_radius(spec, lr=0.0, momentum=0.5, family="nesterov") == 1.0
    # γh_max = 5 > 2(1 + μ): diverges; radius from the real root of z² − (1+μ−5)z + μ
    mu = 0.5
    T = 1 + mu - 5.0
    expect = 0.5 * (abs(T) + np.sqrt(T * T - 4 * mu))
    assert rates.spectral_radius(spec, lr=5.0, momentum=mu) == pytest.approx(expect, rel=1e-14)
    assert rates.spectral_radius(spec, lr=1.0, momentum=1.2) >= 1.0  # |μ| > 1
    assert rates.spectral_radius(spec, lr=2.5, family="gd") == pytest.approx(1.5, rel=1e-15)
    assert rates.spectral_radius(spec, lr=3.0, momentum=0.5, family="nesterov") > 1.0


# ------------------------------------------------------------------------------------------
# stability and regimes
# ------------------------------------------------------------------------------------------
def test_is_stable_matches_eigvals_and_goh_condition(rng):
    n = 20000
    h = 10 ** rng.uniform(-3, 1, n)
    lr = rng.uniform(0, 6, n) / h
    mu = rng.uniform(-0.3, 1.3, n)
    for method in METHODS:
        m = np.zeros(n) if method == "gd" else mu
        rad = np.abs(companion_eigvals(h, lr, m, method)).max(-1)
        keep = np.abs(rad - 1) > 1e-6  # the boundary itself is a rounding question
        got = rates.is_stable(h, lr=lr, momentum=m, family=method)
        assert got.dtype == bool
        np.testing.assert_array_equal(got[keep], (rad < 1)[keep])
        assert 0.2 < got.mean() < 0.8
    # Goh (2017): heavy ball converges iff 0 < αλ < 2 + 2β, |β| < 1
    gh = lr * h
    goh = (np.abs(mu) < 1) & (gh > 0) & (gh < 2 + 2 * mu)
    np.testing.assert_array_equal(rates.is_stable(h, lr=lr, momentum=mu), goh)


def test_root_regime_matches_exact_discriminant_sign(rng):
    for method in ("heavyball", "nesterov"):
        h = 10 ** rng.uniform(-2, 1, 300)
        lr = rng.uniform(0, 4, 300) / h
        mu = rng.uniform(0, 1.2, 300)
        got = rates.root_regime(h, lr=lr, momentum=mu, family=method)
        for i in range(300):
            s = exact_disc_sign(h[i], lr[i], mu[i], method)
            expect = {1: "real", -1: "complex", 0: "repeated"}[s]
            ev = companion_eigvals(h[i], lr[i], mu[i], method)
            if abs(ev[0] - ev[1]) < 1e-4 * max(1.0, np.abs(ev).max()):
                continue  # near-repeated: the tolerance decides, tested separately
            assert got[i] == expect
    assert rates.root_regime(0.5, lr=1.0, family="gd") == "real"
    assert rates.root_regime(1.0, lr=1.0, family="gd") == "repeated"  # roots 0, 0
    assert rates.root_regime(0.25, lr=1.0, momentum=0.25) == "repeated"  # exact double root
    # rtol = 0 reads the sign of the computed discriminant only
    assert rates.root_regime(0.01, lr=1.0, momentum=0.81 + 1e-6, rtol=0.0) == "complex"
    assert rates.root_regime(0.01, lr=1.0, momentum=0.81 - 1e-6, rtol=0.0) == "real"


def test_iteration_matrix_steps_the_recurrence(rng):
    h, lr, mu = 0.7, 0.9, 0.6
    for method in METHODS:
        m = 0.0 if method == "gd" else mu
        M = rates.iteration_matrix(h, lr=lr, momentum=m, family=method)
        assert M.shape == (2, 2)
        # step the scalar recurrence by hand
        x_prev, x = 0.3, -1.1
        state = np.array([x, x_prev])
        for _ in range(40):
            if method == "heavyball":
                x, x_prev = (1 + m - lr * h) * x - m * x_prev, x
            elif method == "nesterov":
                x, x_prev = (1 - lr * h) * ((1 + m) * x - m * x_prev), x
            else:
                x, x_prev = (1 - lr * h) * x, x
            state = M @ state
        np.testing.assert_allclose(state, [x, x_prev], rtol=1e-12)
        # and its eigenvalues are the characteristic roots
        np.testing.assert_allclose(
            np.sort_complex(np.linalg.eigvals(M)),
            np.sort_complex(rates.characteristic_roots(h, lr=lr, momentum=m, family=method)),
            atol=1e-14,
        )
    M = rates.iteration_matrix(rng.random((4, 1)), lr=rng.random(3), momentum=0.5)
    assert M.shape == (4, 3, 2, 2)
    assert np.all(M[..., 1, :] == [1.0, 0.0])


# ------------------------------------------------------------------------------------------
# tunings: literature oracles and brute force
# ------------------------------------------------------------------------------------------
def test_optimal_parameters_kappa_100_oracles():
    # the literature's values: Polyak 400/121, 81/121, 9/11; GD 99/101; Nesterov 0.9;
    # Lessard, Recht & Packard 1 − 2/√301 = 0.884722.
    t = rates.optimal_parameters(0.01, 1.0, "heavyball")
    assert t == pytest.approx((400 / 121, 81 / 121, 9 / 11), rel=1e-12, abs=0)
    t = rates.optimal_parameters(0.01, 1.0, "gd")
    assert t == pytest.approx((2 / 1.01, 0.0, 99 / 101), rel=1e-12, abs=0)
    t = rates.optimal_parameters(0.01, 1.0, "nesterov")
    assert t == pytest.approx((1.0, 9 / 11, 0.9), rel=1e-12, abs=0)
    t = rates.optimal_parameters(0.01, 1.0, "nesterov-quadratic")
    s = np.sqrt(301)
    assert t == pytest.approx((4 / 3.01, (s - 2) / (s + 2), 1 - 2 / s), rel=1e-12, abs=0)
    assert t.rate == pytest.approx(0.884722, abs=5e-7)
    assert isinstance(t, rates.Tuned) and t._fields == ("lr", "momentum", "rate")


@pytest.mark.parametrize("tuning", list(rates.TUNINGS))
@pytest.mark.parametrize("kappa", [1.0, 10.0, 100.0, 1e4])
def test_tuned_rate_is_the_spectral_radius(tuning, kappa):
    h_min, h_max = 0.3, 0.3 * kappa
    t = rates.optimal_parameters(h_min, h_max, tuning)
    spectrum = np.geomspace(h_min, h_max, 50)
    rho = rates.spectral_radius(spectrum, lr=t.lr, momentum=t.momentum, family=rates.TUNINGS[tuning])
    # GD has simple roots (1e-12); the momentum tunings put a repeated root at h_min, where
    # the radius of the rounded parameters is the closed form up to √ε (5e-8).
    tol = 1e-12 if tuning == "gd" else 5e-8
    assert rho == pytest.approx(t.rate, abs=tol)
    # eigvals of the companion matrices of the whole spectrum agree too (√ε near repeated roots)
    ev = companion_eigvals(spectrum, t.lr, t.momentum, rates.TUNINGS[tuning])
    assert np.abs(ev).max() == pytest.approx(t.rate, abs=5e-8)


def test_optimal_parameters_vectorised():
    t = rates.optimal_parameters(np.array([0.01, 0.1]), 1.0, "heavyball")
    np.testing.assert_allclose(t.rate, [9 / 11, (np.sqrt(10) - 1) / (np.sqrt(10) + 1)], rtol=1e-13)
    assert t.lr.shape == t.momentum.shape == (2,)


def test_brute_force_grid_does_not_beat_closed_forms():
    h_min, h_max = 0.01, 1.0
    spectrum = np.array([h_min, 0.05, 0.3, h_max])
    # GD: a 1-D grid; |1 − γh| is h_max-Lipschitz in γ, so the grid is within Δγ·h_max.
    t = rates.optimal_parameters(h_min, h_max, "gd")
    g = np.linspace(0.0, 4.0, 200_001)
    R = rates.spectral_radius(spectrum, lr=g, family="gd")
    assert R.min() >= t.rate - 1e-15
    assert R.min() <= t.rate + (g[1] - g[0]) * h_max
    # heavy ball and Nesterov: 1001×1001 grids that do not contain the optimum.
    for method, tuning in (("heavyball", "heavyball"), ("nesterov", "nesterov-quadratic")):
        t = rates.optimal_parameters(h_min, h_max, tuning)
        lr = np.linspace(0.0, 2.1 * t.lr, 1001)[:, None]
        mu = np.linspace(0.0, 1.0, 1001)
        R = rates.spectral_radius(spectrum, lr=lr, momentum=mu, family=method)
        # never better than the closed form beyond rounding (√ε at the repeated root) ...
        assert R.min() >= t.rate - 5e-8
        # ... and close to it: a cell of Δμ = 1e-3 moves √μ by ≈ Δμ/(2√μ) ≈ 6e-4, and the
        # radius has a square-root singularity in lr at the optimum; 2e-3 covers both.
        assert R.min() <= t.rate + 2e-3
        i, j = np.unravel_index(np.argmin(R), R.shape)
        assert abs(lr[i, 0] - t.lr) <= 0.05 * t.lr and abs(mu[j] - t.momentum) <= 0.01
    # the standard Nesterov tuning is not the quadratic optimum: the grid beats it clearly
    assert R.min() < rates.optimal_parameters(h_min, h_max, "nesterov").rate - 0.01


def test_critical_momentum_goh():
    h, lr = 0.01, 1.0
    assert rates.critical_momentum(h, lr) == pytest.approx(0.81, rel=1e-15)  # (1 − 0.1)²
    assert rates.critical_rate(h, lr) == pytest.approx(0.9, rel=1e-15)
    # it is a repeated root, and the per-curvature radius there is the critical rate
    mu_c = rates.critical_momentum(h, lr)
    assert rates.root_regime(h, lr=lr, momentum=mu_c) == "repeated"
    assert rates.spectral_radius(h, lr=lr, momentum=mu_c) == pytest.approx(0.9, abs=5e-8)
    # brute force over μ (eigvals): the critical momentum minimises the radius of h
    for gh in (0.01, 0.3, 0.9, 2.5):
        mus = np.linspace(0.0, 0.999, 20001)
        rad = np.abs(companion_eigvals(gh, 1.0, mus, "heavyball")).max(-1)
        best = np.argmin(rad)
        assert mus[best] == pytest.approx(rates.critical_momentum(gh, 1.0), abs=1e-4)
        assert rad[best] == pytest.approx(rates.critical_rate(gh, 1.0), abs=1e-3)  # grid, √ singularity


# ------------------------------------------------------------------------------------------
# continuous time
# ------------------------------------------------------------------------------------------
def test_continuous_rate_matches_numpy_roots(rng):
    for _ in range(200):
        m = 10 ** rng.uniform(-1, 1)
        c = 10 ** rng.uniform(-2, 1)
        spectrum = 10 ** rng.uniform(-3, 1, 5)
        expect = min(-np.max(np.roots([m, c, h]).real) for h in spectrum)
        assert rates.continuous_rate(m, c, spectrum) == pytest.approx(expect, rel=1e-7, abs=1e-12)
        # 1e-7: numpy.roots on a near-critical polynomial is √ε-accurate
    # vectorised over (m, c) with a scalar curvature; c = 0 (no friction) gives 0
    c = np.array([0.0, 0.1, 1.0, 10.0])
    got = rates.continuous_rate(1.0, c, 0.5)
    expect = [-np.max(np.roots([1.0, ci, 0.5]).real) for ci in c]
    np.testing.assert_allclose(got, expect, rtol=1e-9, atol=1e-15)
    assert got.shape == (4,)
    assert rates.continuous_rate(1.0, 1.0, [-0.1, 1.0]) < 0  # a saddle grows


def test_optimal_damping_brute_force():
    for m, h_min in [(1.0, 0.01), (2.0, 0.5), (0.3, 3.0)]:
        spectrum = np.array([h_min, 4 * h_min, 100 * h_min])
        c_star = rates.optimal_damping(m, h_min)
        assert c_star == pytest.approx(2 * np.sqrt(m * h_min), rel=1e-15)
        cs = np.linspace(0.01, 4, 40001) * c_star
        r = rates.continuous_rate(m, cs, spectrum)
        best = np.argmax(r)
        assert cs[best] == pytest.approx(c_star, rel=2e-4)  # grid spacing 1e-4·c*
        assert r[best] == pytest.approx(np.sqrt(h_min / m), rel=1e-4)  # slope 1/(2m) × spacing


@pytest.mark.parametrize("m, c", [(1.0, 0.05), (1.0, 0.6), (2.0, 3.0)])
def test_continuous_rate_matches_exact_decay(m, c):
    q = hb.Quadratic.from_eigenvalues([0.04, 0.5, 2.0], rotation="random", seed=3)
    expect = rates.continuous_rate(m, c, q.eigenvalues)
    dt = 0.05
    t = np.arange(0, 40 / expect, dt)  # 40 e-folds of the slowest mode
    sol = hb.exact(hb.HeavyBallODE(m=m, c=c), q, np.array([1.0, -0.5, 0.8]), t)
    err = np.linalg.norm(sol.theta - q.minimizer, axis=-1)
    fit = rates.fit_rate(err, floor=1e-15)
    measured = -np.log(fit.rate) / dt
    # window: errors from ~1e-5 down to ~1e-15 of the initial error; 1% in the exponent
    # (underdamped errors oscillate; the envelope's sawtooth limits the agreement).
    assert measured == pytest.approx(expect, rel=1e-2)


@pytest.mark.parametrize("m, c", [(1.0, 0.1), (1.0, 0.6), (0.5, 2.0)])
def test_discrete_rate_tends_to_continuous_rate_first_order(m, c):
    # SGD(lr = Δt²/m, momentum = 1 − cΔt/m) is semi-implicit Euler on the ODE (DESIGN §1):
    # log(spectral_radius)/Δt → −continuous_rate with an O(Δt) error.
    spectrum = np.array([0.05, 0.4, 2.0])
    expect = rates.continuous_rate(m, c, spectrum)
    dts = 0.02 / 2.0 ** np.arange(6)
    errs = []
    for dt in dts:
        rho = rates.spectral_radius(spectrum, lr=dt * dt / m, momentum=1 - c * dt / m)
        errs.append(abs(-np.log(rho) / dt - expect))
    errs = np.array(errs)
    assert errs[-1] < 1e-3 * expect
    ratios = errs[:-1] / errs[1:]
    np.testing.assert_allclose(ratios[-3:], 2.0, rtol=0.05)  # first order: halving Δt halves it


# ------------------------------------------------------------------------------------------
# fit_rate
# ------------------------------------------------------------------------------------------
def test_fit_rate_geometric_with_transient():
    k = np.arange(600)
    e = 3.0 * 0.95**k + 50.0 * 0.6**k  # a fast transient on top of the slow mode
    fit = rates.fit_rate(e)
    assert fit.rate == pytest.approx(0.95, rel=1e-12)
    assert 0 < fit.start < fit.stop <= k.size
    assert e[fit.stop] <= 1e-12 * e[0] < e[fit.stop - 1]  # stops at the floor (relative to e0)
    assert isinstance(fit, rates.RateFit) and fit._fields == ("rate", "start", "stop")
    fit2 = rates.fit_rate(e, skip=10)
    assert fit2.start == 10 and fit2.rate != fit.rate  # the transient biases an early window


def test_fit_rate_ignores_round_off_floor(rng):
    k = np.arange(3000)
    for level in (1e-8, 1e-14):
        e = np.maximum(0.97**k, level * rng.random(k.size))
        fit = rates.fit_rate(e, floor=1e-15)  # the floor alone would not stop it
        assert fit.rate == pytest.approx(0.97, rel=1e-9)
        assert e[fit.stop - 1] >= 10 * level  # the window ends a decade above the plateau
    # float32 iterates: a geometric sequence computed in float32 stalls near 1e-7·scale
    x = np.float32(1.0) + np.float32(0.9) ** np.arange(400, dtype=np.float32)
    e = np.abs(x - np.float32(1.0)).astype(np.float64)
    fit = rates.fit_rate(e)
    assert fit.rate == pytest.approx(0.9, rel=1e-3)  # float32 round-off in the values


def test_fit_rate_oscillating_errors():
    # a complex-root mode: e_k = ρᵏ|cos(kω + φ)| dips to ~0 every half period
    k = np.arange(5000)
    for rho, omega in [(0.99, 0.3), (0.95, 1.0), (0.9, 2.5)]:
        e = rho**k * np.abs(np.cos(omega * k + 0.3))
        fit = rates.fit_rate(e)
        assert abs(np.log(fit.rate) / np.log(rho) - 1) < 2e-3
        naive = ls_slope(k[fit.start : fit.stop], np.log(e[fit.start : fit.stop]))
        assert abs(naive / np.log(rho) - 1) > abs(np.log(fit.rate) / np.log(rho) - 1)


def test_fit_rate_repeated_root_bias_and_correction():
    k = np.arange(2000)
    for rho in (9 / 11, 0.9, 0.99):
        e = (1 + k) * rho**k
        fit = rates.fit_rate(e)
        a, b = int(fit.start), int(fit.stop)
        # the documented bias: ρ_fit ≈ ρ·exp(s), s the LS slope of log k over the window
        s = ls_slope(k[a:b], np.log(k[a:b]))
        assert np.log(fit.rate) == pytest.approx(np.log(rho) + s, rel=2e-3)
        assert s == pytest.approx(np.log(b / a) / (b - a), rel=0.1)  # the rule of thumb
        assert np.log(fit.rate) / np.log(rho) < 0.97  # plainly too slow: a 3-6% bias
        fit2 = rates.fit_rate(e, multiplicity=2)
        assert abs(np.log(fit2.rate) / np.log(rho) - 1) < 1e-3


def test_fit_rate_batched_and_edge_cases():
    k = np.arange(800)
    cols = np.stack([0.9**k, 0.97**k * (2 + np.cos(k)), 1.01**k], axis=-1)
    fit = rates.fit_rate(cols.reshape(800, 3, 1))
    assert fit.rate.shape == fit.start.shape == fit.stop.shape == (3, 1)
    for j in range(3):
        one = rates.fit_rate(cols[:, j])
        assert fit.rate[j, 0] == one.rate and fit.start[j, 0] == one.start and fit.stop[j, 0] == one.stop
    assert fit.rate[2, 0] == pytest.approx(1.01, rel=1e-12)  # growth: a rate above 1
    # divergence to inf: the window ends before the first non-finite error
    e = 2.0 ** np.arange(1000.0)
    e[900:] = np.inf
    e[950] = np.nan
    fit = rates.fit_rate(e)
    assert fit.rate == pytest.approx(2.0, rel=1e-12) and fit.stop == 900
    assert np.isnan(rates.fit_rate(np.zeros(10)).rate)  # no initial error: no rate
    assert np.isnan(rates.fit_rate([1.0, 0.0, 0.0, 0.0]).rate)  # converged at once


# ------------------------------------------------------------------------------------------
# bad input
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: rates.optimal_parameters(0.0, 1.0), "h_min"),
        (lambda: rates.optimal_parameters(-1.0, 1.0), "h_min"),
        (lambda: rates.optimal_parameters(1.0, 0.5), "h_max"),
        (lambda: rates.optimal_parameters(0.1, 1.0, "polyak"), "tuning"),
        (lambda: rates.spectral_radius([0.1, 1.0], lr=-0.1), "lr"),
        (lambda: rates.spectral_radius([0.1, 1.0], lr=0.1, family="adam"), "family"),
        (lambda: rates.spectral_radius([0.1, 1.0], lr=0.1, momentum=0.5, family="gd"), "momentum"),
        (lambda: rates.spectral_radius([[0.1, 1.0]], lr=0.1), "eigenvalues"),
        (lambda: rates.spectral_radius([], lr=0.1), "eigenvalues"),
        (lambda: rates.spectral_radius([0.1, np.nan], lr=0.1), "eigenvalues"),
        (lambda: rates.spectral_radius(1.0, lr=[0.1, 0.2], momentum=[0.1, 0.2, 0.3]), "lr"),
        (lambda: rates.characteristic_roots(1.0, lr=-1.0), "lr"),
        (lambda: rates.characteristic_roots(1.0, lr=1.0, family="nesterov-quadratic"), "family"),
        (lambda: rates.iteration_matrix(1.0, lr=-1.0), "lr"),
        (lambda: rates.is_stable(1.0, lr=-1.0), "lr"),
        (lambda: rates.root_regime(1.0, lr=1.0, family="sgd"), "family"),
        (lambda: rates.critical_momentum(1.0, -1.0), "lr"),
        (lambda: rates.continuous_rate(0.0, 1.0, 1.0), "m"),
        (lambda: rates.continuous_rate(1.0, -1.0, 1.0), "c"),
        (lambda: rates.optimal_damping(1.0, 0.0), "h_min"),
        (lambda: rates.fit_rate([1.0, -0.5, 0.1]), "errors"),
        (lambda: rates.fit_rate([1.0, 0.5, 0.1], floor=0.0), "floor"),
        (lambda: rates.fit_rate([1.0, 0.5, 0.1], multiplicity=0), "multiplicity"),
    ],
)
def test_bad_input_names_the_argument(call, name):
    with pytest.raises(ValueError, match=f"`{name}`"):
        call()


def test_rates_imports_only_numpy():
    import subprocess
    import sys

    code = (
        "import sys; import heavyball.rates; "
        "bad = [m for m in ('scipy', 'sympy', 'matplotlib') "
        "if m in sys.modules]; print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ------------------------------------------------------------------------------------------
# measured (iterates of the optimisers) against predicted (spectral radius)
# ------------------------------------------------------------------------------------------
# Non-optimal parameters, one batch per method: (lr, momentum) in units of 1/h_max (= 1 here).
NON_OPTIMAL = {
    "gd": [(0.5, 0.0), (1.0, 0.0), (1.8, 0.0)],
    "heavyball": [(0.5, 0.5), (1.5, 0.3), (1.0, 0.9), (3.0, 0.7)],
    "nesterov": [(1.0, 0.5), (0.8, 0.9), (1.2, 0.3)],
}


def _sgd(method, params):
    lr = np.array([[p[0]] for p in params])  # (B, 1): one configuration per row
    mu = np.array([[p[1]] for p in params])
    return hb.SGD(lr=lr, momentum=mu, nesterov=method == "nesterov")


@pytest.mark.parametrize("kappa, seed", [(10.0, 0), (100.0, 1), (1000.0, 2)])
@pytest.mark.parametrize("method", list(NON_OPTIMAL))
def test_measured_rate_matches_spectral_radius(kappa, seed, method):
    q = hb.Quadratic.from_eigenvalues([1.0 / kappa, 1.0], rotation="random", seed=seed)
    params = NON_OPTIMAL[method]
    res = rates.predicted_vs_measured(_sgd(method, params), q, np.array([1.0, -2.0]), None)
    assert res.family == method and res.success and res.status == "measured"
    assert res.multiplicity == 1 and not np.any(np.asarray(res.regime) == "repeated")
    # the prediction, recomputed here from eigvals of the companion matrices of both curvatures
    for i, (lr, mu) in enumerate(params):
        ev = companion_eigvals(q.eigenvalues, lr, mu, method)
        assert res.predicted[i] == pytest.approx(np.abs(ev).max(), abs=1e-12)
    # Window: errors[stop//3 : stop], stop = first k with ‖θ_k − θ*‖ <= 1e-12·‖θ_0 − θ*‖
    # (fit_rate's defaults), i.e. from about 1e-4 down to 1e-12 of the initial error.
    err = np.abs(np.log(res.measured) / np.log(res.predicted) - 1)
    np.testing.assert_array_equal(err, res.exponent_error)
    assert np.all(err <= 0.01), (res.predicted, res.measured, res.fit)
    assert np.all(res.fit.stop - res.fit.start >= 20)


def test_measured_rate_physical_forms_dampening_and_weight_decay():
    q = hb.Quadratic.from_eigenvalues([0.02, 0.3, 1.0], rotation="random", seed=5)
    theta0 = np.array([1.0, 0.5, -1.0])
    # HeavyBall(η, μ, Δt) is heavy ball with lr = η·Δt; NesterovLookahead is Nesterov
    for opt, kind in (
        (hb.HeavyBall(eta=0.25, mu=0.6, dt=2.0), "heavyball"),
        (hb.NesterovLookahead(eta=0.25, mu=0.7, dt=2.0), "nesterov"),
    ):
        res = rates.predicted_vs_measured(opt, q, theta0, None)
        assert res.family == kind and res.lr == pytest.approx(0.5, rel=1e-15)
        ev = companion_eigvals(q.eigenvalues, 0.5, float(opt.mu), kind)
        assert res.predicted == pytest.approx(np.abs(ev).max(), abs=1e-12)
        assert res.exponent_error <= 0.01
    # SGD dampening τ: lr·(1 − τ); weight decay λ: every curvature + λ (fixed point moves)
    opt = hb.SGD(lr=1.2, momentum=0.5, dampening=0.25, weight_decay=0.05)
    res = rates.predicted_vs_measured(opt, q, theta0, None)
    ev = companion_eigvals(q.eigenvalues + 0.05, 1.2 * 0.75, 0.5, "heavyball")
    assert res.predicted == pytest.approx(np.abs(ev).max(), abs=1e-12)
    assert res.exponent_error <= 0.01


def test_measured_rate_of_an_unstable_setting_is_above_one():
    q = hb.Quadratic.from_eigenvalues([0.1, 1.0], rotation="random", seed=7)
    res = rates.predicted_vs_measured(hb.SGD(lr=3.5, momentum=0.5), q, np.array([1.0, 1.0]), 200)
    T = 1 + 0.5 - 3.5  # the curvature h = 1: real roots of z² − Tz + 0.5
    assert res.predicted == pytest.approx(0.5 * (abs(T) + np.sqrt(T * T - 2.0)), rel=1e-14)
    assert res.predicted > 1 and res.measured > 1
    assert res.exponent_error <= 0.01  # fitted on the growth before the run is cut off
    with pytest.raises(ValueError, match="`optimizer`"):
        rates.predicted_vs_measured(hb.Adam(lr=0.1), q, np.array([1.0, 1.0]), 10)


def _torch_sgd_map(A, lr, momentum, weight_decay, maximize):
    """The linear map of one torch SGD step on f = ½θᵀAθ, state (θ, buffer), written from
    torch's rule: g = ±Aθ + λθ, b ← μb + g, θ ← θ − lr·b."""
    d = len(A)
    G = (-A if maximize else A) + weight_decay * np.eye(d)
    new_b = np.hstack([G, momentum * np.eye(d)])
    new_theta = np.hstack([np.eye(d), np.zeros((d, d))]) - lr * new_b
    return np.vstack([new_theta, new_b])


def test_measured_rate_with_maximize_and_weight_decay():
    # ascending −f with weight decay 2 turns the curvatures h into 2 − h: a contraction
    q = hb.Quadratic.from_eigenvalues([0.1, 0.5], rotation="random", seed=3)
    opt = hb.SGD(lr=0.2, momentum=0.1, weight_decay=2.0, maximize=True)
    res = rates.predicted_vs_measured(opt, q, np.array([1.0, -1.0]), None)
    oracle = np.abs(np.linalg.eigvals(_torch_sgd_map(np.asarray(q.A), 0.2, 0.1, 2.0, True))).max()
    assert res.status == "measured" and res.family == "heavyball"
    assert res.predicted == pytest.approx(oracle, rel=1e-12)
    assert res.predicted == pytest.approx(0.644949, abs=5e-7)  # the value quoted for this setting
    assert res.measured == pytest.approx(0.644949, abs=5e-6)  # a fit over ~60 steps of a simple root
    np.testing.assert_allclose(res.eigenvalues, 2.0 - q.eigenvalues, rtol=1e-15)


def test_dampening_without_momentum_is_ignored_as_torch_does():
    # torch keeps no buffer when momentum = 0, so dampening never acts: plain GD with the full lr
    q = hb.Quadratic.from_eigenvalues([0.2, 1.0], rotation="random", seed=4)
    res = rates.predicted_vs_measured(hb.SGD(lr=0.5, dampening=0.5), q, np.array([1.0, 2.0]), None)
    oracle = np.abs(np.linalg.eigvals(np.eye(2) - 0.5 * np.asarray(q.A))).max()  # θ ← θ − lr·Aθ
    assert res.family == "gd" and res.predicted == pytest.approx(oracle, rel=1e-14)
    assert res.exponent_error <= 0.01


def test_subclasses_of_the_optimisers_keep_their_recurrence():
    class MySGD(hb.SGD):
        pass

    class MyBall(hb.HeavyBall):
        pass

    q = hb.Quadratic.from_eigenvalues([0.1, 1.0], rotation="random", seed=2)
    for opt, plain in (
        (MySGD(lr=0.5, momentum=0.5), hb.SGD(lr=0.5, momentum=0.5)),
        (MyBall(eta=0.5, mu=0.5), hb.HeavyBall(eta=0.5, mu=0.5)),
    ):
        res = rates.predicted_vs_measured(opt, q, np.array([1.0, 1.0]), None)
        ref = rates.predicted_vs_measured(plain, q, np.array([1.0, 1.0]), None)
        assert res.family == "heavyball" and res.predicted == ref.predicted and res.measured == ref.measured


def test_renamed_keywords_keep_working_with_a_deprecation_warning():
    q = hb.Quadratic.from_eigenvalues([0.1, 1.0])
    new = rates.spectral_radius([0.1, 1.0], lr=0.5, momentum=0.5, family="nesterov")
    with pytest.warns(DeprecationWarning, match="`family`"):
        old = rates.spectral_radius([0.1, 1.0], lr=0.5, momentum=0.5, method="nesterov")
    assert old == new
    with pytest.warns(DeprecationWarning, match="`tuning`"):
        assert rates.optimal_parameters(0.1, 1.0, method="gd") == rates.optimal_parameters(0.1, 1.0, tuning="gd")
    with pytest.warns(DeprecationWarning, match="`optimizer`"):
        res = rates.predicted_vs_measured(method=hb.SGD(lr=0.5), q=q, theta0=[1.0, 1.0], steps=None)
    with pytest.warns(DeprecationWarning, match="`family`"):
        assert res.method == res.family == "gd"
    with pytest.raises(TypeError, match="`family`"):
        rates.is_stable(1.0, lr=0.5, family="gd", method="gd")


@pytest.mark.parametrize("kappa", [10.0, 100.0, 1000.0])
def test_polyak_optimum_repeated_root_bias(kappa):
    # Polyak's tuning puts repeated roots at h_min and h_max: the error is ≈ (A + Bk)ρᵏ.
    q = hb.Quadratic.from_eigenvalues([1.0 / kappa, 1.0], rotation="random", seed=11)
    t = rates.optimal_parameters(q.h_min, q.h_max, "heavyball")
    opt = hb.SGD(lr=t.lr, momentum=t.momentum)
    theta0 = np.array([1.0, -2.0])
    plain = rates.predicted_vs_measured(opt, q, theta0, None, multiplicity=1)
    assert plain.regime == "repeated"
    # A plain fit over [a, b) returns log ρ + s, with s the LS slope of log k over the window:
    # the documented bias, a few percent slower than ρ.
    a, b = int(plain.fit.start), int(plain.fit.stop)
    s = ls_slope(np.arange(a, b), np.log(np.arange(a, b)))
    assert np.log(plain.measured) == pytest.approx(np.log(t.rate) + s, rel=0.01)
    assert 0.03 < plain.exponent_error < 0.07
    # Dividing out k (multiplicity 2, chosen automatically from the regime) removes it.
    corrected = rates.predicted_vs_measured(opt, q, theta0, None)
    assert corrected.multiplicity == 2
    assert corrected.exponent_error <= 0.01
    assert corrected.predicted == pytest.approx(t.rate, abs=5e-8)  # √ε at the repeated root


# ------------------------------------------------------------------------------------------
# result types, and the analysis script
# ------------------------------------------------------------------------------------------
def test_scalar_inputs_give_plain_python_scalars_and_arrays_stay_arrays():
    t = rates.optimal_parameters(0.01, 1.0, "gd")
    assert all(type(x) is float for x in t)
    assert repr(t) == f"Tuned(lr={2 / 1.01!r}, momentum=0.0, rate={(1 - 0.01) / (1 + 0.01)!r})"
    fit = rates.fit_rate(0.5 ** np.arange(60.0))
    assert (type(fit.rate), type(fit.start), type(fit.stop)) == (float, int, int)
    assert type(rates.spectral_radius(1.0, lr=0.5)) is float
    assert type(rates.is_stable(1.0, lr=0.5)) is bool
    assert type(rates.root_regime(1.0, lr=0.5)) is str
    t = rates.optimal_parameters(np.array([0.01, 0.1]), 1.0)
    assert all(isinstance(x, np.ndarray) and x.shape == (2,) for x in t)
    fit = rates.fit_rate(np.stack([0.5 ** np.arange(60.0)] * 3, axis=1))
    assert all(isinstance(x, np.ndarray) and x.shape == (3,) for x in fit)


def test_rates_table_script_prints_markdown_and_latex(tmp_path, capsys):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "analysis" / "rates_table.py"
    spec = importlib.util.spec_from_file_location("rates_table_script", path)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert script.main(["--kappa", "100", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    md, tex = (tmp_path / "rates_table.md").read_text(), (tmp_path / "rates_table.tex").read_text()
    assert md in printed and tex in printed
    rows = [line for line in md.splitlines() if line.startswith("| 100 |")]
    assert len(rows) == len(rates.TUNINGS)
    # predicted rates in the table are the literature's κ = 100 values (Polyak; Lessard, Recht & Packard), 6 decimals
    predicted = [float(row.split("|")[5]) for row in rows]
    s = np.sqrt(301)
    np.testing.assert_allclose(predicted, [99 / 101, 9 / 11, 0.9, 1 - 2 / s], atol=5e-7)
    # steps (bound): GD has simple roots, ⌈log 1e-6 / log ρ⌉; Polyak's double roots ±9/11 give the
    # per-mode error r^k(1 + (1 ± r)k) from rest, first below 1e-6 for good at k = 95; every bound is
    # at least ⌈log 1e-6 / log ρ⌉ and at least the measured count
    bound, measured = ([int(row.split("|")[col]) for row in rows] for col in (9, 10))
    assert bound[:2] == [int(np.ceil(np.log(1e-6) / np.log(99 / 101))), 95]
    assert all(b >= np.ceil(np.log(1e-6) / np.log(r)) for b, r in zip(bound, predicted, strict=True))
    assert all(b >= m for b, m in zip(bound, measured, strict=True))
    assert r"\begin{tabular}" in tex and r"\end{tabular}" in tex  # (compiled in test_analysis_tables.py)
    body = tex.split(r"\midrule", 1)[1].split(r"\bottomrule", 1)[0]
    assert sum(line.rstrip().endswith(r"\\") for line in body.splitlines()) == len(rates.TUNINGS)


def test_continuous_rate_at_critical_damping_keeps_its_digits():
    # c = 2√(m·h): the discriminant c² − 4mh is 0 up to rounding, and the rate √(h/m) must not
    # lose half its digits to √(rounding) (it used to come out as 0.0999999987 for 0.1)
    for m, h in ((1.0, 0.01), (2.5, 0.3), (1e-3, 7.0)):
        c = 2.0 * np.sqrt(m * h)
        np.testing.assert_allclose(rates.continuous_rate(m, c, [h, 10 * h]), np.sqrt(h / m), rtol=1e-14)


# ------------------------------------------------------------------------------------------
# is_stable exactly at its boundary (one ulp inside, on it, one ulp outside)
# ------------------------------------------------------------------------------------------
def _jury_exact(h, lr, mu, method):
    """Both roots strictly inside the unit circle, decided in exact rational arithmetic on the
    given floats: Jury's conditions |D| < 1 and |T| < 1 + D for z² − Tz + D, with (T, D) from
    each method's recurrence (heavy ball x_{k+1} = (1+μ−γh)x_k − μx_{k−1}; Nesterov
    x_{k+1} = (1+μ)(1−γh)x_k − μ(1−γh)x_{k−1}; GD x_{k+1} = (1−γh)x_k)."""
    h, lr, mu = Fraction(h), Fraction(lr), Fraction(mu)
    x = lr * h
    T, D = {"gd": (1 - x, Fraction(0)), "heavyball": (1 + mu - x, mu), "nesterov": ((1 + mu) * (1 - x), mu * (1 - x))}[
        method
    ]
    return abs(D) < 1 and abs(T) < 1 + D


def _edge(h, mu, method):
    """The largest stable γ: 2/h (GD), 2(1+μ)/h (heavy ball), 2(1+μ)/((1+2μ)h) (Nesterov)."""
    return {"gd": 2.0, "heavyball": 2.0 * (1.0 + mu), "nesterov": 2.0 * (1.0 + mu) / (1.0 + 2.0 * mu)}[method] / h


@pytest.mark.parametrize(
    ("family", "mu"), [("gd", 0.0)] + [(m, mu) for m in ("heavyball", "nesterov") for mu in (0.0, 0.25, 0.5, 0.75)]
)
@pytest.mark.parametrize("h", [0.25, 1.0, 4.0])
def test_is_stable_at_the_learning_rate_boundary(family, mu, h):
    """Dyadic h and μ: every product in T and D is exact in binary, so the float decision must
    be the exact one at the three floats around the boundary. Where the boundary is a float
    (GD, heavy ball, Nesterov with μ ∈ {0, 0.5}) it is itself unstable (a root on the circle)."""
    method = family
    edge = _edge(h, mu, method)
    inside, outside = np.nextafter(edge, 0.0), np.nextafter(edge, np.inf)
    for lr in (inside, edge, outside):
        assert rates.is_stable(h, lr=lr, momentum=mu, family=method) is _jury_exact(h, lr, mu, method), lr
    assert _jury_exact(h, inside, mu, method) and not _jury_exact(h, outside, mu, method)
    # vectorised, the same answers
    got = rates.is_stable(h, lr=np.array([inside, edge, outside]), momentum=mu, family=method)
    np.testing.assert_array_equal(got, [_jury_exact(h, lr, mu, method) for lr in (inside, edge, outside)])
    # and spectral_radius agrees on the side of 1 (ρ < 1 exactly where stable)
    assert rates.spectral_radius([h], lr=inside, momentum=mu, family=method) < 1.0


def test_is_stable_at_the_momentum_boundary():
    """Heavy ball at γh = 1: μ one ulp below 1 is stable, μ = 1 and one ulp above are not
    (|D| = μ ≥ 1). (Nesterov has no such edge: D = μ(1 − γh), and μ = 1 is stable at γh = ½.)"""
    for mu in (np.nextafter(1.0, 0.0), 1.0, np.nextafter(1.0, 2.0)):
        expected = _jury_exact(1.0, 1.0, mu, "heavyball")
        assert rates.is_stable(1.0, lr=1.0, momentum=mu) is expected, mu
    assert _jury_exact(1.0, 1.0, np.nextafter(1.0, 0.0), "heavyball")
    assert not _jury_exact(1.0, 1.0, 1.0, "heavyball")
    # at lr = 0 nothing moves: the root 1 is on the circle, never stable
    for method in METHODS:
        assert not rates.is_stable(1.0, lr=0.0, momentum=0.5 if method != "gd" else 0.0, family=method)


# -------------------------------------------------------------------------------------------
# numerical edge cases: extreme conditioning and the stability boundary
# -------------------------------------------------------------------------------------------
import math


def test_kappa_1e12_polyak_rate_and_a_bounded_run():
    kappa = 1e12
    q = hb.Quadratic.valley(kappa=kappa, angle=0.4)
    # eigh recovers h_min = 1e-12 only to ~ε·h_max absolute (2e-4 relative): the oracle uses
    # the exact curvatures
    tuned = rates.optimal_parameters(1.0 / kappa, 1.0, tuning="heavyball")
    polyak = (math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1)  # Polyak (1964): 1 − 2/(1e6 + 1)
    assert tuned.rate == pytest.approx(polyak, rel=1e-12)
    # on the repeated-root curve the radius is exact only to ~√ε (rates docstring): 1e-7 slack
    radius = rates.spectral_radius([1.0 / kappa, 1.0], lr=tuned.lr, momentum=tuned.momentum)
    assert abs(radius - polyak) < 1e-7
    tr = hb.iterate(hb.SGD(lr=tuned.lr, momentum=tuned.momentum), q, [1.0, 1.0], 2000, record="loss")
    assert tr.status == "max_steps" and tr.success
    assert np.all(np.isfinite(tr.distance))
    # the stiff direction (h_max = 1) is gone after a few hundred steps, the flat one has
    # barely moved: its error is within (1 + k)ρᵏ of the start (repeated root)
    k = tr.steps[-1]
    assert tr.distance[-1] <= (1 + k) * polyak**k * tr.distance[0] * 1.01
    sol = hb.exact(hb.HeavyBallODE(m=1.0, c=2 * math.sqrt(q.h_min)), q, [1.0, 1.0], np.linspace(0, 1e7, 50))
    assert sol.status == "success" and np.all(np.diff(sol.energy) <= 1e-15 * abs(sol.energy[0]))


def test_dt_at_the_stability_boundary():
    h, mu = 1.0, 0.5
    edge = 2 * (1 + mu) / h  # Jury: heavy ball is stable iff 0 < lr·h < 2(1 + μ)
    assert rates.is_stable(h, lr=np.nextafter(edge, 0), momentum=mu)
    assert not rates.is_stable(h, lr=edge, momentum=mu)
    assert rates.spectral_radius(h, lr=edge, momentum=mu) == pytest.approx(1.0, abs=1e-12)  # roots −1 and −μ
    q = hb.Quadratic([[h]])
    runs = hb.iterate(
        hb.SGD(lr=np.array([[0.99 * edge], [edge], [1.01 * edge]]), momentum=mu), q, [1.0], 5000, record="final"
    )
    # just inside: radius 0.936, so after 5000 steps the iterate is ~1e-145 (its status word is
    # checked in test_status_of_a_converging_run_on_an_axis_aligned_quadratic)
    # on the edge the roots are −1 and −μ: the −μ mode dies out and x_k ∝ (−1)ᵏ remains, a
    # period-2 orbit
    assert runs.status.tolist()[1:] == ["cycle", "diverged"] and runs.status[0] != "diverged"
    assert runs.period.tolist()[1] == 2
    assert abs(runs.theta[-1, 0, 0]) < 0.94**5000 * 10
    # at the edge the roots are −1 and −μ: x_k = A(−1)ᵏ + B(−μ)ᵏ with x₀ = 1 and torch's first
    # step x₁ = (1 − γh)x₀ = −(1 + 2μ): A = (1 + μ)/(1 − μ), a bounded oscillation (3 for μ = ½)
    amplitude = abs(runs.theta[-1, 1, 0])
    assert amplitude == pytest.approx((1 + mu) / (1 - mu), rel=1e-9)
    # discretising the ODE beyond the limit: a diverged comparison with the condition in words
    cmp = hb.compare(hb.HeavyBallODE(m=1.0, c=0.5), hb.Quadratic.valley(kappa=10), [1.0, 1.0], dt=3.0, t_final=300.0)
    assert cmp.status == "diverged" and not cmp.success and "lr·h_max" in cmp.message
