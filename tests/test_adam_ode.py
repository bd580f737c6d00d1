"""Adam in continuous time: AdamODE, the sign-gradient flow and Adam as a heavy ball.

Oracles, each independent of the code under test: a high-accuracy Radau solve (rtol 1e-12)
of the *un-hatted* form ``m' = a(g − m)``, ``v' = b(g² − v)``, ``θ' = −(m/(1−e^{−at}))/(√(v/(1−e^{−bt}))+ε)``
written here and started at a tiny ``t₀`` from its first-order Taylor state; central finite
differences of the right-hand sides; the Lambert-W closed form of the sign flow on a separable
quadratic; ``scipy.linalg.expm`` of the preconditioned heavy ball's linear system; torch's
``Adam``/``AdamW`` (live, skipped without torch) for the discrete side; least-squares slopes
computed here with ``numpy.polyfit``.
"""

import re

import numpy as np
import pytest
from scipy.integrate import solve_ivp
from scipy.linalg import expm
from scipy.special import lambertw

import heavyball as hb

VALLEY = hb.Quadratic([[1.0, 0.0], [0.0, 0.1]])
THETA0 = np.array([1.0, 1.0])


def unhatted_reference(problem, theta0, a, b, eps, t_eval, **kwargs):
    """The reference below, computed once per problem and arguments (read-only use)."""
    key = (repr(problem), tuple(np.ravel(theta0)), a, b, eps, tuple(np.ravel(t_eval)), tuple(sorted(kwargs.items())))
    return _reference(key, problem, theta0, a, b, eps, t_eval, **kwargs)


_REFERENCES = {}


def _reference(key, *args, **kwargs):
    if key not in _REFERENCES:
        _REFERENCES[key] = _unhatted_reference(*args, **kwargs)
    return _REFERENCES[key]


def _unhatted_reference(problem, theta0, a, b, eps, t_eval, *, bias_correction=True, wd=0.0, decoupled=False):
    """θ(t) from Radau at rtol 1e-12 on the un-hatted (m, v) form, from t₀ = 1e-9 (bias-corrected:
    Taylor state θ₀ + t₀θ'(0), m = (1−e^{−at₀})g₀, v = (1−e^{−bt₀})g₀², error O(t₀²) ~ 1e-18)."""
    theta0 = np.asarray(theta0, dtype=float)
    d = theta0.size

    def grad(x):
        g = problem.grad(x)
        return g + wd * x if (wd and not decoupled) else g

    def rhs(t, y):
        x, m, v = y[:d], y[d : 2 * d], y[2 * d :]
        g = grad(x)
        if bias_correction:
            mh, vh = m / -np.expm1(-a * t), v / -np.expm1(-b * t)
        else:
            mh, vh = m, v
        dx = -mh / (np.sqrt(np.maximum(vh, 0.0)) + eps) - (wd * x if decoupled else 0.0)
        return np.concatenate([dx, a * (g - m), b * (g * g - v)])

    if bias_correction:
        t0 = 1e-9
        g0 = grad(theta0)
        x0 = theta0 + t0 * (-g0 / (np.abs(g0) + eps) - (wd * theta0 if decoupled else 0.0))
        y0 = np.concatenate([x0, -np.expm1(-a * t0) * g0, -np.expm1(-b * t0) * g0 * g0])
    else:
        t0 = 0.0
        y0 = np.concatenate([theta0, np.zeros(2 * d)])
    sol = solve_ivp(rhs, (t0, t_eval[-1]), y0, method="Radau", rtol=1e-12, atol=1e-14, t_eval=t_eval)
    assert sol.success
    return sol.y[:d].T


def numeric_jacobian(fun, y, h=1e-6):
    cols = [(fun(y + h * e) - fun(y - h * e)) / (2 * h) for e in np.eye(y.size)]
    return np.array(cols).T


