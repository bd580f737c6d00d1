"""iterate(): recording, batching, divergence, convergence, memory budget, the fast-path hook.

Oracles: the pure ``init``/``step`` pair driven by a loop written here (iterate must give the
same iterates bit for bit), the problems' own ``value`` and a norm computed here, the
documented divergence bound ``1e8·(1 + ‖θ₀‖ + ‖θ*‖)`` evaluated here, and sums written out by
hand for schedules. Runs go through the general loop unless the test is about ``iterate``'s
dispatch; the fast path is compared with the general loop in its own tests.
"""

import importlib
import sys

import numpy as np
import pytest

import heavyball as hb

iterate_module = importlib.import_module("heavyball.iterate")  # the package attribute `iterate` is the function
from heavyball._run import make_trajectory, prepare
from heavyball.iterate import DIVERGENCE_FACTOR, MEMORY_BUDGET, _iterate_general
from heavyball.status import Status


def loop(opt, problem, theta0, steps):
    """Iterates of the pure pair, written here: θ_{k+1}, s = step(θ_k, ∇f(grad_point), s)."""
    theta = np.asarray(theta0)
    state = opt.init(theta)
    out = [np.broadcast_to(theta, state[1].shape if state[1] is not None else theta.shape).copy()]
    for _ in range(steps):
        theta, state = opt.step(theta, problem.grad(opt.grad_point(theta, state)), state)
        out.append(theta)
    return np.array(out)


@pytest.fixture
def valley():
    return hb.Quadratic.from_eigenvalues([0.1, 1.0], rotation=[[0.6, -0.8], [0.8, 0.6]], b=[1.0, -0.5])


OPTS = [
    hb.SGD(lr=0.5, momentum=0.9),
    hb.SGD(lr=0.5, momentum=0.5, dampening=0.2, weight_decay=0.01),
    hb.SGD(lr=0.5, momentum=0.9, nesterov=True),
    hb.Adam(lr=0.05, amsgrad=True),
    hb.AdamW(lr=0.05),
    hb.HeavyBall(eta=0.5, mu=0.9, dt=0.8),
    hb.NesterovLookahead(eta=0.5, mu=0.9, dt=0.8),
]


@pytest.mark.parametrize("opt", OPTS, ids=lambda o: o.label)
def test_iterate_records_what_the_pure_pair_computes_bit_for_bit(valley, opt):
    theta0 = np.array([2.0, -1.0])
    tr = _iterate_general(opt, valley, theta0, 60)
    expected = loop(opt, valley, theta0, 60)
    np.testing.assert_array_equal(tr.theta, expected)
    # value() is a BLAS product whose rounding may depend on the number of rows: 1e-15
    np.testing.assert_allclose(tr.loss, valley.value(expected), rtol=1e-15, atol=1e-15)
    np.testing.assert_allclose(tr.distance, np.linalg.norm(expected - valley.minimizer, axis=-1), rtol=1e-15)
    np.testing.assert_array_equal(tr.steps, np.arange(61))
    assert tr.status in ("converged", "max_steps") and tr.success is True and tr.diverged_at == -1
    assert tr.method is opt and tr.problem is valley


def test_public_iterate_runs_and_is_callable_after_a_submodule_import(valley):
    assert "heavyball.iterate" in sys.modules  # imported above, as a submodule
    tr = hb.iterate(hb.SGD(lr=0.5, momentum=0.5), valley, [2.0, -1.0], 200)
    assert tr.status == "converged"
    np.testing.assert_allclose(tr.theta[-1], valley.minimizer, rtol=1e-8)


def test_record_modes_and_every(valley):
    opt, theta0 = hb.SGD(lr=0.5, momentum=0.9, dampening=0.1), np.zeros((3, 2))
    full = _iterate_general(opt, valley, theta0, 10)
    assert full.theta.shape == (11, 3, 2) and full.loss.shape == (11, 3) and full.distance.shape == (11, 3)
    strided = _iterate_general(opt, valley, theta0, 10, every=3)
    np.testing.assert_array_equal(strided.steps, [0, 3, 6, 9, 10])  # the last step is always recorded
    np.testing.assert_array_equal(strided.theta, full.theta[[0, 3, 6, 9, 10]])
    loss = _iterate_general(opt, valley, theta0, 10, record="loss", every=4)
    assert loss.theta.shape == (1, 3, 2)
    np.testing.assert_array_equal(loss.theta[0], full.theta[-1])
    np.testing.assert_array_equal(loss.steps, [0, 4, 8, 10])
    np.testing.assert_array_equal(loss.loss, full.loss[[0, 4, 8, 10]])
    np.testing.assert_array_equal(loss.distance, full.distance[[0, 4, 8, 10]])
    final = _iterate_general(opt, valley, theta0, 10, record="final", every=4)
    assert final.theta.shape == (1, 3, 2) and final.loss.shape == (1, 3) and final.distance.shape == (1, 3)
    np.testing.assert_array_equal(final.steps, [10])
    np.testing.assert_array_equal(final.loss[0], full.loss[-1])
    np.testing.assert_array_equal(final.final, full.theta[-1])
    assert list(final.status) == list(full.status)


