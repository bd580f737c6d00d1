"""Discrete iterates against the continuous solution.

Oracles: the defining one-step relations of each scheme solved directly; the damped
oscillator's first-order system through ``scipy.linalg.expm``; brute-force loops of each scheme
written here; live ``torch.optim.SGD``; the roots of the two-step characteristic polynomial
(``numpy.roots``); the Bessel solution ``2·J1(t)/t`` (``scipy.special.j1``); the sympy
derivations of ``heavyball.symbolic``; and published numbers (the semi-implicit error ratios
of the damped oscillator; Su, Boyd & Candès 2016 for the Nesterov limit). The two analysis
scripts are run and their printed tables checked against the same theory (orders 1, 2 and 1
in √lr) and those numbers.
"""

from __future__ import annotations

import importlib.util
import math
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.linalg import expm
from scipy.special import j1

import heavyball as hb
from heavyball.discretization import (
    SCHEME_ORDER,
    SCHEMES,
    compare_momentum,
    fit_order,
    modified_coefficient,
    nesterov_iterates,
    nesterov_limit,
    slow_manifold_shift,
)

positive = st.floats(min_value=0.05, max_value=20.0, allow_nan=False)
nonneg = st.floats(min_value=0.0, max_value=5.0, allow_nan=False)
small_dt = st.floats(min_value=1e-4, max_value=0.2, allow_nan=False)


# --------------------------------------------------------------------------------------
# helpers written independently of the library
# --------------------------------------------------------------------------------------
def scheme_loop(A, theta0, v0, m, c, dt, steps, scheme):
    """The three schemes straight from their definitions, one step at a time."""
    theta, v = np.array(theta0, float), np.array(v0, float)
    out, vel = [theta.copy()], [v.copy()]
    for _ in range(steps):
        g = A @ theta
        if scheme == "semi-implicit":  # m(v1 - v0)/dt = -c v0 - g
            v = v + dt * (-c * v - g) / m
        elif scheme == "implicit-friction":  # m(v1 - v0)/dt = -c v1 - g
            v = (m * v - dt * g) / (m + c * dt)
        else:  # exact friction flow over dt, then a symplectic-Euler kick
            v = math.exp(-c * dt / m) * v - dt * g / m
        theta = theta + dt * v
        out.append(theta.copy())
        vel.append(v.copy())
    return np.array(out), np.array(vel)


def oscillator_expm(A, theta0, v0, m, c, dt, steps):
    """θ(k·dt), v(k·dt), k = 0 … steps, of m θ'' + c θ' + Aθ = 0 from expm of the first-order
    system: z_{k+1} = expm(dt·G)·z_k. One expm instead of one per time (expm's LAPACK calls
    are slow when BLAS threads compete for 2 cores); the products add ~steps·ε ≈ 1e-14."""
    d = len(theta0)
    G = np.block([[np.zeros((d, d)), np.eye(d)], [-A / m, -(c / m) * np.eye(d)]])
    E = expm(dt * G)
    Z = [np.concatenate([theta0, v0])]
    for _ in range(steps):
        Z.append(E @ Z[-1])
    Z = np.array(Z)
    return Z[:, :d], Z[:, d:]


# --------------------------------------------------------------------------------------
# discretize / continuum / to_torch
# --------------------------------------------------------------------------------------
@settings(max_examples=50)
@given(m=positive, c=nonneg, dt=small_dt, v0=st.floats(-3, 3), g=st.floats(-3, 3))
def test_discretize_reproduces_each_schemes_defining_step(m, c, dt, v0, g):
    # the one-step velocity update solved from each scheme's defining relation, here
    expected = {
        "semi-implicit": v0 + dt * (-c * v0 - g) / m,
        "implicit-friction": (m * v0 - dt * g) / (m + c * dt),
        "exponential": float(expm(np.array([[-c * dt / m]]))[0, 0]) * v0 - (dt / m) * g,
    }
    for scheme in SCHEMES:
        mu, eta = hb.discretize(m, c, dt, scheme=scheme)
        assert mu * v0 - eta * g == pytest.approx(expected[scheme], rel=1e-12, abs=1e-12)


@settings(max_examples=50)
@given(m=positive, c=nonneg, dt=small_dt)
def test_every_scheme_is_consistent_to_first_order(m, c, dt):
    # consistency: mu = 1 - c dt/m + O(dt²), eta = dt/m + O(dt²), with the O(dt²) terms bounded
    # by their Taylor remainders: |e^{-x} - (1 - x)| <= x²/2 and |1/(1+x) - (1 - x)| <= x²
    x = c * dt / m
    for scheme in SCHEMES:
        mu, eta = hb.discretize(m, c, dt, scheme=scheme)
        assert abs(mu - (1 - x)) <= x * x * (1 + 1e-9) + 1e-15
        assert abs(eta - dt / m) <= (dt / m) * x * (1 + 1e-9) + 1e-15
    assert set(SCHEME_ORDER) == set(SCHEMES) and set(SCHEME_ORDER.values()) == {1}


@settings(max_examples=50)
@given(m=positive, c=nonneg, dt=small_dt, scheme=st.sampled_from(SCHEMES))
def test_continuum_inverts_discretize(m, c, dt, scheme):
    mu, eta = hb.discretize(m, c, dt, scheme=scheme)
    m2, c2 = hb.continuum(mu, eta, dt, scheme=scheme)
    assert m2 == pytest.approx(m, rel=1e-12)
    # c = (1 − μ)/η (or −ln μ/η): μ carries an absolute rounding error of a few ε, which
    # (1 − μ)/η turns into an absolute error of a few ε·m/dt in c
    assert c2 == pytest.approx(c, rel=1e-12, abs=16 * np.finfo(float).eps * m / dt)


