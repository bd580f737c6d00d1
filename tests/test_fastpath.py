"""The fast path (heavyball/fastpath.py): correctness only, never timing.

Oracles: the general stepping loop ``iterate._iterate_general`` (torch's operation order in
the original coordinates, written independently of the eigenbasis engine), exact rational
arithmetic (``fractions.Fraction``) for the closed form, and the known closed form of a
repeated root, ``x_k = (A + Bk)·rᵏ``.

Tolerance convention (as in the torch-parity tests): the largest deviation over all recorded steps divided by
the largest ``|θ|`` of the run. The fast path rounds differently from the general path (a
rotation into the eigenbasis and a three-term recurrence instead of (buffer, θ)), so the
agreement is ``1e-12`` relative, not bitwise.
"""

from fractions import Fraction

import numpy as np
import pytest

import heavyball as hb
from conftest import ADAM_FLAGS
from heavyball import cycles, eigenmodes, fastpath
from heavyball.iterate import _iterate_general

RTOL = 1e-12  # fast path vs general path, float64
RTOL_CLOSED = 1e-10  # closed form vs stepping
# float32: the fast path rounds θ's modes, the eigenvectors and the coefficients to float32
# (6e-8) and each mode's memory ~1/(1 − ρ) carries the rounding: against a float64 run its
# error is at most 4.9·ε₃₂/(1 − ρ) of the run's scale (measured over 320 random
# configurations; bounded in test_oracles.py), the general path's ~3 ulps. The slowest
# configuration of test_float32_stays_float32 has 1/(1 − ρ) = 45: measured 6.4e-6 (54 ulps)
# fast against general; 3e-5 is the bound 4.9·ε₃₂·45 rounded up.
RTOL_F32 = 3e-5


def _quadratic(b=True):
    return hb.Quadratic.from_eigenvalues([0.02, 0.3, 1.0], rotation="random", seed=7,
                                         b=[0.3, -0.2, 0.5] if b else None)  # fmt: skip


