"""The compiled eigenbasis kernel (heavyball/compiled/linear.py): ``engine="compiled"``.

Oracles: the numpy engine (``engine="numpy"``, the reference), compared **bit for bit** (the
bytes of ``theta``, ``loss``, ``distance``, ``diverged_at`` and ``status``: also the sign of
zero and every NaN), and live ``torch.optim.SGD`` with the tolerance of the torch-parity tests
of the fast path. No timing here: speed is measured in ``analysis/benchmarks.py``.
"""

import itertools
import subprocess
import sys

import numpy as np
import pytest

import heavyball as hb

pytest.importorskip("numba", reason="the compiled engine needs numba (the `fast` extra)")

FIELDS = ("theta", "loss", "distance", "diverged_at", "status", "success")


def _bytes(a):
    a = np.ascontiguousarray(a)
    return a.dtype, a.shape, (a.tobytes() if a.dtype != object else a.tolist())


def _assert_bitwise(fast, ref):
    for name in FIELDS:
        x, y = getattr(fast, name), getattr(ref, name)
        if y is None:
            assert x is None, name
            continue
        assert _bytes(x) == _bytes(y), f"{name} differs"
    assert fast.message == ref.message


def _both(method, q, theta0, steps, **kw):
    ref = hb.iterate(method, q, theta0, steps, engine="numpy", **kw)
    fast = hb.iterate(method, q, theta0, steps, engine="compiled", **kw)
    _assert_bitwise(fast, ref)
    return fast, ref


def _problem(d, kind):
    """``plain``: b = 0 (minimiser 0); ``shifted``: b ≠ 0; ``indefinite``: a negative
    curvature (no minimiser: the loss is Σ(½hz − Vᵀb)z); ``singular``: a zero curvature with
    b in the range of A (axis-aligned: the least-norm minimiser)."""
    eigs = np.geomspace(0.02, 1.0, d) if d > 1 else np.array([1.0])
    b = np.linspace(-0.5, 0.7, d) if kind != "plain" else None
    if kind == "indefinite":
        eigs = eigs.copy()
        eigs[0] = -0.01
    if kind == "singular" and d > 1:
        eigs = eigs.copy()
        eigs[0] = 0.0
        b = b.copy()
        b[0] = 0.0
    rotation = "random" if d > 1 and kind != "singular" else None
    q = hb.Quadratic.from_eigenvalues(eigs, rotation=rotation, seed=5, b=b)
    assert (q.minimizer is None) == (kind == "indefinite")
    return q


def _methods(B, rng):
    """Every linear family with per-configuration hyperparameters; learning rates up to 4.5
    (curvature ≤ 1), so that a share of the configurations diverges, at different steps."""
    lr = rng.uniform(0.05, 4.5, (B, 1))
    mu = rng.uniform(0.0, 0.95, (B, 1))
    yield "sgd", hb.SGD(lr=lr)
    yield "sgd-momentum", hb.SGD(lr=lr, momentum=mu)
    yield "sgd-dampening-wd", hb.SGD(lr=lr, momentum=mu, dampening=0.3, weight_decay=0.05)
    yield "sgd-nesterov", hb.SGD(lr=lr, momentum=mu, nesterov=True)
    yield "sgd-maximize", hb.SGD(lr=lr, momentum=mu, weight_decay=0.2, maximize=True)
    yield "heavyball", hb.HeavyBall(eta=lr, mu=mu, dt=1.0)
    yield "nesterov-lookahead", hb.NesterovLookahead(eta=lr, mu=mu, dt=0.5)


GRID = list(itertools.product((1, 2, 10), ("float64", "float32"), ("all", "loss", "final")))


@pytest.mark.parametrize(("d", "dtype", "record"), GRID, ids=lambda x: str(x))
def test_bitwise_equal_to_numpy_engine(d, dtype, record, rng):
    B = 40
    theta0 = rng.standard_normal((B, d)).astype(dtype)
    for kind in ("plain", "shifted", "indefinite", "singular"):
        q = _problem(d, kind)
        for name, method in _methods(B, rng):
            fast, _ = _both(method, q, theta0, 150, record=record, every=7 if record != "final" else 1)
            if name == "sgd-momentum" and kind == "plain":
                # not vacuous: some configurations diverge, some do not
                assert np.any(fast.diverged_at >= 0) and np.any(fast.diverged_at < 0)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("record", ["all", "loss", "final"])
