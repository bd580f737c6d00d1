"""Optimisers: equivalences between the forms, hand-written updates, batching, validation.

Oracles: the update rules written out by hand in this file (torch's documented order), the
change of variables between the physical and torch forms, plain gradient descent written
here, ``Quadratic.with_weight_decay`` (the L2 term in the problem instead of the optimiser),
and the same configurations run one by one. Runs go through the general loop
``heavyball.iterate._iterate_general`` (the fast path, when there is one, is compared with
it in its own tests).

Tolerances: "path-relative" below means ``max_k |a_k − b_k| <= rtol · max_k |b_k|`` over the
whole run (componentwise relative error is meaningless for coordinates crossing zero).
Equivalences that round differently hold to ``rtol = 1e-13`` over 500 steps (measured:
≤ 6e-16); where the operations are the same, equality is exact.
"""

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import heavyball as hb
from heavyball.iterate import _iterate_general
from heavyball.optimizers import AdamState, HeavyBallState, SGDState


def assert_path_close(a, b, rtol):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    assert a.shape == b.shape
    err = np.max(np.abs(a - b))
    assert err <= rtol * np.max(np.abs(b)), f"path-relative error {err / np.max(np.abs(b)):.3g} > {rtol}"


@pytest.fixture
def quad(rng):
    """A rotated 5-D quadratic with curvatures in [0.05, 1], a non-zero b and a start."""
    d = 5
    Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    q = hb.Quadratic.from_eigenvalues(np.linspace(0.05, 1.0, d), rotation=Q, b=rng.standard_normal(d))
    return q, rng.standard_normal(d)


def diagonal(h, b):
    """f = Σ ½hᵢθᵢ² − bᵢθᵢ with an elementwise gradient: each row of a batch is computed
    independently of the others (a BLAS matrix product may round a row differently depending
    on how many rows it is given, which would blur a bit-for-bit batching test)."""
    h, b = np.asarray(h, float), np.asarray(b, float)

    def value(t):
        return np.sum(0.5 * h * t * t - b * t, axis=-1)

    def grad(t):
        return h.astype(t.dtype) * t - b.astype(t.dtype)

    return hb.Objective(value, grad, len(h), minimizer=b / h, name="diagonal")


# ---------------------------------------------------------------------------------------
# equivalences
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("eta, mu, dt", [(0.5, 0.9, 0.3), (1.0, 0.5, 1.0), (0.2, 0.95, 2.0), (0.7, 0.8, 0.7)])
def test_sgd_with_lr_eta_dt_is_the_heavy_ball(quad, eta, mu, dt):
    q, theta0 = quad
    sgd = _iterate_general(hb.SGD(lr=eta * dt, momentum=mu), q, theta0, 500).theta
    ball = _iterate_general(hb.HeavyBall(eta=eta, mu=mu, dt=dt), q, theta0, 500).theta
    assert_path_close(sgd, ball, rtol=1e-13)
    assert np.linalg.norm(sgd[-1] - q.minimizer) < 1e-3 * np.linalg.norm(theta0 - q.minimizer)  # it moved


@pytest.mark.parametrize("eta, mu, dt", [(0.5, 0.9, 0.3), (1.0, 0.5, 1.0), (0.2, 0.95, 2.0)])
def test_torch_nesterov_is_the_lookahead_form_in_shifted_variables(quad, eta, mu, dt):
    """SGD(lr=ηΔt, momentum=μ, nesterov=True) runs on y_k = θ_k + Δt·μ·v_k of the look-ahead form."""
    q, theta0 = quad
    torch_form = _iterate_general(hb.SGD(lr=eta * dt, momentum=mu, nesterov=True), q, theta0, 500).theta
    opt = hb.NesterovLookahead(eta=eta, mu=mu, dt=dt)
    theta, state = theta0.copy(), opt.init(theta0)
    ys = [theta0.copy()]
    for _ in range(500):
        y = theta + dt * mu * state.v  # the look-ahead point, written here
        theta, state = opt.step(theta, q.grad(y), state)
        ys.append(theta + dt * mu * state.v)
    assert_path_close(torch_form, np.array(ys), rtol=1e-13)