def _rel(a, b, scale):
    """max |a − b| / scale per configuration (``scale`` broadcasts over the batch), NaN patterns equal."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    assert np.array_equal(np.isnan(a), np.isnan(b)), "NaN patterns differ"
    diff = np.where(np.isnan(b), 0.0, np.abs(a - b))
    return float(np.max(diff / scale, initial=0.0))


def _compare(method, q, theta0, steps, *, record="all", every=1, rtol=RTOL, threads=None):
    assert fastpath.supports(method, q)
    fast = fastpath.run(method, q, theta0, steps, record=record, every=every, threads=threads)
    ref = _iterate_general(method, q, theta0, steps, record=record, every=every)
    assert fast.theta.shape == ref.theta.shape and fast.theta.dtype == ref.theta.dtype
    assert fast.loss.shape == ref.loss.shape and fast.loss.dtype == ref.loss.dtype
    np.testing.assert_array_equal(fast.steps, ref.steps)
    np.testing.assert_array_equal(fast.diverged_at, ref.diverged_at)
    np.testing.assert_array_equal(fast.status, ref.status)
    np.testing.assert_array_equal(fast.success, ref.success)
    assert fast.message == ref.message
    # the scale of each configuration's run: the largest |θ| the general path saw (θ₀
    # included; |θ| <= distance + ‖θ*‖ where only distances are recorded)
    batch = ref.theta.shape[1:-1]
    star = 0.0 if q.minimizer is None else float(np.linalg.norm(q.minimizer))
    th0 = np.broadcast_to(np.asarray(theta0, np.float64), batch + (q.dim,))
    scale = np.fmax(np.max(np.abs(th0), axis=-1), np.fmax.reduce(np.abs(ref.theta), axis=(0, -1), initial=0.0))
    if ref.distance is not None:
        scale = np.fmax(scale, np.fmax.reduce(ref.distance, axis=0, initial=0.0) + star)
    assert _rel(fast.theta, ref.theta, scale[..., None]) <= rtol
    # loss scale: ‖A‖·|θ|² + ‖b‖·|θ| bounds every term the loss is made of
    lscale = np.max(np.abs(q.eigenvalues)) * scale**2 + np.linalg.norm(q.b) * scale + 1e-300
    assert _rel(fast.loss, ref.loss, lscale) <= rtol
    if ref.distance is not None:
        assert _rel(fast.distance, ref.distance, scale + star) <= rtol
    else:
        assert fast.distance is None
    return fast, ref


SGD_FLAGS = [
    dict(momentum=mom, dampening=damp, nesterov=nest, weight_decay=wd, maximize=mx)
    for mom in (0.0, 0.9)
    for damp in (0.0, 0.3)
    for nest in (False, True)
    for wd in (0.0, 0.1)
    for mx in (False, True)
    if not (nest and (damp or not mom))  # torch: nesterov needs momentum > 0 and no dampening
]


@pytest.mark.parametrize("flags", SGD_FLAGS, ids=lambda f: ",".join(f"{k}={v}" for k, v in f.items()))
def test_sgd_every_flag_matches_general_path(flags, rng):
    q = _quadratic()
    theta0 = rng.standard_normal((4, 3))
    # maximize ascends f: without enough weight decay it diverges, which is compared too
    method = hb.SGD(lr=0.4, **flags)
    _fast, ref = _compare(method, q, theta0, 300)
    if flags["maximize"] and flags["weight_decay"] == 0:
        assert np.all(ref.status == "diverged")  # the comparison above covered diverged_at


def test_maximize_with_weight_decay_converges_like_general_path(rng):
    # ĥ = −h + λ > 0 for λ = 2: ascent on f regularised into a contraction
    q = _quadratic()
    _fast, ref = _compare(
        hb.SGD(lr=0.2, momentum=0.5, weight_decay=2.0, maximize=True), q, rng.standard_normal((3, 3)), 400
    )
    assert np.all(ref.status != "diverged")


@pytest.mark.parametrize("cls", [hb.HeavyBall, hb.NesterovLookahead])
@pytest.mark.parametrize("b", [False, True])
def test_physical_forms_match_general_path(cls, b, rng):
    q = _quadratic(b)
    _compare(cls(eta=0.6, mu=0.85, dt=0.7), q, rng.standard_normal((5, 3)), 300)


def test_batched_hyperparameters_with_divergence(rng):
    q = hb.Quadratic.valley(kappa=50, angle=0.4)
    B = 64
    lr = rng.uniform(0.05, 5.0, (B, 1))  # lr·h_max up to 5: many configurations diverge
    momentum = rng.uniform(0.0, 0.98, (B, 1))
    wd = rng.choice([0.0, 0.05], (B, 1))
    fast, ref = _compare(hb.SGD(lr=lr, momentum=momentum, weight_decay=wd), q, rng.standard_normal((B, 2)), 400)
    statuses = set(ref.status.tolist())
    assert "diverged" in statuses and statuses - {"diverged"}  # both kinds are exercised
    assert np.all(np.isnan(fast.theta[ref.diverged_at[0] :, 0]) | (ref.diverged_at[0] < 0))


def test_batch_from_hyperparameters_and_single_start(rng):
    # theta0 (d,) with lr (B, 1): the batch comes from the hyperparameters
    q = _quadratic()
    lr = np.array([[0.1], [0.5], [1.2], [2.5]])
    fast, _ref = _compare(hb.SGD(lr=lr, momentum=0.6), q, np.array([1.0, -2.0, 0.5]), 250)
    assert fast.theta.shape == (251, 4, 3)


def test_multi_axis_batch(rng):
    q = _quadratic()
    lr = np.linspace(0.1, 1.0, 3)[:, None, None]
    mom = np.linspace(0.0, 0.9, 4)[None, :, None]
    fast, _ = _compare(hb.SGD(lr=lr, momentum=mom, dampening=0.2), q, rng.standard_normal((3, 4, 3)), 120)
    assert fast.status.shape == (3, 4)


def test_coordinate_constant_hyperparameter_along_last_axis_is_supported(rng):
    q = _quadratic()
    lr = np.full((2, 3), 0.3)  # varies by configuration only (constant along d)
    _compare(hb.SGD(lr=lr, momentum=0.5), q, rng.standard_normal((2, 3)), 100)


@pytest.mark.parametrize("record", ["all", "loss", "final"])
@pytest.mark.parametrize("every", [1, 7])
def test_record_modes_and_every(record, every, rng):
    q = _quadratic()
    lr = np.array([[0.3], [0.8], [4.5]])  # the last one diverges
    _compare(
        hb.SGD(lr=lr, momentum=0.7, nesterov=True), q, rng.standard_normal((3, 3)), 100, record=record, every=every
    )


@pytest.mark.parametrize("steps", [0, 1, 2, 3, 65, 130])
@pytest.mark.parametrize("record", ["all", "final"])
def test_short_runs_and_chunk_boundaries(steps, record, rng):
    # the first (special) step, and runs ending exactly at / just after a certificate chunk
    q = _quadratic()
    _compare(hb.SGD(lr=0.5, momentum=0.9, dampening=0.25), q, rng.standard_normal((2, 3)), steps, record=record)


def test_unbatched_input_gives_scalar_status():
    q = _quadratic()
    fast, _ref = _compare(hb.SGD(lr=0.5, momentum=0.5), q, [1.0, 2.0, 3.0], 50)
    assert isinstance(fast.status, str) and isinstance(fast.diverged_at, int)


def test_float32_stays_float32(rng):
    q = _quadratic()
    theta0 = rng.standard_normal((6, 3)).astype(np.float32)
    lr = np.array([[0.2], [0.5], [0.9], [1.3], [2.0], [5.0]])
    for record in ("all", "loss", "final"):
        fast, _ref = _compare(hb.SGD(lr=lr, momentum=0.8), q, theta0, 200, record=record, rtol=RTOL_F32)
        assert fast.theta.dtype == np.float32 and fast.loss.dtype == np.float32
        assert fast.distance.dtype == np.float32


def test_singular_hessian_with_and_without_minimizer(rng):
    # h = 0 with b in the range of A (a minimiser exists) and with b outside it (f unbounded):
    # the affine term e = γĉ is kept in the recurrence, no stationary point is subtracted
    V = hb.problems.random_orthogonal(3, seed=3)
    A = (V * np.array([0.0, 0.4, 1.0])) @ V.T
    inside = hb.Quadratic(A, V @ np.array([0.0, 0.2, -0.3]))
    outside = hb.Quadratic(A, V @ np.array([0.1, 0.2, -0.3]))
    assert inside.minimizer is not None and outside.minimizer is None
    for q in (inside, outside):
        _compare(hb.SGD(lr=0.5, momentum=0.6), q, rng.standard_normal((3, 3)), 200)


def test_indefinite_hessian_diverges_like_general_path(rng):
    q = hb.Quadratic.from_eigenvalues([-0.05, 1.0], rotation="random", seed=2)
    _fast, ref = _compare(hb.HeavyBall(eta=0.5, mu=0.5), q, rng.standard_normal((4, 2)), 800)
    assert np.all(ref.status == "diverged")


def test_diagonal_hessian_needs_no_rotation(rng):
    q = hb.Quadratic.from_eigenvalues([0.1, 1.0, 0.5])  # eigh sorts: V is a permutation
    _compare(hb.SGD(lr=0.7, momentum=0.5), q, rng.standard_normal((3, 3)), 150)


def test_threads_bitwise_identical(monkeypatch, rng):
    # small blocks so that a small batch spans many blocks and several thread slices
    monkeypatch.setattr(fastpath, "BLOCK_BYTES", 256)
    q = hb.Quadratic.valley(kappa=30, angle=0.3)
    B = 200
    method = hb.SGD(lr=rng.uniform(0.1, 4.0, (B, 1)), momentum=rng.uniform(0, 0.95, (B, 1)))
    theta0 = rng.standard_normal((B, 2))
    for record in ("all", "loss", "final"):
        runs = [fastpath.run(method, q, theta0, 150, record=record, threads=t) for t in (1, 2, 3)]
        for other in runs[1:]:
            np.testing.assert_array_equal(other.theta, runs[0].theta)  # bitwise (NaN == NaN)
            np.testing.assert_array_equal(other.loss, runs[0].loss)
            np.testing.assert_array_equal(other.distance, runs[0].distance)
            np.testing.assert_array_equal(other.diverged_at, runs[0].diverged_at)
        assert "diverged" in set(runs[0].status.tolist())


def test_iterate_dispatches_to_fast_path(rng):
    q = _quadratic()
    method = hb.SGD(lr=0.3, momentum=0.9)
    theta0 = rng.standard_normal((2, 3))
    np.testing.assert_array_equal(hb.iterate(method, q, theta0, 40).theta, fastpath.run(method, q, theta0, 40).theta)


def test_supports():
    q = _quadratic()
    assert fastpath.supports(hb.SGD(lr=0.1, momentum=0.9), q)
    assert fastpath.supports(hb.HeavyBall(eta=0.1, mu=0.9), q)
    assert fastpath.supports(hb.NesterovLookahead(eta=0.1, mu=0.9), q)
    assert fastpath.supports(hb.Adam(lr=0.1), q)  # the Adam kernel (heavyball/_fastadam.py)
    assert fastpath.supports(hb.AdamW(lr=np.full((4, 1), 0.1), amsgrad=True), q)
    assert not fastpath.supports(hb.Adam(lr=lambda k: 0.1), q)  # a schedule
    big = hb.Quadratic.from_eigenvalues(np.linspace(0.1, 1.0, 9))  # d > SMALL_DIM: BLAS gradient
    assert not fastpath.supports(hb.Adam(lr=0.1), big)
    assert not fastpath.supports(hb.Adam(lr=0.1), hb.Rosenbrock())
    assert not fastpath.supports(hb.SGD(lr=lambda k: 0.1, momentum=0.9), q)  # a schedule
    assert not fastpath.supports(hb.SGD(lr=np.array([[0.1, 0.2, 0.3]])), q)  # per-coordinate lr
    assert not fastpath.supports(hb.SGD(lr=0.1), hb.Rosenbrock())


def test_memory_budget_refusal_names_record_and_every():
    q = hb.Quadratic.valley()
    with pytest.raises(ValueError, match=r"`record`.*`every`"):
        hb.iterate(hb.SGD(lr=0.1, momentum=0.9), q, np.zeros((10**6, 2)), 1000)


def test_loss_budget_is_two_gib_and_all_budget_one_gib():
    from heavyball._run import prepare
    from heavyball.iterate import LOSS_MEMORY_BUDGET, MEMORY_BUDGET

    assert (MEMORY_BUDGET, LOSS_MEMORY_BUDGET) == (2**30, 2**31)
    q = hb.Quadratic.valley()
    opt = hb.SGD(lr=0.1, momentum=0.9)
    # every step's loss and distance of 10⁵ configurations over 1000 steps: 1001·10⁵·2·8 B =
    # 1.49 GiB (+ the final iterate) fits the loss budget; only described, nothing is run
    spec = prepare(opt, q, np.zeros((10**5, 2)), 1000, record="loss")
    assert len(spec.loss_steps) == 1001
    with pytest.raises(ValueError, match=r"`record`='all' with `every`=1.*MEMORY_BUDGET"):
        prepare(opt, q, np.zeros((10**5, 2)), 1000, record="all")  # 1001·10⁵·4·8 B = 2.98 GiB
    with pytest.raises(ValueError, match=r"`record`='loss' with `every`=1.*LOSS_MEMORY_BUDGET"):
        prepare(opt, q, np.zeros((2 * 10**5, 2)), 1000, record="loss")  # 2.98 GiB


# ---------------------------------------------------------------------------------------
# closed_form_iterate
# ---------------------------------------------------------------------------------------
def _stepped(method, q, theta0, k):
    return _iterate_general(method, q, theta0, k, record="all")


@pytest.mark.parametrize(
    "method",
    [
        hb.SGD(lr=0.5, momentum=0.9),
        hb.SGD(lr=0.5, momentum=0.9, dampening=0.4, weight_decay=0.05),
        hb.SGD(lr=0.5, momentum=0.9, nesterov=True),
        hb.SGD(lr=0.8),
        hb.SGD(lr=0.3, momentum=0.5, weight_decay=1.5, maximize=True),
        hb.HeavyBall(eta=0.4, mu=0.8, dt=0.9),
        hb.NesterovLookahead(eta=0.4, mu=0.8, dt=0.9),
    ],
    ids=lambda m: m.label,
)
@pytest.mark.parametrize("k", [0, 1, 2, 3, 64, 1000])
def test_closed_form_matches_stepping(method, k, rng):
    q = _quadratic()
    theta0 = rng.standard_normal((3, 3))
    ref = _stepped(method, q, theta0, k)
    got = eigenmodes.closed_form_iterate(method, q, theta0, k)
    scale = float(np.max(np.abs(ref.theta)))
    assert got.shape == theta0.shape
    assert np.max(np.abs(got - ref.theta[-1])) <= RTOL_CLOSED * scale


@pytest.mark.parametrize("n", [0, 1, 2, 3, 7, 16, 31, 60])
def test_lucas_state_against_the_recurrence_in_exact_rationals(n):
    """``(U_n, U_{n+1}, G_n)`` by fast doubling against ``U_{j+1} = aU_j + mU_{j−1}`` and
    ``G_n = Σ_{l≤n} U_l`` in exact fractions, and the two consecutive iterates they give."""
    cases = [(1.5, -0.5625), (-0.75, 0.125), (1.96, -0.9604), (0.5, -0.25)]  # incl. a repeated root (1.96)
    a = np.array([[c[0] for c in cases]])
    m = np.array([[c[1] for c in cases]])
    u_n, u_next, g_n = eigenmodes.lucas_state(a, m, np.ones_like(a), n)
    for j, (aj, mj) in enumerate(cases):
        A, M = Fraction(aj), Fraction(mj)
        U = [Fraction(0), Fraction(1)]
        while len(U) < n + 2:
            U.append(A * U[-1] + M * U[-2])
        exact = (U[n], U[n + 1], sum(U[1 : n + 1], Fraction(0)))
        for got, want in zip((u_n[0, j], u_next[0, j], g_n[0, j]), exact, strict=True):
            # the doubling rounds O(log n) times, each within a few ulp of its operands' scale
            assert abs(Fraction(float(got)) - want) <= Fraction(1e-13) * (1 + abs(want)), (n, aj, mj)
    # x_n and x_{n−1} of x_{j+1} = a x_j + m x_{j−1} + e from (x_0, x_{−1}), stepped in float64
    x0, xm1, e = 0.7, -0.3, 0.25
    xs = [xm1, x0]
    for _ in range(n):
        xs.append(a[0] * xs[-1] + m[0] * xs[-2] + e)
    xs = [np.broadcast_to(x, a[0].shape) for x in xs]
    x_n = u_next[0] * x0 + m[0] * u_n[0] * xm1 + e * g_n[0]
    x_prev = u_n[0] * x0 + (u_next[0] - a[0] * u_n[0]) * xm1 + e * (g_n[0] - u_n[0])
    np.testing.assert_allclose(x_n, xs[-1], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(x_prev, xs[-2], rtol=1e-12, atol=1e-12)


def _polyak(h_min, h_max):
    """Polyak's optimal heavy-ball tuning (Polyak 1964): repeated roots at both extremes."""
    lr = 4.0 / (np.sqrt(h_max) + np.sqrt(h_min)) ** 2
    momentum = ((np.sqrt(h_max) - np.sqrt(h_min)) / (np.sqrt(h_max) + np.sqrt(h_min))) ** 2
    return lr, momentum