def test_zero_steps_and_empty_batches(valley):
    tr = _iterate_general(hb.SGD(lr=0.1), valley, [1.0, 2.0], 0)
    np.testing.assert_array_equal(tr.theta, [[1.0, 2.0]])
    np.testing.assert_array_equal(tr.steps, [0])
    assert tr.status == "max_steps"  # nothing moved (θ₀ is not the minimiser)
    empty = _iterate_general(hb.Adam(), valley, np.zeros((0, 2)), 5)
    assert empty.theta.shape == (6, 0, 2) and empty.loss.shape == (6, 0) and empty.status.shape == (0,)
    assert "0 configurations" in empty.message
    by_lr = _iterate_general(hb.SGD(lr=np.zeros((0, 1))), valley, [1.0, 2.0], 3, record="final")
    assert by_lr.theta.shape == (1, 0, 2)
    at_min = _iterate_general(hb.SGD(lr=0.1), valley, valley.minimizer, 0)
    assert at_min.status == "converged"  # distance 0 <= tol·0


def test_hyperparameter_arrays_define_the_batch(valley):
    lrs, moms = np.array([0.1, 0.5, 1.0]), np.array([0.0, 0.5])
    opt = hb.SGD(lr=lrs[:, None, None], momentum=moms[None, :, None])
    tr = _iterate_general(opt, valley, [2.0, -1.0], 20)
    assert tr.theta.shape == (21, 3, 2, 2) and tr.status.shape == (3, 2) and tr.diverged_at.shape == (3, 2)
    for i, lr in enumerate(lrs):
        for j, mom in enumerate(moms):
            one = _iterate_general(hb.SGD(lr=lr, momentum=mom), valley, [2.0, -1.0], 20)
            # Quadratic.grad is a BLAS product that may round a row differently in a batch
            np.testing.assert_allclose(tr.theta[:, i, j], one.theta, rtol=1e-14, atol=1e-15)
    with pytest.raises(ValueError, match="`theta0`.*`lr`"):
        _iterate_general(hb.SGD(lr=np.ones((3, 1))), valley, np.zeros((5, 2)), 3)
    with pytest.raises(ValueError, match="last axis"):
        _iterate_general(hb.SGD(lr=np.ones((1, 3))), hb.Objective(np.sum, np.ones_like, 1), np.zeros(1), 3)


def test_float32_stays_float32_end_to_end(valley):
    for opt in OPTS:
        tr = _iterate_general(opt, valley, np.array([2.0, -1.0], np.float32), 20)
        assert tr.theta.dtype == tr.loss.dtype == tr.distance.dtype == np.float32
        np.testing.assert_array_equal(tr.theta, loop(opt, valley, np.array([2.0, -1.0], np.float32), 20))
    assert _iterate_general(OPTS[0], valley, [2, -1], 1).theta.dtype == np.float64  # integers: float64


def _first_past_bound(path, theta0, star):
    bound = DIVERGENCE_FACTOR * (1 + np.linalg.norm(theta0) + np.linalg.norm(star))
    with np.errstate(all="ignore"):
        norms = np.linalg.norm(path, axis=-1)
    past = ~(norms <= bound)
    return int(np.argmax(past)) if past.any() else -1


@pytest.mark.parametrize("lr", [3.5, 100.0, 1e200])
def test_divergence_is_a_status_at_the_documented_bound_without_warnings(valley, lr):
    theta0 = np.array([2.0, -1.0])
    opt = hb.SGD(lr=lr, momentum=0.5)  # lr·h_max > 2 + 2μ = 3: unstable
    tr = _iterate_general(opt, valley, theta0, 400)  # warnings are errors under pytest
    with np.errstate(all="ignore"):
        path = loop(opt, valley, theta0, 400)
    k = _first_past_bound(path, theta0, valley.minimizer)
    assert k > 0
    assert tr.status == "diverged" and tr.diverged_at == k and tr.success is False
    np.testing.assert_array_equal(tr.theta[:k], path[:k])
    assert np.all(np.isnan(tr.theta[k:])) and np.all(np.isnan(tr.loss[k:])) and np.all(np.isnan(tr.distance[k:]))
    assert f"diverged at step {k}" in tr.message
    assert hb.iterate(opt, valley, theta0, 400, record="final").status == "diverged"


