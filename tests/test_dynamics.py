"""Continuous dynamics: the heavy-ball ODE and its relatives, solved numerically and exactly.

Oracles (all independent of the code under test):
- ``scipy.linalg.expm`` of the first-order system ``[θ, v]' = [[0, I], [−A/m, −cI/m]]·[θ, v] +
  [0, b/m]`` (the constant term through an augmented ``(2d+1)``-system), for ``exact`` and the
  high-resolution ODEs;
- the damped oscillator evaluated by mpmath at 40 digits (near-critical and overflow-prone
  cases) and closed forms written out in the tests (flat directions, zero crossings);
- the Bessel solution ``2^ν Γ(ν+1) J_ν(t)/t^ν`` of Su–Boyd–Candès's ODE (``scipy.special``)
  and ``scipy.special.jn_zeros`` for its first zero;
- scipy's own accuracy criterion for ``solve_ivp`` (``scipy/integrate/_ivp/tests/test_ivp.py``:
  the RMS over components of ``(y − y_true)/(atol + rtol·|y_true|)`` below 5), see
  ``tolerance_error``;
- finite differences (energy balance, Jacobians).
"""

import math
import subprocess
import sys

import mpmath
import numpy as np
import pytest
import scipy.linalg
import scipy.special
from hypothesis import example, given, settings
from hypothesis import strategies as st

import heavyball as hb
from heavyball.dynamics import (
    METHODS,
    ContinuousTrajectory,
    GradientFlowODE,
    HeavyBallODE,
    HighResolutionODE,
    NesterovODE,
    damping_regime,
    exact,
    simulate,
)


# ---------------------------------------------------------------------------------------------
# oracles
# ---------------------------------------------------------------------------------------------
def expm_heavyball(m, c, A, b, theta0, v0, ts):
    """States ``[θ, v]`` at times ``ts`` from ``expm`` of the augmented first-order system."""
    d = A.shape[0]
    M = np.zeros((2 * d + 1, 2 * d + 1))
    M[:d, d : 2 * d] = np.eye(d)
    M[d : 2 * d, :d] = -A / m
    M[d : 2 * d, d : 2 * d] = -(c / m) * np.eye(d)
    M[d : 2 * d, -1] = b / m
    z0 = np.concatenate([theta0, v0, [1.0]])
    return np.array([scipy.linalg.expm(t * M) @ z0 for t in ts])[:, : 2 * d]


def expm_linear(M, f, z0, ts):
    """``z' = M z + f`` by ``expm`` of the augmented system."""
    n = M.shape[0]
    Maug = np.zeros((n + 1, n + 1))
    Maug[:n, :n] = M
    Maug[:n, -1] = f
    z = np.concatenate([z0, [1.0]])
    return np.array([scipy.linalg.expm(t * Maug) @ z for t in ts])[:, :n]


def mp_oscillator(m, c, h, beta, x0, v0, t, dps=40):
    """``m x'' + c x' + h x = β`` at time t in mpmath (x, v as floats): about the stationary
    point ``β/h``, with enough extra digits to absorb its size, or by hand when ``h = 0``."""
    extra = 0 if h == 0 or beta == 0 else max(0, int(math.log10(abs(beta / h)) + 1))
    with mpmath.workdps(dps + extra):
        m, c, h, beta, x0, v0, t = (mpmath.mpf(float(z)) for z in (m, c, h, beta, x0, v0, t))
        a = c / (2 * m)
        w = h / m
        D = a * a - w
        if D == 0:
            C, S = mpmath.mpf(1), t
        else:
            delta = mpmath.sqrt(mpmath.mpc(D))
            C = mpmath.cosh(delta * t)
            S = mpmath.sinh(delta * t) / delta
        e = mpmath.exp(-a * t)
        if h != 0:
            xs = beta / h
            y0 = x0 - xs
            x = xs + y0 * e * (C + a * S) + v0 * e * S
            v = -w * y0 * e * S + v0 * e * (C - a * S)
        else:  # flat: x'' + 2a x' = β/m, solved by hand
            drift = t * t / 2 if a == 0 else t / (2 * a) - (1 - mpmath.exp(-2 * a * t)) / (4 * a * a)
            x = x0 + v0 * e * S + beta / m * drift
            v = v0 * e * (C - a * S) + beta / m * e * S
        return float(mpmath.re(x)), float(mpmath.re(v))


def tolerance_error(y, y_true, rtol, atol):
    """The error in units of the requested tolerance, as scipy's tests measure it
    (``compute_error`` in ``scipy/integrate/_ivp/tests/test_ivp.py``: per time point, the RMS
    over components of ``(y − y_true)/(atol + rtol·|y_true|)``), with one change: ``|y_true|``
    is each component's scale ``max_t |y_true|`` over the trajectory. A tolerance is local,
    and an oscillating component that crosses zero cannot be pointwise relatively accurate
    (scipy's test problems do not cross zero); at a crossing the pointwise version divides
    the global error by ``atol`` alone."""
    scale = np.max(np.abs(y_true), axis=0)
    e = (y - y_true) / (atol + rtol * scale)
    return np.linalg.norm(e, axis=1) / np.sqrt(e.shape[1])


def zoo(rng, d, *, rotate, with_b=True, frictionless=False):
    """A random heavy-ball setting with a flat mode, a slow mode and, for d > 1, a critical mode
    (exactly critical when not rotated: ``from_eigenvalues`` keeps a diagonal ``A`` exact);
    ``c = 0`` when ``frictionless``."""
    m = float(rng.uniform(0.2, 3.0))
    c = 0.0 if frictionless else float(rng.uniform(0.05, 3.0))
    eigs = rng.uniform(0.0, 5.0, d)
    eigs[0] = 0.0  # a flat direction
    if d > 1:
        eigs[1] = c * c / (4 * m)  # critical (or flat again when c = 0)
    if d > 2:
        eigs[2] = 1e-3  # a slow mode
    q0 = hb.Quadratic.from_eigenvalues(eigs, rotation="random" if rotate else None, seed=int(rng.integers(1 << 30)))
    b = rng.standard_normal(d) if with_b else np.zeros(d)
    return m, c, hb.Quadratic(q0.A, b)


def rel_err(a, b):
    return np.max(np.abs(a - b)) / np.max(np.abs(b))