@pytest.mark.parametrize("lr", [0.1, 1.0, 1.9])
def test_sgd_without_momentum_is_plain_gradient_descent(quad, lr):
    q, theta0 = quad
    path = _iterate_general(hb.SGD(lr=lr), q, theta0, 500).theta
    A, b = np.array(q.A), np.array(q.b)
    theta, expected = theta0.copy(), [theta0.copy()]
    for _ in range(500):  # θ ← θ − γ(Aθ − b), written here
        theta = theta - lr * (A.dot(theta) - b)
        expected.append(theta)
    assert_path_close(path, np.array(expected), rtol=1e-13)


@pytest.mark.parametrize("lam", [0.1, 0.5])
@pytest.mark.parametrize(
    "kw", [dict(momentum=0.9), dict(momentum=0.9, nesterov=True), dict(momentum=0.5, dampening=0.3), {}]
)
def test_weight_decay_is_plain_sgd_on_the_regularised_quadratic(quad, lam, kw):
    q, theta0 = quad
    decayed = _iterate_general(hb.SGD(lr=0.3, weight_decay=lam, **kw), q, theta0, 500).theta
    plain = _iterate_general(hb.SGD(lr=0.3, **kw), q.with_weight_decay(lam), theta0, 500).theta
    assert_path_close(decayed, plain, rtol=1e-13)


BATCHES = {
    "SGD": (
        hb.SGD,
        dict(
            lr=[1e-3, 5e-3, 2e-3, 4e-2, 1e-3],
            momentum=[0.9, 0.0, 0.5, 0.9, 0.7],
            dampening=[0.0, 0.5, 0.3, 0.0, 0.1],
            weight_decay=[0.0, 0.1, 0.0, 0.2, 0.05],
        ),
    ),
    "SGD-nesterov": (hb.SGD, dict(lr=[1e-3, 5e-3, 3e-2], momentum=[0.9, 0.5, 0.99], nesterov=True)),
    "SGD-maximize": (hb.SGD, dict(lr=[1e-4, 1e-3], momentum=[0.5, 0.0], weight_decay=[0.1, 0.0], maximize=True)),
    "Adam": (
        hb.Adam,
        dict(
            lr=[1e-2, 3e-2, 1e-3, 5e-1],
            betas=([0.9, 0.3, 0.8, 0.95], [0.999, 0.9, 0.99, 0.5]),
            eps=[1e-8, 1e-6, 1e-3, 1e-8],
            weight_decay=[0.0, 0.1, 0.0, 0.3],
            amsgrad=True,
        ),
    ),
    "AdamW": (hb.AdamW, dict(lr=[1e-2, 3e-2, 1e-3], weight_decay=[0.0, 0.1, 0.5], maximize=True)),
    "HeavyBall": (hb.HeavyBall, dict(eta=[1e-3, 4e-3, 1e-2, 1e-3], mu=[0.9, 0.5, 0.9, -0.5], dt=[1.0, 0.5, 2.0, 1.0])),
    "NesterovLookahead": (hb.NesterovLookahead, dict(eta=[1e-3, 4e-3, 1e-2], mu=[0.9, 0.5, 0.95], dt=[1.0, 0.5, 1.5])),
}