def test_diverging_configurations_leave_the_others_untouched():
    """Rows that diverge are dropped from the working arrays; the others go on bit for bit.
    (An elementwise gradient, so that a row is computed the same way in any batch.)"""
    h, b = np.array([0.1, 1.0]), np.array([1.0, -0.5])
    axes = hb.Objective(lambda t: np.sum(0.5 * h * t * t - b * t, -1), lambda t: h * t - b, 2, minimizer=b / h)
    theta0 = np.array([2.0, -1.0])
    lrs = np.array([0.5, 3.2, 0.3, 10.0, 3.1, 0.7, 50.0])  # unstable where η·h_max > 2 + 2μ = 3
    tr = _iterate_general(hb.HeavyBall(eta=lrs[:, None], mu=0.5), axes, theta0, 300)
    expect = []
    for i, lr in enumerate(lrs):
        one = _iterate_general(hb.HeavyBall(eta=lr, mu=0.5), axes, theta0, 300)
        expect.append(one.diverged_at)
        np.testing.assert_array_equal(tr.theta[:, i], one.theta)
        assert tr.status[i] == one.status and tr.diverged_at[i] == one.diverged_at
    assert sorted(set(tr.status.tolist())) == ["converged", "diverged"]
    assert len(set(expect) - {-1}) == 4  # four divergences at four different steps
    first = min(k for k in expect if k >= 0)
    assert tr.message.startswith(f"4 of 7 configurations diverged (first at step {first}); 3 converged")


def test_per_configuration_schedules_survive_dropping_diverged_rows():
    """A schedule returning one rate per configuration of a 2-D batch, with rows dropped at
    several steps: each surviving configuration equals its own scalar run bit for bit."""
    h, b = np.array([0.1, 1.0]), np.array([1.0, -0.5])
    axes = hb.Objective(lambda t: np.sum(0.5 * h * t * t - b * t, -1), lambda t: h * t - b, 2, minimizer=b / h)
    base = np.array([[0.5, 3.3, 0.2], [8.0, 0.9, 3.2]])  # (2, 3): three of six diverge

    def eta(k):
        return base[..., None] * (1.0 + 0.001 * k)

    theta0 = np.array([2.0, -1.0])
    tr = _iterate_general(hb.HeavyBall(eta=eta, mu=np.full((2, 3, 1), 0.5)), axes, theta0, 200)
    assert tr.theta.shape == (201, 2, 3, 2)
    for i, j in np.ndindex(2, 3):
        one = _iterate_general(
            hb.HeavyBall(eta=lambda k, c=base[i, j]: c * (1.0 + 0.001 * k), mu=0.5), axes, theta0, 200
        )
        np.testing.assert_array_equal(tr.theta[:, i, j], one.theta)
        assert tr.diverged_at[i, j] == one.diverged_at
    assert np.count_nonzero(tr.diverged_at >= 0) == 3 and len(set(tr.diverged_at.ravel()) - {-1}) == 3


def test_all_configurations_diverging_stops_early(valley):
    tr = _iterate_general(hb.SGD(lr=np.array([[5.0], [9.0]])), valley, [1.0, 1.0], 10**5, record="loss")
    assert tr.status.tolist() == ["diverged", "diverged"] and np.all(tr.diverged_at < 1000)
    assert np.all(np.isnan(tr.theta)) and np.all(np.isnan(tr.loss[-1]))


def test_convergence_status_and_tolerance(valley):
    theta0 = [2.0, -1.0]
    opt = hb.SGD(lr=0.5, momentum=0.5)
    few, many = _iterate_general(opt, valley, theta0, 5), _iterate_general(opt, valley, theta0, 400)
    assert few.status == "max_steps" and few.success is True and "without converging" in few.message
    assert many.status == "converged" and many.message.startswith("converged")
    ratio = many.distance[-1] / many.distance[0]
    assert _iterate_general(opt, valley, theta0, 400, tol=ratio * 0.5).status == "max_steps"
    assert _iterate_general(opt, valley, theta0, 400, tol=ratio * 2.0).status == "converged"
    assert many.tol == pytest.approx(np.sqrt(np.finfo(float).eps))
    assert _iterate_general(opt, valley, np.float32(theta0), 5).tol == pytest.approx(np.sqrt(np.finfo(np.float32).eps))


def test_without_a_minimiser_convergence_uses_the_gradient():
    bowl = hb.Objective(lambda t: np.sum(t**2, -1), lambda t: 2 * t, 2, name="bowl")
    tr = _iterate_general(hb.SGD(lr=0.25), bowl, [1.0, -3.0], 60)
    assert tr.distance is None and tr.status == "converged" and "gradient norm" in tr.message
    assert _iterate_general(hb.SGD(lr=0.01), bowl, [1.0, -3.0], 10).status == "max_steps"