# ---------------------------------------------------------------------------------------------
# exact against expm
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", range(10))
def test_exact_matches_expm_on_random_quadratics(case):
    rng = np.random.default_rng(1000 + case)
    d = [1, 2, 3, 5, 8, 13, 20, 30, 40, 50][case]
    # c = 0 in cases 3, 4, 9; exactly critical modes (diagonal A, c > 0) in cases 2, 6, 8
    m, c, q = zoo(rng, d, rotate=case % 2 == 1, with_b=case % 3 != 0, frictionless=case in (3, 4, 9))
    theta0, v0 = rng.standard_normal(d), rng.standard_normal(d)
    ts = np.linspace(0.0, 10.0, 11)
    ref = expm_heavyball(m, c, q.A, q.b, theta0, v0, ts)
    sol = exact(HeavyBallODE(m, c), q, theta0, ts, v0=v0)
    got = np.concatenate([sol.theta, sol.v], axis=1)
    # 1e-12 relative to the trajectory's scale (expm's own error is ~1e-15 here)
    assert rel_err(got, ref) <= 1e-12
    assert sol.success and sol.status == "success" and sol.nfev == 0 and sol.method == "exact"
    assert sol.t.shape == (11,) and sol.theta.shape == sol.v.shape == (11, d) and sol.energy.shape == (11,)


def test_exact_saddles_and_negative_friction_match_expm(rng):
    d = 4
    q0 = hb.Quadratic.from_eigenvalues([-2.0, -0.1, 0.5, 3.0], rotation="random", seed=3)
    q = hb.Quadratic(q0.A, rng.standard_normal(d))
    theta0, v0 = rng.standard_normal(d), rng.standard_normal(d)
    ts = np.linspace(0.0, 3.0, 7)
    for ode in (HeavyBallODE(1.3, 0.7), HeavyBallODE(0.8, -0.4, allow_negative_friction=True)):
        ref = expm_heavyball(ode.m, ode.c, q.A, q.b, theta0, v0, ts)
        sol = exact(ode, q, theta0, ts, v0=v0)
        assert rel_err(np.concatenate([sol.theta, sol.v], 1), ref) <= 1e-12


@settings(max_examples=50)
@example(m=1.0, c=0.0, h_kind="random", h_rand=2e-296, beta=1.0, x0=0.0, v0=0.0)  # x* = β/h = 5e295
@example(m=0.3, c=0.5, h_kind="random", h_rand=1e-9, beta=-2.0, x0=1.0, v0=0.5)
@given(
    m=st.floats(0.05, 20.0),
    c=st.one_of(st.just(0.0), st.floats(0.0, 10.0)),
    h_kind=st.sampled_from(["random", "critical", "zero", "negative"]),
    h_rand=st.floats(0.0, 20.0),
    beta=st.floats(-3.0, 3.0),
    x0=st.floats(-3.0, 3.0),
    v0=st.floats(-3.0, 3.0),
)
def test_exact_one_mode_matches_expm_property(m, c, h_kind, h_rand, beta, x0, v0):
    h = {"random": h_rand, "critical": c * c / (4 * m), "zero": 0.0, "negative": -h_rand / 10}[h_kind]
    q = hb.Quadratic([[h]], [beta])
    ts = np.linspace(0.0, 4.0, 5)
    ref = expm_heavyball(m, c, q.A, q.b, np.array([x0]), np.array([v0]), ts)
    sol = exact(HeavyBallODE(m, c), q, [x0], ts, v0=[v0])
    got = np.concatenate([sol.theta, sol.v], axis=1)
    scale = max(np.max(np.abs(ref)), 1e-3)
    assert np.max(np.abs(got - ref)) <= 1e-12 * scale


def test_gradient_flow_exact_matches_expm(rng):
    d = 6
    q0 = hb.Quadratic.from_eigenvalues([0.0, 1e-3, 0.2, 1.0, 2.0, 4.0], rotation="random", seed=11)
    q = hb.Quadratic(q0.A, rng.standard_normal(d))
    theta0 = rng.standard_normal(d)
    ts = np.linspace(0.0, 5.0, 6)
    for scale, corr in ((1.0, 0.0), (10.0, 0.0), (2.5, 0.3), (1.0, -0.1)):
        K = scale * np.eye(d) + corr * q.A  # θ' = −K(Aθ − b)
        ref = expm_linear(-K @ q.A, K @ q.b, theta0, ts)
        sol = exact(GradientFlowODE(scale, corr), q, theta0, ts)
        assert rel_err(sol.theta, ref) <= 1e-12
        assert np.allclose(sol.v, (-(q.A @ sol.theta.T).T + q.b) @ K.T, rtol=0, atol=1e-12 * np.max(np.abs(sol.v)))
        np.testing.assert_allclose(sol.energy, q.value(sol.theta), rtol=1e-12, atol=1e-12)


