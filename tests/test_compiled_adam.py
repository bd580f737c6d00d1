"""The compiled Adam/AdamW kernel (``engine="compiled"``, heavyball/compiled/adam.py).

Oracles: the numpy engine (``engine="numpy"``: the blocked numpy kernel, itself bitwise equal
to the general loop) and live torch.optim.Adam/AdamW. The compiled kernel performs the numpy
engine's IEEE operations in the same order, so every record is compared **byte for byte**
(``tobytes``: NaN payloads and signed zeros included), not to a tolerance. Against torch the
tolerances are those of tests/test_torch_parity.py (1e-12 relative in float64, 1e-5 in
float32: torch's CPU kernels fuse multiply-adds, numpy and the kernel do not).
"""

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import heavyball as hb
from conftest import ADAM_FLAGS
from heavyball import fastpath

pytest.importorskip("numba", reason="the compiled engine needs numba (pip install heavyball-dynamics[fast])")

ROOT = Path(__file__).resolve().parents[1]


def _quadratic(d=3, b=True):
    """A fixed symmetric positive definite ``A`` (coupled coordinates) and a nonzero ``b``."""
    rng = np.random.default_rng(1234 + d)
    Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    A = (Q * np.geomspace(0.05, 2.0, d)) @ Q.T
    A = 0.5 * (A + A.T)
    return hb.Quadratic(A, b=rng.standard_normal(d) if b else None)


def _same(method, q, theta0, steps, **options):
    """Run both engines; assert every output equal byte for byte; return the compiled run."""
    assert fastpath.supports(method, q)  # both engines take the Adam kernel, not the general loop
    ref = hb.iterate(method, q, theta0, steps, engine="numpy", **options)
    fast = hb.iterate(method, q, theta0, steps, engine="compiled", **options)
    for name in ("theta", "loss", "distance", "steps", "diverged_at", "status", "success"):
        a, b = getattr(fast, name), getattr(ref, name)
        if b is None:
            assert a is None, name
            continue
        a, b = np.asarray(a), np.asarray(b)
        assert a.dtype == b.dtype and a.shape == b.shape, name
        if a.dtype.kind == "f":
            assert a.tobytes() == b.tobytes(), f"{name}: {np.count_nonzero(a != b)} entries differ"
        else:
            np.testing.assert_array_equal(a, b, err_msg=name)
    assert fast.message == ref.message
    return fast, ref


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("flags", ADAM_FLAGS, ids=lambda f: f["cls"].__name__ + "," + ",".join(
    f"{k}={v}" for k, v in f.items() if k != "cls"))  # fmt: skip
def test_every_flag_and_record_bitwise_equal_to_numpy_engine(flags, dtype, rng):
    flags = dict(flags)
    cls = flags.pop("cls")
    method = cls(lr=0.05, betas=(0.9, 0.99), **flags)
    theta0 = rng.standard_normal((7, 3)).astype(dtype)
    for record in ("all", "loss", "final"):
        # maximize without decay ascends f until it passes the bound: diverged_at is compared too
        _same(method, _quadratic(), theta0, 150, record=record, every=3)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("d", [1, 2, 3, 5, 8])