@pytest.mark.parametrize("h", [0.5, 4.0])
def test_exponential_scheme_has_the_exact_conformal_factor(h):
    # one HeavyBall step on f = ½hθ² is linear in (θ, v): its determinant is the factor by which
    # it scales dθ∧dv; the exact flow's is det expm(G·dt) = exp(−c·dt/m) (Liouville)
    m, c, dt = 1.3, 0.8, 0.2
    q = hb.Quadratic([[h]])
    G = np.array([[0.0, 1.0], [-h / m, -c / m]])
    exact_factor = np.linalg.det(expm(G * dt))
    dets = {}
    for scheme in SCHEMES:
        mu, eta = hb.discretize(m, c, dt, scheme=scheme)
        opt = hb.HeavyBall(eta, mu, dt)
        columns = []
        for theta0, v0 in ((1.0, 0.0), (0.0, 1.0)):
            state = opt.init(np.array([theta0]))._replace(v=np.array([v0]))
            theta, state = opt.step(np.array([theta0]), q.grad(np.array([theta0])), state)
            columns.append([theta[0], state.v[0]])
        dets[scheme] = np.linalg.det(np.array(columns).T)
    assert dets["exponential"] == pytest.approx(exact_factor, rel=1e-13)
    x = c * dt / m
    assert dets["semi-implicit"] == pytest.approx(1 - x, rel=1e-13)  # off by O(dt²) = x²/2
    assert dets["implicit-friction"] == pytest.approx(1 / (1 + x), rel=1e-13)
    assert abs(dets["semi-implicit"] - exact_factor) > 0.4 * x * x


def test_discretize_is_vectorised_and_broadcasts():
    m = np.array([[1.0], [2.0], [4.0]])
    dt = np.array([0.1, 0.05, 0.01, 0.001])
    for scheme in SCHEMES:
        mu, eta = hb.discretize(m, 0.5, dt, scheme=scheme)
        assert mu.shape == eta.shape == (3, 4)
        for i in range(3):
            for j in range(4):
                mu_ij, eta_ij = hb.discretize(float(m[i, 0]), 0.5, float(dt[j]), scheme=scheme)
                assert (mu[i, j], eta[i, j]) == (mu_ij, eta_ij)
        m2, c2 = hb.continuum(mu, eta, dt, scheme=scheme)
        np.testing.assert_allclose(m2, np.broadcast_to(m, (3, 4)), rtol=1e-12)
        np.testing.assert_allclose(c2, 0.5, rtol=1e-9)
    assert isinstance(hb.discretize(1.0, 0.5, 0.1)[0], float)


def test_extreme_inputs_overflow_silently_to_ieee_values():
    # c·dt/m = 1e600 overflows: μ = 1 − inf = −inf, m/(m + inf) = 0, e^{−inf} = 0 (no RuntimeWarning)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert hb.discretize(1.0, 1e300, 1e300) == (-np.inf, 1e300)
        assert hb.discretize(1.0, 1e300, 1e300, scheme="implicit-friction") == (0.0, 0.0)  # η = dt/(m + inf)
        assert hb.discretize(1.0, 1e300, 1e300, scheme="exponential") == (0.0, 1e300)
        assert hb.continuum(0.5, 1e-310, 1.0) == (np.inf, np.inf)  # 1/1e-310 is beyond float64
        assert hb.to_torch(1e-300, 0.0, 1e300)["lr"] == np.inf


def test_to_torch_default_matches_the_dt_convention():
    # the Δt subtlety (docs/glossary.md): SGD(lr=dt²/m, momentum=1 - c dt/m)
    out = hb.to_torch(2.0, 0.5, 0.1)
    assert out == {
        "lr": pytest.approx(0.1**2 / 2.0, rel=1e-15),
        "momentum": pytest.approx(1 - 0.5 * 0.1 / 2.0, rel=1e-15),
    }
    q = hb.to_torch(2.0, 0.5, 0.1, scheme="implicit-friction")
    assert q["lr"] == pytest.approx(0.1**2 / (2.0 + 0.05), rel=1e-14)  # Qian's Δt²/(m + cΔt)
    assert q["momentum"] == pytest.approx(2.0 / 2.05, rel=1e-14)