def test_exact_flat_direction_with_force_drifts_exactly():
    # a 1-D flat mode with force β: m x'' + c x' = β, written out by hand
    m, beta, x0, v0 = 2.0, 0.7, 0.3, -1.1
    t = np.linspace(0.0, 30.0, 31)
    q = hb.Quadratic([[0.0]], [beta])
    c = 0.5
    k = c / m
    x_drift = x0 + v0 * (1 - np.exp(-k * t)) / k + (beta / c) * (t - (1 - np.exp(-k * t)) / k)
    sol = exact(HeavyBallODE(m, c), q, [x0], t, v0=[v0])
    np.testing.assert_allclose(sol.theta[:, 0], x_drift, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(
        sol.v[:, 0], v0 * np.exp(-k * t) + (beta / c) * (1 - np.exp(-k * t)), rtol=1e-13, atol=1e-13
    )
    sol0 = exact(HeavyBallODE(m, 0.0), q, [x0], t, v0=[v0])  # c = 0: uniformly accelerated
    np.testing.assert_allclose(sol0.theta[:, 0], x0 + v0 * t + beta * t * t / (2 * m), rtol=1e-14, atol=1e-13)
    np.testing.assert_allclose(sol0.v[:, 0], v0 + beta * t / m, rtol=1e-14, atol=1e-14)


# ---------------------------------------------------------------------------------------------
# exact: near-critical accuracy and no overflow (mpmath at 40 digits)
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("eps", [0.0, 1e-12, -1e-12, 1e-9, -1e-9, 1e-6, -1e-6, 1e-3, -1e-3])
def test_exact_near_critical_matches_mpmath(eps):
    m, c = 0.7, 1.3
    h = c * c / (4 * m) * (1 + eps)
    beta, x0, v0 = 0.4, 1.2, -0.8
    ts = np.array([0.0, 1e-3, 0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 40.0])
    sol = exact(HeavyBallODE(m, c), hb.Quadratic([[h]], [beta]), [x0], ts, v0=[v0])
    ref = np.array([mp_oscillator(m, c, h, beta, x0, v0, t) for t in ts])
    # the scale of the mode is max(|x0|, |x*|, |v0|) ~ 1; 4e-15 is a few ulps
    np.testing.assert_allclose(sol.theta[:, 0], ref[:, 0], rtol=0, atol=4e-15)
    np.testing.assert_allclose(sol.v[:, 0], ref[:, 1], rtol=0, atol=4e-15)


@pytest.mark.parametrize(
    ("m", "c", "h", "t_max"),
    [
        (1.0, 1.0, 0.1, 1e4),  # overdamped, t·c/m = 1e4
        (1.0, 1.0, 1e-4, 1e4),  # overdamped, slow mode e^{-1} alive at t = 1e4 (cosh(δt) = cosh(5e3) overflows)
        (1.0, 1.0, 0.25, 1e4),  # critical
        (1.0, 1.0, 4.0, 1e4),  # underdamped
        (1e-3, 10.0, 1.0, 1.0),  # c/m = 1e4, overdamped
        (1e-3, 10.0, 1.0, 1e3),  # t·c/m = 1e7
        (1.0, 1e4, 1.0, 1.0),  # a very viscous medium
    ],
)
def test_exact_does_not_overflow_in_decaying_regimes(m, c, h, t_max):
    ts = np.linspace(0.0, t_max, 9)
    sol = exact(HeavyBallODE(m, c), hb.Quadratic([[h]]), [1.0], ts, v0=[0.5])  # warnings are errors
    assert sol.success and np.all(np.isfinite(sol.theta)) and np.all(np.isfinite(sol.v))
    ref = np.array([mp_oscillator(m, c, h, 0.0, 1.0, 0.5, t) for t in ts])
    np.testing.assert_allclose(sol.theta[:, 0], ref[:, 0], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(sol.v[:, 0], ref[:, 1], rtol=1e-12, atol=1e-15)


def test_exact_saddle_overflow_is_a_diverged_status_not_a_warning():
    q = hb.Quadratic.from_eigenvalues([-1.0, 1.0])
    sol = exact(HeavyBallODE(1.0, 0.1), q, [1.0, 1.0], [0.0, 1.0, 1e3, 1e5])
    assert not sol.success and sol.status == "diverged" and "overflow" in sol.message
    assert np.all(np.isfinite(sol.theta[:2]))


# ---------------------------------------------------------------------------------------------
# energy along exact
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("c", [0.0, 0.3, 2.0, 6.0])
def test_energy_balance_along_exact(rng, c):
    d, m = 5, 1.5
    A = hb.Quadratic.from_eigenvalues([0.0, 0.1, 0.9, 1.5, 4.0], rotation="random", seed=5).A
    q = hb.Quadratic(A, rng.standard_normal(d))
    theta0, v0 = rng.standard_normal(d), rng.standard_normal(d)
    ode = HeavyBallODE(m, c)
    t = np.linspace(0.5, 20.0, 40)
    dt = 1e-4
    Ep = exact(ode, q, theta0, t + dt, v0=v0).energy
    Em = exact(ode, q, theta0, t - dt, v0=v0).energy
    sol = exact(ode, q, theta0, t, v0=v0)
    # the energy field is E = ½m‖v‖² + f(θ): recompute it from θ and v independently
    np.testing.assert_allclose(sol.energy, 0.5 * m * np.sum(sol.v**2, 1) + q.value(sol.theta), rtol=1e-12, atol=1e-12)
    dEdt = (Ep - Em) / (2 * dt)
    expected = -c * np.sum(sol.v**2, axis=1)
    # central differences: truncation dt²·E'''/6 ~ 1e-8·|E'''| and rounding eps·|E|/dt ~ 1e-11
    scale = max(np.max(np.abs(expected)), np.max(np.abs(sol.energy)))
    np.testing.assert_allclose(dEdt, expected, rtol=0, atol=1e-7 * scale)
    dense = exact(ode, q, theta0, np.linspace(0.0, 40.0, 4001), v0=v0).energy
    if c == 0.0:
        assert np.max(np.abs(dense - dense[0])) <= 1e-12 * np.max(np.abs(dense))
    else:  # never increases (up to rounding of E itself)
        assert np.all(np.diff(dense) <= 1e-13 * np.max(np.abs(dense)))


# ---------------------------------------------------------------------------------------------
# simulate against exact
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", range(6))
def test_simulate_dop853_matches_exact_on_the_zoo(case):
    rng = np.random.default_rng(2000 + case)
    d = [1, 2, 3, 8, 20, 50][case]
    m, c, q = zoo(rng, d, rotate=case % 2 == 0, with_b=case % 3 != 1, frictionless=case in (0, 3))  # c = 0: d = 1, 8
    theta0, v0 = rng.standard_normal(d), rng.standard_normal(d)
    ts = np.linspace(0.0, 10.0, 41)
    ode = HeavyBallODE(m, c)
    sol = simulate(ode, q, theta0, (0.0, 10.0), v0=v0, t_eval=ts, rtol=1e-10, atol=1e-12)
    ref = exact(ode, q, theta0, ts, v0=v0)
    assert sol.success and sol.status == "success" and sol.method == "DOP853" and sol.nfev > 0
    # "about 1e-8": the global error of DOP853 at rtol = 1e-10 over ~10 time units
    assert rel_err(sol.theta, ref.theta) <= 1e-8
    assert rel_err(sol.v, ref.v) <= 1e-8
    np.testing.assert_allclose(sol.energy, ref.energy, rtol=1e-8, atol=1e-8 * np.max(np.abs(ref.energy)))


@pytest.mark.parametrize("method", ["RK45", "RK23", "DOP853", "Radau", "BDF", "LSODA"])
@pytest.mark.parametrize(("rtol", "atol"), [(1e-3, 1e-6), (1e-6, 1e-9), (1e-9, 1e-12)])
def test_every_method_reaches_its_requested_tolerance(method, rtol, atol):
    q = hb.Quadratic(hb.Quadratic.from_eigenvalues([0.3, 1.0, 2.5], rotation="random", seed=7).A, [0.2, -0.1, 0.4])
    ode = HeavyBallODE(1.0, 0.4)
    theta0, v0 = np.array([1.0, -0.5, 0.8]), np.array([0.2, 0.0, -0.3])
    ts = np.linspace(0.0, 5.0, 26)
    sol = simulate(ode, q, theta0, (0.0, 5.0), v0=v0, t_eval=ts, method=method, rtol=rtol, atol=atol)
    ref = exact(ode, q, theta0, ts, v0=v0)
    e = tolerance_error(np.concatenate([sol.theta, sol.v], 1), np.concatenate([ref.theta, ref.v], 1), rtol, atol)
    # K = 5 as in scipy's tests. BDF at rtol = 1e-9 gets K = 20: a variable-order multistep
    # method's global error grows with its ~600 steps (measured 14 here; scipy's own tests
    # allow the implicit methods e < 10 and e < 15 for dense output).
    K = 20 if (method == "BDF" and rtol < 1e-8) else 5
    assert sol.success and np.all(e < K), (method, float(e.max()))


def test_methods_list_mirrors_solve_ivp_registry():
    from scipy.integrate._ivp.ivp import METHODS as SCIPY_METHODS

    assert set(METHODS) == set(SCIPY_METHODS)


def test_implicit_methods_get_the_exact_jacobian_and_fall_back_to_finite_differences():
    q = hb.Quadratic.valley(kappa=10)
    ode = HeavyBallODE(0.5, 0.6)
    ts = np.linspace(0, 8, 9)
    ref = exact(ode, q, [1.0, 1.0], ts)
    plain = hb.Objective(q.value, q.grad, 2)  # the same function without a Hessian
    for problem, note in ((q, False), (plain, True)):
        sol = simulate(ode, problem, [1.0, 1.0], (0, 8), t_eval=ts, method="Radau", rtol=1e-9, atol=1e-12)
        assert sol.success and ("finite differences" in sol.message) == note
        e = tolerance_error(np.concatenate([sol.theta, sol.v], 1), np.concatenate([ref.theta, ref.v], 1), 1e-9, 1e-12)
        assert np.all(e < 5)


def _fd_jacobian(fun, y, eps=1e-6):
    J = np.empty((y.size, y.size))
    for j in range(y.size):
        e = np.zeros(y.size)
        e[j] = eps
        J[:, j] = (fun(y + e) - fun(y - e)) / (2 * eps)
    return J


@pytest.mark.parametrize(
    "ode",
    [HeavyBallODE(0.7, 0.3), NesterovODE(3.0), HighResolutionODE(0.04, 0.2), HighResolutionODE(0.04, 0.2, kind="nesterov"),
     GradientFlowODE(2.0), GradientFlowODE(1.5, 0.2)],
    ids=["heavyball", "nesterov", "hr-heavyball", "hr-nesterov", "flow", "flow-corrected"],
)  # fmt: skip
def test_jacobians_match_finite_differences(rng, ode):
    q = hb.Quadratic(hb.Quadratic.from_eigenvalues([0.5, 1.0, 3.0], rotation="random", seed=2).A, [0.1, 0.2, 0.3])
    rosen = hb.Rosenbrock()
    for problem in (q, rosen):
        d = problem.dim
        y = rng.standard_normal(d * ode.order) * 0.5
        t = 0.7
        J = ode.jacobian(t, y, problem)
        needs_third = problem is rosen and (
            getattr(ode, "kind", "") == "nesterov" or getattr(ode, "correction", 0.0) != 0.0
        )
        if needs_third:
            assert J is None  # scipy's finite differences are used instead
            continue
        # central differences of a smooth rhs: error ~ eps² ·|rhs'''| + rounding 1e-16/eps ~ 1e-8
        np.testing.assert_allclose(J, _fd_jacobian(lambda z: ode.rhs(t, z, problem), y), rtol=1e-6, atol=1e-6)


def test_energy_balance_along_simulate_on_rosenbrock():
    # E(t) − E(0) = −c∫₀ᵗ‖v‖² on a non-quadratic landscape, the integral by the trapezoid rule
    ode = HeavyBallODE(1.0, 2.0)
    ts = np.linspace(0.0, 5.0, 20001)
    sol = simulate(ode, hb.Rosenbrock(b=10.0), [-1.0, 1.5], (0.0, 5.0), t_eval=ts)
    power = ode.c * np.sum(sol.v**2, axis=1)
    dissipated = np.concatenate([[0.0], np.cumsum(0.5 * (power[1:] + power[:-1]) * np.diff(ts))])
    # trapezoid error ~ (Δt²/12)·T·max|power''| ~ 1e-6 here
    np.testing.assert_allclose(sol.energy - sol.energy[0], -dissipated, rtol=0, atol=1e-5)
    assert np.all(np.diff(sol.energy) <= 1e-10)


# ---------------------------------------------------------------------------------------------
# Nesterov's ODE (Su, Boyd & Candès 2016)
# ---------------------------------------------------------------------------------------------
def test_nesterov_ode_matches_bessel_and_first_zero():
    ts = np.linspace(0.5, 30.0, 119)
    zero_crossing = lambda t, y: y[0]  # noqa: E731
    zero_crossing.direction = -1.0
    sol = simulate(NesterovODE(r=3.0), hb.Quadratic([[1.0]]), [1.0], (0.0, 30.0), t_eval=ts, events=zero_crossing)
    bessel = 2 * scipy.special.j1(ts) / ts
    assert sol.success and sol.status == "success"
    np.testing.assert_array_equal(sol.t, ts)
    np.testing.assert_allclose(sol.theta[:, 0], bessel, rtol=0, atol=1e-9)
    # the derivative of 2J1(t)/t is −2J2(t)/t
    np.testing.assert_allclose(sol.v[:, 0], -2 * scipy.special.jv(2, ts) / ts, rtol=0, atol=1e-9)
    first_zero = scipy.special.jn_zeros(1, 1)[0]
    assert first_zero == pytest.approx(3.8317, abs=1e-4)
    assert sol.t_events["events[0]"][0] == pytest.approx(first_zero, abs=1e-9)


@pytest.mark.parametrize("r", [1.0, 5.0, 8.0])
def test_nesterov_ode_general_r_matches_bessel(r):
    nu = (r - 1) / 2
    ts = np.linspace(0.5, 20.0, 40)
    sol = simulate(NesterovODE(r=r), hb.Quadratic([[1.0]]), [1.0], (0.0, 20.0), t_eval=ts)
    ref = 2**nu * math.gamma(nu + 1) * scipy.special.jv(nu, ts) / ts**nu
    np.testing.assert_allclose(sol.theta[:, 0], ref, rtol=0, atol=1e-9)


def test_nesterov_series_start_before_t0():
    ode = NesterovODE(r=3.0, t0=1e-3)
    ts = np.array([0.0, 2e-4, 5e-4, 1e-3, 0.5, 2.0])
    sol = simulate(ode, hb.Quadratic([[1.0]]), [1.0], (0.0, 2.0), t_eval=ts)
    with np.errstate(invalid="ignore"):
        ref = np.where(ts == 0, 1.0, 2 * scipy.special.j1(ts) / np.where(ts == 0, 1.0, ts))
    np.testing.assert_allclose(sol.t, ts)
    np.testing.assert_allclose(sol.theta[:, 0], ref, rtol=0, atol=1e-12)
    np.testing.assert_allclose(sol.v[:3, 0], -ts[:3] / 4, rtol=0, atol=1e-12)  # v ≈ −t/(r+1)·∇f(θ₀)
    only_series = simulate(ode, hb.Quadratic([[1.0]]), [1.0], (0.0, 2.0), t_eval=[0.0, 5e-4])
    np.testing.assert_allclose(only_series.theta[:, 0], [1.0, 1 - 5e-4**2 / 8], rtol=0, atol=1e-15)
    started_later = simulate(ode, hb.Quadratic([[1.0]]), [1.0], (1.0, 2.0), v0=[0.5])
    assert started_later.t[0] == 1.0 and started_later.v[0, 0] == 0.5


# ---------------------------------------------------------------------------------------------
# high-resolution ODEs (Shi, Du, Jordan & Su 2022)
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["heavyball", "nesterov"])
def test_high_resolution_ode_on_quadratic_matches_expm(kind, rng):
    s, h_min = 0.05, 0.2
    q = hb.Quadratic(
        hb.Quadratic.from_eigenvalues([0.2, 1.0, 4.0], rotation="random", seed=9).A, rng.standard_normal(3)
    )
    theta0 = rng.standard_normal(3)
    ode = HighResolutionODE(s=s, h_min=h_min, kind=kind)
    gf = 1 + math.sqrt(h_min * s)
    d = 3
    M = np.zeros((2 * d, 2 * d))
    M[:d, d:] = np.eye(d)
    M[d:, :d] = -gf * q.A
    M[d:, d:] = -2 * math.sqrt(h_min) * np.eye(d) - (math.sqrt(s) * q.A if kind == "nesterov" else 0)
    forcing = np.concatenate([np.zeros(d), gf * q.b])
    v0 = -2 * math.sqrt(s) * (q.A @ theta0 - q.b) / gf  # the paper's initial velocity
    ts = np.linspace(0.0, 8.0, 17)
    ref = expm_linear(M, forcing, np.concatenate([theta0, v0]), ts)
    sol = simulate(ode, q, theta0, (0.0, 8.0), t_eval=ts)
    np.testing.assert_allclose(sol.v[0], v0, rtol=1e-14)
    assert rel_err(np.concatenate([sol.theta, sol.v], 1), ref) <= 1e-8
    np.testing.assert_allclose(sol.energy, 0.5 * np.sum(sol.v**2, 1) + q.value(sol.theta), rtol=1e-12, atol=1e-12)


def test_high_resolution_nesterov_needs_a_hessian():
    q = hb.Quadratic.valley(kappa=4)
    plain = hb.Objective(q.value, q.grad, 2)
    with pytest.raises(ValueError, match="`problem`"):
        simulate(HighResolutionODE(0.01, 0.25, kind="nesterov"), plain, [1.0, 1.0], (0.0, 1.0))


# ---------------------------------------------------------------------------------------------
# gradient flows
# ---------------------------------------------------------------------------------------------
def test_gradient_flow_simulate_matches_exact():
    q = hb.Quadratic(hb.Quadratic.from_eigenvalues([0.1, 1.0, 3.0], rotation="random", seed=4).A, [0.3, -0.2, 0.1])
    ts = np.linspace(0.0, 6.0, 13)
    cases = [(GradientFlowODE(1 / (1 - 0.5)), "DOP853"), (GradientFlowODE(2.0, 0.3), "DOP853"),
             (GradientFlowODE(2.0, 0.3), "Radau"),
             # scale 1/(1 − 0.9) = 10: decay rates up to 30 over t = 6 are stiff for an explicit
             # method (DOP853 sits at its stability limit and misses the tolerance at t_eval)
             (GradientFlowODE(1 / (1 - 0.9)), "Radau")]  # fmt: skip
    for ode, method in cases:
        sol = simulate(ode, q, [1.0, 2.0, -1.0], (0.0, 6.0), t_eval=ts, method=method)
        ref = exact(ode, q, [1.0, 2.0, -1.0], ts)
        assert np.all(tolerance_error(sol.theta, ref.theta, 1e-10, 1e-12) < 5), (ode, method)
        # v = θ' is the flow evaluated at the solution: its error is ‖∇²f‖-times θ's
        np.testing.assert_allclose(sol.v, ref.v, rtol=0, atol=1e-8)
        np.testing.assert_allclose(sol.energy, q.value(sol.theta), rtol=1e-13, atol=1e-13)


# ---------------------------------------------------------------------------------------------
# events, statuses, failures
# ---------------------------------------------------------------------------------------------
def test_gtol_and_xtol_stop_the_integration():
    q = hb.Quadratic.valley(kappa=10, angle=0.4)
    ode = HeavyBallODE(1.0, 1.0)
    sol = simulate(ode, q, [1.0, 1.0], (0.0, 1e3), gtol=1e-6)
    assert sol.success and sol.status == "event" and "gtol" in sol.message
    assert np.linalg.norm(q.grad(sol.theta[-1])) == pytest.approx(1e-6, rel=1e-6)
    assert sol.t_events["gtol"][0] == sol.t[-1] < 1e3
    sol = simulate(ode, q, [1.0, 1.0], (0.0, 1e3), xtol=1e-5)
    assert sol.status == "event" and np.linalg.norm(sol.theta[-1] - q.minimizer) == pytest.approx(1e-5, rel=1e-6)
    already = simulate(ode, q, q.minimizer, (0.0, 10.0), gtol=1e-8)
    assert already.status == "event" and already.t.tolist() == [0.0] and already.nfev == 0


def test_user_events_are_passed_on():
    # underdamped 1-D mode from rest: x = e^{−at}(cos Ωt + (a/Ω) sin Ωt) first vanishes at
    # Ωt = π − atan(Ω/a)
    m, c, h = 1.0, 0.4, 2.0
    a, Omega = c / (2 * m), math.sqrt(h / m - (c / (2 * m)) ** 2)
    crossing = lambda t, y: y[0]  # noqa: E731
    sol = simulate(HeavyBallODE(m, c), hb.Quadratic([[h]]), [1.0], (0.0, 6.0), events=[crossing])
    zeros = sol.t_events["events[0]"]
    expected = (np.pi * np.arange(1, 4) - math.atan(Omega / a)) / Omega
    np.testing.assert_allclose(zeros[:3], expected, rtol=0, atol=1e-9)
    assert sol.status == "success"  # not terminal: the integration continued
    stop = lambda t, y: y[0]  # noqa: E731
    stop.terminal = True
    sol = simulate(HeavyBallODE(m, c), hb.Quadratic([[h]]), [1.0], (0.0, 6.0), events=stop)
    assert sol.status == "event" and sol.t[-1] == pytest.approx(expected[0], abs=1e-9)


def test_blow_up_is_diverged_and_never_raises():
    saddle = hb.Quadratic.from_eigenvalues([-1.0, 1.0])
    sol = simulate(HeavyBallODE(1.0, 0.5), saddle, [0.1, 0.0], (0.0, 1e3), throw=True)
    assert not sol.success and sol.status == "diverged" and "max_norm" in sol.message
    assert np.linalg.norm(np.concatenate([sol.theta[-1], sol.v[-1]])) == pytest.approx(1e12, rel=1e-6)
    pumped = HeavyBallODE(1.0, -0.5, allow_negative_friction=True)
    sol = simulate(pumped, hb.Quadratic.valley(kappa=4), [1.0, 1.0], (0.0, 1e3), max_norm=1e6)
    assert sol.status == "diverged" and not sol.success and sol.t_events["max_norm"].size == 1


def test_failed_integration_success_false_and_raises_only_with_throw():
    # f = −x⁴/4: x'' = x³ − c·x' blows up in finite time; with max_norm = inf the solver gives up
    quartic = hb.Objective(
        lambda th: -(th[..., 0] ** 4) / 4, lambda th: -(th**3), 1, hessian=lambda th: -3 * th[..., None] ** 2
    )
    kwargs = dict(max_norm=np.inf, method="DOP853")
    sol = simulate(HeavyBallODE(1.0, 0.1), quartic, [1.0], (0.0, 10.0), throw=False, **kwargs)
    assert not sol.success and sol.status == "failed"
    assert "step size" in sol.message  # scipy's own message
    with pytest.raises(RuntimeError, match="step size"):
        simulate(HeavyBallODE(1.0, 0.1), quartic, [1.0], (0.0, 10.0), throw=True, **kwargs)


def test_work_budget_too_many_steps_is_a_failure_with_a_hint():
    # m = 1e-8: DOP853 needs steps below ~3e-8 for stability, ~1e9 evaluations on [0, 5]
    q, ode = hb.Quadratic.valley(kappa=10), HeavyBallODE(m=1e-8, c=1.0)
    sol = simulate(ode, q, [1.0, 1.0], (0.0, 5.0), max_nfev=2000, throw=False)
    assert not sol.success and sol.status == "failed" and sol.nfev == 2000
    assert "Too many steps" in sol.message and "max_nfev = 2000" in sol.message and "Radau" in sol.message
    np.testing.assert_array_equal(sol.theta, [[1.0, 1.0]])  # only the start is known
    assert simulate(ode, q, [1.0, 1.0], (0.0, 5.0), max_nfev=2000, throw=False, t_eval=[1.0]).t.size == 0
    with pytest.raises(RuntimeError, match="Too many steps"):
        simulate(ode, q, [1.0, 1.0], (0.0, 5.0), max_nfev=2000)
    implicit = simulate(ode, q, [1.0, 1.0], (0.0, 5.0), method="Radau", max_nfev=20_000)  # the same within budget
    assert implicit.success and implicit.nfev < 20_000


def test_stiff_problem_suggests_an_implicit_method():
    q = hb.Quadratic([[1.0]])
    ode = HeavyBallODE(m=1e-3, c=1.0)  # decay rates c/m = 1e3 and h/c = 1
    sol = simulate(ode, q, [1.0], (0.0, 30.0), method="RK45", rtol=1e-6, atol=1e-9)
    assert sol.success and "stiff" in sol.message and "Radau" in sol.message
    implicit = simulate(ode, q, [1.0], (0.0, 30.0), method="Radau", rtol=1e-6, atol=1e-9)
    assert "stiff" not in implicit.message and implicit.nfev < sol.nfev / 10
    ts = implicit.t
    ref = exact(ode, q, [1.0], ts)
    assert np.all(tolerance_error(implicit.theta, ref.theta, 1e-6, 1e-9) < 5)
    easy = simulate(HeavyBallODE(1.0, 1.0), q, [1.0], (0.0, 30.0), method="RK45")
    assert "stiff" not in easy.message


def test_dense_output_and_result_type():
    q = hb.Quadratic.valley(kappa=5)
    sol = simulate(HeavyBallODE(1.0, 0.3), q, [1.0, -1.0], (0.0, 4.0), t_eval=[1.0, 2.0, 3.0], dense_output=True)
    np.testing.assert_allclose(sol.sol(2.0)[:2], sol.theta[1], rtol=1e-12)
    assert isinstance(sol, ContinuousTrajectory) and "n=3" in repr(sol)
    with pytest.raises(AttributeError):
        sol.status = "x"
    no_dense = simulate(HeavyBallODE(1.0, 0.3), q, [1.0, -1.0], (0.0, 4.0))
    assert no_dense.sol is None and no_dense.t[0] == 0.0 and no_dense.t[-1] == 4.0


def test_import_heavyball_does_not_import_scipy_integrate():
    code = "import sys, heavyball, heavyball.dynamics; assert 'scipy.integrate' not in sys.modules, 'scipy.integrate imported'"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr


# ---------------------------------------------------------------------------------------------
# damping regimes
# ---------------------------------------------------------------------------------------------
def test_damping_regime_values_and_broadcasting():
    assert damping_regime(1.0, 2.0, 1.0) == "critical"
    assert damping_regime(1.0, 1.0, 1.0) == "underdamped"
    assert damping_regime(1.0, 3.0, 1.0) == "overdamped"
    assert damping_regime(1.0, 1.0, -1.0) == "overdamped"  # a saddle: real roots
    assert damping_regime(1.0, 0.0, 0.0) == "critical"  # double root 0
    assert isinstance(damping_regime(1.0, 2.0, 1.0), str)
    m, h = 0.37, 2.9
    c = 2 * math.sqrt(m * h)  # critical up to rounding
    assert damping_regime(m, c, h) == "critical"
    assert damping_regime(m, c * (1 + 1e-9), h) == "overdamped"
    assert damping_regime(m, c * (1 - 1e-9), h) == "underdamped"
    assert damping_regime(m, c * (1 + 1e-9), h, rtol=1e-6) == "critical"
    out = damping_regime(np.array([[1.0], [4.0]]), 2.0, np.array([0.5, 1.0, 2.0]))
    assert out.shape == (2, 3)
    assert out.tolist() == [["overdamped", "critical", "underdamped"], ["underdamped"] * 3]  # c² = 4 vs 4mh
    with pytest.raises(ValueError, match="`m`"):
        damping_regime(0.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="`c`"):
        damping_regime(1.0, np.nan, 1.0)
    with pytest.raises(ValueError, match="do not broadcast"):
        damping_regime([1.0, 2.0], [1.0, 2.0, 3.0], 1.0)


# ---------------------------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("factory", "name"),
    [
        (lambda: HeavyBallODE(m=0.0), "`m`"),
        (lambda: HeavyBallODE(m=-1.0), "`m`"),
        (lambda: HeavyBallODE(m=np.nan), "`m`"),
        (lambda: HeavyBallODE(m=np.inf), "`m`"),
        (lambda: HeavyBallODE(c=np.inf), "`c`"),
        (lambda: HeavyBallODE(c=np.nan), "`c`"),
        (lambda: HeavyBallODE(c=-0.1), "allow_negative_friction"),
        (lambda: NesterovODE(r=0.0), "`r`"),
        (lambda: NesterovODE(r=np.nan), "`r`"),
        (lambda: NesterovODE(t0=0.0), "`t0`"),
        (lambda: HighResolutionODE(s=0.0, h_min=0.1), "`s`"),
        (lambda: HighResolutionODE(s=0.1, h_min=-1.0), "`h_min`"),
        (lambda: HighResolutionODE(s=0.1, h_min=np.inf), "`h_min`"),
        (lambda: HighResolutionODE(s=0.1, h_min=0.1, kind="adam"), "`kind`"),
        (lambda: GradientFlowODE(scale=0.0), "`scale`"),
        (lambda: GradientFlowODE(correction=np.nan), "`correction`"),
    ],
)
def test_bad_ode_parameters(factory, name):
    with pytest.raises(ValueError, match=name):
        factory()


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        (dict(t_span=(1.0, 0.0)), "`t_span`"),
        (dict(t_span=(1.0, 1.0)), "`t_span`"),
        (dict(t_span=(0.0, 1.0, 2.0)), "`t_span`"),
        (dict(t_span=(0.0, np.inf)), "`t_span`"),
        (dict(t_eval=[0.5, 2.0]), "`t_eval`"),
        (dict(t_eval=[-0.5, 0.5]), "`t_eval`"),
        (dict(t_eval=[0.5, 0.2]), "`t_eval`"),
        (dict(theta0=[1.0, 2.0, 3.0]), "`theta0`"),
        (dict(theta0=[[1.0, 2.0]]), "`theta0`"),
        (dict(theta0=[np.nan, 1.0]), "`theta0`"),
        (dict(v0=[1.0]), "`v0`"),
        (dict(method="Euler"), "`method`"),
        (dict(rtol=0.0), "`rtol`"),
        (dict(atol=-1.0), "`atol`"),
        (dict(atol=[1e-9, 1e-9, 1e-9]), "`atol`"),
        (dict(gtol=0.0), "`gtol`"),
        (dict(max_norm=1.0), "`max_norm`"),
        (dict(max_nfev=0), "`max_nfev`"),
    ],
)
def test_bad_simulate_arguments(kwargs, name):
    args = dict(theta0=[1.0, 1.0], t_span=(0.0, 1.0))
    args.update(kwargs)
    theta0, t_span = args.pop("theta0"), args.pop("t_span")
    with pytest.raises(ValueError, match=name):
        simulate(HeavyBallODE(), hb.Quadratic.valley(kappa=4), theta0, t_span, **args)