def test_dimensions_bitwise_equal_to_numpy_engine(d, dtype, rng):
    # d = 3, 5, 8 exercise the order of the distance's sum (numpy's einsum lanes) and d = 8
    # numpy.sum's pairwise tree for the loss; b = 0 takes the numpy engine's "no − b" branch
    theta0 = rng.standard_normal((11, d)).astype(dtype)
    for b in (True, False):
        q = _quadratic(d, b=b)
        _same(hb.Adam(lr=0.03), q, theta0, 120, record="loss")
        _same(hb.AdamW(lr=0.03, weight_decay=0.1, amsgrad=True), q, theta0, 60, record="all", every=7)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_array_hyperparameters_bitwise_equal_to_numpy_engine(dtype, rng):
    # β1 on both sides of 0.5 (torch's two lerp branches, mixed in one batch), β2 varying along
    # the coordinates, every hyperparameter per configuration
    B, q = 40, _quadratic()
    theta0 = rng.standard_normal((B, 3)).astype(dtype)
    method = hb.AdamW(
        lr=rng.uniform(0.01, 0.5, (B, 1)), betas=(rng.uniform(0.0, 0.95, (B, 1)), rng.uniform(0.5, 0.999, (B, 3))),
        eps=rng.uniform(1e-9, 1e-6, (B, 1)), weight_decay=rng.uniform(0.0, 0.3, (B, 1)), amsgrad=True,
    )  # fmt: skip
    for record in ("all", "loss", "final"):
        _same(method, q, theta0, 70, record=record, every=4)
    # scalar lr and betas (per-step scalars shared) with an array eps and coupled decay
    method = hb.Adam(lr=0.1, eps=rng.uniform(1e-9, 1e-6, (B, 1)), weight_decay=rng.uniform(0.0, 0.3, (B, 1)))
    _same(method, q, theta0, 70, record="loss")


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("cls", [hb.Adam, hb.AdamW])
def test_per_configuration_lr_bitwise_equal_to_numpy_engine(cls, dtype, rng):
    # an lr array with scalar betas: the kernel divides lr by 1 − β₁ᵗ itself (numpy's float64
    # division, then the cast); lr per configuration, and per coordinate too
    B, q = 30, _quadratic()
    theta0 = rng.standard_normal((B, 3)).astype(dtype)
    for lr in (rng.uniform(0.01, 1.5, (B, 1)), rng.uniform(0.01, 1.5, (B, 3))):
        for flags in (dict(), dict(amsgrad=True, maximize=True, weight_decay=0.05)):
            for record in ("all", "loss", "final"):
                _same(cls(lr=lr, **flags), q, theta0, 80, record=record, every=5)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_diverging_runs_bitwise_equal_to_numpy_engine(dtype, rng):
    # AdamW with |1 − lr·λ| > 1 blows up geometrically (to overflow and NaN in float32)
    B, q = 60, _quadratic()
    theta0 = rng.standard_normal((B, 3)).astype(dtype)
    method = hb.AdamW(lr=rng.uniform(0.01, 60.0, (B, 1)), weight_decay=rng.uniform(0.0, 1.0, (B, 1)))
    for record in ("all", "loss", "final"):
        fast, _ref = _same(method, q, theta0, 300, record=record)
        assert 0 < np.count_nonzero(fast.status == "diverged") < B
    # scalar hyperparameters: maximize walks away from the minimum, about lr per step, until it
    # passes the bound 1e8·(1 + ‖θ₀‖ + ‖θ*‖)
    fast, _ref = _same(hb.Adam(lr=1e7, maximize=True), q, theta0, 400, record="loss")
    assert np.all(fast.status == "diverged")


def test_only_the_tiles_the_certificate_cannot_clear_are_tested(rng, monkeypatch):
    """Four tiles of 512 configurations; a handful of AdamW configurations in three of them grow
    geometrically and pass their bound after several certificate chunks (64 steps), the rest
    converge. The kernel is handed the certificate's verdicts: tile 2 is never watched, the
    growing configurations are; the divergence steps and every record are the numpy
    engine's still."""
    from heavyball._fastadam import CHUNK
    from heavyball.compiled import adam as compiled_adam

    watched = []
    kernel = compiled_adam.adam_steps

    def spy(*args):
        watched.append(np.array(args[-1]))  # `watch`, by block column
        return kernel(*args)

    monkeypatch.setattr(compiled_adam, "adam_steps", spy)

    B, q = 2048, _quadratic()
    theta0 = rng.standard_normal((B, 3))
    lr = rng.uniform(0.001, 0.05, B)
    wd = np.zeros(B)
    grow = [5, 700, 701, 1900]
    lr[grow], wd[grow] = 2.0, rng.uniform(1.02, 1.04, len(grow))  # |1 − lr·λ| ≈ 1.04–1.08 per step
    method = hb.AdamW(lr=lr[:, None], weight_decay=wd[:, None])
    fast, _ = _same(method, q, theta0, 400, record="loss", every=10, threads=1)
    dat = fast.diverged_at
    assert sorted(np.flatnonzero(dat >= 0).tolist()) == grow
    assert np.all(dat[grow] > CHUNK)  # caught after the first chunk, inside a later one
    assert compiled_adam.TILE_BYTES // 8 == 512 and len(watched) == -(-400 // CHUNK)  # one block, 7 chunks
    seen = np.any(watched, axis=0)
    assert not seen[1024:1536].any() and seen[grow].all()