def test_short_runs_and_single_configurations(dtype, record, rng):
    """0, 1, 2 steps (the first step and the closed form's start), one configuration
    (unbatched: d = 10 has one column, where numpy's sum over the modes is written as a
    running sum), every > 1 with a last step off the grid."""
    for d in (1, 2, 10):
        q = _problem(d, "shifted")
        theta0 = rng.standard_normal(d).astype(dtype)
        for steps in (0, 1, 2, 3, 65, 129):
            for method in (hb.SGD(lr=0.7, momentum=0.8, nesterov=True), hb.HeavyBall(eta=2.5, mu=0.9)):
                _both(method, q, theta0, steps, record=record, every=1 if record == "final" else 4)


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("record", ["all", "loss", "final"])
def test_threads_give_the_same_bits(threads, record, rng):
    """Several blocks (B > the block width), split over threads: the same bytes as the numpy
    engine on one thread."""
    from heavyball import fastpath

    d = 2
    B = 2 * fastpath._block_width(d, 8) + 37
    q = _problem(d, "plain")
    lr = rng.uniform(0.05, 3.5, (B, 1))
    mu = rng.uniform(0.0, 0.95, (B, 1))
    method = hb.SGD(lr=lr, momentum=mu)
    theta0 = np.array([1.0, -0.5])
    ref = hb.iterate(method, q, theta0, 70, record=record, every=10, engine="numpy", threads=1)
    fast = hb.iterate(method, q, theta0, 70, record=record, every=10, engine="compiled", threads=threads)
    _assert_bitwise(fast, ref)
    assert np.any(fast.diverged_at >= 0) and np.any(fast.diverged_at < 0)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("record", ["all", "loss", "final"])
@pytest.mark.parametrize("problem", ["valley", "indefinite"])
def test_long_runs_through_subnormal_numbers(dtype, record, problem, rng):
    """Converging modes decay through the subnormal range (and may settle on a cycle of a few
    units in the last place), where the kernel steps them in scaled arithmetic: IEEE gradual
    underflow, bit for bit, in every record, with a known minimiser (the valley) and without
    (a slightly negative curvature: the loss is Σ(½hz − Vᵀb)z with b = 0)."""
    if problem == "valley":
        q = hb.Quadratic.valley(kappa=100)
    else:
        q = hb.Quadratic.from_eigenvalues([-1e-5, 1.0])  # axis-aligned: θ is the modes
        assert q.minimizer is None
    B = 300
    method = hb.SGD(lr=rng.uniform(0.05, 1.5, (B, 1)), momentum=rng.uniform(0.0, 0.95, (B, 1)))
    fast, _ = _both(method, q, np.array([1.0, 1.0], dtype), 1500, record=record, every=1)
    th = np.abs(fast.theta)
    assert np.any((th > 0) & (th < np.finfo(dtype).tiny))  # the comparison covers subnormals


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("levels", ["none", "all", "default"])
def test_the_take_out_levels_choose_speed_not_bits(dtype, levels, rng, monkeypatch):
    """Which modes are stepped in scaled arithmetic is only a speed choice: with no mode taken
    out (the hardware's gradual underflow throughout), with every small mode taken out at the
    ceiling, and with the default per-mode levels, the bits are the numpy engine's. Nesterov
    contracts fastest (``a = m = 0`` at ``lr·h = 1``), so its modes cross the subnormal range
    within a chunk."""
    from heavyball.compiled import linear

    def fixed(a, m, chunk):
        top = 2.0**-560 if a.dtype == np.float64 else 2.0**-97
        return np.full(a.shape, 0.0 if levels == "none" else top, a.dtype)

    if levels != "default":
        monkeypatch.setattr(linear, "take_levels", fixed)
    q = hb.Quadratic.valley(kappa=100)
    B = 300
    lr, mu = rng.uniform(0.05, 1.5, (B, 1)), rng.uniform(0.0, 0.95, (B, 1))
    theta0 = rng.standard_normal((B, 2)).astype(dtype)
    nesterov = hb.SGD(lr=lr, momentum=mu, nesterov=True)
    for method in (nesterov, hb.SGD(lr=lr, momentum=mu)):
        fast, _ = _both(method, q, theta0, 1200, record="loss", every=1)
        assert np.any(fast.diverged_at >= 0) or method is not nesterov
    th = np.abs(hb.iterate(nesterov, q, theta0, 1200, record="all", engine="compiled").theta)
    assert np.any((th > 0) & (th < np.finfo(dtype).tiny))  # Nesterov's modes pass through subnormals