def test_schedule_is_read_with_the_number_of_steps_already_taken():
    """lr_k = 0.01·(k + 1), constant gradient g = (1, 2), no momentum: θ_n = θ₀ − Σ_{k<n} lr_k·g."""
    tilt = hb.Objective(lambda t: t[..., 0] + 2 * t[..., 1], lambda t: np.broadcast_to([1.0, 2.0], t.shape).copy(), 2)
    seen = []

    def lr(k):
        seen.append(k)
        return 0.01 * (k + 1)

    opt = hb.SGD(lr=lr)
    assert seen == [0]  # checked once at construction: it takes k and returns a number
    seen.clear()
    tr = _iterate_general(opt, tilt, [0.0, 0.0], 5)
    assert seen == [0, 1, 2, 3, 4]
    expected = -np.cumsum([0.01 * (k + 1) for k in range(5)])
    np.testing.assert_allclose(tr.theta[1:, 0], expected, rtol=1e-15)
    np.testing.assert_allclose(tr.theta[1:, 1], 2 * expected, rtol=1e-15)
    bad = hb.SGD(lr=lambda k: 0.1 if k < 2 else float("nan"))
    with pytest.raises(ValueError, match=r"`lr`.*k=2"):
        _iterate_general(bad, tilt, [0.0, 0.0], 5)
    wrong_shape = hb.SGD(lr=lambda k: np.full((4, 1), 0.1))
    with pytest.raises(ValueError, match="`lr` schedule returned shape"):
        _iterate_general(wrong_shape, tilt, np.zeros((3, 2)), 5)


def test_memory_budget_is_checked_before_allocating(valley):
    lrs = np.full((1000, 1), 0.1)
    with pytest.raises(ValueError, match="`record`='all' with `every`=1") as info:
        _iterate_general(hb.SGD(lr=lrs), valley, [1.0, 1.0], 10**6)
    assert "GiB" in str(info.value)
    # 10⁶ steps × 1000 configurations × (2 + 2) numbers × 8 bytes = 32 GB > 1 GiB; every=10⁵
    # records 11 rows: fine (only the description is built here, nothing is run)
    spec = prepare(hb.SGD(lr=lrs), valley, [1.0, 1.0], 10**6, record="all", every=10**5)
    assert len(spec.theta_steps) == 11 and MEMORY_BUDGET == 2**30
    with pytest.raises(ValueError, match="`every`"):
        _iterate_general(hb.SGD(lr=lrs), valley, [1.0, 1.0], 10**6, record="loss", every=1)
    prepare(hb.SGD(lr=lrs), valley, [1.0, 1.0], 10**6, record="final", every=1)  # a final-only run fits


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(steps=-1), "steps"),
        (dict(steps=2.0), "steps"),
        (dict(every=0), "every"),
        (dict(record="some"), "record"),
        (dict(tol=-1.0), "tol"),
        (dict(threads=0), "threads"),
        (dict(theta0=[1.0, 2.0, 3.0]), "theta0"),
        (dict(theta0=[np.nan, 1.0]), "theta0"),
        (dict(optimizer="sgd"), "optimizer"),
        (dict(problem=object()), "problem"),
    ],
)
def test_bad_arguments_name_themselves(valley, kwargs, name):
    args = dict(optimizer=hb.SGD(lr=0.1), problem=valley, theta0=[1.0, 2.0], steps=3)
    args.update(kwargs)
    with pytest.raises((ValueError, TypeError), match=f"`{name}"):
        hb.iterate(args.pop("optimizer"), args.pop("problem"), args.pop("theta0"), args.pop("steps"), **args)


def test_results_are_frozen_and_read_only(valley):
    tr = _iterate_general(hb.SGD(lr=0.1), valley, np.zeros((2, 2)), 3)
    with pytest.raises(ValueError):
        tr.theta[0, 0, 0] = 1.0
    with pytest.raises(AttributeError):
        tr.status = "converged"
    assert "DiscreteTrajectory" in repr(tr) and tr.batch_shape == (2,)


class _FakeFastPath:
    def __init__(self, answer):
        self.answer, self.calls = answer, []

    def supports(self, method, problem):
        return self.answer

    def run_spec(self, spec):
        self.calls.append(spec)
        theta = np.zeros((len(spec.theta_steps), spec.size, spec.dim))
        loss = np.zeros((len(spec.loss_steps), spec.size))
        return make_trajectory(spec, theta=theta, loss=loss, distance=None, diverged_at=np.full(spec.size, -1))