def _split(kwargs):
    """Array kwargs ``(B, 1)`` for the batch, and the list of scalar kwargs per configuration."""
    n = max(len(v) for v in kwargs.values() if isinstance(v, list))
    batched, single = {}, [{} for _ in range(n)]
    for name, value in kwargs.items():
        if name == "betas":
            batched[name] = tuple(np.array(v)[:, None] for v in value)
            for i in range(n):
                single[i][name] = (value[0][i], value[1][i])
        elif isinstance(value, list):
            batched[name] = np.array(value)[:, None]
            for i in range(n):
                single[i][name] = value[i]
        else:
            batched[name] = value
            for i in range(n):
                single[i][name] = value
    return batched, single


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", list(BATCHES))
@pytest.mark.parametrize("problem", ["rosenbrock", "diagonal"])
def test_batched_run_equals_one_by_one_bit_for_bit(rng, name, dtype, problem):
    cls, kwargs = BATCHES[name]
    batched, single = _split(kwargs)
    n = len(single)
    if problem == "rosenbrock":
        f = hb.Rosenbrock()
        theta0 = (np.array([-1.2, 1.0]) + 0.3 * rng.standard_normal((n, 2))).astype(dtype)
    else:
        f = diagonal([0.1, 1.0, 3.0], [1.0, -2.0, 0.5])
        theta0 = rng.standard_normal((n, 3)).astype(dtype)
    tr = _iterate_general(cls(**batched), f, theta0, 300)
    assert tr.theta.dtype == dtype
    for i in range(n):
        one = _iterate_general(cls(**single[i]), f, theta0[i], 300)
        np.testing.assert_array_equal(tr.theta[:, i], one.theta)
        np.testing.assert_array_equal(tr.loss[:, i], one.loss)
        assert tr.status[i] == one.status and tr.diverged_at[i] == one.diverged_at


def test_batched_schedules_equal_one_by_one_bit_for_bit(rng):
    """A schedule returning one lr per configuration equals scalar schedules run one by one.
    (A schedule cannot define the batch: theta0 or the array hyperparameters do.)"""
    base = np.array([1e-3, 3e-3, 2e-2])
    f = diagonal([0.5, 2.0], [1.0, 1.0])
    theta0 = rng.standard_normal((3, 2))
    tr = _iterate_general(hb.SGD(lr=lambda k: base[:, None] * 0.99**k, momentum=0.9), f, theta0, 200)
    for i, b in enumerate(base):
        one = _iterate_general(hb.SGD(lr=lambda k, b=b: b * 0.99**k, momentum=0.9), f, theta0[i], 200)
        np.testing.assert_array_equal(tr.theta[:, i], one.theta)


# ---------------------------------------------------------------------------------------
# single steps against the update rules written out here
# ---------------------------------------------------------------------------------------
def test_first_sgd_step_sets_the_buffer_to_the_gradient_without_dampening():
    opt = hb.SGD(lr=0.1, momentum=0.9, dampening=0.5)
    theta, state = np.array([0.0]), opt.init(np.array([0.0]))
    theta, state = opt.step(theta, np.array([2.0]), state)
    assert state.momentum_buffer[0] == 2.0 and theta[0] == -0.2  # b₁ = g₁, not (1 − τ)g₁
    theta, state = opt.step(theta, np.array([4.0]), state)
    assert state.momentum_buffer[0] == pytest.approx(0.9 * 2.0 + 0.5 * 4.0, abs=1e-15)
    assert theta[0] == pytest.approx(-0.2 - 0.1 * 3.8, abs=1e-15)


def test_zero_momentum_in_a_batch_keeps_no_buffer_as_torch_does():
    """Where an array momentum is 0, torch keeps no buffer: the step is −lr·g even with
    dampening (a buffer would give −lr·(1 − τ)g)."""
    opt = hb.SGD(lr=0.1, momentum=np.array([[0.0], [0.9]]), dampening=0.5)
    theta, state = np.zeros(1), opt.init(np.zeros(1))
    for g in (1.0, 3.0):
        theta, state = opt.step(theta, np.array([g]), state)
    assert theta[0, 0] == pytest.approx(-0.1 * 1.0 - 0.1 * 3.0, abs=1e-15)
    assert theta[1, 0] == pytest.approx(-0.1 * 1.0 - 0.1 * (0.9 * 1.0 + 0.5 * 3.0), abs=1e-15)