@pytest.mark.torch
@pytest.mark.parametrize("scheme", SCHEMES)
def test_to_torch_runs_the_scheme_in_torch(torch, scheme):
    # torch.optim.SGD with to_torch's hyperparameters reproduces the scheme's positions
    A = np.array([[3.0, 1.0], [1.0, 2.0]])
    m, c, dt, steps = 1.5, 0.7, 0.05, 60
    theta0 = np.array([1.0, -0.5])
    expected, _ = scheme_loop(A, theta0, np.zeros(2), m, c, dt, steps, scheme)
    p = torch.tensor(theta0, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([p], **hb.to_torch(m, c, dt, scheme=scheme))
    At = torch.tensor(A, dtype=torch.float64)
    got = [theta0]
    for _ in range(steps):
        opt.zero_grad()
        (0.5 * p @ At @ p).backward()
        opt.step()
        got.append(p.detach().numpy().copy())
    np.testing.assert_allclose(np.array(got), expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: hb.discretize(1.0, 0.5, 0.0), "`dt`"),
        (lambda: hb.discretize(1.0, 0.5, -0.1), "`dt`"),
        (lambda: hb.discretize(0.0, 0.5, 0.1), "`m`"),
        (lambda: hb.discretize(1.0, -0.5, 0.1), "`c`"),
        (lambda: hb.discretize(1.0, 0.5, [0.1, np.nan]), "`dt`"),
        (lambda: hb.discretize(1.0, 0.5, 0.1, scheme="euler"), "`scheme`"),
        (lambda: hb.discretize([1.0, 2.0], 0.5, [0.1, 0.2, 0.3]), "`m`"),
        (lambda: hb.continuum(1.1, 0.1, 0.1), "`mu`"),
        (lambda: hb.continuum(0.0, 0.1, 0.1, scheme="exponential"), "`mu`"),
        (lambda: hb.continuum(-0.5, 0.1, 0.1, scheme="implicit-friction"), "`mu`"),
        (lambda: hb.continuum(0.9, 0.0, 0.1), "`eta`"),
        (lambda: hb.continuum(0.9, 0.1, 0.0), "`dt`"),
        (lambda: hb.to_torch(1.0, 0.5, -1.0), "`dt`"),
    ],
)
def test_bad_input_names_the_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_fit_order_recovers_a_power_law_and_reports_scatter():
    dts = 0.1 / 2.0 ** np.arange(5)
    fit = fit_order(dts, 3.0 * dts**1.5)
    assert fit.order == pytest.approx(1.5, abs=1e-12)
    assert fit.constant == pytest.approx(3.0, rel=1e-10)
    assert fit.residual < 1e-12
    np.testing.assert_allclose(fit.ratios, 2.0**1.5, rtol=1e-12)
    wobbly = fit_order(dts, dts * np.array([1.0, 1.2, 1.0, 1.2, 1.0]))
    # residuals of ±log(1.2)/2-ish around the line: an RMS between 0.05 and 0.1
    assert 0.05 < wobbly.residual < 0.1
    with pytest.raises(ValueError, match="`dts`"):
        fit_order([0.1, 0.2, 0.05], [1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="`dts`"):
        fit_order([0.1, 0.05], [1.0, 1.0])
    with pytest.raises(ValueError, match="`errors`"):
        fit_order([0.1, 0.05, 0.02], [1.0, 0.0, 1.0])


# --------------------------------------------------------------------------------------
# the modified-equation coefficient and the slow-manifold shift, from the roots of the
# two-step recurrence (independent of any Taylor expansion)
# --------------------------------------------------------------------------------------
def _recurrence_roots(h, lr, mu, method):
    """Roots of the characteristic polynomial of PyTorch's heavy ball / Nesterov on f = ½hx²."""
    if method == "heavyball":  # θ_{k+1} = θ_k - lr h θ_k + μ(θ_k - θ_{k-1})
        coeffs = [1.0, -(1 + mu - lr * h), mu]
    else:  # θ_{k+1} = (1 + μ)(1 - lr h)θ_k - μ(1 - lr h)θ_{k-1}
        coeffs = [1.0, -(1 + mu) * (1 - lr * h), mu * (1 - lr * h)]
    roots = np.roots(coeffs)
    return roots[np.argmax(np.abs(roots))].real, roots[np.argmin(np.abs(roots))].real


@pytest.mark.parametrize("method", ["heavyball", "nesterov"])
@pytest.mark.parametrize("mu", [0.0, 0.5, 0.9])
def test_modified_coefficient_matches_the_slow_root(method, mu):
    # the slow root z₊ advances the flow by lr: -log(z₊)/lr = h/(1-μ) + lr·C·h² + O(lr²)
    h = 1.0
    lrs = np.array([1e-4, 5e-5]) * (1 - mu) ** 2
    estimates = []
    for lr in lrs:
        z_plus, _ = _recurrence_roots(h, lr, mu, method)
        estimates.append((-math.log(z_plus) / lr - h / (1 - mu)) / (lr * h * h))
    # Richardson: remove the O(lr) error of the estimate; then agree to 1e-4 relative
    extrapolated = 2 * estimates[1] - estimates[0]
    assert extrapolated == pytest.approx(modified_coefficient(mu, family=method), rel=1e-4)


@pytest.mark.parametrize("method", ["heavyball", "nesterov"])
@pytest.mark.parametrize("mu", [0.3, 0.9])
def test_slow_manifold_shift_matches_the_slow_mode_amplitude(method, mu):
    # θ_k = A z₊ᵏ + B z₋ᵏ with θ_{-1} = θ_0 (PyTorch's b₀ = 0): A is the flow's start
    h, x0 = 1.0, 1.0
    lr = 1e-3 * (1 - mu) ** 2
    z_plus, z_minus = _recurrence_roots(h, lr, mu, method)
    x1 = x0 - lr * h * x0 * (1 + (mu if method == "nesterov" else 0.0))  # first step
    amplitude = (x1 - z_minus * x0) / (z_plus - z_minus)
    q = hb.Quadratic([[h]])
    shifted = slow_manifold_shift(q, [x0], lr=lr, momentum=mu, family=method)
    # the shift is correct to O(lr²): relative to the O(lr) shift itself, an O(lr/(1-μ)²) error
    shift = amplitude - x0
    assert shifted[0] - x0 == pytest.approx(shift, rel=5e-3)


def test_modified_equation_and_gradient_flow_limit_parameters():
    ode = hb.modified_equation(0.9, 2e-3, family="nesterov")
    assert ode.scale == pytest.approx(10.0, rel=1e-14)
    assert ode.correction == pytest.approx(2e-3 * (1 - 0.9 + 2 * 0.81) / (2 * 0.1**3), rel=1e-12)
    assert hb.gradient_flow_limit(0.5).scale == pytest.approx(2.0, rel=1e-15)
    assert hb.gradient_flow_limit(0.5).correction == 0.0
    with pytest.raises(ValueError, match="`momentum`"):
        hb.gradient_flow_limit(1.0)
    with pytest.raises(ValueError, match="`lr`"):
        hb.modified_equation(0.9, 0.0)
    with pytest.raises(ValueError, match="`family`"):
        hb.modified_equation(0.9, 1e-3, family="adam")
    # the family's old keyword still works for this release, with a warning naming the new one
    with pytest.warns(DeprecationWarning, match="`method` is deprecated; use `family`"):
        old = hb.modified_equation(0.9, 2e-3, method="nesterov")
    assert (old.scale, old.correction) == (ode.scale, ode.correction)


# --------------------------------------------------------------------------------------
# global order of the schemes against the closed form
# --------------------------------------------------------------------------------------
OSC = hb.HeavyBallODE(m=1.0, c=0.5)
Q1 = hb.Quadratic([[4.0]])
DTS_LIT = 0.1 / 2.0 ** np.arange(6)  # 0.1 … 0.003125


def test_semi_implicit_order_one_reproduces_the_literature_ratios():
    # published ratios for semi-implicit Euler: m = 1, c = 0.5, h = 4, T = 10, θ0 = 1, v0 = 0, Δt = 0.1 … 0.003125:
    # successive error ratios 2.14, 2.07, 2.04, 2.02, 2.01 — those are the errors at t = T
    final = hb.convergence_order(OSC, Q1, [1.0], 10.0, DTS_LIT, measure="final", full_output=True)
    np.testing.assert_allclose(final.ratios, [2.14, 2.07, 2.04, 2.02, 2.01], atol=0.005)  # quoted to 2 decimals
    order, errors = hb.convergence_order(OSC, Q1, [1.0], 10.0, DTS_LIT)
    assert 0.95 <= order <= 1.05
    ratios = errors[:-1] / errors[1:]
    assert np.all(np.abs(ratios - 2.0) < 0.04) and abs(ratios[-1] - 2.0) < 0.005  # ratios -> 2
    # the max-error of the coarsest step, recomputed here by brute force against expm
    theta, _ = scheme_loop(np.array([[4.0]]), [1.0], [0.0], 1.0, 0.5, 0.1, 100, "semi-implicit")
    exact_theta, _ = oscillator_expm(np.array([[4.0]]), np.array([1.0]), np.array([0.0]), 1.0, 0.5, 0.1, 100)
    assert errors[0] == pytest.approx(np.max(np.abs(theta - exact_theta)), rel=1e-10)


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize(
    ("problem", "theta0", "ode"),
    [
        (hb.Quadratic.valley(kappa=10.0, h_max=4.0, angle=0.5), [1.0, -1.0], hb.HeavyBallODE(m=1.0, c=0.5)),
        (hb.Quadratic.valley(kappa=100.0, h_max=1.0, angle=-1.0), [2.0, 1.0], hb.HeavyBallODE(m=2.0, c=3.0)),
        (
            hb.Quadratic.from_eigenvalues(np.linspace(0.1, 4.0, 20), rotation="random", seed=7),
            np.linspace(-1, 1, 20),
            hb.HeavyBallODE(m=1.0, c=1.0),
        ),
    ],
    ids=["valley-underdamped", "valley-overdamped", "random-20d"],
)
def test_every_scheme_has_order_one(scheme, problem, theta0, ode):
    # SCHEME_ORDER says 1 for every scheme; fitted on [0, 10] with Δt = 0.1 … 0.0125
    fit = hb.convergence_order(ode, problem, theta0, 10.0, DTS_LIT[:4], scheme=scheme, full_output=True)
    assert abs(fit.order - SCHEME_ORDER[scheme]) <= 0.05
    assert fit.residual < 0.02  # a clean power law (RMS log-residual below 2 %)
    np.testing.assert_allclose(fit.ratios, 2.0, rtol=0.03)  # halving Δt halves the error


def test_order_one_on_a_non_quadratic_through_simulate():
    # Rosenbrock (b = 5): the reference is simulate(DOP853, rtol 1e-10), far below the O(dt) errors
    fit = hb.convergence_order(hb.HeavyBallODE(1.0, 1.0), hb.Rosenbrock(b=5.0), [-1.0, 1.0], 5.0,
                               0.02 / 2.0 ** np.arange(3), full_output=True)  # fmt: skip
    assert 0.95 <= fit.order <= 1.05


# --------------------------------------------------------------------------------------
# compare
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("scheme", SCHEMES)
def test_compare_matches_brute_force_and_expm(scheme):
    A = np.array([[3.0, 1.0], [1.0, 2.0]])
    q = hb.Quadratic(A)
    m, c, dt = 1.5, 0.7, 0.01
    theta0, v0 = np.array([1.0, -0.5]), np.array([0.3, 0.2])
    cmp = hb.compare(hb.HeavyBallODE(m, c), q, theta0, dt=dt, t_final=3.0, v0=v0, scheme=scheme)
    assert cmp.success and cmp.status == "completed" and cmp.steps == 300
    np.testing.assert_allclose(cmp.t, np.arange(301) * dt, rtol=1e-15)
    theta, vel = scheme_loop(A, theta0, v0, m, c, dt, 300, scheme)
    np.testing.assert_allclose(cmp.theta_discrete, theta, rtol=1e-12, atol=1e-14)
    ex_theta, ex_v = oscillator_expm(A, theta0, v0, m, c, dt, 300)
    np.testing.assert_allclose(cmp.theta_continuous, ex_theta, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(cmp.error, np.linalg.norm(theta - ex_theta, axis=1), rtol=1e-8, atol=1e-13)
    assert cmp.max_error == pytest.approx(np.max(cmp.error)) and cmp.final_error == cmp.error[-1]
    f = lambda th: 0.5 * np.einsum("ni,ij,nj->n", th, A, th)  # noqa: E731
    np.testing.assert_allclose(cmp.energy_discrete, 0.5 * m * np.sum(vel**2, axis=1) + f(theta), rtol=1e-10)
    np.testing.assert_allclose(cmp.energy_continuous, 0.5 * m * np.sum(ex_v**2, axis=1) + f(ex_theta), rtol=1e-10)
    assert (cmp.mu, cmp.eta) == hb.discretize(m, c, dt, scheme=scheme)


def test_compare_tracks_exact_uniformly_and_error_is_proportional_to_dt():
    q = hb.Quadratic.valley(kappa=10.0, h_max=4.0, angle=0.3)
    fine = hb.compare(OSC, q, [1.0, 1.0], dt=1e-3, t_final=10.0)
    finer = hb.compare(OSC, q, [1.0, 1.0], dt=5e-4, t_final=10.0)
    # uniformly small on [0, T] relative to the motion (|θ| ~ 1): max error ~ dt
    assert fine.max_error < 2e-3 and np.all(fine.error <= fine.max_error)
    # proportional to dt: halving dt halves the error at every common time (to 2 %)
    ratio = fine.error[20:] / finer.error[::2][20:]
    common = fine.error[20:] > 1e-3 * fine.max_error  # skip points where the error crosses 0
    np.testing.assert_allclose(ratio[common], 2.0, rtol=0.02)
    assert fine.max_error / finer.max_error == pytest.approx(2.0, rel=0.01)


def test_compare_unstable_dt_is_a_diverged_comparison_not_a_crash():
    # Δt = 1.5: lr·h = 9 > 2(1 + μ) = 2.5, the semi-implicit iterates blow up
    cmp = hb.compare(OSC, Q1, [1.0], dt=1.5, t_final=200.0)
    assert not cmp.success and cmp.status == "diverged"
    assert "diverged" in cmp.message and "dt = 1.5" in cmp.message and "2(1 + mu)" in cmp.message
    assert cmp.max_error == np.inf and cmp.final_error == np.inf
    assert np.all(np.isfinite(cmp.theta_continuous))
    # on a non-quadratic too (no stability formula, but the same status)
    cmp = hb.compare(hb.HeavyBallODE(1.0, 0.1), hb.Rosenbrock(b=5.0), [-1.0, 1.0], dt=0.5, t_final=50.0)
    assert cmp.status == "diverged" and not cmp.success
    with pytest.raises(ValueError, match="`dts`"):
        hb.convergence_order(OSC, Q1, [1.0], 100.0, [1.5, 0.1, 0.05])


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"dt": 0.0, "t_final": 1.0}, "`dt`"),
        ({"dt": -0.1, "t_final": 1.0}, "`dt`"),
        ({"dt": 0.5, "t_final": 0.4}, "`t_final`"),
        ({"dt": 0.5, "t_final": 1e300}, "`t_final`"),  # 2e300 steps: more iterates than memory allows
        ({"dt": 1e-300, "t_final": 1.0}, "`t_final`"),
        ({"dt": 0.1, "t_final": 1.0, "scheme": "rk4"}, "`scheme`"),
        ({"dt": 0.1, "t_final": 1.0, "v0": [1.0, 2.0]}, "`v0`"),
    ],
)
def test_compare_bad_input(kwargs, name):
    with pytest.raises(ValueError, match=name):
        hb.compare(OSC, Q1, [1.0], **kwargs)