@pytest.mark.parametrize("shift", [0.0, 1e-12, -1e-9, 1e-6])
def test_closed_form_at_and_near_repeated_roots(shift, rng):
    q = hb.Quadratic.valley(kappa=1e4, angle=0.7)
    lr, momentum = _polyak(q.h_min, q.h_max)
    method = hb.SGD(lr=lr, momentum=momentum + shift)
    # discriminant (1 + μ − γh)² − 4μ vanishes at both extremes when shift = 0
    disc = (1 + momentum - lr * q.eigenvalues) ** 2 - 4 * momentum
    assert np.all(np.abs(disc) < 1e-12)
    theta0 = rng.standard_normal((4, 2))
    for k in (0, 1, 2, 50, 500, 1000):
        ref = _stepped(method, q, theta0, k)
        got = eigenmodes.closed_form_iterate(method, q, theta0, k)
        assert np.max(np.abs(got - ref.theta[-1])) <= RTOL_CLOSED * np.max(np.abs(ref.theta))


def test_closed_form_repeated_root_exact_formula():
    # f = ½·h·x² with h = 1/4, γ = 1, μ = 1/4: a = 1 + μ − γh = 1 = 2√μ, a double root r = 1/2,
    # so x_k = (c₀ + c₁k)·2⁻ᵏ. From x₀ = 1, x₁ = (1 − γh)x₀ = 3/4: c₀ = 1, c₁ = 1/2.
    q = hb.Quadratic([[0.25]])
    method = hb.SGD(lr=1.0, momentum=0.25)
    for k in (0, 1, 2, 10, 100, 1000):
        exact = (1.0 + 0.5 * k) * 2.0 ** (-k)
        got = float(eigenmodes.closed_form_iterate(method, q, [1.0], k)[0])
        assert abs(got - exact) <= 1e-13 * abs(exact)