finite = dict(allow_nan=False, allow_infinity=False)


@settings(max_examples=50)
@given(
    lr=st.floats(0.0, 2.0, **finite), momentum=st.floats(0.0, 0.99, **finite), dampening=st.floats(0.0, 1.0, **finite),
    weight_decay=st.floats(0.0, 1.0, **finite), nesterov=st.booleans(), maximize=st.booleans(),
    seed=st.integers(0, 2**32 - 1), step=st.integers(0, 5),
)  # fmt: skip
def test_sgd_step_is_torchs_rule_written_by_hand(lr, momentum, dampening, weight_decay, nesterov, maximize, seed, step):
    if nesterov and (momentum == 0 or dampening != 0):
        dampening, momentum = 0.0, max(momentum, 0.5)
    rng = np.random.default_rng(seed)
    theta, grad, buf = rng.standard_normal((3, 4))
    opt = hb.SGD(
        lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay, nesterov=nesterov, maximize=maximize
    )
    state = SGDState(step, buf.copy() if momentum != 0 else None)
    new_theta, new_state = opt.step(theta, grad, state)
    # torch's _single_tensor_sgd, operation by operation
    g = -grad if maximize else grad
    if weight_decay != 0:
        g = g + weight_decay * theta
    if momentum != 0:
        b = g.copy() if step == 0 else buf * momentum + (1 - dampening) * g
        d = g + momentum * b if nesterov else b
        np.testing.assert_array_equal(new_state.momentum_buffer, b)
    else:
        d = g
        assert new_state.momentum_buffer is None
    np.testing.assert_array_equal(new_theta, theta - lr * d)
    assert new_state.step == step + 1