# -- AdamODE against the independent solve ------------------------------------------------------
@pytest.mark.parametrize("method", ["RK45", "RK23", "DOP853", "Radau", "BDF", "LSODA"])
def test_simulate_from_zero_matches_the_unhatted_reference(method):
    ode = hb.AdamODE(1.0, 2.0, 1e-8)
    t = np.linspace(0.0, 4.0, 41)
    rtol = 1e-8
    sol = hb.simulate(ode, VALLEY, THETA0, (0.0, 4.0), t_eval=t, method=method, rtol=rtol, atol=1e-10)
    ref = unhatted_reference(VALLEY, THETA0, 1.0, 2.0, 1e-8, t[1:])
    assert sol.success and sol.theta.shape == (41, 2)
    assert sol.fields["first_moment"].shape == sol.fields["second_moment"].shape == (41, 2)
    err = np.max(np.abs(sol.theta[1:] - ref))
    # global error of a local-error-controlled solver: a small multiple of rtol (BDF, LSODA and
    # RK23 measured at 6e-8, 4e-8, 2e-8 for rtol 1e-8 on this problem; |θ| <= 1)
    assert err < 20 * rtol, err
    np.testing.assert_array_equal(sol.theta[0], THETA0)


def test_simulate_on_rosenbrock_and_rotated_quadratic_match_the_reference():
    problems = [
        (hb.Rosenbrock(), np.array([-1.2, 1.0]), 1.0, 2.0),
        (hb.Quadratic.from_eigenvalues(np.geomspace(0.1, 1.0, 10), seed=7), np.linspace(-1.0, 2.0, 10), 3.0, 0.5),
    ]
    for problem, theta0, a, b in problems:
        t = np.linspace(0.0, 1.0, 6)
        sol = hb.simulate(hb.AdamODE(a, b), problem, theta0, (0.0, 1.0), t_eval=t, rtol=1e-10, atol=1e-12)
        ref = unhatted_reference(problem, theta0, a, b, 1e-8, t[1:])
        assert np.max(np.abs(sol.theta[1:] - ref)) < 1e-8  # rtol 1e-10 on |θ| up to ~2: 50·rtol


def test_moments_are_the_bias_corrected_unhatted_moments():
    ode = hb.AdamODE(1.5, 0.7)
    sol = hb.simulate(ode, VALLEY, THETA0, (0.0, 3.0), t_eval=[0.0, 1.0, 3.0], rtol=1e-11, atol=1e-13)
    g0 = VALLEY.grad(THETA0)
    np.testing.assert_allclose(sol.fields["first_moment"][0], g0, rtol=0, atol=1e-15)
    np.testing.assert_allclose(sol.fields["second_moment"][0], g0**2, rtol=0, atol=1e-15)
    # θ' = −m̂/(√v̂ + ε) on the reported fields
    v_expected = -sol.fields["first_moment"] / (np.sqrt(sol.fields["second_moment"]) + ode.eps)
    np.testing.assert_allclose(sol.v, v_expected, rtol=1e-14, atol=0)
    np.testing.assert_allclose(sol.energy, VALLEY.value(sol.theta), rtol=1e-14)


def test_series_start_matches_the_reference_near_zero():
    ode = hb.AdamODE(2.0, 3.0, 1e-8, t0=1e-3)
    t = np.array([1e-4, 5e-4, 1e-3])
    states = ode.prefix(hb.Rosenbrock(), np.array([-1.2, 1.0]), t)
    ref = unhatted_reference(hb.Rosenbrock(), [-1.2, 1.0], 2.0, 3.0, 1e-8, t)
    # the series' error is O(t³) in θ (with |θ'''| ~ ‖∇²f‖² ~ 1e5 on Rosenbrock at the start)
    assert np.all(np.abs(states[:, :2] - ref) <= 1e5 * t[:, None] ** 3)