def test_closed_form_against_exact_rational_recurrence():
    # torch's SGD with dampening and weight decay, in exact rational arithmetic, 1-D with b ≠ 0
    h, b, lam = Fraction(3, 10), Fraction(1, 7), Fraction(1, 20)
    lr, mu, tau = Fraction(1, 2), Fraction(4, 5), Fraction(1, 4)
    theta, buf = Fraction(2), None
    exact = [theta]
    for _ in range(150):
        g = h * theta - b + lam * theta
        buf = g if buf is None else mu * buf + (1 - tau) * g
        theta = theta - lr * buf
        exact.append(theta)
    q = hb.Quadratic([[0.3]], [1 / 7])
    method = hb.SGD(lr=0.5, momentum=0.8, dampening=0.25, weight_decay=0.05)
    for k in (0, 1, 2, 3, 17, 64, 150):
        got = float(eigenmodes.closed_form_iterate(method, q, [2.0], k)[0])
        assert abs(got - float(exact[k])) <= 1e-13 * 2.0


def test_closed_form_batched_and_float32(rng):
    q = _quadratic()
    B = 7
    method = hb.SGD(lr=rng.uniform(0.1, 1.5, (B, 1)), momentum=rng.uniform(0, 0.95, (B, 1)))
    theta0 = rng.standard_normal((B, 3))
    ref = _stepped(method, q, theta0, 300)
    got = eigenmodes.closed_form_iterate(method, q, theta0, 300)
    assert np.max(np.abs(got - ref.theta[-1])) <= RTOL_CLOSED * np.max(np.abs(ref.theta))
    got32 = eigenmodes.closed_form_iterate(method, q, theta0.astype(np.float32), 300)
    assert got32.dtype == np.float32
    # computed in float64, rounded once to float32 (6e-8) after a float32 rounding of θ₀
    assert np.max(np.abs(got32 - got)) <= 1e-6 * np.max(np.abs(ref.theta))