@settings(max_examples=50)
@given(
    lr=st.floats(1e-4, 1.0, **finite), beta1=st.floats(0.0, 0.99, **finite), beta2=st.floats(0.0, 0.9999, **finite),
    eps=st.floats(1e-10, 1e-2, **finite), weight_decay=st.floats(0.0, 0.5, **finite), amsgrad=st.booleans(),
    maximize=st.booleans(), decoupled=st.booleans(), seed=st.integers(0, 2**32 - 1), step=st.integers(0, 50),
)  # fmt: skip
def test_adam_step_is_the_textbook_rule(lr, beta1, beta2, eps, weight_decay, amsgrad, maximize, decoupled, seed, step):
    """One Adam/AdamW step against Kingma & Ba's rule written here (lerp as m + (1−β1)(g − m));
    the rounding order differs from torch's in places (lerp's branch for β1 < 0.5, the
    bias-corrected step size), so rtol = 1e-13 on the new θ and moments."""
    rng = np.random.default_rng(seed)
    theta, grad, m = rng.standard_normal((3, 4))
    v = rng.random(4)
    vmax = v + rng.random(4) if amsgrad else None
    cls = hb.AdamW if decoupled else hb.Adam
    opt = cls(lr=lr, betas=(beta1, beta2), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize)
    new_theta, new_state = opt.step(
        theta, grad, AdamState(step, m.copy(), v.copy(), None if vmax is None else vmax.copy())
    )
    t = step + 1
    g = -grad if maximize else grad
    th = theta.copy()
    if decoupled:
        th = th * (1 - lr * weight_decay)
    else:
        g = g + weight_decay * theta
    m1 = m + (1 - beta1) * (g - m)
    v1 = beta2 * v + (1 - beta2) * g * g
    vhat = np.maximum(vmax, v1) if amsgrad else v1
    expected = th - lr / (1 - beta1**t) * m1 / (np.sqrt(vhat) / math.sqrt(1 - beta2**t) + eps)
    np.testing.assert_allclose(new_state.exp_avg, m1, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(new_state.exp_avg_sq, v1, rtol=1e-13, atol=1e-300)
    np.testing.assert_allclose(new_theta, expected, rtol=1e-13, atol=1e-13 * np.max(np.abs(expected)))
    if amsgrad:
        np.testing.assert_allclose(new_state.max_exp_avg_sq, vhat, rtol=1e-13)


def test_heavy_ball_and_lookahead_steps_by_hand():
    theta, v, g = np.array([1.0, -2.0]), np.array([0.5, 0.25]), np.array([3.0, 1.0])
    for cls in (hb.HeavyBall, hb.NesterovLookahead):
        opt = cls(eta=0.2, mu=0.75, dt=0.5)
        new_theta, state = opt.step(theta, g, HeavyBallState(3, v))
        v1 = 0.75 * v - 0.2 * g
        np.testing.assert_array_equal(state.v, v1)
        np.testing.assert_array_equal(new_theta, theta + 0.5 * v1)
        assert state.step == 4
    np.testing.assert_array_equal(hb.HeavyBall(0.2, 0.75, 0.5).grad_point(theta, HeavyBallState(0, v)), theta)
    np.testing.assert_allclose(hb.NesterovLookahead(0.2, 0.75, 0.5).grad_point(theta, HeavyBallState(0, v)),
                               theta + 0.5 * 0.75 * v, rtol=1e-16)  # fmt: skip


def test_adam_first_step_moves_each_coordinate_by_lr():
    """Kingma & Ba: with m₀ = v₀ = 0 the bias-corrected first step is lr·g/(|g| + ε') ≈ lr·sign(g)."""
    opt = hb.Adam(lr=0.1, eps=1e-12)
    theta, _ = opt.step(np.zeros(3), np.array([5.0, -1e-3, 2.0]), opt.init(np.zeros(3)))
    np.testing.assert_allclose(theta, [-0.1, 0.1, -0.1], rtol=1e-8)


def test_adamw_decays_before_the_adam_update_and_adam_couples_it():
    zero = np.zeros(1)
    theta, _ = hb.AdamW(lr=0.1, weight_decay=0.5).step(np.array([2.0]), zero, hb.AdamW().init(zero))
    assert theta[0] == pytest.approx(2.0 * (1 - 0.05), abs=1e-15)  # m = 0: only the decay acts
    theta, _ = hb.Adam(lr=0.1, weight_decay=0.5).step(np.array([2.0]), zero, hb.Adam().init(zero))
    assert theta[0] == pytest.approx(2.0 - 0.1, rel=1e-7)  # g = λθ = 1 ⇒ a first Adam step of −lr


# ---------------------------------------------------------------------------------------
# the pure pair: shapes, dtypes, no mutation
# ---------------------------------------------------------------------------------------
ALL = [
    hb.SGD(lr=0.1, momentum=0.9, weight_decay=0.1, maximize=True),
    hb.SGD(lr=0.1),
    hb.Adam(lr=0.1, amsgrad=True, weight_decay=0.1),
    hb.AdamW(lr=0.1),
    hb.HeavyBall(eta=0.1, mu=0.9, dt=0.5),
    hb.NesterovLookahead(eta=0.1, mu=0.9),
]


@pytest.mark.parametrize("opt", ALL, ids=lambda o: o.label)
def test_step_never_mutates_its_inputs(rng, opt):
    theta = rng.standard_normal((3, 4))
    state = opt.init(theta)
    for _ in range(2):  # second step: the state has non-trivial arrays
        grad = rng.standard_normal((3, 4))
        copies = [theta.copy(), grad.copy()] + [None if a is None else np.copy(a) for a in state[1:]]
        new_theta, new_state = opt.step(theta, grad, state)
        np.testing.assert_array_equal(theta, copies[0])
        np.testing.assert_array_equal(grad, copies[1])
        for a, c in zip(state[1:], copies[2:], strict=False):
            if a is not None:
                np.testing.assert_array_equal(a, c)
                assert not any(np.shares_memory(a, b) for b in new_state[1:] if b is not None)
        assert not np.shares_memory(new_theta, theta)
        theta, state = new_theta, new_state


@pytest.mark.parametrize("opt", ALL, ids=lambda o: o.label)
def test_float32_stays_float32(opt):
    theta = np.array([1.0, -2.0], np.float32)
    state = opt.init(theta)
    for _ in range(3):
        theta, state = opt.step(theta, 0.5 * opt.grad_point(theta, state), state)
    assert theta.dtype == np.float32
    assert all(a.dtype == np.float32 for a in state[1:] if a is not None)


def test_array_hyperparameters_broadcast_and_define_the_state_shape():
    opt = hb.SGD(lr=np.array([[0.1], [0.2], [0.3]]), momentum=0.9)
    state = opt.init(np.zeros(2))
    assert state.momentum_buffer.shape == (3, 2)
    theta, state = opt.step(np.ones(2), np.ones(2), state)
    np.testing.assert_allclose(theta[:, 0], [0.9, 0.8, 0.7], rtol=1e-15)
    assert hb.SGD(lr=0.1).init(np.zeros(2)).momentum_buffer is None  # torch: no buffer at μ = 0
    assert hb.Adam().init(np.zeros(2)).max_exp_avg_sq is None
    assert hb.Adam(amsgrad=True).init(np.zeros((4, 2))).max_exp_avg_sq.shape == (4, 2)
    assert hb.HeavyBall(eta=np.ones((2, 3, 1)), mu=0.5).init(np.zeros(2)).v.shape == (2, 3, 2)


# ---------------------------------------------------------------------------------------
# bad input: a ValueError (or TypeError) naming the argument
# ---------------------------------------------------------------------------------------
BAD = [
    (hb.SGD, dict(lr=-0.1), "lr"),
    (hb.SGD, dict(lr=float("nan")), "lr"),
    (hb.SGD, dict(lr=np.array([0.1, -0.1])), "lr"),
    (hb.SGD, dict(lr=0.1, momentum=-0.1), "momentum"),
    (hb.SGD, dict(lr=0.1, momentum=1.0), "momentum"),  # torch accepts μ >= 1; heavyball does not
    (hb.SGD, dict(lr=0.1, momentum=1.5), "momentum"),
    (hb.SGD, dict(lr=0.1, momentum=float("nan")), "momentum"),
    (hb.SGD, dict(lr=0.1, momentum=0.5, dampening=-0.1), "dampening"),
    (hb.SGD, dict(lr=0.1, momentum=0.5, dampening=1.5), "dampening"),
    (hb.SGD, dict(lr=0.1, weight_decay=-1e-3), "weight_decay"),
    (hb.SGD, dict(lr=0.1, weight_decay=float("nan")), "weight_decay"),
    (hb.SGD, dict(lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "dampening"),
    (hb.SGD, dict(lr=0.1, momentum=0.0, nesterov=True), "momentum"),
    (hb.SGD, dict(lr=0.1, momentum=np.array([0.9, 0.0]), nesterov=True), "momentum"),
    (hb.SGD, dict(lr=np.ones((3, 1)), momentum=np.full((4, 1), 0.5)), "momentum"),  # shapes
    (hb.Adam, dict(lr=-1.0), "lr"),
    (hb.Adam, dict(betas=(1.0, 0.999)), "betas"),
    (hb.Adam, dict(betas=(0.9, 1.0)), "betas"),
    (hb.Adam, dict(betas=(-0.1, 0.999)), "betas"),
    (hb.Adam, dict(betas=(float("nan"), 0.999)), "betas"),
    (hb.Adam, dict(betas=(0.9,)), "betas"),
    (hb.Adam, dict(betas=0.9), "betas"),
    (hb.Adam, dict(eps=0.0), "eps"),  # torch accepts ε = 0; heavyball does not
    (hb.Adam, dict(eps=-1e-8), "eps"),
    (hb.Adam, dict(eps=float("nan")), "eps"),
    (hb.Adam, dict(weight_decay=-0.1), "weight_decay"),
    (hb.AdamW, dict(weight_decay=-0.1), "weight_decay"),
    (hb.AdamW, dict(betas=(0.9, 1.5)), "betas"),
    (hb.Adam, dict(lr=np.ones((3, 1)), betas=(np.full((2, 1), 0.9), 0.999)), "betas"),
    (hb.HeavyBall, dict(eta=-0.1, mu=0.9), "eta"),
    (hb.HeavyBall, dict(eta=0.1, mu=float("nan")), "mu"),
    (hb.HeavyBall, dict(eta=0.1, mu=0.9, dt=0.0), "dt"),
    (hb.NesterovLookahead, dict(eta=0.1, mu=0.9, dt=-1.0), "dt"),
    (hb.NesterovLookahead, dict(eta=float("inf"), mu=0.9), "eta"),
]


@pytest.mark.parametrize("cls, kwargs, name", BAD, ids=[f"{c.__name__}-{n}-{i}" for i, (c, _, n) in enumerate(BAD)])
def test_bad_hyperparameters_raise_naming_the_argument(cls, kwargs, name):
    with pytest.raises(ValueError, match=f"`{name}"):
        cls(**kwargs)


def test_non_numeric_hyperparameters_and_flags_are_type_errors():
    with pytest.raises(TypeError, match="`lr`"):
        hb.SGD(lr="0.1")
    with pytest.raises(TypeError, match="`nesterov`"):
        hb.SGD(lr=0.1, momentum=0.9, nesterov=1)
    with pytest.raises(TypeError, match="`amsgrad`"):
        hb.Adam(amsgrad="yes")


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf"), np.array([0.1, -0.2])])
def test_a_schedule_returning_a_bad_lr_raises_at_that_step(bad):
    opt = hb.SGD(lr=lambda k: 0.1 if k < 3 else bad, momentum=0.5)
    theta, state = np.zeros(2), opt.init(np.zeros(2))
    for _ in range(3):
        theta, state = opt.step(theta, np.ones(2), state)
    with pytest.raises(ValueError, match=r"`lr`.*k=3"):
        opt.step(theta, np.ones(2), state)
    with pytest.raises(ValueError, match=r"`eta`.*k=0"):
        eta_opt = hb.HeavyBall(eta=lambda k: bad, mu=0.5)
        eta_opt.step(np.zeros(2), np.ones(2), eta_opt.init(np.zeros(2)))


def test_shapes_that_do_not_broadcast_raise_naming_the_arguments():
    opt = hb.SGD(lr=np.full((3, 1), 0.1), momentum=0.9)
    with pytest.raises(ValueError, match="`theta`"):
        opt.init(np.zeros((4, 2)))
    state = opt.init(np.zeros(2))
    with pytest.raises(ValueError, match="`grad`"):
        opt.step(np.zeros(2), np.zeros(5), state)
    with pytest.raises(TypeError, match="`state`"):
        opt.step(np.zeros(2), np.zeros(2), hb.Adam().init(np.zeros(2)))
    with pytest.raises(ValueError, match="`state.momentum_buffer`"):  # a state made for μ = 0
        opt.step(np.zeros(2), np.zeros(2), hb.SGD(lr=0.1).init(np.zeros(2)))
    with pytest.raises(ValueError, match="`state.max_exp_avg_sq`"):
        hb.Adam(amsgrad=True).step(np.zeros(2), np.zeros(2), hb.Adam().init(np.zeros(2)))
    with pytest.raises(ValueError, match="`state.step`"):
        opt.step(np.zeros(2), np.zeros(2), SGDState(-1, np.zeros(2)))


# ---------------------------------------------------------------------------------------
# dataclass behaviour: frozen, equality, hashing, printing
# ---------------------------------------------------------------------------------------
def test_optimisers_are_frozen_and_compare_by_value():
    lrs = np.array([[0.1], [0.2]])
    a, b = hb.SGD(lr=lrs, momentum=0.9), hb.SGD(lr=lrs.copy(), momentum=0.9)
    assert a == b and hash(a) == hash(b)
    assert a != hb.SGD(lr=np.array([[0.1], [0.3]]), momentum=0.9)
    assert hb.Adam() != hb.AdamW(weight_decay=0.0) and hb.Adam() == hb.Adam()
    assert hb.HeavyBall(0.1, 0.9) != hb.NesterovLookahead(0.1, 0.9)
    assert not isinstance(hb.NesterovLookahead(0.1, 0.9), hb.HeavyBall)
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.lr = 0.5
    with pytest.raises(ValueError):
        a.lr[0, 0] = 1.0  # stored arrays are read-only copies
    lrs[0, 0] = 9.0
    assert a.lr[0, 0] == 0.1
    assert dataclasses.replace(hb.SGD(lr=0.1), momentum=0.5) == hb.SGD(lr=0.1, momentum=0.5)
    assert [f.name for f in dataclasses.fields(hb.Adam)] == [
        "lr",
        "betas",
        "eps",
        "weight_decay",
        "amsgrad",
        "maximize",
    ]
    assert [f.name for f in dataclasses.fields(hb.NesterovLookahead)] == ["eta", "mu", "dt"]


def test_repr_and_label():
    assert repr(hb.SGD(lr=0.1, momentum=0.9)) == (
        "SGD(lr=0.1, momentum=0.9, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False)"
    )
    assert hb.SGD(lr=0.1, momentum=0.9).label == "SGD(lr=0.1, momentum=0.9)"
    assert hb.Adam().label == "Adam(lr=0.001)"
    assert hb.AdamW(amsgrad=True).label == "AdamW(lr=0.001, amsgrad=True)"
    assert hb.HeavyBall(eta=0.5, mu=0.9).label == "HeavyBall(eta=0.5, mu=0.9)"
    big = hb.SGD(lr=np.linspace(0.01, 1.0, 1000)[:, None])
    assert "shape=(1000, 1)" in repr(big) and len(repr(big)) < 200
    assert big.label == "SGD(lr=[0.01…1])"

    def warmup(k):
        return 0.1

    assert hb.SGD(lr=warmup).label == "SGD(lr=warmup())"


@pytest.mark.parametrize(
    "build, name",
    [
        (lambda f: hb.SGD(lr=f), "lr"),
        (lambda f: hb.Adam(lr=f), "lr"),
        (lambda f: hb.HeavyBall(eta=f, mu=0.5), "eta"),
        (lambda f: hb.NesterovLookahead(eta=f, mu=0.5), "eta"),
    ],
)
def test_a_schedule_must_take_the_step_count_and_return_a_number(build, name):
    # a class is callable but is not a schedule: once accepted, it failed at the first step
    # with "object() takes no arguments", naming nothing
    for bad, error in (
        (object, TypeError),
        (lambda: 0.1, TypeError),  # takes no step count
        (lambda k, j: 0.1, TypeError),  # needs two arguments
        (lambda k: "0.1", TypeError),  # returns text
        (lambda k: 1 / k, TypeError),  # cannot be evaluated at k = 0
        (lambda k: -0.1, ValueError),  # a negative rate
    ):
        with pytest.raises(error, match=f"`{name}`"):
            build(bad)
    calls = []
    opt = build(lambda k: calls.append(k) or 0.1 * 0.5**k)  # a schedule: accepted, called once at k = 0
    assert calls == [0]
    theta = np.array([1.0, -1.0])
    state = opt.init(theta)
    for _ in range(3):
        theta, state = opt.step(theta, theta, state)
    assert calls == [0, 0, 1, 2]  # then read at every step, as torch reads its param group