def test_bad_simulate_arguments_specific_to_odes():
    q = hb.Quadratic.valley(kappa=4)
    with pytest.raises(ValueError, match="`v0`"):
        simulate(GradientFlowODE(), q, [1.0, 1.0], (0.0, 1.0), v0=[0.0, 0.0])
    with pytest.raises(ValueError, match="`v0`"):
        simulate(NesterovODE(), q, [1.0, 1.0], (0.0, 1.0), v0=[1.0, 0.0])
    with pytest.raises(ValueError, match="`t_span`"):
        simulate(NesterovODE(), q, [1.0, 1.0], (-1.0, 1.0))
    with pytest.raises(ValueError, match="`t_span`"):
        simulate(NesterovODE(t0=0.1), q, [1.0, 1.0], (0.0, 0.05))
    with pytest.raises(ValueError, match="`xtol`"):
        simulate(HeavyBallODE(), hb.Quadratic.from_eigenvalues([-1.0, 1.0]), [1.0, 1.0], (0.0, 1.0), xtol=1e-3)
    with pytest.raises(TypeError, match="`ode`"):
        simulate("heavyball", q, [1.0, 1.0], (0.0, 1.0))
    with pytest.raises(TypeError, match="`problem`"):
        simulate(HeavyBallODE(), object(), [1.0, 1.0], (0.0, 1.0))
    with pytest.raises(TypeError, match="`events`"):
        simulate(HeavyBallODE(), q, [1.0, 1.0], (0.0, 1.0), events=[1.0])