def test_compare_and_convergence_order_bad_input():
    with pytest.raises(TypeError, match="`problem`"):
        hb.compare(OSC, object(), [1.0], dt=0.1, t_final=1.0)
    with pytest.raises(ValueError, match="`method`"):  # refused even where the closed form is used
        hb.compare(OSC, Q1, [1.0], dt=0.1, t_final=1.0, method="Euler")
    with pytest.raises(ValueError, match="`method`"):
        hb.convergence_order(OSC, Q1, [1.0], 1.0, [0.1, 0.05, 0.025], method="Euler")
    with pytest.raises(ValueError, match="`theta0`"):
        hb.compare(OSC, Q1, [1.0, 2.0], dt=0.1, t_final=1.0)
    with pytest.raises(TypeError, match="`ode`"):
        hb.compare(hb.GradientFlowODE(), Q1, [1.0], dt=0.1, t_final=1.0)
    with pytest.raises(ValueError, match="`dts`"):
        hb.convergence_order(OSC, Q1, [1.0], 1.0, [0.1, 0.05])  # fewer than 3
    with pytest.raises(ValueError, match="`dts`"):
        hb.convergence_order(OSC, Q1, [1.0], 1.0, [0.1, 0.05, 0.05])  # not strictly decreasing
    with pytest.raises(ValueError, match="`dts`"):
        hb.convergence_order(OSC, Q1, [1.0], 1.0, [0.025, 0.05, 0.1])  # increasing
    with pytest.raises(ValueError, match="`t_final`"):
        hb.convergence_order(OSC, Q1, [1.0], 0.05, [0.1, 0.05, 0.025])
    with pytest.raises(ValueError, match="`measure`"):
        hb.convergence_order(OSC, Q1, [1.0], 1.0, [0.1, 0.05, 0.025], measure="mean")
    with pytest.raises(ValueError, match="`dts`"):  # the finest step is refused before the coarse ones run
        hb.convergence_order(OSC, Q1, [1.0], 1.0, [0.1, 0.05, 1e-12])
    with pytest.raises(ValueError, match="`theta0`"):  # from the minimiser both stay put: no error to fit
        hb.convergence_order(OSC, hb.Rosenbrock(), [1.0, 1.0], 1.0, [0.1, 0.05, 0.025])