def test_closed_form_exported_and_validates():
    assert hb.closed_form_iterate is eigenmodes.closed_form_iterate
    q = _quadratic()
    with pytest.raises(ValueError, match="`k`"):
        eigenmodes.closed_form_iterate(hb.SGD(lr=0.1), q, np.zeros(3), -1)
    with pytest.raises(TypeError, match="`method`"):
        eigenmodes.closed_form_iterate(hb.Adam(lr=0.1), q, np.zeros(3), 3)
    with pytest.raises(TypeError, match="`q`"):
        eigenmodes.closed_form_iterate(hb.SGD(lr=0.1), hb.Rosenbrock(), np.zeros(2), 3)


def test_final_record_uses_closed_form_but_reports_divergence_exactly(rng):
    # a sweep where most configurations converge (closed form) and some diverge (stepped)
    q = hb.Quadratic.valley(kappa=100, angle=0.2)
    B = 300
    method = hb.SGD(lr=rng.uniform(0.01, 4.5, (B, 1)), momentum=rng.uniform(0.0, 0.99, (B, 1)))
    theta0 = rng.standard_normal((B, 2))
    _fast, ref = _compare(method, q, theta0, 1000, record="final", rtol=RTOL_CLOSED)
    assert 0 < np.count_nonzero(ref.status == "diverged") < B