def test_bad_exact_arguments():
    q = hb.Quadratic.valley(kappa=4)
    with pytest.raises(TypeError, match="`ode`"):
        exact(NesterovODE(), q, [1.0, 1.0], [0.0, 1.0])
    with pytest.raises(TypeError, match="`q`"):
        exact(HeavyBallODE(), hb.Rosenbrock(), [1.0, 1.0], [0.0, 1.0])
    with pytest.raises(ValueError, match="`t`"):
        exact(HeavyBallODE(), q, [1.0, 1.0], [-1.0, 1.0])
    with pytest.raises(ValueError, match="`t`"):
        exact(HeavyBallODE(), q, [1.0, 1.0], [0.0, np.nan])
    with pytest.raises(ValueError, match="`theta0`"):
        exact(HeavyBallODE(), q, [1.0], [0.0, 1.0])
    with pytest.raises(ValueError, match="`v0`"):
        exact(HeavyBallODE(), q, [1.0, 1.0], [0.0, 1.0], v0=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="`v0`"):
        exact(GradientFlowODE(), q, [1.0, 1.0], [0.0, 1.0], v0=[0.0, 0.0])


def test_zero_atol_is_refused_by_name():
    # with atol = 0 a component that is exactly 0 (here the whole state: a start at the
    # minimiser, at rest) makes every error estimate 0/0: Radau failed with scipy's unnamed
    # "array must not contain infs or NaNs" and the explicit methods spent the whole work budget
    q = hb.Quadratic.valley(kappa=10)
    for method in ("Radau", "RK23", "DOP853"):
        with pytest.raises(ValueError, match="`atol`"):
            simulate(HeavyBallODE(1.0, 1.0), q, [0.0, 0.0], (0.0, 1.0), method=method, atol=0.0)
    sol = simulate(HeavyBallODE(1.0, 1.0), q, [0.0, 0.0], (0.0, 1.0), method="Radau")
    assert sol.success and np.all(sol.theta == 0.0)  # the minimiser at rest stays there