# --------------------------------------------------------------------------------------
# scaling limits (Kovachki & Stuart 2021) against expm of the flows, written here
# --------------------------------------------------------------------------------------
QS = hb.Quadratic.from_eigenvalues([0.2, 1.0], rotation="random", seed=3)
THETA_S = np.array([1.0, 1.0])
LRS = 2e-3 / 2.0 ** np.arange(4)


def _flow_expm(scale, correction, start, t):
    A = QS.A
    return expm(-t * (scale * A + correction * A @ A)) @ start


@pytest.mark.parametrize("nesterov", [False, True], ids=["heavyball", "nesterov"])
def test_fixed_momentum_limit_orders(nesterov):
    mu, T = 0.9, 1.0
    method = "nesterov" if nesterov else "heavyball"
    gf, me, wrong = [], [], []
    for lr in LRS:
        flow = compare_momentum(hb.gradient_flow_limit(mu, family=method), QS, THETA_S, lr=lr, momentum=mu,
                                t_final=T, nesterov=nesterov)  # fmt: skip
        mod = compare_momentum(hb.modified_equation(mu, lr, family=method), QS, THETA_S, lr=lr, momentum=mu,
                               t_final=T, nesterov=nesterov)  # fmt: skip
        assert flow.success and mod.success and flow.steps == mod.steps == round(T / lr)
        # the continuous sides against expm written here (from θ0, resp. the slow-manifold start)
        np.testing.assert_allclose(flow.theta_continuous[-1], _flow_expm(1 / (1 - mu), 0.0, THETA_S, T), rtol=1e-10)
        shift = (mu if method == "heavyball" else mu**2) / (1 - mu) ** 2
        start = THETA_S + lr * shift * (QS.A @ THETA_S)
        C = modified_coefficient(mu, family=method)
        end = _flow_expm(1 / (1 - mu), lr * C, start, T)
        np.testing.assert_allclose(mod.theta_continuous[-1], end, rtol=1e-10)
        gf.append(flow.final_error)
        me.append(mod.final_error)
        # the heavy-ball ODE's own second-order term, C = 1/(1-μ)³, is not the iterates'
        wrong.append(np.linalg.norm(mod.theta_discrete[-1] - _flow_expm(1 / (1 - mu), lr / (1 - mu) ** 3, start, T)))
    gf, me, wrong = map(np.array, (gf, me, wrong))
    # rescaled gradient flow: order 1 (ratios within 2 % of 2); modified equation: order 2
    np.testing.assert_allclose(gf[:-1] / gf[1:], 2.0, rtol=0.02)
    # the largest lr is pre-asymptotic (measured 4.13, 4.06, 4.03): 5 %, and tending to 4
    ratios = me[:-1] / me[1:]
    np.testing.assert_allclose(ratios, 4.0, rtol=0.05)
    assert np.all(np.diff(np.abs(ratios - 4.0)) < 0)
    assert np.all(me < 0.05 * gf)
    # a wrong C (the heavy-ball ODE's, only 5 % off C_HB at μ = 0.9) fails the order-2 test:
    # its ratios (measured 1.38, 1.74, 1.88 for heavy ball) head for 2, not 4
    assert np.all(wrong[:-1] / wrong[1:] < 2.5)