def test_iterate_dispatches_to_the_fast_path_only_when_it_says_so(valley, monkeypatch):
    opt = hb.SGD(lr=0.1)
    yes = _FakeFastPath(True)
    monkeypatch.setattr(iterate_module, "fastpath", yes)
    tr = hb.iterate(opt, valley, [1.0, 2.0], 7, record="loss", every=2, threads=2)
    assert len(yes.calls) == 1
    spec = yes.calls[0]  # validated once, before dispatch
    assert (spec.steps, spec.record, spec.every, spec.threads, spec.tol) == (7, "loss", 2, 2, np.sqrt(2.0**-52))
    np.testing.assert_array_equal(tr.theta, np.zeros((1, 2)))  # the fake's answer, via make_trajectory
    with pytest.raises(ValueError, match="`every`"):  # arguments are validated before dispatch
        hb.iterate(opt, valley, [1.0, 2.0], 7, every=0)
    assert len(yes.calls) == 1
    no = _FakeFastPath(False)
    monkeypatch.setattr(iterate_module, "fastpath", no)
    tr = hb.iterate(opt, valley, [1.0, 2.0], 7)
    assert not no.calls
    np.testing.assert_array_equal(tr.theta, _iterate_general(opt, valley, [1.0, 2.0], 7).theta)


def test_a_run_with_an_initial_state_takes_the_general_loop(valley, monkeypatch):
    yes = _FakeFastPath(True)
    monkeypatch.setattr(iterate_module, "fastpath", yes)
    opt = hb.SGD(lr=0.1, momentum=0.5)
    hb.iterate(opt, valley, [1.0, 2.0], 7, state=opt.init(np.array([1.0, 2.0])))
    assert not yes.calls


def test_the_optimizer_keyword_and_its_deprecated_spelling(valley):
    opt = hb.SGD(lr=0.1, momentum=0.5)
    new = hb.iterate(optimizer=opt, problem=valley, theta0=[1.0, 2.0], steps=5)
    with pytest.warns(DeprecationWarning, match="`optimizer`"):
        old = hb.iterate(method=opt, problem=valley, theta0=[1.0, 2.0], steps=5)
    np.testing.assert_array_equal(old.theta, new.theta)


def test_a_one_dimensional_hyperparameter_of_length_d_is_refused_as_ambiguous(valley):
    # lr of shape (d,) with a batch of d configurations would silently be read per coordinate
    # (numpy's trailing-axis broadcasting): refused, naming the argument and both spellings
    with pytest.raises(ValueError, match=r"`lr` has shape \(2,\).*\(2, 1\).*\(1, 2\)"):
        hb.iterate(hb.SGD(lr=np.array([0.1, 0.2]), momentum=0.9), valley, np.ones((2, 2)), 5)
    # the explicit spellings run: per configuration equals the runs one by one
    tr = hb.iterate(hb.SGD(lr=np.array([[0.1], [0.2]]), momentum=0.9), valley, np.ones((2, 2)), 5)
    for i, lr in enumerate((0.1, 0.2)):
        one = hb.iterate(hb.SGD(lr=lr, momentum=0.9), valley, np.ones(2), 5)
        np.testing.assert_allclose(tr.theta[-1, i], one.theta[-1], rtol=1e-14)
    hb.iterate(hb.SGD(lr=np.array([[0.1, 0.2]]), momentum=0.9), valley, np.ones((2, 2)), 5)  # per coordinate


def test_iterate_from_a_given_state_equals_a_hand_loop_of_step(valley):
    # a run that does not start at rest: HeavyBall from v0 ≠ 0, against init/step written out
    opt = hb.HeavyBall(eta=0.3, mu=0.8, dt=0.5)
    theta0, v0 = np.array([1.0, -2.0]), np.array([0.4, 0.1])
    tr = hb.iterate(opt, valley, theta0, 40, state=opt.init(theta0)._replace(v=v0))
    theta, state = theta0.copy(), opt.init(theta0)._replace(v=v0.copy())
    for k in range(1, 41):
        theta, state = opt.step(theta, valley.grad(theta), state)
        np.testing.assert_array_equal(tr.theta[k], theta)
    # a batch from one state, and the state's structure is checked by name
    batch = hb.iterate(hb.HeavyBall(eta=np.array([[0.3], [0.1]]), mu=0.8, dt=0.5), valley, theta0, 5,
                       state=opt.init(theta0)._replace(v=v0))  # fmt: skip
    assert batch.theta.shape == (6, 2, 2)
    with pytest.raises(TypeError, match="`state`"):
        hb.iterate(opt, valley, theta0, 5, state=hb.SGD(lr=0.1, momentum=0.9).init(theta0))
    with pytest.raises(ValueError, match=r"`state.v`"):
        hb.iterate(opt, valley, theta0, 5, state=opt.init(theta0)._replace(v=np.ones(3)))