# ---------------------------------------------------------------------------------------------
# the ODE protocol: a new ODE plugs into simulate without changing it
# ---------------------------------------------------------------------------------------------
class _MomentFlow:
    """θ' = −m̂, m̂' = a(∇f(θ) − m̂): a state that is not (θ, v) — θ plus a moment field."""

    autonomous = True

    def __init__(self, a):
        self.a = a

    def initial_state(self, problem, theta0, v0, t0):
        return float(t0), np.concatenate([theta0, problem.grad(theta0)])

    def rhs(self, t, y, problem):
        d = y.shape[0] // 2
        theta, m = y[:d], y[d:]
        return np.concatenate([-m, self.a * (problem.grad(theta) - m)])

    def jacobian(self, t, y, problem):
        d = y.shape[0] // 2
        H = problem.hessian(y[:d])
        return np.block([[np.zeros((d, d)), -np.eye(d)], [self.a * H, -self.a * np.eye(d)]])

    def split_state(self, problem, t, Y):
        d = Y.shape[1] // 2
        theta, m = Y[:, :d], Y[:, d:]
        return {"theta": theta, "v": -m, "energy": problem.value(theta), "m_hat": m}


@pytest.mark.parametrize("method", ["DOP853", "Radau"])
def test_a_new_ode_plugs_into_simulate(method):
    from heavyball.dynamics import ODE

    ode = _MomentFlow(a=3.0)
    assert isinstance(ode, ODE)
    q = hb.Quadratic([[2.0, 0.0], [0.0, 0.5]])
    theta0 = np.array([1.0, -1.0])
    t = np.linspace(0.0, 4.0, 9)
    sol = simulate(ode, q, theta0, (0.0, 4.0), t_eval=t, method=method)
    # oracle: the linear system z' = M z with z = [θ, m̂], M = [[0, −I], [aA, −aI]], by expm
    d, a = 2, 3.0
    M = np.block([[np.zeros((d, d)), -np.eye(d)], [a * q.A, -a * np.eye(d)]])
    z = np.array([scipy.linalg.expm(tk * M) @ np.concatenate([theta0, q.A @ theta0]) for tk in t])
    np.testing.assert_allclose(sol.theta, z[:, :d], rtol=0, atol=1e-8)  # rtol = 1e-10 of the solver, margin 100
    np.testing.assert_allclose(sol.m_hat, z[:, d:], rtol=0, atol=1e-8)
    np.testing.assert_allclose(sol.fields["m_hat"], z[:, d:], rtol=0, atol=1e-8)
    np.testing.assert_allclose(sol.energy, 0.5 * np.einsum("ni,ij,nj->n", z[:, :d], q.A, z[:, :d]), atol=1e-8)
    assert sol.status == "success" and sol.success
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = sol.nope