def test_heavy_ball_ode_needs_the_ode_scaling():
    m, c, T = 1.0, 0.5, 10.0
    # fixed momentum 0.9: the heavy-ball ODE with fixed (m, c) does not describe the iterates
    c_fixed = (1 - 0.9) * math.sqrt(m / LRS[0])  # to_torch(m, c_fixed, √(LRS[0]·m)) = (LRS[0], 0.9)
    stuck = [compare_momentum(hb.HeavyBallODE(m, c_fixed), QS, THETA_S, lr=lr, momentum=0.9,
                              t_final=T).max_error for lr in LRS]  # fmt: skip
    # exact-ish only at the lr it was fitted to; then the error grows as lr -> 0 (measured
    # 1.1e-2, 0.15, 0.28, 0.41): in the time t = k√lr the iterates barely move
    assert stuck[0] < 2e-2 and np.all(np.diff(stuck) > 0) and stuck[-1] > 0.3
    # ODE scaling μ = 1 − c√(lr/m): order 1 in √lr, i.e. error ratio √2 per halving of lr
    lrs = 1e-2 / 4.0 ** np.arange(4)
    errs, gf_errs = [], []
    for lr in lrs:
        mu = 1 - c * math.sqrt(lr / m)
        cmp = compare_momentum(hb.HeavyBallODE(m, c), QS, THETA_S, lr=lr, momentum=mu, t_final=T)
        # these are exactly the semi-implicit iterates of `compare` with dt = √(lr·m)
        ref = hb.compare(hb.HeavyBallODE(m, c), QS, THETA_S, dt=math.sqrt(lr * m), t_final=T)
        np.testing.assert_allclose(cmp.theta_discrete, ref.theta_discrete, rtol=1e-9, atol=1e-12)
        errs.append(cmp.max_error)
        gf_errs.append(compare_momentum(hb.gradient_flow_limit(mu), QS, THETA_S, lr=lr, momentum=mu,
                                        t_final=lr * cmp.steps).max_error)  # fmt: skip
    errs = np.array(errs)
    np.testing.assert_allclose(errs[:-1] / errs[1:], 2.0, rtol=0.03)  # lr/4 -> √lr/2 -> error/2
    assert min(gf_errs) > 0.05  # the rescaled gradient flow does not describe them


def test_compare_momentum_bad_input():
    with pytest.raises(ValueError, match="`momentum`"):
        compare_momentum(hb.gradient_flow_limit(0.5), QS, THETA_S, lr=1e-3, momentum=1.0, t_final=1.0)
    with pytest.raises(ValueError, match="`t_final`"):
        compare_momentum(hb.gradient_flow_limit(0.5), QS, THETA_S, lr=1e-3, momentum=0.5, t_final=1e-4)
    with pytest.raises(ValueError, match="`initial`"):
        compare_momentum(hb.HeavyBallODE(), QS, THETA_S, lr=1e-3, momentum=0.5, t_final=1.0, initial="slow-manifold")
    with pytest.raises(TypeError, match="`ode`"):
        compare_momentum(hb.NesterovODE(), QS, THETA_S, lr=1e-3, momentum=0.5, t_final=1.0)
    with pytest.raises(TypeError, match="`problem`"):
        compare_momentum(hb.gradient_flow_limit(0.5), "QS", THETA_S, lr=1e-3, momentum=0.5, t_final=1.0)
    with pytest.raises(ValueError, match="`method`"):
        compare_momentum(hb.gradient_flow_limit(0.5), QS, THETA_S, lr=1e-3, momentum=0.5, t_final=1.0, method="x")
    with pytest.raises(ValueError, match="`theta0`"):
        slow_manifold_shift(QS, [1.0, 2.0, 3.0], lr=1e-3, momentum=0.5)
    cmp = compare_momentum(hb.gradient_flow_limit(0.5), QS, THETA_S, lr=5.0, momentum=0.5, t_final=500.0)
    assert cmp.status == "diverged" and "2(1 + mu)" in cmp.message