# ------------------------------------------------------------------------------------------
# the cycle outcome
# ------------------------------------------------------------------------------------------
def _lrp_function():
    """Lessard, Recht & Packard (2016, §4.6): a strongly convex (m = 1), 25-smooth function on
    which heavy ball at Polyak's tuning (α = 1/9, β = 4/9) settles on a period-3 orbit."""

    def grad(x):
        return np.where(x < 1, 25 * x, np.where(x < 2, x + 24, 25 * x - 24))

    def value(x):
        x = x[..., 0]
        return np.where(x < 1, 12.5 * x**2, np.where(x < 2, 0.5 * x**2 + 24 * x - 12, 12.5 * x**2 - 24 * x + 36))

    return hb.Objective(value, grad, 1, minimizer=[0.0], name="lessard-recht-packard")


def test_heavy_ball_on_the_lessard_recht_packard_function_settles_into_a_period_3_cycle():
    f = _lrp_function()
    alpha, beta = 4 / (np.sqrt(25) + 1) ** 2, ((np.sqrt(25) - 1) / (np.sqrt(25) + 1)) ** 2  # 1/9, 4/9
    tr = hb.iterate(hb.SGD(lr=alpha, momentum=beta), f, [3.3], 300)
    assert tr.status == "cycle" and tr.status is Status.CYCLE and tr.period == 3 and not tr.success
    assert "cycle of period 3" in tr.message
    # the orbit (a, b, c) with a, b < 1 and c >= 2 solves the heavy-ball recurrence's three
    # affine equations x_{k+1} = x_k − α∇f(x_k) + β(x_k − x_{k−1}), written out here
    A = np.array(
        [
            [1 - 25 * alpha + beta, -1, -beta],  # b = a − 25αa + β(a − c)
            [-beta, 1 - 25 * alpha + beta, -1],  # c = b − 25αb + β(b − a)
            [-1, -beta, 1 - 25 * alpha + beta],  # a = c − α(25c − 24) + β(c − b)
        ]
    )
    a, b, c = np.linalg.solve(A, [0.0, 0.0, -24 * alpha])
    assert a < 1 and b < 1 and c >= 2
    last = np.sort(tr.theta[-3:, 0])
    np.testing.assert_allclose(last, np.sort([a, b, c]), rtol=1e-12)
    # batched with a start that converges: each configuration has its own status
    both = hb.iterate(hb.SGD(lr=alpha, momentum=beta), f, np.array([[3.3], [0.5]]), 300)
    assert both.status.tolist() == ["cycle", "converged"] and both.period.tolist() == [3, 0]
    assert both.success.tolist() == [False, True] and "1 settled into a cycle" in both.message


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("record", ["all", "loss", "final"])
def test_gradient_descent_at_the_edge_of_stability_is_a_period_2_cycle_on_both_paths(dtype, record):
    q = hb.Quadratic([[2.0]])  # lr·h = 2: x ← −x exactly
    theta0 = np.array([[1.0], [0.5]], dtype=dtype)
    opt = hb.SGD(lr=np.array([[1.0], [0.5]]))  # the second configuration converges in one step
    for run in (hb.iterate, _iterate_general):
        tr = run(opt, q, theta0, 50, record=record)
        assert tr.status.tolist() == ["cycle", "converged"] and tr.period.tolist() == [2, 0]


def test_slow_convergence_is_not_a_cycle():
    # complex roots rotating by exactly 2π/3 per step with modulus √0.999: every third iterate
    # nearly repeats, but shrinks by 0.9985 — a slow spiral, not an orbit
    mu = 0.999
    q = hb.Quadratic([[1 + mu + np.sqrt(mu)]])  # T = 1 + μ − lr·h = −√μ = 2√μ·cos(2π/3)
    for run in (hb.iterate, _iterate_general):
        tr = run(hb.SGD(lr=1.0, momentum=mu), q, [1.0], 2000)
        assert tr.status == "max_steps" and tr.period == 0 and tr.success
    # plain slow gradient descent, and a stalled float32 run with tol = 0, likewise
    valley = hb.Quadratic.valley(kappa=1e4)
    assert hb.iterate(hb.SGD(lr=1e-3), valley, [1.0, 1.0], 500).status == "max_steps"
    stalled = hb.iterate(hb.SGD(lr=0.5), valley, np.array([1.0, 1.0], np.float32), 3000, tol=0.0)
    assert stalled.status == "max_steps"