def test_series_without_a_hessian_uses_a_difference_of_gradients():
    rb = hb.Rosenbrock()
    no_hessian = hb.Objective(rb.value, rb.grad, 2)
    ode = hb.AdamODE(1.0, 2.0)
    t = np.array([1e-4, 1e-3])
    np.testing.assert_allclose(
        ode.prefix(no_hessian, np.array([-1.2, 1.0]), t), ode.prefix(rb, np.array([-1.2, 1.0]), t), rtol=1e-9
    )
    sol = hb.simulate(ode, no_hessian, [-1.2, 1.0], (0.0, 1.0), method="Radau", t_eval=[1.0])
    assert "finite differences" in sol.message
    np.testing.assert_allclose(sol.theta[-1], unhatted_reference(rb, [-1.2, 1.0], 1.0, 2.0, 1e-8, [1.0])[0], atol=1e-7)


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"weight_decay": 0.3}, {"weight_decay": 0.3, "decoupled": True}, {"bias_correction": False}],
)
def test_jacobian_matches_finite_differences(kwargs, rng):
    ode = hb.AdamODE(1.3, 0.4, 1e-3, **kwargs)
    y = np.concatenate([rng.normal(size=2), rng.normal(size=2), rng.uniform(0.5, 2.0, size=2)])
    for problem in (VALLEY, hb.Rosenbrock()):
        J = ode.jacobian(0.7, y, problem)
        Jn = numeric_jacobian(lambda z: ode.rhs(0.7, z, problem), y)
        np.testing.assert_allclose(J, Jn, rtol=1e-6, atol=1e-4)  # central differences, h = 1e-6


@pytest.mark.parametrize("kwargs", [{"weight_decay": 0.2}, {"weight_decay": 0.2, "decoupled": True}])
def test_weight_decay_forms_match_the_reference(kwargs):
    ode = hb.AdamODE(1.0, 2.0, **kwargs)
    t = np.linspace(0.0, 3.0, 7)
    sol = hb.simulate(ode, VALLEY, THETA0, (0.0, 3.0), t_eval=t, rtol=1e-10, atol=1e-12)
    ref = unhatted_reference(VALLEY, THETA0, 1.0, 2.0, 1e-8, t[1:], wd=0.2, decoupled=kwargs.get("decoupled", False))
    assert np.max(np.abs(sol.theta[1:] - ref)) < 1e-8