# --------------------------------------------------------------------------------------
# the Nesterov limit (Su, Boyd & Candès 2016) against 2·J1(t)/t
# --------------------------------------------------------------------------------------
def test_nesterov_iterates_match_a_two_step_recurrence():
    # x_{k+1} = x_k + β_k(x_k − x_{k−1}) − s∇f(x_k + β_k(x_k − x_{k−1})), β_k = (k−1)/(k+r−1)
    q = hb.Quadratic.valley(kappa=20.0, angle=0.4)
    s, r, steps = 0.05, 4.0, 40
    x_prev = x = np.array([1.0, -2.0])
    expected = [x]
    for k in range(steps):
        beta = (k - 1) / (k + r - 1) if k >= 1 else 0.0
        y = x + beta * (x - x_prev)
        x_prev, x = x, y - s * (q.A @ y)
        expected.append(x)
    got = nesterov_iterates(q, [1.0, -2.0], s=s, steps=steps, r=r)
    np.testing.assert_allclose(got, np.array(expected), rtol=1e-13, atol=1e-15)
    batch = nesterov_iterates(q, np.array([[1.0, -2.0], [0.5, 0.5]]), s=s, steps=steps, r=r)
    assert batch.shape == (steps + 1, 2, 2)
    np.testing.assert_allclose(batch[:, 0], got, rtol=1e-12, atol=1e-15)  # batched matmul rounds differently


def test_nesterov_limit_error_falls_like_sqrt_s():
    # Su, Boyd & Candès (2016): max error on the Bessel solution ≈ 7e-2, 7e-3, 7e-4 for s = 1e-2, 1e-4, 1e-6
    q = hb.Quadratic([[1.0]])
    errors = []
    for s in (1e-2, 1e-4, 1e-6):
        cmp = nesterov_limit(q, [1.0], s=s, t_final=20.0)
        assert cmp.success and cmp.dt == pytest.approx(math.sqrt(s))
        t = cmp.t
        bessel = np.where(t > 0, 2 * j1(t) / np.where(t > 0, t, 1.0), 1.0)
        # the ODE side (simulate from the series start) is the Bessel function to 1e-7
        np.testing.assert_allclose(cmp.theta_continuous[:, 0], bessel, rtol=0, atol=1e-7)
        errors.append(np.max(np.abs(cmp.theta_discrete[:, 0] - bessel)))
    errors = np.array(errors)
    np.testing.assert_allclose(errors, [7e-2, 7e-3, 7e-4], rtol=0.1)  # "about"; measured 7.4e-2, 7.5e-3, 7.5e-4
    np.testing.assert_allclose(errors[:-1] / errors[1:], 10.0, rtol=0.03)  # √s falls tenfold per row


def test_nesterov_limit_bad_input():
    q = hb.Quadratic([[1.0]])
    with pytest.raises(ValueError, match="`s`"):
        nesterov_limit(q, [1.0], s=0.0, t_final=1.0)
    with pytest.raises(ValueError, match="`t_final`"):
        nesterov_limit(q, [1.0], s=1.0, t_final=0.5)
    with pytest.raises(ValueError, match="`steps`"):
        nesterov_iterates(q, [1.0], s=0.1, steps=-1)
    with pytest.raises(ValueError, match="`theta0`"):
        nesterov_iterates(q, [1.0, 2.0], s=0.1, steps=3)
    with pytest.raises(TypeError, match="`problem`"):
        nesterov_iterates(None, [1.0], s=0.1, steps=3)
    with pytest.raises(ValueError, match="`method`"):
        nesterov_limit(q, [1.0], s=0.01, t_final=1.0, method="Euler")


# --------------------------------------------------------------------------------------
# against the sympy derivations
# --------------------------------------------------------------------------------------
@settings(max_examples=50)
@given(m=positive, c=nonneg, dt=small_dt)
def test_discretize_matches_the_symbolic_derivation(m, c, dt):
    from heavyball import symbolic

    mu, eta = hb.discretize(m, c, dt)
    assert mu == pytest.approx(float(symbolic.numeric("discretization", "mu")(m, c, dt)), rel=1e-13, abs=1e-15)
    assert eta == pytest.approx(float(symbolic.numeric("discretization", "eta")(m, c, dt)), rel=1e-13)
    torch_form = hb.to_torch(m, c, dt)
    assert torch_form["lr"] == pytest.approx(float(symbolic.numeric("discretization", "lr")(m, c, dt)), rel=1e-13)
    m2, c2 = hb.continuum(mu, eta, dt)
    assert m2 == pytest.approx(float(symbolic.numeric("discretization", "m_from_velocity")(mu, eta, dt)), rel=1e-13)
    assert c2 == pytest.approx(
        float(symbolic.numeric("discretization", "c_from_velocity")(mu, eta, dt)), rel=1e-12, abs=1e-12
    )


@pytest.mark.parametrize("mu", [0.0, 0.3, 0.9, 0.99])
def test_modified_coefficient_and_shift_match_the_symbolic_derivation(mu):
    from heavyball import symbolic

    for method, key in (("heavyball", "C_heavyball"), ("nesterov", "C_nesterov")):
        expected = float(symbolic.numeric("modified_equation", key)(mu))
        assert modified_coefficient(mu, family=method) == pytest.approx(expected, rel=1e-13)
    q = hb.Quadratic([[1.0]])
    for method, key in (("heavyball", "shift_heavyball"), ("nesterov", "shift_nesterov")):
        shift = float(symbolic.numeric("modified_equation", key)(mu))  # θ(0) − θ0 = lr·shift·∇f(θ0)
        got = slow_manifold_shift(q, [1.0], lr=1e-3, momentum=mu, family=method)[0] - 1.0
        assert got == pytest.approx(1e-3 * shift, rel=1e-12, abs=1e-18)