@pytest.mark.parametrize("steps", [0, 1, 2, 15, 16, 17, 33])
def test_short_runs_bitwise_equal_to_numpy_engine(steps, rng):
    # around the chunk of per-step scalars (16 steps) and the recorded tail of the last steps
    q = _quadratic()
    theta0 = rng.standard_normal((5, 3))
    _same(hb.Adam(lr=0.2), q, theta0, steps)
    _same(hb.AdamW(lr=np.full((5, 1), 0.2), weight_decay=0.1), q, theta0, steps, record="loss")


def test_threads_blocks_and_tiles_do_not_change_a_bit(monkeypatch, rng):
    from heavyball.compiled import adam

    # tiles of 8 configurations and blocks of 24 (array hyperparameters): B = 203 makes ragged
    # last tiles and blocks; 1, 2 and 3 threads
    monkeypatch.setattr(adam, "TILE_BYTES", 64)
    monkeypatch.setattr(adam, "ARRAY_BLOCK", 24)
    B, q = 203, hb.Quadratic.valley(kappa=30, angle=0.3)
    theta0 = rng.standard_normal((B, 2))
    methods = [hb.Adam(lr=0.02), hb.AdamW(lr=rng.uniform(0.01, 60.0, (B, 1)), weight_decay=0.1)]  # the 2nd diverges
    for method in methods:
        for threads in (1, 2, 3):
            _same(method, q, theta0, 90, record="loss", threads=threads)


def test_dimension_above_the_kernel_takes_the_numpy_engine(rng):
    # d > problems.SMALL_DIM: the numpy engine's gradient is a BLAS product, whose rounding no
    # kernel reproduces; engine="compiled" runs the numpy engine there (the same run)
    q = _quadratic(10)
    assert not fastpath.supports(hb.Adam(lr=0.05), q)
    theta0 = rng.standard_normal((4, 10))
    ref = hb.iterate(hb.Adam(lr=0.05), q, theta0, 50, engine="numpy")
    fast = hb.iterate(hb.Adam(lr=0.05), q, theta0, 50, engine="compiled")
    assert fast.theta.tobytes() == ref.theta.tobytes() and fast.loss.tobytes() == ref.loss.tobytes()


def test_import_heavyball_does_not_import_numba():
    code = (
        "import sys, numpy as np, heavyball as hb\n"
        "hb.iterate(hb.Adam(lr=0.1), hb.Quadratic.valley(kappa=10), np.ones((3, 2)), 5)\n"
        "print('numba' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "False"


# ---------------------------------------------------------------------------------------
# live torch
# ---------------------------------------------------------------------------------------
def _load_recorder():
    spec = importlib.util.spec_from_file_location(
        "record_torch_reference", ROOT / "analysis" / "record_torch_reference.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.torch
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("kind", ["Adam", "AdamW"])
def test_compiled_engine_matches_live_torch(torch, kind, dtype):
    rec = _load_recorder()
    A, b, theta0 = rec.make_problem(2)
    q = hb.Quadratic(A, b)
    cases = rec.CASES[kind]  # every flag combination (amsgrad, maximize, weight decay)
    steps = 300
    ref = rec.run_torch(torch, kind, cases, q, theta0, dtype, "constant", steps=steps)
    for i, case in enumerate(cases):
        # torch was fed the gradient of −f for maximize: the same problem, as a Quadratic
        problem = hb.Quadratic(-A, -b) if case["maximize"] else q
        opt = getattr(hb, kind)(lr=rec.BASE_LR[kind], **case)
        mine = hb.iterate(opt, problem, np.asarray(theta0, dtype=dtype), steps, engine="compiled").theta
        assert mine.dtype == np.dtype(dtype)
        ratio = rec.parity(mine, ref[:, i])
        assert ratio <= rec.TOLERANCE[dtype], f"{kind} {rec.label(case)}: {ratio:.3g}"