@pytest.mark.parametrize("record", ["all", "loss", "final"])
def test_single_configuration_on_a_diagonal_quadratic_does_not_alias_theta0(record):
    # regression: for one configuration of a diagonal A the eigenbasis copy of θ₀ was a view
    # (θ₀ᵀ of shape (2, 1) is contiguous), so the engine overwrote the RunSpec's θ₀ and the
    # message reported a distance ratio of 1
    q = hb.Quadratic.valley(kappa=100)
    theta0 = np.array([1.0, 1.0])
    opt = hb.SGD(lr=0.01, momentum=0.98)
    fast = hb.iterate(opt, q, theta0, 1500, record=record)
    general = _iterate_general(opt, q, theta0, 1500, record=record, every=1, tol=None, threads=None)
    np.testing.assert_array_equal(theta0, [1.0, 1.0])
    assert fast.message == general.message
    ratio = np.linalg.norm(fast.theta[-1]) / np.linalg.norm(theta0)  # the minimiser is 0
    assert f"{ratio:.3g} of its initial value" in fast.message


# ---------------------------------------------------------------------------------------
# Adam / AdamW (heavyball/_fastadam.py): bitwise equal to the general path
# ---------------------------------------------------------------------------------------
def _bitwise(method, q, theta0, steps, *, record="all", every=1, threads=None):
    """The Adam kernel performs the general path's IEEE operations in the same order, so every
    record is compared for exact equality (NaN == NaN), not to a tolerance."""
    assert fastpath.supports(method, q)
    fast = fastpath.run(method, q, theta0, steps, record=record, every=every, threads=threads)
    ref = _iterate_general(method, q, theta0, steps, record=record, every=every)
    for name in ("theta", "loss", "distance", "steps", "diverged_at", "status", "success"):
        a, b = getattr(fast, name), getattr(ref, name)
        if b is None:
            assert a is None
        else:
            assert np.asarray(a).dtype == np.asarray(b).dtype, name
            np.testing.assert_array_equal(a, b, err_msg=name)
    assert fast.message == ref.message
    return fast, ref