# --------------------------------------------------------------------------------------
# the analysis scripts print their tables
# --------------------------------------------------------------------------------------
ROOT = Path(__file__).resolve().parents[1]


def _script(name):
    spec = importlib.util.spec_from_file_location(f"{name}_script", ROOT / "analysis" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _table_rows(text, first_cell=""):
    """The cells of the Markdown data rows whose first cell starts with ``first_cell``."""
    rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in text.splitlines()
            if line.startswith("| " + first_cell)]  # fmt: skip
    return [cells for cells in rows if cells[0] not in ("lr", "s", "scheme")]  # not the header


def test_discretization_order_script_prints_markdown_and_latex(tmp_path, capsys):
    script = _script("discretization_order")
    np.testing.assert_array_equal(script.DTS, DTS_LIT)  # the literature's Δt = 0.1 … 0.003125
    assert script.main(["--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    md = (tmp_path / "discretization_order.md").read_text()
    tex = (tmp_path / "discretization_order.tex").read_text()
    assert md in printed and tex in printed
    assert r"\begin{tabular}" in tex and r"\end{tabular}" in tex  # (compiled in test_analysis_tables.py)
    body = tex.split(r"\midrule", 1)[1].split(r"\bottomrule", 1)[0]
    assert sum(line.rstrip().endswith(r"\\") for line in body.splitlines()) == 5 * len(SCHEMES)
    for scheme in SCHEMES:  # every scheme, on the 1-D oscillator, two valleys and the 20-D quadratic
        rows = _table_rows(md, scheme)
        assert len(rows) == 5
        for cells in rows:
            if cells[3] == "max":  # the max-error rows; "at t = T" is pre-asymptotic (0.948 for implicit friction)
                assert 0.95 <= float(cells[7]) <= 1.05  # fitted order 1
    # the published ratios for the semi-implicit scheme, errors at t = T
    (final,) = [cells for cells in _table_rows(md, "semi-implicit") if cells[3] == "at t = T"]
    np.testing.assert_allclose([float(r) for r in final[6].split()], [2.14, 2.07, 2.04, 2.02, 2.01], atol=0.005)


def test_scaling_limits_script_prints_both_scalings_in_one_table(tmp_path, capsys, monkeypatch):
    script = _script("scaling_limits")
    monkeypatch.setattr(script, "LRS", script.LRS[:4])  # four rows keep the test short (the script prints six)
    assert script.main(["--out", str(tmp_path)]) == 0
    text = (tmp_path / "scaling_limits.md").read_text()
    assert text in capsys.readouterr().out
    momentum, nesterov = text.split("Nesterov's method")
    rows = _table_rows(momentum)  # lr = 0.002, 0.001, 0.0005, 0.00025
    assert [float(r[0]) for r in rows] == pytest.approx(list(script.LRS), rel=1e-3)
    for i, cells in enumerate(rows):
        lr = float(cells[0])
        assert float(cells[10]) == pytest.approx(1 - 0.5 * math.sqrt(lr), abs=5e-6)  # μ = 1 − c√(lr/m)
        assert float(cells[13]) > 0.4  # the rescaled gradient flow does not describe the ODE scaling
        if i == 0:
            continue
        assert float(cells[2]) == pytest.approx(2.0, rel=0.03)  # fixed μ: gradient flow, order 1
        assert float(cells[4]) == pytest.approx(4.0, rel=0.05)  # modified equation (HB), order 2
        assert float(cells[6]) == pytest.approx(4.0, rel=0.05)  # modified equation (NAG), order 2
        assert float(cells[7]) > float(rows[i - 1][7])  # heavy-ball ODE with fixed (m, c): no convergence
        assert float(cells[12]) == pytest.approx(math.sqrt(2.0), rel=0.01)  # ODE scaling: order 1 in √lr
    nesterov = _table_rows(nesterov)
    assert [float(r[0]) for r in nesterov] == [1e-2, 1e-4, 1e-6]
    # Su, Boyd & Candès (2016): about 7e-2, 7e-3, 7e-4, i.e. error/√s ≈ 0.7 (measured 0.74, 0.75, 0.75)
    np.testing.assert_allclose([float(r[3]) for r in nesterov], 0.7, rtol=0.1)


def test_compare_reports_an_unstable_dt_before_the_iterates_blow_up():
    # m = 1, c = 0.5, dt = 3 on curvatures {0.1, 1}: mu = −0.5, lr = 9, and lr·h_max = 9 is far
    # beyond 2(1 + mu) = 1 (Jury); by t = 15 the iterates have grown but not yet passed the
    # divergence bound, and the comparison must still say the scheme is unstable
    q = hb.Quadratic.valley(kappa=10)
    cmp = hb.compare(hb.HeavyBallODE(1.0, 0.5), q, [1.0, 1.0], dt=3.0, t_final=15.0)
    assert cmp.status == "diverged" and cmp.success is False
    assert "unstable" in cmp.message and "2(1 + mu)" in cmp.message
    # the stable step stays "completed"
    assert hb.compare(hb.HeavyBallODE(1.0, 0.5), q, [1.0, 1.0], dt=0.1, t_final=15.0).status == "completed"


def test_compare_with_a_tiny_dt_is_refused_quickly_by_name():
    """2e8 steps of dt = 1e-7 on [0, 20]: refused before any work, naming `dt` or `t_final`
    (not iterate's `record`/`every`, which the caller of compare never passed)."""
    with pytest.raises(ValueError) as info:
        hb.compare(hb.HeavyBallODE(1.0, 0.5), hb.Quadratic.valley(kappa=100), [1.0, 1.0], dt=1e-7, t_final=20.0)
    assert "`dt`" in str(info.value) or "`t_final`" in str(info.value), str(info.value)