def test_without_bias_correction_matches_the_reference_and_starts_anywhere():
    ode = hb.AdamODE(1.0, 2.0, 1e-3, bias_correction=False)
    t = np.linspace(0.0, 3.0, 7)
    sol = hb.simulate(ode, VALLEY, THETA0, (0.0, 3.0), t_eval=t, rtol=1e-10, atol=1e-12)
    ref = unhatted_reference(VALLEY, THETA0, 1.0, 2.0, 1e-3, t[1:], bias_correction=False)
    assert np.max(np.abs(sol.theta[1:] - ref)) < 1e-8
    np.testing.assert_array_equal(sol.fields["first_moment"][0], [0.0, 0.0])
    shifted = hb.simulate(ode, VALLEY, THETA0, (5.0, 8.0), t_eval=t + 5.0, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(shifted.theta, sol.theta, atol=1e-9)  # autonomous


def test_events_and_gtol_read_theta():
    ode = hb.AdamODE(1.0, 2.0)
    sol = hb.simulate(ode, VALLEY, THETA0, (0.0, 50.0), gtol=1e-3)
    assert sol.status == "event" and np.linalg.norm(VALLEY.grad(sol.theta[-1])) == pytest.approx(1e-3, rel=1e-6)
    hit = hb.simulate(ode, VALLEY, THETA0, (0.0, 5.0), events=lambda t, y: y[0] - 0.5)
    te = hit.t_events["events[0]"]
    ref = unhatted_reference(VALLEY, THETA0, 1.0, 2.0, 1e-8, te[:1])
    assert te.size == 1 and abs(ref[0, 0] - 0.5) < 1e-8


# -- the discrete side: torch's Adam with the mapped hyperparameters --------------------------------
def test_from_adam_and_to_adam_are_inverse_maps():
    ode = hb.AdamODE.from_adam(0.002, (0.9, 0.999), 1e-6, weight_decay=0.1, decoupled=True)
    assert ode.a == pytest.approx(50.0, rel=1e-13) and ode.b == pytest.approx(0.5, rel=1e-12)
    opt = ode.to_adam(0.002)
    assert isinstance(opt, hb.AdamW) and opt.weight_decay == 0.1 and opt.eps == 1e-6
    np.testing.assert_allclose(opt.betas, (0.9, 0.999), rtol=1e-15)
    assert hb.AdamODE.from_optimizer(opt) == ode
    assert type(hb.AdamODE(1.0, 2.0).to_adam(0.01)) is hb.Adam


PROBLEMS = {
    "valley": (VALLEY, THETA0),
    "rotated-10d": (hb.Quadratic.from_eigenvalues(np.geomspace(0.1, 1.0, 10), seed=3), np.linspace(-1.0, 2.0, 10)),
    "rosenbrock": (hb.Rosenbrock(), np.array([-1.2, 1.0])),
}


@pytest.mark.parametrize("name", list(PROBLEMS))
def test_adam_iterates_converge_to_the_ode_at_order_one(name):
    problem, theta0 = PROBLEMS[name]
    dts = np.array([0.02, 0.01, 0.005, 0.0025])
    fit = hb.convergence_order(hb.AdamODE(1.0, 2.0), problem, theta0, 2.0, dts, full_output=True)
    slope = np.polyfit(np.log(dts), np.log(fit.errors), 1)[0]
    assert 0.95 <= slope <= 1.05, (slope, fit.errors)
    assert abs(fit.ratios[-1] - 2.0) < 0.05, fit.ratios  # successive ratios → 2
    assert abs(fit.order - slope) < 1e-12


def test_compare_adam_iterates_are_torch_adam(torch):
    ode = hb.AdamODE(1.0, 2.0, 1e-8, weight_decay=0.05)
    cmp = hb.compare(ode, VALLEY, THETA0, dt=0.01, t_final=1.0)
    p = torch.tensor(THETA0, dtype=torch.float64, requires_grad=True)
    betas = (1.0 - 1.0 * 0.01, 1.0 - 2.0 * 0.01)  # β = 1 − (a, b)·lr, rounded as the map rounds them
    opt = torch.optim.Adam([p], lr=0.01, betas=betas, eps=1e-8, weight_decay=0.05)
    path = [p.detach().clone().numpy()]
    A = torch.tensor(VALLEY.A)
    for _ in range(cmp.steps):
        with torch.no_grad():
            p.grad = A @ p  # the gradient as the problem computes it (autograd rounds ½(A + Aᵀ)p differently)
        opt.step()
        path.append(p.detach().clone().numpy())
    # torch parity as the optimiser tests measure it: largest difference over the largest |θ|
    # (<= 1e-12 in float64; torch's CPU kernels may fuse a multiply-add: a few ulp)
    path = np.array(path)
    assert np.max(np.abs(cmp.theta_discrete - path)) / np.max(np.abs(path)) <= 1e-12
    assert cmp.scheme == "adam" and cmp.mu == pytest.approx(0.99) and cmp.eta == pytest.approx(0.01)


def test_compare_adamw_converges_at_order_one():
    ode = hb.AdamODE(1.0, 2.0, weight_decay=0.2, decoupled=True)
    errs = [hb.compare(ode, VALLEY, THETA0, dt=dt, t_final=2.0).max_error for dt in (0.01, 0.005)]
    assert 1.9 < errs[0] / errs[1] < 2.1


# -- the sign-gradient flow -------------------------------------------------------------------------
def test_sign_flow_matches_the_lambert_w_closed_form():
    # f = ½(h₁x² + h₂y²): each coordinate obeys x' = −hx/(h|x| + ε), i.e. x + (ε/h)·ln x = K − t,
    # solved by x = c·W(e^{K/c}/c) with c = ε/h
    h = np.array([1.0, 0.2])
    q = hb.Quadratic(np.diag(h))
    eps = 0.1
    t = np.linspace(0.0, 0.6, 7)
    sol = hb.simulate(hb.SignGradientFlow(eps), q, THETA0, (0.0, 0.6), t_eval=t, method="Radau", rtol=1e-11)
    c = eps / h
    K = THETA0 + c * np.log(THETA0)
    exact = c * np.real(lambertw(np.exp((K - t[:, None]) / c) / c))
    np.testing.assert_allclose(sol.theta, exact, rtol=1e-9)


def test_sign_flow_jacobian_and_zero_gradient(rng):
    flow = hb.SignGradientFlow(0.05)
    for problem in (VALLEY, hb.Rosenbrock()):
        y = rng.normal(size=2)
        Jn = numeric_jacobian(lambda z: flow.rhs(0.0, z, problem), y)
        np.testing.assert_allclose(flow.jacobian(0.0, y, problem), Jn, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(hb.SignGradientFlow(0.0).flow(VALLEY, np.zeros(2)), [0.0, 0.0])


def test_fixed_beta_iterates_approach_the_sign_flow_at_order_one_once_lr_is_small():
    lrs = np.array([2e-4, 1e-4, 5e-5])  # 1 − β₂ = 0.01: lr ≪ 1 − β₂
    errs = [hb.compare_sign_flow(VALLEY, THETA0, lr=lr, t_final=0.8, betas=(0.9, 0.99)).final_error for lr in lrs]
    slope = np.polyfit(np.log(lrs), np.log(errs), 1)[0]
    assert 0.9 <= slope <= 1.1, (slope, errs)  # first order in lr/(1 − β₂)
    # lr of the order of 1 − β₂: the moments' window covers the whole run, no convergence yet
    coarse = [hb.compare_sign_flow(VALLEY, THETA0, lr=lr, t_final=0.8, betas=(0.9, 0.999)).final_error
              for lr in (1e-2, 5e-3)]  # fmt: skip
    assert coarse[0] / coarse[1] < 1.3 and min(coarse) > 0.1, coarse


def test_sign_flow_depends_on_the_axes_while_the_heavy_ball_does_not():
    q0 = hb.Quadratic.valley(kappa=10, angle=0.0)
    angle = np.pi / 5
    R = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    q1 = hb.Quadratic.valley(kappa=10, angle=angle)
    np.testing.assert_allclose(q1.A, R @ q0.A @ R.T, atol=1e-14)
    t = np.linspace(0.0, 1.0, 5)
    for ode, rotates in ((hb.SignGradientFlow(1e-8), False), (hb.HeavyBallODE(1.0, 0.5), True)):
        s0 = hb.simulate(ode, q0, THETA0, (0.0, 1.0), t_eval=t, rtol=1e-11)
        s1 = hb.simulate(ode, q1, R @ THETA0, (0.0, 1.0), t_eval=t, rtol=1e-11)
        gap = np.max(np.abs(s1.theta - s0.theta @ R.T))
        assert (gap < 1e-8) if rotates else (gap > 0.05), (ode, gap)


# -- Adam as a heavy ball with friction --------------------------------------------------------------
def test_heavy_ball_parameters_of_adam():
    form = hb.adam_heavy_ball(0.02, (0.8, 0.999), 1e-3, v_hat=[0.25, 4.0])
    assert form.mass == pytest.approx(0.02 / 0.2, rel=1e-14) and form.friction == 1.0
    # the lecture's map μ = 1 − cΔt/m, η = Δt/m with Δt = lr gives back β₁ and 1 − β₁
    assert 1.0 - form.friction * form.dt / form.mass == pytest.approx(0.8, rel=1e-14)
    assert form.dt / form.mass == pytest.approx(0.2, rel=1e-14) == form.eta
    np.testing.assert_allclose(form.preconditioner, [1 / 0.501, 1 / 2.001], rtol=1e-15)


def test_heavy_ball_solution_matches_expm_of_the_preconditioned_system():
    form = hb.adam_heavy_ball(0.01, (0.9, 0.999), 1e-8, v_hat=[1.0, 0.04])
    q = hb.Quadratic([[1.0, 0.3], [0.3, 0.2]])
    t = np.linspace(0.0, 2.0, 5)
    v0 = np.array([0.5, -1.0])
    sol = form.solve(q, THETA0, t, v0=v0)
    P = np.diag(form.preconditioner)
    M = np.block([[np.zeros((2, 2)), np.eye(2)], [-P @ q.A / form.mass, -np.eye(2) / form.mass]])
    ref = np.array([(expm(M * tk) @ np.concatenate([THETA0, v0]))[:2] for tk in t])
    np.testing.assert_allclose(sol.theta, ref, rtol=1e-10, atol=1e-12)
    numeric = form.solve(hb.Objective(q.value, q.grad, 2), THETA0, t, v0=v0)  # simulate on the rescaled problem
    np.testing.assert_allclose(numeric.theta, ref, atol=1e-8)


def test_settled_adam_follows_its_heavy_ball_and_the_gap_shrinks_as_beta2_to_one():
    kw = {"lr": 1e-3, "v_hat": [1.0, 0.01], "t_final": 3.0}
    gaps = [hb.compare_heavy_ball(VALLEY, THETA0, betas=(0.99, b2), **kw).max_error for b2 in (0.999, 0.9999)]
    # b = (1 − β₂)/lr falls tenfold: the drift part of the gap (dominant here) falls ~tenfold
    assert 7.0 < gaps[0] / gaps[1] < 11.0, gaps
    # with v̂ nearly frozen, what is left is the O(lr) of the discretisation: halves with lr
    floor = [
        hb.compare_heavy_ball(VALLEY, THETA0, lr=lr, betas=(1 - 10 * lr, 1 - 1e-3 * lr), v_hat=[1.0, 0.01],
                              t_final=3.0).max_error
        for lr in (1e-3, 5e-4)
    ]  # fmt: skip
    assert 1.8 < floor[0] / floor[1] < 2.2, floor


# -- bad input --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("build", "name"),
    [
        (lambda: hb.AdamODE(0.0, 1.0), "`a`"),
        (lambda: hb.AdamODE(1.0, -1.0), "`b`"),
        (lambda: hb.AdamODE(float("nan"), 1.0), "`a`"),
        (lambda: hb.AdamODE(1.0, 1.0, -1e-8), "`eps`"),
        (lambda: hb.AdamODE(1.0, 1.0, float("nan")), "`eps`"),
        (lambda: hb.AdamODE(1.0, 1.0, weight_decay=-1.0), "`weight_decay`"),
        (lambda: hb.AdamODE(1.0, 1.0, t0=0.0), "`t0`"),
        (lambda: hb.AdamODE.from_adam(0.0, (0.9, 0.999)), "`lr`"),
        (lambda: hb.AdamODE.from_adam(0.01, (1.0, 0.999)), "`betas[0]`"),
        (lambda: hb.AdamODE.from_adam(0.01, (0.9, -0.1)), "`betas[1]`"),
        (lambda: hb.AdamODE.from_adam(0.01, (0.9, float("nan"))), "`betas[1]`"),
        (lambda: hb.AdamODE.from_adam(0.01, 0.9), "`betas`"),
        (lambda: hb.AdamODE(10.0, 1.0).to_adam(0.2), "`lr`"),
        (lambda: hb.AdamODE(1.0, 1.0, 0.0).to_adam(0.01), "`eps`"),
        (lambda: hb.SignGradientFlow(-1.0), "`eps`"),
        (lambda: hb.adam_heavy_ball(0.01, (0.9, 0.999), 0.0, v_hat=[0.0, 1.0]), "`v_hat`"),
        (lambda: hb.adam_heavy_ball(0.01, (0.9, 0.999), v_hat=[-1.0]), "`v_hat`"),
        (lambda: hb.simulate(hb.AdamODE(1.0, 1.0), VALLEY, THETA0, (1.0, 2.0)), "`t_span`"),
        (lambda: hb.simulate(hb.AdamODE(1.0, 1.0), VALLEY, THETA0, (0.0, 2.0), v0=[0.0, 0.0]), "`v0`"),
        (lambda: hb.compare(hb.AdamODE(1.0, 1.0), VALLEY, THETA0, dt=2.0, t_final=4.0), "`lr`"),
    ],
)
def test_bad_input_raises_a_named_error(build, name):
    with pytest.raises((ValueError, TypeError), match=re.escape(name)):
        build()


def test_from_optimizer_refuses_what_has_no_ode():
    with pytest.raises(ValueError, match="amsgrad"):
        hb.AdamODE.from_optimizer(hb.Adam(lr=0.01, amsgrad=True))
    with pytest.raises(TypeError, match="`opt`"):
        hb.AdamODE.from_optimizer(hb.SGD(lr=0.01))