@pytest.mark.parametrize("flags", ADAM_FLAGS, ids=lambda f: f["cls"].__name__ + "," + ",".join(
    f"{k}={v}" for k, v in f.items() if k != "cls"))  # fmt: skip
def test_adam_every_flag_bitwise_equal_to_general_path(flags, rng):
    flags = dict(flags)
    cls = flags.pop("cls")
    method = cls(lr=0.05, betas=(0.9, 0.99), **flags)
    # maximize without decay ascends f until it passes the bound: diverged_at is compared too
    _bitwise(method, _quadratic(), rng.standard_normal((5, 3)), 200)


def test_adam_lerp_branch_and_array_hyperparameters(rng):
    # β1 <= 0.5 takes torch's other lerp branch; arrays for every hyperparameter, one
    # varying along the coordinate axis (Adam is elementwise, so that is allowed)
    q = _quadratic()
    B = 40
    method = hb.AdamW(
        lr=rng.uniform(0.01, 0.5, (B, 1)), betas=(rng.uniform(0.0, 0.95, (B, 1)), rng.uniform(0.5, 0.999, (B, 3))),
        eps=rng.uniform(1e-9, 1e-6, (B, 1)), weight_decay=rng.uniform(0.0, 0.3, (B, 1)), amsgrad=True,
    )  # fmt: skip
    _bitwise(method, q, rng.standard_normal((B, 3)), 150, record="loss", every=7)