def test_an_object_outside_the_ode_protocol_is_refused_by_name():
    class NoSplit:
        autonomous = True

        def initial_state(self, problem, theta0, v0, t0):
            return t0, theta0

        def rhs(self, t, y, problem):
            return -y

        def jacobian(self, t, y, problem):
            return None

    with pytest.raises(TypeError, match=r"`ode` must follow the ODE protocol.*`split_state`"):
        simulate(NoSplit(), hb.Quadratic([[1.0]]), [1.0], (0.0, 1.0))


# -------------------------------------------------------------------------------------------
# numerical edge cases: saddles, tiny masses, no friction over long times
# -------------------------------------------------------------------------------------------
def test_saddle_iterate_diverges_with_status_and_exact_grows():
    q = hb.Quadratic(np.diag([-1.0, 1.0]))
    theta0 = np.array([1e-3, 1.0])
    lr = 0.1
    tr = hb.iterate(hb.SGD(lr=lr), q, theta0, 1000)
    assert tr.status == "diverged" and not tr.success
    # the first step whose norm passes 1e8·(1 + ‖θ₀‖) (no minimiser: θ* = 0), brute force
    bound = 1e8 * (1 + math.hypot(*theta0))
    k = next(k for k in range(1, 1000) if math.hypot(1e-3 * 1.1**k, 0.9**k) > bound)
    assert tr.diverged_at == k
    assert np.all(np.isnan(tr.theta[k:])) and np.all(np.isfinite(tr.theta[:k]))
    # the continuous saddle: x'' = x from rest grows like cosh(t)
    t = np.array([0.0, 1.0, 10.0, 30.0])
    sol = hb.exact(hb.HeavyBallODE(m=1.0, c=0.0), q, theta0, t)
    np.testing.assert_allclose(sol.theta[:, 0], 1e-3 * np.cosh(t), rtol=1e-12)
    np.testing.assert_allclose(sol.theta[:, 1], np.cos(t), rtol=1e-12, atol=1e-15)
    late = hb.exact(hb.HeavyBallODE(m=1.0, c=0.0), q, theta0, [0.0, 1e4])  # cosh overflows float64
    assert late.status == "diverged" and not late.success and "overflow" in late.message