def test_take_levels_against_the_spectral_radius():
    """``take_levels`` against ρ from the roots of ``λ² − aλ − m`` (numpy.roots): real,
    complex, repeated and zero roots, and a growing mode (its level is below the smallest
    normal number: it is taken out only once its values are subnormal)."""
    from heavyball.compiled import linear

    a = np.array([0.0, 1.0, 0.9, 0.0, 0.3, 1.5, 1.5])
    m = np.array([-0.25, -0.25, -0.1, 0.0, -0.9, -0.2, 0.6])
    chunk = 64
    rho = np.array([max(abs(np.roots([1.0, -ai, -mi]))) for ai, mi in zip(a, m, strict=True)])
    for dtype, e_min, top in ((np.float64, -1022, -560), (np.float32, -126, -97)):
        got = linear.take_levels(a.astype(dtype), m.astype(dtype), chunk)
        assert got.dtype == dtype
        with np.errstate(divide="ignore"):
            binades = np.minimum(e_min + linear.LEVEL_MARGIN - chunk * np.log2(rho), top)
        want = np.exp2(binades).astype(dtype)
        # ρ from the closed form vs numpy.roots: a few ulps of ρ, 64 of them in the exponent
        np.testing.assert_allclose(got, want, rtol=1e-9 if dtype == np.float64 else 1e-5)
        assert got[3] == np.float64(2.0) ** top  # ρ = 0: the ceiling
        assert rho[-1] > 1.0 and got[-1] < np.finfo(dtype).tiny


def test_a_few_slowly_diverging_configurations_are_caught_at_their_step(rng):
    """A group whose certificate fails for a handful of configurations tests only those each
    step; their divergence steps (spread over hundreds of steps) are the numpy engine's, in
    groups with one, a few and many such configurations."""
    q = hb.Quadratic.valley(kappa=100)
    B = 3000
    lr = rng.uniform(0.05, 1.0, B)
    mu = rng.uniform(0.0, 0.9, B)
    for share, sl in ((1, slice(0, 1)), (5, slice(600, 605)), (400, slice(1200, 1600))):
        # SGD with momentum diverges past lr·h = 2(1 + μ); just past it ρ is barely above 1
        lr[sl] = 2.0 * (1.0 + mu[sl]) * rng.uniform(1.01, 1.05, share)
    theta0 = rng.standard_normal((B, 2))
    for record in ("final", "loss"):
        fast, _ = _both(hb.SGD(lr=lr[:, None], momentum=mu[:, None]), q, theta0, 1500, record=record, every=50)
        dat = fast.diverged_at
        assert np.count_nonzero(dat >= 0) == 406 and np.all(dat[[0, 600, 1200]] > 64)


def test_scaled_products_round_like_ieee(rng):
    """The kernel's product in scaled arithmetic (values times 2^1074, where subnormal numbers
    are integers) against the hardware's IEEE product of the subnormal number itself; mantissas
    near 2^52 make half the first roundings land on a tie (the double-rounding case)."""
    from heavyball.compiled import linear

    n = 20000
    u = np.concatenate([rng.integers(1, 2**52, n), rng.integers(2**50, 2**52, n), rng.integers(1, 64, n)])
    u = np.where(rng.random(u.size) < 0.5, -u, u).astype(np.int64)
    c = np.concatenate([rng.uniform(-2.0, 2.0, 2 * n), rng.uniform(-0.999, 0.999, n)])
    c[:100] = np.array([0.5, -0.5, 1.5, -1.5, 0.25] * 20)  # exact ties (no double rounding)
    v = (np.abs(u) | np.where(u < 0, np.int64(-(2**63)), 0)).view(np.float64)  # the subnormal u·2^-1074
    assert np.all(np.abs(v) < np.finfo(np.float64).tiny)
    with np.errstate(under="ignore"):
        want = c * v
    got = np.array([linear._scaled_product(ci, float(ui)) for ci, ui in zip(c, u, strict=True)])
    out = np.empty((1, got.size))
    for j, g in enumerate(got):
        linear._put_true(out, out.view(np.int64), 0, j, g)
    assert out[0].tobytes() == want.tobytes()