@pytest.mark.parametrize("record", ["all", "final"])
def test_a_fast_contraction_near_a_nonzero_minimiser_is_not_a_cycle(record):
    # x_k = 1 + (−0.4)^k exactly (lr·h = 1.4): a contraction, no orbit. Near step 30 the last
    # two iterates differ by ~1e-12 of ‖x‖ (below ε^{2/3}) while twelve steps back they
    # differed by ~1e-7: a test reading the whole tail's extent would call it period 2
    q = hb.Quadratic([[1.0]], [1.0])
    for run in (hb.iterate, _iterate_general):
        for steps in range(20, 45):
            tr = run(hb.SGD(lr=1.4), q, [2.0], steps, record=record, tol=1e-15)
            assert tr.status != "cycle" and tr.period == 0, steps
            # 0.4^k crosses tol = 1e-15 at k = 38, where the distance is a few ulp of x* = 1
            # (so rounding decides there); well before, the run is plainly unfinished
            if steps <= 35:
                assert tr.status == "max_steps", steps


def _periods_by_definition(tail, eps):
    """The cycle test's definition, row by row (loops, np.linalg.norm): the smallest p in
    2 … 6 with max_j<p ‖θ_{K−j} − θ_{K−j−p}‖ <= ε^{2/3}·S_p and max_j<p ‖θ_{K−j} − θ_K‖ > √ε·S_p,
    S_p = max_j<p ‖θ_{K−j}‖."""
    n, B, _ = tail.shape
    out = np.zeros(B, np.int64)
    for b in range(B):
        x = [tail[n - 1 - j, b] for j in range(n)]  # x[j] = θ_{K−j}
        for p in range(2, min(6, n // 2) + 1):
            scale = max(np.linalg.norm(x[j]) for j in range(p))
            mismatch = max(np.linalg.norm(x[j] - x[j + p]) for j in range(p))
            spread = max(np.linalg.norm(x[j] - x[0]) for j in range(p))
            if mismatch <= eps ** (2 / 3) * scale and spread > np.sqrt(eps) * scale:
                out[b] = p
                break
    return out


def test_cycle_periods_and_candidates_against_the_definition(rng):
    from heavyball.cycles import TAIL, cycle_candidates, cycle_periods

    eps = np.finfo(np.float64).eps
    d, n = 3, TAIL
    rows = []
    for _ in range(400):
        p = int(rng.integers(2, 8))  # 7: no period the test looks for
        orbit = rng.standard_normal((p, d)) * 10.0 ** rng.uniform(-3, 3)
        center = rng.standard_normal(d) * 10.0 ** rng.uniform(-2, 4)
        base = np.array([center + orbit[k % p] for k in range(n)])
        # perturbations around the thresholds: ε^{2/3} ≈ 3.7e-11 and √ε ≈ 1.5e-8 of the scale
        scale = np.max(np.linalg.norm(base, axis=1))
        base = base + rng.standard_normal((n, d)) * scale * 10.0 ** rng.uniform(-14, -8)
        rows.append(base)
    for lam in (0.999999, 0.5, -0.4, -0.99999):  # contractions, slow and fast, to a far minimiser
        for k0 in (0, 20, 30, 40):
            rows.append(np.array([[1.0, 2.0, 3.0] + lam ** (k0 + k) * np.ones(3) for k in range(n)]))
    rows.append(np.full((n, d), 7.0))  # stalled
    rows.append(np.full((n, d), np.nan))
    tail = np.stack(rows, axis=1)  # (n, B, d)
    expected = _periods_by_definition(tail, eps)
    assert np.count_nonzero(expected) > 50 and np.count_nonzero(expected == 0) > 50  # both outcomes tested
    np.testing.assert_array_equal(cycle_periods(tail), expected)
    # the prefilter reads the last 7 iterates only and leaves out no configuration with a period
    last = np.ascontiguousarray(np.swapaxes(tail[-7:], 1, 2))
    assert np.all(cycle_candidates(last)[expected > 0])


# -------------------------------------------------------------------------------------------
# numerical edge cases: zero and one steps, empty batches, huge step counts
# -------------------------------------------------------------------------------------------
from heavyball import rates


def test_zero_and_one_steps():
    q = hb.Quadratic([[3.0, 1.0], [1.0, 2.0]], [1.0, -1.0])
    theta0 = np.array([0.5, -2.0])
    g0 = q.A @ theta0 - q.b
    f0 = 0.5 * theta0 @ q.A @ theta0 - q.b @ theta0
    for record in ("all", "loss", "final"):
        tr = hb.iterate(hb.SGD(lr=0.1, momentum=0.9), q, theta0, 0, record=record)
        np.testing.assert_allclose(tr.theta[-1], theta0, rtol=1e-15)  # exactly: test below
        np.testing.assert_allclose(tr.loss, [f0], rtol=1e-15)
        assert tr.status == "max_steps" and tr.diverged_at == -1
        one = hb.iterate(hb.SGD(lr=0.1, momentum=0.9), q, theta0, 1, record=record)
        np.testing.assert_allclose(one.theta[-1], theta0 - 0.1 * g0, rtol=1e-15)  # torch: b₁ = g₀
    np.testing.assert_allclose(hb.closed_form_iterate(hb.SGD(lr=0.1, momentum=0.9), q, theta0, 0), theta0, rtol=1e-15)
    np.testing.assert_allclose(
        hb.closed_form_iterate(hb.SGD(lr=0.1, momentum=0.9), q, theta0, 1), theta0 - 0.1 * g0, rtol=1e-14
    )
    adam = hb.iterate(hb.Adam(lr=0.01), q, theta0, 1)
    np.testing.assert_allclose(adam.theta[1], theta0 - 0.01 * np.sign(g0), rtol=1e-6)  # |step| = lr·|g|/(|g| + ε)


def test_empty_batch():
    q = hb.Quadratic.valley(kappa=10)
    for method in (hb.SGD(lr=0.1, momentum=0.9), hb.Adam(lr=0.1), hb.NesterovLookahead(eta=0.1, mu=0.5)):
        tr = hb.iterate(method, q, np.zeros((0, 2)), 5)
        assert tr.theta.shape == (6, 0, 2) and tr.loss.shape == (6, 0) and tr.status.shape == (0,)
        assert "0 configurations" in tr.message
    lrs = np.zeros((0, 1))
    tr = hb.iterate(hb.SGD(lr=lrs, momentum=0.5), q, [1.0, 1.0], 3, record="final")
    assert tr.theta.shape == (1, 0, 2)
    assert hb.closed_form_iterate(hb.SGD(lr=lrs), q, [1.0, 1.0], 7).shape == (0, 2)
    assert rates.spectral_radius(q.eigenvalues, lr=np.zeros(0), momentum=0.5).shape == (0,)
    fit = rates.fit_rate(np.ones((5, 0)))
    assert np.shape(fit.rate) == (0,)


def test_huge_step_count_is_refused_by_name():
    """2**70 steps cannot be run: a ValueError naming `steps` (not numpy's OverflowError or
    'Maximum allowed size exceeded')."""
    q = hb.Quadratic.valley(kappa=10)
    for record in ("all", "final"):
        with pytest.raises(ValueError, match="`steps`"):
            hb.iterate(hb.SGD(lr=0.1), q, [1.0, 1.0], 2**70, record=record)


def test_zero_steps_record_theta0_exactly():
    """``theta[0]`` is θ₀ itself (DiscreteTrajectory: ``theta[k]`` is θ_k), not θ₀ rotated into
    the eigenbasis and back (which moves it by an ulp on a rotated quadratic)."""
    q = hb.Quadratic([[3.0, 1.0], [1.0, 2.0]], [1.0, -1.0])
    theta0 = np.array([0.5, -2.0])
    for record in ("all", "loss", "final"):
        for steps in (0, 3):
            tr = hb.iterate(hb.SGD(lr=0.1, momentum=0.9), q, theta0, steps, record=record)
            if record == "all" or steps == 0:
                np.testing.assert_array_equal(tr.theta[0], theta0)
    np.testing.assert_array_equal(hb.closed_form_iterate(hb.SGD(lr=0.1, momentum=0.9), q, theta0, 0), theta0)


@pytest.mark.parametrize("q", [hb.Quadratic([[1.0]]), hb.Quadratic.valley(kappa=10)], ids=["1-D", "axis-aligned"])
def test_status_of_a_converging_run_on_an_axis_aligned_quadratic(q):
    """GD with momentum at lr = 0.5, μ = 0.5 on h ∈ {0.1, 1}: radius <= 0.92, so after 500
    steps the distance is below 0.92⁵⁰⁰·(…) ≪ 1.5e-8 of the start: "converged" (the general
    stepping loop says so too)."""
    from heavyball.iterate import _iterate_general

    opt = hb.SGD(lr=0.5, momentum=0.5)
    theta0 = [1.0] * q.dim
    assert np.max(rates.spectral_radius(q.eigenvalues, lr=0.5, momentum=0.5)) < 0.92
    assert _iterate_general(opt, q, theta0, 500).status == "converged"
    tr = hb.iterate(opt, q, theta0, 500)
    assert tr.status == "converged", tr.message


def test_iterate_with_gradient_norms_beyond_float64():
    """A quadratic whose minimiser overflows (A = 1e-300, b = 1e300: ``minimizer`` is None) and
    whose gradient norm 1e300 squares to inf: a run that does not move (eta = 0) must not be
    called "converged", and no RuntimeWarning may leak (pytest turns warnings into errors)."""
    q = hb.Quadratic([[1e-300]], [1e300])
    assert q.minimizer is None
    tr = hb.iterate(hb.HeavyBall(eta=0.0, mu=0.0), q, [0.0], 3)
    np.testing.assert_array_equal(tr.theta[:, 0], 0.0)
    assert tr.status == "max_steps", tr.message