def test_adam_divergence_reported_like_general_path(rng):
    # AdamW with |1 − lr·λ| > 1 blows up geometrically: the certificate fails, the block is
    # checked step by step and diverged_at must equal the general path's
    q = _quadratic()
    B = 60
    method = hb.AdamW(lr=rng.uniform(0.01, 60.0, (B, 1)), weight_decay=rng.uniform(0.0, 1.0, (B, 1)))
    for record in ("all", "loss", "final"):
        _fast, ref = _bitwise(method, q, rng.standard_normal((B, 3)), 300, record=record)
        assert 0 < np.count_nonzero(ref.status == "diverged") < B


def test_adam_float32_and_no_minimizer(rng):
    q = _quadratic()
    _bitwise(hb.Adam(lr=0.1, amsgrad=True), q, rng.standard_normal((6, 3)).astype(np.float32), 120)
    singular = hb.Quadratic(np.diag([1.0, 0.0]), b=[0.5, 0.3])  # unbounded below: no minimiser, no distance
    assert singular.minimizer is None
    _bitwise(hb.Adam(lr=0.1), singular, rng.standard_normal((3, 2)), 100, record="loss")


@pytest.mark.parametrize("steps", [0, 1, 63, 64, 65, 130])
def test_adam_short_runs_and_chunk_boundaries(steps, rng):
    _bitwise(hb.Adam(lr=0.2), _quadratic(), [1.0, -2.0, 0.5], steps)


def test_adam_threads_bitwise_identical(monkeypatch, rng):
    from heavyball import _fastadam

    monkeypatch.setattr(_fastadam, "BLOCK_BYTES", 256)  # many small blocks over the threads
    q = hb.Quadratic.valley(kappa=30, angle=0.3)
    B = 200
    method = hb.AdamW(lr=rng.uniform(0.01, 60.0, (B, 1)), weight_decay=0.1)  # |1 − lr·λ| > 1 diverges
    theta0 = rng.standard_normal((B, 2))
    runs = [fastpath.run(method, q, theta0, 150, record="loss", threads=t) for t in (1, 2)]
    for name in ("theta", "loss", "distance", "diverged_at"):
        np.testing.assert_array_equal(getattr(runs[1], name), getattr(runs[0], name))
    assert "diverged" in set(runs[0].status.tolist())
    _bitwise(method, q, theta0, 150, record="loss", threads=2)


def test_iterate_dispatches_adam_to_fast_path(monkeypatch, rng):
    from heavyball import _fastadam

    calls = []
    real = _fastadam.run_spec
    monkeypatch.setattr(_fastadam, "run_spec", lambda *a, **k: calls.append(1) or real(*a, **k))
    hb.iterate(hb.Adam(lr=0.1), _quadratic(), rng.standard_normal((2, 3)), 10)
    assert calls == [1]
    hb.iterate(hb.Adam(lr=lambda k: 0.1), _quadratic(), rng.standard_normal((2, 3)), 10)  # schedule: general
    assert calls == [1]


@pytest.mark.parametrize("record", ["final", "loss"])
@pytest.mark.parametrize("engine", ["numpy", "compiled"])
def test_the_cycle_test_skipped_by_the_workers_is_asked_again(record, engine, monkeypatch):
    """The workers skip the cycle test for configurations the eigenbasis shows converged with a
    margin; one the run then finds unconverged is tested after all. Forcing every configuration
    to be skipped must give the general path's statuses and periods."""
    if engine == "compiled":
        pytest.importorskip("numba")
    q = hb.Quadratic([[2.0]])  # lr·h = 2: x ← −x (period 2); lr = 0.5: converged; 0.01: slow
    lr = np.array([[1.0], [0.5], [0.01], [1.0]])
    theta0 = np.array([[1.0], [0.5], [2.0], [-3.0]])
    ref = _iterate_general(hb.SGD(lr=lr), q, theta0, 40, record=record)
    assert ref.status.tolist() == ["cycle", "converged", "max_steps", "cycle"]
    monkeypatch.setattr(cycles.ClosedFormCycles, "_untested", lambda self, dat, z0, rk: np.zeros_like(dat, dtype=bool))
    tr = hb.iterate(hb.SGD(lr=lr), q, theta0, 40, record=record, engine=engine)
    np.testing.assert_array_equal(tr.status, ref.status)
    np.testing.assert_array_equal(tr.period, ref.period)