def test_closed_form_final_with_steps_it_cannot_certify(rng):
    """record="final" jumps by the closed form where a certificate rules divergence out and
    steps the rest; diverging and borderline configurations take the compiled kernel."""
    q = _problem(10, "shifted")
    B = 200
    lr = np.concatenate([rng.uniform(0.05, 1.0, B // 2), rng.uniform(1.9, 2.1, B // 2)])[:, None]
    method = hb.SGD(lr=lr, momentum=0.0)
    fast, _ = _both(method, q, rng.standard_normal(10), 3000, record="final")
    assert np.any(fast.diverged_at > 64)  # crossings after the first certificate's horizon


def test_unknown_engine_and_the_import_stays_light():
    q = hb.Quadratic.valley(kappa=10)
    with pytest.raises(ValueError, match="`engine`"):
        hb.iterate(hb.SGD(lr=0.1), q, [1.0, 1.0], 3, engine="numba")
    code = (
        "import sys, numpy as np, heavyball as hb\n"
        "hb.iterate(hb.SGD(lr=0.1), hb.Quadratic.valley(kappa=10), [1.0, 1.0], 5)\n"
        "print('numba' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ---------------------------------------------------------------------------------------
# live torch
# ---------------------------------------------------------------------------------------
@pytest.mark.torch
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_compiled_engine_matches_live_torch(torch, dtype):
    """torch.optim.SGD, every flag, with the fast-path parity tolerance (the eigenbasis engine
    rounds differently from torch's (buffer, θ) updates: 1e-12 relative in float64, 1e-4 in
    float32, as in the torch-parity tests of the fast path)."""
    tolerance = {"float64": 1e-12, "float32": 1e-4}[dtype]
    d, steps = 5, 300
    q = _problem(d, "shifted")
    theta0 = np.linspace(-1.0, 1.0, d).astype(dtype)
    cases = [
        dict(lr=0.3, momentum=0.9, dampening=0.0, nesterov=False, weight_decay=0.0, maximize=False),
        dict(lr=0.2, momentum=0.8, dampening=0.25, nesterov=False, weight_decay=0.01, maximize=False),
        dict(lr=0.5, momentum=0.7, dampening=0.0, nesterov=True, weight_decay=0.03, maximize=False),
        dict(lr=0.4, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0, maximize=False),
    ]
    A = torch.tensor(np.asarray(q.A), dtype=getattr(torch, dtype))
    b = torch.tensor(np.asarray(q.b), dtype=getattr(torch, dtype))
    for case in cases:
        p = torch.tensor(theta0.copy(), requires_grad=True)
        opt = torch.optim.SGD([p], **case)
        ref = [p.detach().numpy().copy()]
        for _ in range(steps):
            opt.zero_grad()
            p.grad = A @ p.detach() - b
            opt.step()
            ref.append(p.detach().numpy().copy())
        ref = np.array(ref)
        mine = hb.iterate(hb.SGD(**case), q, theta0, steps, engine="compiled").theta
        assert mine.dtype == np.dtype(dtype)
        ratio = np.max(np.abs(mine.astype(np.float64) - ref)) / np.max(np.abs(ref))
        assert ratio <= tolerance, f"{case}: {ratio:.3g}"


@pytest.mark.parametrize("with_e", [False, True])
def test_compiled_lucas_sequence_is_numpys(with_e, rng):
    """The closed form's fast doubling (record="final", the cycle test's tail) compiled: the
    numpy engine's bits for every exponent's binary pattern, per mode and per configuration."""
    from heavyball import eigenmodes

    a = rng.uniform(-2.0, 2.0, (3, 50))
    m = -rng.uniform(0.0, 1.0, (3, 50))
    e = np.ones((3, 50)) if with_e else None
    for n in (1, 2, 3, 5, 64, 999, 1000, 2**20 + 7):
        for aa, mm in ((a, m), (a[:, :1], m[:, :1]), (a, m[:, :1])):
            with np.errstate(all="ignore"):  # growing modes overflow at large n (to the same inf)
                ref = eigenmodes.lucas(aa, mm, e, n)
                ref_state = eigenmodes.lucas_state(aa, mm, e, n)
            got = eigenmodes.lucas(aa, mm, e, n, compiled=True)
            got_state = eigenmodes.lucas_state(aa, mm, e, n, compiled=True)
            for x, y in zip(got + got_state, ref + ref_state, strict=True):
                assert (x is None) == (y is None)
                if y is not None:
                    assert x.shape == y.shape and x.tobytes() == y.tobytes()