def test_tiny_mass_simulate_recommends_an_implicit_method():
    """m = 1e-4: the friction rate c/m = 1e4 is stiff next to h/c; DOP853 still finishes (after
    ~1e4 evaluations) and says to use an implicit method; Radau agrees with the closed form."""
    q = hb.Quadratic.valley(kappa=10)
    ode = hb.HeavyBallODE(m=1e-4, c=1.0)
    sol = hb.simulate(ode, q, [1.0, 1.0], (0.0, 5.0))
    assert sol.success and "implicit" in sol.message and "Radau" in sol.message
    t = np.linspace(0.0, 5.0, 6)
    stiff = hb.simulate(ode, q, [1.0, 1.0], (0.0, 5.0), method="Radau", t_eval=t, rtol=1e-8, atol=1e-12)
    ref = hb.exact(ode, q, [1.0, 1.0], t)
    # Radau at rtol=1e-8: the global error is a few times the tolerance
    np.testing.assert_allclose(stiff.theta, ref.theta, rtol=1e-6, atol=1e-9)


def test_tinier_mass_explicit_simulate_is_bounded():
    """m = 1e-8 with an explicit method needs ~1e9 right-hand-side evaluations: simulate must
    stop on its own (a work budget) and recommend an implicit method, not run for hours. Run
    in a subprocess so that a hang fails after 5 minutes instead of stalling the suite (the
    budget of 1e6 evaluations takes ~25 s of CPU here; the bound is loose so that a loaded
    machine does not fail it, while a run of ~1e9 evaluations would still be caught)."""
    code = (
        "import heavyball as hb\n"
        "sol = hb.simulate(hb.HeavyBallODE(m=1e-8, c=1.0), hb.Quadratic.valley(kappa=10), [1.0, 1.0], (0.0, 5.0), throw=False)\n"
        "assert 'implicit' in sol.message, sol.message\n"
        "print(sol.status)\n"
    )
    try:
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired:
        pytest.fail("simulate(HeavyBallODE(m=1e-8), ..., method='DOP853') ran for more than 300 s")
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_no_friction_long_times():
    q = hb.Quadratic.from_eigenvalues([0.5, 2.0], rotation="random", seed=3)
    theta0 = np.array([1.0, -0.5])
    t = np.geomspace(1e-3, 1e6, 200)
    sol = hb.exact(hb.HeavyBallODE(m=1.5, c=0.0), q, theta0, t)
    e0 = 0.5 * theta0 @ q.A @ theta0  # E(0) = f(θ₀), from rest
    np.testing.assert_allclose(sol.energy, e0, rtol=1e-12)
    # the discrete twin: semi-implicit Euler at c = 0 (μ = 1) is symplectic; per mode it is the
    # rotation x_k = x₀cos(kω) + ((x₁ − x₀cos ω)/sin ω)·sin(kω), cos ω = 1 − h·dt²/(2m)
    m, dt, steps = 1.5, 0.3, 100_000
    mu, eta = hb.discretize(m, 0.0, dt)
    assert mu == 1.0
    tr = hb.iterate(hb.HeavyBall(eta=eta, mu=mu, dt=dt), q, theta0, steps, record="all", every=997)
    x = tr.theta @ q.eigenvectors  # modes
    x0 = q.eigenvectors.T @ theta0
    h = q.eigenvalues
    omega = np.arccos(1 - h * dt**2 / (2 * m))
    x1 = x0 - (dt**2 / m) * h * x0  # the first step from rest
    k = tr.steps[:, None]
    closed = x0 * np.cos(k * omega) + (x1 - x0 * np.cos(omega)) / np.sin(omega) * np.sin(k * omega)
    # rounding accumulates as a phase error ~ k·ε over 1e5 steps
    np.testing.assert_allclose(x, closed, atol=1e-9)
    assert tr.status == "max_steps"
