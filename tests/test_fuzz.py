"""Property-based fuzz of the whole public API.

The property, for every public entry point: a call with random (often nonsensical) input
either

* succeeds, and its results are finite — or carry a documented status (``"diverged"``,
  ``success=False``, NaN records after a divergence, NaN from ``rates.fit_rate`` when fewer
  than 3 errors are usable) — or
* raises ``ValueError``/``TypeError`` whose message names (in backticks) one of the
  arguments of that call,

and never raises anything else, never emits a ``RuntimeWarning`` (every call runs under
``warnings.simplefilter("error")`` and only ``ValueError``/``TypeError`` are caught, so a
warning fails the example), and never hangs (every example has a finite hypothesis
``deadline`` and the inputs are small: d <= 3, batches of at most a dozen, <= 40 steps,
ODE intervals of a few time units).

Inputs: random shapes and batch shapes (including empty batches), float64/float32/int
arrays and Python lists, NaN, ±inf, ±0, huge (1e300, float max) and tiny (1e-300,
subnormal) magnitudes, negative and out-of-range hyperparameters, non-numeric junk
(strings, None, complex, ragged lists, objects). Each test runs 200 examples
(``max_examples=200``, derandomised: the CI profile in conftest).

The oracle here is the contract itself (the docstrings and docs/glossary.md); numerical
correctness is tested elsewhere against independent references.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import math
import re
import sys
import warnings
from datetime import timedelta

import numpy as np
import pytest
import scipy.integrate  # noqa: F401 - imported once here so that no example pays for it
from hypothesis import HealthCheck, assume, event, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import heavyball as hb
from heavyball import rates

sympy = pytest.importorskip("sympy")  # a hard dependency; imported here, outside the deadlines
from heavyball import symbolic  # the derivation registry: loaded here, outside the deadlines

# 200 examples per entry point, each bounded in time. conftest's CI profile has deadline=None;
# 5 s is generous for these tiny inputs (typical examples take well under 50 ms, the slowest —
# an implicit ODE solve — about 1 s on a loaded 2-core machine) yet finite, so a hang fails the
# test instead of stalling CI.
FUZZ = settings(
    max_examples=200,
    deadline=timedelta(seconds=5),
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
    print_blob=True,
)


@pytest.fixture(autouse=True)
def _examples_independent_of_collection(monkeypatch):
    """The same examples whether this file runs alone or in the whole suite.

    ``derandomize=True`` fixes the random choices, but Hypothesis also mixes in constants it
    harvests from the source of every *local* module imported so far (the test modules
    collected with this one, the package's modules): the examples then depend on what else
    was collected. Hypothesis has no setting for this, so each fuzz test sees an empty pool
    of local constants (the global pool of interesting floats, strings and integers stays).
    Hypothesis' internals move between versions: if the hook is absent, nothing is patched
    and the examples merely depend on the collection again.
    """
    providers = _hypothesis_providers()
    if providers is not None:
        monkeypatch.setattr(providers, "_get_local_constants", providers.Constants)  # a fresh, empty pool
        providers.CONSTANTS_CACHE.cache.clear()  # permitted constants, filled from the old pool
    yield
    if providers is not None:
        providers.CONSTANTS_CACHE.cache.clear()


def _hypothesis_providers():
    """Hypothesis' provider module if it has the hook patched above (6.131 to at least 6.155)."""
    try:
        from hypothesis.internal.conjecture import providers
    except ImportError:  # pragma: no cover - a future Hypothesis
        return None
    needed = ("_get_local_constants", "Constants", "CONSTANTS_CACHE")
    return providers if all(hasattr(providers, name) for name in needed) else None


def test_no_local_constants_reach_the_examples():
    """The package's and the tests' modules are imported (local modules, whose constants
    Hypothesis would harvest), yet the pool the fuzz tests draw from is empty."""
    providers = _hypothesis_providers()
    if providers is None:  # pragma: no cover
        pytest.skip("this Hypothesis has no local-constants pool to isolate")
    assert rates.__name__ in sys.modules  # a local module is loaded
    assert len(providers._get_local_constants()) == 0


INF, NAN = math.inf, math.nan
FMAX = float(np.finfo(np.float64).max)
F32MAX = float(np.finfo(np.float32).max)
NASTY = [0.0, -0.0, 1.0, -1.0, 0.5, 2.0, 3.0, 0.9, 0.999, 1.0 + 1e-12, 1e-8, 1e-300, 5e-324, -1e-300,
         1e8, -1e8, 1e300, -1e300, FMAX, -FMAX, INF, -INF, NAN]  # fmt: skip
JUNK = [None, "1.0", "abc", "", b"1", [1, "a"], 1 + 2j, {}, [[1.0, 2.0], [3.0]], object, (), [],
        np.array([1 + 1j]), np.array(["a"]), slice(None), Ellipsis]  # fmt: skip

finite_small = st.floats(-4.0, 4.0, allow_nan=False)
any_float = st.one_of(st.sampled_from(NASTY), finite_small, st.floats(allow_nan=True, allow_infinity=True))
junk = st.sampled_from(JUNK)


def f32(x):
    with np.errstate(over="ignore"):
        return np.float32(x)


scalar = st.one_of(any_float, any_float, st.integers(-3, 3), any_float.map(f32), st.sampled_from([True, False]),
                   st.integers(-(2**70), 2**70))  # fmt: skip


@st.composite
def arrays(draw, shape=None, *, max_dims=2, max_side=3, min_side=0, elements=any_float):
    """A numeric array or nested list: float64, float32, int64 or a Python list."""
    if shape is None:
        shape = draw(hnp.array_shapes(min_dims=0, max_dims=max_dims, min_side=min_side, max_side=max_side))
    kind = draw(st.sampled_from(["f64", "f64", "f32", "int", "list"]))
    if kind == "int":
        return draw(hnp.arrays(np.int64, shape, elements=st.integers(-1000, 1000)))
    values = draw(hnp.arrays(np.float64, shape, elements=elements))
    if kind == "f32":
        with np.errstate(over="ignore"):
            return values.astype(np.float32)
    return values.tolist() if kind == "list" else values


def anything(shape=None, **kw):
    """A scalar, an array, or junk."""
    return st.one_of(scalar, arrays(shape, **kw), junk)


# -------------------------------------------------------------------------------------------
# the harness
# -------------------------------------------------------------------------------------------
BACKTICKED = re.compile(r"`([^`]+)`")


def names_in(message: str) -> list[str]:
    return BACKTICKED.findall(message)


def call(fn, *args, names, **kwargs):
    """Call ``fn``; return ``(True, result)`` or ``(False, exc)`` for a proper rejection.

    Warnings are errors inside (a ``RuntimeWarning`` then propagates as an exception of its
    own type and fails the example); only ``ValueError``/``TypeError`` are caught, and their
    message must name, in backticks, one of ``names`` (``lr`` also matches ``lr[0]``,
    ``state.step``, ``betas[1]`` ...).
    """
    label = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", "call")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            result = fn(*args, **kwargs)
        except (ValueError, TypeError) as exc:
            assert_names(exc, names)
            event(f"{label}: {type(exc).__name__}")  # --hypothesis-show-statistics shows the mix
            return False, exc
    event(f"{label}: ok")
    return True, result


def assert_names(exc: BaseException, names) -> None:
    message = str(exc)
    found = names_in(message)
    ok = any(f == n or f.startswith((n + "[", n + ".", n + "=", n + " ")) for f in found for n in names)
    assert ok, f"{type(exc).__name__} does not name an argument among {sorted(names)}: {message!r}"


def all_finite(*arrays_) -> bool:
    return all(np.all(np.isfinite(np.asarray(a, dtype=np.float64))) for a in arrays_)


def moderate(x, limit=1e6) -> bool:
    """Finite and at most ``limit`` in magnitude (inputs whose results cannot overflow)."""
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError):
        return False
    if arr.dtype.kind not in "biuf":
        return False
    arr = arr.astype(np.float64)
    return bool(arr.size == 0 or (np.all(np.isfinite(arr)) and np.max(np.abs(arr)) <= limit))


@st.composite
def fuzz_kwargs(draw, valid: dict, nasty: dict, max_bad: int = 2):
    """Valid arguments, then up to ``max_bad`` of them replaced by nasty values.

    Replacing one or two arguments at a time (instead of drawing all of them at random) makes
    most examples reach deep into the call, where a single bad value must still be caught
    and named; about a third of the examples are entirely valid and check the results."""
    kwargs = {name: draw(strategy, label=name) for name, strategy in valid.items()}
    bad = draw(st.lists(st.sampled_from(sorted(nasty)), max_size=max_bad, unique=True), label="corrupted")
    for name in bad:
        kwargs[name] = draw(nasty[name], label=f"{name} (corrupted)")
    return kwargs


def nasty_value(**kw):
    """Any nasty value: special floats, junk, arrays of any shape with special values."""
    return st.one_of(scalar, junk, arrays(**kw))


dims = st.integers(1, 3)
batches = hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=3)


def points(shape, lo=-3.0, hi=3.0):
    """Finite points of a given shape: float64, float32, int or list."""
    return st.one_of(
        hnp.arrays(np.float64, shape, elements=st.floats(lo, hi)),
        hnp.arrays(np.float32, shape, elements=st.floats(max(lo, -F32MAX), min(hi, F32MAX), width=32)),
        hnp.arrays(np.int64, shape, elements=st.integers(int(max(lo, -1000)), int(min(hi, 1000)))),
        hnp.arrays(np.float64, shape, elements=st.floats(lo, hi)).map(np.ndarray.tolist),
    )


def nasty_points(shape):
    """The right shape with special values (NaN, ±inf, huge, tiny), or any shape, or junk."""
    return st.one_of(hnp.arrays(np.float64, shape, elements=any_float), nasty_value(max_dims=3))


# -------------------------------------------------------------------------------------------
# problems
# -------------------------------------------------------------------------------------------
def check_quadratic(q: hb.Quadratic) -> None:
    d = q.dim
    assert q.A.shape == (d, d) and q.b.shape == (d,) and all_finite(q.A, q.b)
    np.testing.assert_array_equal(q.A, q.A.T)
    h = q.eigenvalues
    assert all_finite(h, q.eigenvectors) and np.all(np.diff(h) >= 0)
    assert q.h_min == h[0] and q.h_max == h[-1]
    assert q.kappa >= 1.0 or q.kappa == INF
    x = q.minimizer
    assert x is None or (x.shape == (d,) and all_finite(x))


magnitudes = st.sampled_from([1.0, 1.0, 1e-300, 1e-8, 1e8, 1e150, 1e300, 1e306])


@st.composite
def symmetric(draw, d=None):
    d = draw(dims) if d is None else d
    M = draw(hnp.arrays(np.float64, (d, d), elements=st.floats(-10, 10)))
    return (M + M.T) * draw(magnitudes)


@FUZZ
@given(data=st.data(), d=dims)
def test_quadratic_constructor(data, d):
    kw = data.draw(fuzz_kwargs(
        {"A": symmetric(d), "b": st.one_of(st.none(), points((d,)))},
        {"A": st.one_of(nasty_value(max_dims=3), nasty_points((d, d)), hnp.arrays(np.float64, (d, d), elements=finite_small)),
         "b": nasty_points((d,))}))  # fmt: skip
    ok, q = call(hb.Quadratic, kw["A"], kw["b"], names={"A", "b"})
    if ok:
        check_quadratic(q)


@FUZZ
@given(data=st.data())
def test_quadratic_valley(data):
    kw = data.draw(fuzz_kwargs(
        {"kappa": st.one_of(st.floats(1.0, 1e12), st.sampled_from([1.0, 1e300])), "h_max": st.one_of(st.floats(1e-6, 1e6), magnitudes),
         "angle": st.one_of(st.floats(-10, 10), st.sampled_from([0.0, 1e300, np.pi / 4]))},
        {"kappa": nasty_value(), "h_max": nasty_value(), "angle": nasty_value()}))  # fmt: skip
    ok, q = call(hb.Quadratic.valley, **kw, names={"kappa", "h_max", "angle"})
    if ok:
        check_quadratic(q)
        assert q.dim == 2


@FUZZ
@given(data=st.data(), d=dims)
def test_quadratic_from_eigenvalues(data, d):
    kw = data.draw(fuzz_kwargs(
        {"eigs": hnp.arrays(np.float64, (d,), elements=st.floats(-10, 10)).map(lambda e: e * data.draw(magnitudes)),
         "rotation": st.sampled_from([None, "random"]), "seed": st.one_of(st.none(), st.integers(0, 2**64)),
         "b": st.one_of(st.none(), points((d,)))},
        {"eigs": nasty_points((d,)), "rotation": st.one_of(st.sampled_from(["haar", ""]), nasty_points((d, d))),
         "seed": st.one_of(st.integers(-5, -1), nasty_value()), "b": nasty_points((d,))}))  # fmt: skip
    ok, q = call(hb.Quadratic.from_eigenvalues, **kw, names={"eigs", "rotation", "seed", "b"})
    if ok:
        check_quadratic(q)


PROBLEMS = {
    "valley": lambda: hb.Quadratic.valley(kappa=10.0, angle=0.3),
    "saddle": lambda: hb.Quadratic.from_eigenvalues([-1.0, 2.0, 0.0], rotation="random", seed=1, b=[1.0, 0.0, 1.0]),
    "singular": lambda: hb.Quadratic(np.diag([1.0, 0.0]), [0.0, 1.0]),
    "tiny": lambda: hb.Quadratic([[1e-300]], [1e300]),
    "rosenbrock": lambda: hb.Rosenbrock(a=1.0, b=100.0),
    "objective": lambda: hb.Objective.from_sympy("x**2 + sin(y) + y**2", ["x", "y"]),
}


@FUZZ
@given(data=st.data(), which=st.sampled_from(sorted(PROBLEMS)), batch=batches)
def test_problem_evaluation(data, which, batch):
    problem = PROBLEMS[which]()
    d = problem.dim
    theta = data.draw(
        st.one_of(points(batch + (d,)), points(batch + (d,), -1e300, 1e300), nasty_points(batch + (d,))), label="theta"
    )
    for name in ("value", "grad", "hessian"):
        ok, out = call(getattr(problem, name), theta, names={"theta"})
        if not ok:
            continue
        if name == "hessian" and isinstance(problem, hb.Quadratic):
            assert np.shape(out) == (d, d)  # the constant Hessian: theta is ignored (even a ragged list)
            continue
        arr = np.asarray(theta)
        lead = arr.shape[:-1]  # the drawn theta may have any valid shape (..., d)
        expected = {"value": lead, "grad": lead + (d,), "hessian": lead + (d, d)}[name]
        assert np.shape(out) == expected
        if arr.dtype == np.float32 and name != "hessian":
            assert out.dtype == np.float32  # float32 in, float32 out
        if moderate(arr, 1e50) and which != "tiny" and arr.dtype != np.float32:
            assert all_finite(out)
    if isinstance(problem, hb.Quadratic):
        lam = data.draw(st.one_of(st.floats(0, 10), nasty_value()), label="lam")
        ok, qw = call(problem.with_weight_decay, lam, names={"lam"})
        if ok:
            check_quadratic(qw)


@FUZZ
@given(data=st.data(), batch=batches)
def test_rosenbrock(data, batch):
    kw = data.draw(fuzz_kwargs({"a": st.floats(-1e3, 1e3), "b": st.floats(1e-3, 1e3)},
                               {"a": nasty_value(), "b": nasty_value()}))  # fmt: skip
    ok, r = call(hb.Rosenbrock, **kw, names={"a", "b"})
    if not ok:
        return
    assert all_finite(r.minimizer)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert r.value(r.minimizer) == 0.0
    theta = data.draw(st.one_of(points(batch + (2,)), nasty_points(batch + (2,))), label="theta")
    for name in ("value", "grad", "hessian"):
        ok, out = call(getattr(r, name), theta, names={"theta"})
        if ok and moderate(theta, 1e50) and np.asarray(theta).dtype != np.float32 and moderate([r.a, r.b], 1e50):
            assert all_finite(out)


# text formulas: fragments of valid and hostile syntax, glued at random
TOKENS = ["x", "y", "z", "+", "-", "*", "/", "**", "^", "(", ")", "sin", "exp", "log", "sqrt", "Abs", "cbrt",
          "1", "2.5", "9", "0", "1e308", "1e999", "10**10**10", "__import__", "'os'", ".", "system", "'", "[",
          "]", "lambda", ":", ",", "=", " ", "é", "\x00", "\n", "#", "x.__class__", "eval", "open", "I", "oo",
          "pi", "E", "Symbol", "Integer", "@", ";", "if", "else", "{", "}", "%", "//", "~", "<<", "&"]  # fmt: skip
VALID_TOKENS = ["x", "y", "+", "-", "*", "**2", "sin(x)", "exp(-y)", "log(1 + x**2)", "sqrt(1 + y**2)", "2.5", "3",
                "Abs(x)", "cbrt(y)", "(x - 1)", "(y + 2)", "^2", "/2", "tanh(x*y)"]  # fmt: skip
formula = st.one_of(
    st.lists(st.sampled_from(TOKENS), max_size=12).map("".join),
    st.lists(st.sampled_from(VALID_TOKENS), min_size=1, max_size=8).map(" ".join),
    st.lists(st.sampled_from(VALID_TOKENS), min_size=1, max_size=8).map("+".join),
    st.text(max_size=30),
    st.sampled_from(["x**2 + y**2", "(1 - x)^2 + 100*(y - x^2)^2", "sin(x)*exp(y)", "log(x)", "x/y", "sqrt(x - y)",
                     "x**-2", "9**9**9", "2**2**2**2**2**2", "x**(10**100)", "__import__('os').system('true')",
                     "x" * 10001, "1/(x - x)", "log(0) + x", "sqrt(-1)*x", "1e999*x", "x**2**64"]),
)  # fmt: skip
symbol_lists = st.one_of(st.just(["x", "y"]), st.just(["x", "y"]), st.lists(st.sampled_from(["x", "y", "z", "sin", "1x", "",
                         "x y", "é", "__import__", "lambda"]), max_size=3), junk, st.just("x"))  # fmt: skip


@FUZZ
@given(expr=formula, symbols=symbol_lists, data=st.data())
def test_objective_from_sympy_text(expr, symbols, data, monkeypatch_os):
    ok, f = call(hb.Objective.from_sympy, expr, symbols, names={"expr", "symbols"})
    assert monkeypatch_os == [], "a formula executed os.system"
    if not ok:
        return
    assert f.dim == len(f.symbols)
    batch = data.draw(batches, label="batch")
    theta = data.draw(st.one_of(points(batch + (f.dim,)), nasty_points(batch + (f.dim,))), label="theta")
    for name in ("value", "grad", "hessian"):
        ok, out = call(getattr(f, name), theta, names={"theta"})
        if ok:
            assert np.shape(out) == {"value": batch, "grad": batch + (f.dim,), "hessian": batch + (f.dim, f.dim)}[name]


@pytest.fixture
def monkeypatch_os():
    """Record any call to os.system / os.popen / subprocess.Popen made while an example runs."""
    import os
    import subprocess

    calls = []
    saved = os.system, os.popen, subprocess.Popen
    os.system = lambda *a, **k: calls.append(("system", a)) or 0
    os.popen = lambda *a, **k: calls.append(("popen", a))
    subprocess.Popen = lambda *a, **k: calls.append(("Popen", a))
    try:
        yield calls
    finally:
        os.system, os.popen, subprocess.Popen = saved


# -------------------------------------------------------------------------------------------
# optimisers
# -------------------------------------------------------------------------------------------
def per_config(batch, lo, hi):
    """A valid hyperparameter: a float, or an array shaped (*batch, 1) (one per configuration)."""
    arr = hnp.arrays(np.float64, batch + (1,), elements=st.floats(lo, hi)) if batch else st.floats(lo, hi)
    return st.one_of(st.floats(lo, hi), arr)


def schedules():
    """Learning-rate schedules, some returning values heavyball must refuse by name (an
    exception raised by the user's own callable is the user's and propagates unchanged)."""
    return st.sampled_from([lambda k: 0.1 / (1 + k), lambda k: [NAN, -1.0, "x", 0.1][k % 4], lambda k: np.full(7, 0.1),
                            lambda k: INF if k > 1 else 0.1, lambda k: None])  # fmt: skip


def optimizer_fields(name, batch):
    """(valid, nasty) strategies for each constructor argument of optimiser ``name``."""
    flag = (st.booleans(), st.one_of(junk, st.sampled_from([0, 1, "True"])))
    if name == "SGD":
        spec = {
            "lr": (st.one_of(per_config(batch, 0.0, 2.0), schedules()), nasty_value()),
            "momentum": (per_config(batch, 0.0, 0.99), st.one_of(st.sampled_from([1.0, 1.5, -0.1]), nasty_value())),
            "dampening": (per_config(batch, 0.0, 1.0), nasty_value()),
            "weight_decay": (per_config(batch, 0.0, 1.0), nasty_value()),
            "nesterov": flag,
            "maximize": flag,
        }
    elif name in ("Adam", "AdamW"):
        spec = {
            "lr": (st.one_of(per_config(batch, 0.0, 1.0), schedules()), nasty_value()),
            "betas": (
                st.tuples(per_config(batch, 0.0, 0.999), per_config(batch, 0.0, 0.9999)),
                st.one_of(st.tuples(nasty_value(), nasty_value()), st.lists(scalar, max_size=3), nasty_value()),
            ),
            "eps": (st.one_of(per_config(batch, 1e-12, 1e-2)), nasty_value()),
            "weight_decay": (per_config(batch, 0.0, 0.5), nasty_value()),
            "amsgrad": flag,
            "maximize": flag,
        }
    else:
        spec = {
            "eta": (st.one_of(per_config(batch, 0.0, 1.0), schedules()), nasty_value()),
            "mu": (per_config(batch, -0.5, 1.2), nasty_value()),
            "dt": (per_config(batch, 1e-3, 2.0), st.one_of(st.sampled_from([0.0, -1.0]), nasty_value())),
        }
    return {k: v[0] for k, v in spec.items()}, {k: v[1] for k, v in spec.items()}


OPTIMIZER_NAMES = ["Adam", "AdamW", "HeavyBall", "NesterovLookahead", "SGD"]


def build_optimizer(name, kwargs):
    """Construct; SGD's nesterov flag is dropped when momentum is not positive (a separate rule)."""
    return getattr(hb, name)(**kwargs)


def optimizer_names(name):
    return {"lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize", "betas", "eps", "amsgrad",
            "eta", "mu", "dt"}  # fmt: skip


#: examples hypothesis once found, pinned: a class is callable, and was accepted as a schedule
#: (``step`` then failed with "object() takes no arguments", naming no argument)
PINNED_OPTIMIZERS = {
    "SGD": ({"lr": object}, "lr"),
    "Adam": ({"lr": object}, "lr"),
    "AdamW": ({"lr": object}, "lr"),
    "HeavyBall": ({"eta": object, "mu": 0.5}, "eta"),
    "NesterovLookahead": ({"eta": object, "mu": 0.5}, "eta"),
}


@pytest.mark.parametrize("name", OPTIMIZER_NAMES)
@FUZZ
@given(data=st.data(), batch=batches)
@example(data=None, batch=())  # the pinned example of PINNED_OPTIMIZERS
def test_optimizer_construction_init_step(name, data, batch):
    if data is None:
        kwargs, rate = PINNED_OPTIMIZERS[name]
        with pytest.raises(TypeError, match=f"`{rate}`"):
            build_optimizer(name, kwargs)
        return
    valid, nasty = optimizer_fields(name, batch)
    kwargs = data.draw(fuzz_kwargs(valid, nasty, max_bad=1), label="hyperparameters")
    ok, opt = call(build_optimizer, name, kwargs, names=optimizer_names(name))
    if not ok:
        return
    assert isinstance(repr(opt), str) and isinstance(opt.label, str)
    d = data.draw(dims, label="d")
    kw = data.draw(fuzz_kwargs({"theta": points(batch + (d,)), "grad": points(batch + (d,))},
                               {"theta": nasty_points(batch + (d,)), "grad": nasty_points(batch + (d,))}, max_bad=1))  # fmt: skip
    theta, grad = kw["theta"], kw["grad"]
    ok, state = call(opt.init, theta, names={"theta"} | optimizer_names(name))
    if not ok:
        return
    ok, out = call(opt.step, theta, grad, state, names={"theta", "grad", "state"} | optimizer_names(name))
    if not ok:
        return
    new_theta, new_state = out
    assert type(new_state) is type(state) and new_state.step == state.step + 1
    assert new_theta.dtype == (np.float32 if np.asarray(theta).dtype == np.float32 else np.float64)
    if not callable(getattr(opt, opt._RATE)):  # a schedule's array broadcasts in too (documented)
        assert new_theta.shape == np.broadcast_shapes(np.shape(theta), np.shape(grad), *opt._array_shapes().values())
    moderate_hyper = all(moderate(v, 1e6) for v in (getattr(opt, f.name) for f in dataclasses.fields(opt))
                         if isinstance(v, (int, float, np.ndarray)) and not isinstance(v, bool))  # fmt: skip
    if moderate(theta, 1e3) and moderate(grad, 1e3) and moderate_hyper and np.asarray(theta).dtype != np.float32:
        # one step from moderate values with moderate hyperparameters (eta = 1.8e308 times a
        # gradient of 2 overflows, correctly, to -inf)
        assert all_finite(new_theta)


# -------------------------------------------------------------------------------------------
# iterate and the closed form
# -------------------------------------------------------------------------------------------
STATUSES = {"converged", "diverged", "max_steps", "cycle"}
ITERATE_NAMES = {
    "optimizer",  # iterate's first argument (the optimiser; `method` is solve_ivp's word)
    "method",
    "problem",
    "theta0",
    "steps",
    "record",
    "every",
    "lr",
    "eta",
    "dt",
    "momentum",
    "mu",
    "dampening",
    "weight_decay",
    "betas",
    "eps",
    "problem.grad",
    "tol",
    "threads",
}


@st.composite
def methods(draw, batch, valid_only=False):
    name = draw(st.sampled_from(OPTIMIZER_NAMES))
    valid, nasty = optimizer_fields(name, batch)
    if name in ("HeavyBall", "NesterovLookahead"):
        valid["mu"] = per_config(batch, 0.0, 0.99)  # stable-ish too, so runs also converge
    kwargs = draw(fuzz_kwargs(valid, {} if valid_only else nasty, max_bad=1))
    if name == "SGD" and kwargs.get("nesterov") is True:
        kwargs["dampening"] = 0.0
    try:
        return build_optimizer(name, kwargs)
    except (ValueError, TypeError) as exc:  # rejected at construction (fuzzed above)
        assert_names(exc, optimizer_names(name))
        assume(False)


@FUZZ
@given(data=st.data(), which=st.sampled_from(sorted(set(PROBLEMS) - {"tiny"})), batch=batches)
def test_iterate(data, which, batch):
    # ("tiny", whose gradient norms overflow float64, has its own test in test_hardening.py)
    problem = PROBLEMS[which]()
    d = problem.dim
    kw = data.draw(fuzz_kwargs(
        {"method": methods(batch), "theta0": st.one_of(points(batch + (d,)), points((d,))), "steps": st.integers(0, 40),
         "record": st.sampled_from(["all", "loss", "final"]), "every": st.integers(1, 7),
         "tol": st.one_of(st.none(), st.floats(0, 1)), "threads": st.sampled_from([None, 1, 2])},
        {"method": st.one_of(junk, st.just(hb.HeavyBallODE())), "theta0": nasty_points(batch + (d,)),
         "steps": st.one_of(st.sampled_from([-1, 1.0, "10", True]), junk), "record": st.one_of(st.sampled_from(["ALL", ""]), junk),
         "every": st.one_of(st.sampled_from([0, -1, 10**9, 2.0]), junk), "tol": nasty_value(), "threads": nasty_value()}))  # fmt: skip
    ok, tr = call(hb.iterate, kw.pop("method"), problem, kw.pop("theta0"), kw.pop("steps"), **kw, names=ITERATE_NAMES)
    if not ok:
        return
    steps = int(tr.steps[-1])
    bshape = tr.theta.shape[1:-1]
    assert tr.theta.shape[-1] == d and tr.loss.shape[1:] == bshape and (tr.steps[0] == 0 or tr.record == "final")
    status = np.asarray(tr.status)
    assert status.shape == bshape and set(status.ravel()) <= STATUSES
    np.testing.assert_array_equal(np.asarray(tr.success), status != "diverged")
    dat = np.asarray(tr.diverged_at)
    assert np.all((dat == -1) == (status != "diverged"))
    assert np.all((dat == -1) | ((dat >= 1) & (dat <= steps)))
    # before a divergence the recorded iterates are finite; from it on, NaN
    theta_steps = tr.steps if tr.record == "all" else np.array([steps])
    th = np.asarray(tr.theta, np.float64).reshape(len(theta_steps), -1, d)
    for i, k in enumerate(dat.ravel()):
        alive = (theta_steps < k) | (k < 0)
        assert np.all(np.isfinite(th[alive, i])), (i, k)
        assert np.all(np.isnan(th[~alive, i])), (i, k)
    assert isinstance(tr.message, str) and tr.message


@FUZZ
@given(data=st.data(), batch=batches, which=st.sampled_from(["valley", "saddle", "singular", "rosenbrock"]))
def test_closed_form_iterate(data, batch, which):
    problem = PROBLEMS[which]()
    d = problem.dim
    kw = data.draw(fuzz_kwargs(
        {"method": methods(batch), "theta0": points(batch + (d,)), "k": st.one_of(st.integers(0, 2000), st.just(2**40))},
        {"method": st.one_of(junk, st.just(hb.Adam())), "theta0": nasty_points(batch + (d,)),
         "k": st.one_of(st.sampled_from([-1, 1.5, "3", True]), junk)}))  # fmt: skip
    ok, out = call(
        hb.closed_form_iterate, kw["method"], problem, kw["theta0"], kw["k"], names={"method", "q", "theta0", "k"}
    )
    if not ok:
        return
    assert isinstance(problem, hb.Quadratic) and not isinstance(kw["method"], (hb.Adam, hb.AdamW))
    assert out.shape[-1] == d
    # documented: no divergence check (a diverging configuration may be huge or inf); a stable
    # method on a positive-definite problem stays finite
    if which == "valley" and kw["k"] <= 2000 and np.asarray(kw["theta0"]).dtype != np.float32:
        kind, lr, mom = _recurrence(kw["method"])
        if kind is not None and np.all(
            rates.spectral_radius(problem.eigenvalues, lr=lr, momentum=mom, family=kind) < 1
        ):
            assert all_finite(out)


def _recurrence(method):
    """(recurrence family, lr, momentum) of a constant-hyperparameter linear method, else Nones."""
    from heavyball.recurrences import recurrence_of

    try:
        rec = recurrence_of(method)
    except (ValueError, TypeError):
        return None, None, None
    if (
        rec.sign != 1.0
        or rec.shift != 0.0
        or np.any(np.abs(np.asarray(rec.lr)) > 1e50)
        or np.any(np.abs(np.asarray(rec.momentum)) > 1e50)
    ):  # rates refuses hyperparameters beyond 1e50: such a method is not checked for finiteness
        return None, None, None
    return rec.family, np.ravel(rec.lr), np.ravel(rec.momentum)


# -------------------------------------------------------------------------------------------
# continuous dynamics
# -------------------------------------------------------------------------------------------
ODE_FIELDS = {
    "HeavyBallODE": {"m": st.floats(0.05, 5.0), "c": st.floats(0.0, 5.0), "allow_negative_friction": st.booleans()},
    "NesterovODE": {"r": st.floats(0.5, 5.0), "t0": st.sampled_from([1e-3, 1e-2])},
    "HighResolutionODE": {"s": st.floats(1e-3, 0.5), "h_min": st.floats(0.0, 1.0), "kind": st.sampled_from(["heavyball", "nesterov"])},
    "GradientFlowODE": {"scale": st.floats(0.1, 5.0), "correction": st.floats(-0.1, 0.1)},
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(ODE_FIELDS))
@FUZZ
@given(data=st.data())
def test_ode_constructors(name, data):
    fields = ODE_FIELDS[name]
    nasty = {k: st.one_of(nasty_value(), st.sampled_from([0.0, -1.0, -1e-300])) for k in fields}
    kwargs = data.draw(fuzz_kwargs(fields, nasty))
    ok, ode = call(getattr(hb, name), **kwargs, names=set(fields))
    if ok:
        for field in fields:
            value = getattr(ode, field)
            assert isinstance(value, (bool, str)) or math.isfinite(value)


@st.composite
def odes(draw):
    """A valid ODE whose simulation finishes quickly (stiff parameters, e.g. a tiny mass, are
    tested on their own in test_hardening.py)."""
    name = draw(st.sampled_from(sorted(ODE_FIELDS)))
    kwargs = {k: draw(v) for k, v in ODE_FIELDS[name].items()}
    if name == "HeavyBallODE" and kwargs["allow_negative_friction"]:
        kwargs["c"] = -kwargs["c"]
    return getattr(hb, name)(**kwargs)


SIM_PROBLEMS = {
    "valley": PROBLEMS["valley"],
    "saddle": lambda: hb.Quadratic.from_eigenvalues([-0.5, 1.0], rotation="random", seed=2),
    "rosenbrock": lambda: hb.Rosenbrock(b=2.0),
    "callables": lambda: hb.Objective(lambda t: 0.5 * np.sum(np.asarray(t) ** 2, axis=-1), lambda t: np.asarray(t, float), 2),
    "objective": PROBLEMS["objective"],
}  # fmt: skip
SIM_NAMES = {"ode", "problem", "theta0", "t_span", "v0", "t_eval", "method", "rtol", "atol", "events", "throw",
             "gtol", "xtol", "max_norm", "dense_output"}  # fmt: skip


@FUZZ
@given(data=st.data(), which=st.sampled_from(sorted(SIM_PROBLEMS)), t_end=st.floats(0.1, 3.0))
def test_simulate(data, which, t_end):
    problem = SIM_PROBLEMS[which]()
    kw = data.draw(fuzz_kwargs(
        {"ode": odes(), "theta0": points((2,), -2, 2), "t_span": st.sampled_from([(0.0, t_end), (0.5, 0.5 + t_end)]),
         "v0": st.one_of(st.none(), points((2,), -1, 1)), "t_eval": st.sampled_from([None, "grid"]),
         "method": st.sampled_from(["DOP853", "RK45", "RK23", "Radau", "BDF", "LSODA"]),
         "rtol": st.sampled_from([1e-6, 1e-8, 1e-3]), "atol": st.sampled_from([1e-8, 1e-12]),
         "throw": st.booleans(), "gtol": st.sampled_from([None, 1e-3]), "xtol": st.sampled_from([None, 1e-3]),
         "max_norm": st.sampled_from([1e12, INF, 5.0]), "dense_output": st.booleans()},
        {"ode": st.one_of(junk, st.just(hb.SGD(0.1))), "theta0": nasty_points((2,)), "t_span": nasty_points((2,)),
         "v0": nasty_points((2,)), "t_eval": st.one_of(nasty_points((3,)), st.just([2.0, 1.0]), st.just([-1.0, 0.5])),
         "method": st.one_of(junk, st.sampled_from(["dop853", "Euler"])), "rtol": nasty_value(), "atol": nasty_value(max_side=5),
         "throw": junk, "gtol": nasty_value(), "xtol": nasty_value(), "max_norm": nasty_value(), "dense_output": junk}))  # fmt: skip
    if isinstance(kw["t_eval"], str):
        span = kw["t_span"]
        kw["t_eval"] = np.linspace(span[0], span[1], 5) if isinstance(span, tuple) else None
    try:
        ok, sol = call(hb.simulate, kw.pop("ode"), problem, kw.pop("theta0"), kw.pop("t_span"), **kw, names=SIM_NAMES)
    except RuntimeError as exc:  # documented: a failed integration raises only when asked to
        assert kw["throw"] is True and "integration failed" in str(exc), exc
        return
    if not ok:
        return
    assert sol.status in {"success", "event", "failed", "diverged"}
    assert sol.success == (sol.status in {"success", "event"}) and isinstance(sol.message, str)
    n = sol.t.shape[0]
    assert sol.theta.shape == (n, 2) and sol.v.shape == (n, 2) and sol.energy.shape == (n,)
    if sol.success:
        assert all_finite(sol.t, sol.theta, sol.v)
    assert not (sol.status == "failed" and kw["throw"] is True), "throw=True must raise RuntimeError instead"


@FUZZ
@given(
    data=st.data(), which=st.sampled_from(["valley", "saddle", "singular", "tiny", "rosenbrock"]), flow=st.booleans()
)
def test_exact(data, which, flow):
    problem = PROBLEMS[which]()
    d = problem.dim
    if flow:
        ode = hb.GradientFlowODE(
            scale=data.draw(st.floats(1e-3, 1e3)), correction=data.draw(st.sampled_from([0.0, 0.1]))
        )
    else:
        m, c = data.draw(st.floats(1e-4, 1e4)), data.draw(st.one_of(st.floats(0, 1e4), st.just(0.0), st.floats(-1, 0)))
        ode = hb.HeavyBallODE(m=m, c=c, allow_negative_friction=c < 0)
        if data.draw(st.booleans()):  # exactly critical for one mode
            h = float(abs(problem.eigenvalues[-1])) if isinstance(problem, hb.Quadratic) else 1.0
            ode = hb.HeavyBallODE(m=m, c=2 * math.sqrt(m * h))
    kw = data.draw(fuzz_kwargs(
        {"ode": st.just(ode), "theta0": points((d,)), "t": st.one_of(hnp.arrays(np.float64, st.integers(0, 6), elements=st.floats(0, 1e4)),
                                                                     st.sampled_from([[0.0, 1e300], [1e308], 5.0, [0.0]])),
         "v0": st.one_of(st.none(), points((d,), -1, 1)) if not flow else st.none()},
        {"ode": st.one_of(junk, st.just(hb.NesterovODE())), "theta0": nasty_points((d,)),
         "t": st.one_of(nasty_points((3,)), st.just([-1.0])), "v0": nasty_points((d,))}))  # fmt: skip
    ok, sol = call(
        hb.exact, kw["ode"], problem, kw["theta0"], kw["t"], v0=kw["v0"], names={"ode", "q", "theta0", "t", "v0"}
    )
    if not ok:
        return
    assert isinstance(problem, hb.Quadratic)
    assert sol.status in {"success", "diverged"} and sol.success == (sol.status == "success")
    n = np.size(kw["t"])
    assert sol.theta.shape == (n, d) and sol.v.shape == (n, d) and sol.energy.shape == (n,)
    if sol.success:
        assert all_finite(sol.theta, sol.v)
    # decaying regimes never overflow (t·c/m up to 1e4 and beyond); a minimiser-free
    # problem (b outside the range of a singular A) drifts linearly, which is finite too
    decays = problem.h_min >= 0 and (flow or kw["ode"].c >= 0) and which != "tiny"
    if decays and np.max(np.asarray(kw["t"], float), initial=0.0) <= 1e8:
        assert sol.status == "success", sol.message


@FUZZ
@given(data=st.data())
def test_damping_regime(data):
    kw = data.draw(fuzz_kwargs(
        {"m": st.one_of(st.floats(1e-3, 1e3), points((3,), 1, 5)), "c": st.one_of(st.floats(0, 10), points((3,), 0, 5)),
         "h": st.one_of(st.floats(-10, 10), points((3,), -5, 5)), "rtol": st.just(1e-12)},
        {"m": nasty_value(), "c": nasty_value(), "h": nasty_value(), "rtol": nasty_value()}))  # fmt: skip
    ok, out = call(hb.damping_regime, kw["m"], kw["c"], kw["h"], rtol=kw["rtol"], names={"m", "c", "h", "rtol"})
    if ok:
        assert set(np.asarray(out).ravel()) <= {"underdamped", "critical", "overdamped"}
        if all(np.ndim(kw[k]) == 0 for k in "mch"):
            assert isinstance(out, str)


# -------------------------------------------------------------------------------------------
# discretisation
# -------------------------------------------------------------------------------------------
SCHEME = st.sampled_from(["semi-implicit", "implicit-friction", "exponential"])
NASTY_SCHEME = st.one_of(junk, st.sampled_from(["euler", "Semi-Implicit"]))


def positive(lo=1e-3, hi=1e3):
    return st.one_of(st.floats(lo, hi), points((2,), 1, 5), magnitudes)


def _no_overflow(*xs) -> bool:
    """Inputs whose quotients and products cannot overflow: finite, |x| in [1e-100, 1e100] or 0."""
    for x in xs:
        if not moderate(x, 1e100):
            return False
        a = np.abs(np.asarray(x, dtype=np.float64))
        if np.any((a > 0) & (a < 1e-100)):
            return False
    return True


@FUZZ
@given(data=st.data())
def test_discretize(data):
    kw = data.draw(fuzz_kwargs({"m": positive(), "c": positive(0.0), "dt": positive(), "scheme": SCHEME},
                               {"m": nasty_value(), "c": nasty_value(), "dt": nasty_value(), "scheme": NASTY_SCHEME}))  # fmt: skip
    ok, out = call(hb.discretize, **kw, names={"m", "c", "dt", "scheme"})
    if ok:
        mu, eta = out
        assert np.shape(mu) == np.shape(eta) == np.broadcast_shapes(*(np.shape(kw[k]) for k in ("m", "c", "dt")))
        if _no_overflow(kw["m"], kw["c"], kw["dt"]):
            assert all_finite(mu, eta)


@FUZZ
@given(data=st.data())
def test_continuum(data):
    kw = data.draw(fuzz_kwargs({"mu": st.one_of(st.floats(0.01, 1.0), points((2,), 0, 1)), "eta": positive(), "dt": positive(), "scheme": SCHEME},
                               {"mu": nasty_value(), "eta": nasty_value(), "dt": nasty_value(), "scheme": NASTY_SCHEME}))  # fmt: skip
    ok, out = call(hb.continuum, **kw, names={"mu", "eta", "dt", "scheme"})
    if ok and _no_overflow(kw["mu"], kw["eta"], kw["dt"]):
        assert all_finite(*out)


@FUZZ
@given(data=st.data())
def test_to_torch(data):
    kw = data.draw(fuzz_kwargs({"m": positive(), "c": positive(0.0), "dt": positive(), "scheme": SCHEME},
                               {"m": nasty_value(), "c": nasty_value(), "dt": nasty_value(), "scheme": NASTY_SCHEME}))  # fmt: skip
    ok, out = call(hb.to_torch, **kw, names={"m", "c", "dt", "scheme"})
    if ok:
        assert set(out) == {"lr", "momentum"}
        if _no_overflow(kw["m"], kw["c"], kw["dt"]):
            assert all_finite(out["lr"], out["momentum"])


CMP_NAMES = {"ode", "problem", "theta0", "dt", "t_final", "v0", "scheme", "method"}


@FUZZ
@given(data=st.data(), which=st.sampled_from(["valley", "saddle", "rosenbrock", "objective", "callables"]),
       n=st.integers(1, 40), dt=st.floats(1e-3, 1.0))  # fmt: skip
def test_compare(data, which, n, dt):
    problem = {**SIM_PROBLEMS, "saddle": PROBLEMS["saddle"]}[which]()
    d = problem.dim
    # implicit solvers only where the closed form is used anyway (quadratics): bounded work
    solvers = ["DOP853", "Radau"] if isinstance(problem, hb.Quadratic) else ["DOP853"]
    kw = data.draw(fuzz_kwargs(
        {"ode": st.builds(hb.HeavyBallODE, st.floats(0.1, 10.0), st.floats(0.0, 5.0)), "theta0": points((d,)),
         "dt": st.just(dt), "t_final": st.sampled_from([n * dt, n * dt * (1 + 1e-13), n * dt + dt / 3]),
         "v0": st.one_of(st.none(), points((d,), -1, 1)), "scheme": SCHEME, "method": st.sampled_from(solvers)},
        {"ode": st.one_of(junk, st.just(hb.NesterovODE())), "theta0": nasty_points((d,)),
         "dt": st.one_of(nasty_value(), st.just(dt * 1e-9)), "t_final": st.one_of(nasty_value(), st.just(dt / 2)),
         "v0": nasty_points((d,)), "scheme": NASTY_SCHEME, "method": junk}))  # fmt: skip
    if (
        isinstance(kw["dt"], float)
        and isinstance(kw["t_final"], float)
        and 0 < kw["dt"]
        and kw["t_final"] / kw["dt"] > 1e4
    ):
        return  # millions of steps: bounded work only here (huge step counts are in test_hardening.py)
    ok, cmp = call(hb.compare, kw.pop("ode"), problem, kw.pop("theta0"), **kw, names=CMP_NAMES)
    if not ok:
        return
    assert cmp.status in {"completed", "diverged", "failed"} and cmp.success == (cmp.status == "completed")
    assert cmp.theta_discrete.shape == cmp.theta_continuous.shape and cmp.t.shape == cmp.error.shape
    if cmp.success:
        assert all_finite(cmp.theta_discrete, cmp.theta_continuous, cmp.error) and cmp.max_error >= 0
    else:
        assert isinstance(cmp.message, str) and cmp.message


@FUZZ
@given(data=st.data(), which=st.sampled_from(["valley", "rosenbrock"]))
def test_convergence_order(data, which):
    kw = data.draw(fuzz_kwargs(
        {"t_final": st.floats(0.5, 3.0), "dts": st.lists(st.floats(0.01, 0.5), min_size=3, max_size=4, unique=True)
         .map(lambda x: sorted(x, reverse=True)), "scheme": SCHEME, "measure": st.sampled_from(["max", "final"]),
         "full_output": st.booleans()},
        {"t_final": nasty_value(), "dts": st.one_of(nasty_value(max_dims=1, max_side=4), st.just([0.1, 0.2, 0.05]), st.just([0.1, 0.05])),
         "scheme": NASTY_SCHEME, "measure": junk, "full_output": junk}))  # fmt: skip
    dts = kw.pop("dts")
    if moderate(dts) and np.size(dts) and np.min(np.abs(np.asarray(dts, float))) < 1e-2:
        return  # > 300 steps per run: bounded work only
    t_final = kw.pop("t_final")
    if moderate(dts) and np.size(dts) and np.ndim(t_final) == 0 and moderate(t_final):
        if t_final / max(np.min(np.abs(np.asarray(dts, float))), 1e-300) > 1e3:
            return
    ok, out = call(hb.convergence_order, hb.HeavyBallODE(1.0, 0.5), PROBLEMS[which](), [1.0, 1.0], t_final, dts, **kw,
                   names={"ode", "problem", "theta0", "t_final", "dts", "scheme", "method", "measure", "full_output"})  # fmt: skip
    if ok:
        order, errors = (out.order, out.errors) if kw["full_output"] is True else out
        assert math.isfinite(order) and all_finite(errors) and np.all(np.asarray(errors) > 0)


# -------------------------------------------------------------------------------------------
# rates
# -------------------------------------------------------------------------------------------
RATE_METHOD = st.sampled_from(["heavyball", "nesterov", "gd"])
NASTY_METHOD = st.one_of(junk, st.sampled_from(["Nesterov", "adam"]))


def grid(lo, hi):
    return st.one_of(st.floats(lo, hi), hnp.arrays(np.float64, hnp.array_shapes(max_dims=2, max_side=4, min_side=0),
                                                   elements=st.floats(lo, hi)))  # fmt: skip


@pytest.mark.parametrize("fn", ["iteration_matrix", "characteristic_roots", "is_stable", "root_regime"])
@FUZZ
@given(data=st.data())
def test_rates_elementwise(fn, data):
    kw = data.draw(fuzz_kwargs(
        {"h": st.one_of(grid(-10, 10), grid(-1e50, 1e50)), "lr": st.one_of(grid(0, 10), grid(0, 1e50)),
         "momentum": st.one_of(grid(-2, 2), grid(-1e50, 1e50)), "family": RATE_METHOD},
        {"h": nasty_value(), "lr": nasty_value(), "momentum": nasty_value(), "family": NASTY_METHOD}))  # fmt: skip
    if kw["family"] == "gd" and data.draw(st.booleans()):
        kw["momentum"] = 0.0
    ok, out = call(getattr(rates, fn), kw.pop("h"), **kw, names={"h", "lr", "momentum", "family"})
    if not ok:
        return
    out = np.asarray(out)
    if fn == "root_regime":
        assert set(out.ravel()) <= {"complex", "real", "repeated"}
    elif fn == "is_stable":
        assert out.dtype == bool
    else:
        assert not np.any(np.isnan(out.real)) and not np.any(np.isnan(out.imag)), out


@FUZZ
@given(data=st.data())
def test_rates_spectral_radius(data):
    kw = data.draw(fuzz_kwargs(
        {"eigenvalues": st.one_of(grid(-10, 10), hnp.arrays(np.float64, st.integers(1, 5), elements=st.floats(-1e50, 1e50))),
         "lr": st.one_of(grid(0, 10), grid(0, 1e50)), "momentum": st.one_of(grid(-2, 2), grid(-1e50, 1e50)), "family": RATE_METHOD},
        {"eigenvalues": nasty_value(), "lr": nasty_value(), "momentum": nasty_value(), "family": NASTY_METHOD}))  # fmt: skip
    if kw["family"] == "gd":
        kw["momentum"] = 0.0
    ok, out = call(
        rates.spectral_radius, kw.pop("eigenvalues"), **kw, names={"eigenvalues", "lr", "momentum", "family"}
    )
    if ok:
        assert np.shape(out) == np.broadcast_shapes(np.shape(kw["lr"]), np.shape(kw["momentum"]))
        assert np.all(np.asarray(out) >= 0) and not np.any(np.isnan(out))  # >= 1 when unstable, never NaN


@FUZZ
@given(data=st.data())
def test_rates_optimal_parameters(data):
    kw = data.draw(fuzz_kwargs(
        {"h_min": st.one_of(st.floats(1e-50, 1.0), st.sampled_from([1e-50, 1.0])), "h_max": st.sampled_from([1.0, 1e50, 2.0]),
         "tuning": st.sampled_from(["gd", "heavyball", "nesterov", "nesterov-quadratic"])},
        {"h_min": nasty_value(), "h_max": nasty_value(), "tuning": NASTY_METHOD}))  # fmt: skip
    ok, tuned = call(rates.optimal_parameters, **kw, names={"h_min", "h_max", "tuning"})
    if ok:
        assert all_finite(tuned.lr, tuned.momentum, tuned.rate)
        assert np.all((np.asarray(tuned.rate) >= 0) & (np.asarray(tuned.rate) <= 1))


@FUZZ
@given(data=st.data())
def test_rates_critical_and_continuous(data):
    kw = data.draw(fuzz_kwargs(
        {"h": grid(0, 1e50), "lr": grid(0, 1e50), "m": grid(1e-300, 1e50), "c": grid(0, 1e50),
         "eigenvalues": st.one_of(st.floats(-1e50, 1e50), hnp.arrays(np.float64, st.integers(1, 4), elements=st.floats(-1e50, 1e50)))},
        {"h": nasty_value(), "lr": nasty_value(), "m": nasty_value(), "c": nasty_value(), "eigenvalues": nasty_value()}))  # fmt: skip
    for fn in (rates.critical_momentum, rates.critical_rate):
        ok, out = call(fn, kw["h"], kw["lr"], names={"h", "lr"})
        if ok:
            assert all_finite(out)
    ok, out = call(rates.continuous_rate, kw["m"], kw["c"], kw["eigenvalues"], names={"m", "c", "eigenvalues"})
    if ok:
        assert not np.any(np.isnan(out))  # +inf only where the true rate exceeds float64 (c/(2m) with m ~ 1e-300)
    ok, out = call(rates.optimal_damping, kw["m"], kw["h"], names={"m", "h_min"})
    if ok:
        assert all_finite(out)


def decays():
    return st.tuples(st.floats(0.05, 1.2), st.integers(1, 80), st.floats(0, 1)).map(
        lambda t: t[0] ** np.arange(t[1]) * (1 + t[2] * np.cos(np.arange(t[1])))
    )


@FUZZ
@given(data=st.data())
def test_rates_fit_rate(data):
    kw = data.draw(fuzz_kwargs(
        {"errors": st.one_of(decays(), decays().map(lambda e: np.stack([e, e[::-1]], axis=1))),
         "floor": st.sampled_from([1e-12, 1e-3]), "skip": st.one_of(st.none(), st.integers(0, 80)), "multiplicity": st.integers(1, 3)},
        {"errors": st.one_of(nasty_value(max_dims=3, max_side=5), arrays(max_dims=3, max_side=5,
                             elements=st.one_of(st.floats(0, 1e308), st.sampled_from([0.0, INF, NAN, 5e-324])))),
         "floor": nasty_value(), "skip": nasty_value(), "multiplicity": nasty_value()}))  # fmt: skip
    ok, fit = call(rates.fit_rate, kw.pop("errors"), **kw, names={"errors", "floor", "skip", "multiplicity"})
    if ok:
        rate = np.asarray(fit.rate)
        assert np.shape(fit.start) == rate.shape == np.shape(fit.stop)
        assert np.all(np.isnan(rate) | (rate >= 0))  # NaN: documented "fewer than 3 usable errors"


@FUZZ
@given(data=st.data(), batch=hnp.array_shapes(min_dims=0, max_dims=1, min_side=1, max_side=3),
       which=st.sampled_from(["valley", "saddle", "singular", "rosenbrock"]))  # fmt: skip
def test_rates_predicted_vs_measured(data, batch, which):
    problem = PROBLEMS[which]()
    kw = data.draw(fuzz_kwargs(
        {"method": methods(batch), "theta0": points((problem.dim,)), "steps": st.integers(3, 200)},
        {"method": st.one_of(junk, st.just(hb.HeavyBallODE())), "theta0": nasty_points((problem.dim,)),
         "steps": st.one_of(st.sampled_from([-1, 0, "10", 2.5]), junk)}))  # fmt: skip
    ok, r = call(rates.predicted_vs_measured, kw["method"], problem, kw["theta0"], kw["steps"],
                 names={"optimizer", "q", "theta0", "steps", "lr", "eta", "momentum", "problem.grad"} | ITERATE_NAMES)  # fmt: skip
    if ok:
        assert r.status in {"measured", "diverged", "no-window"} and r.success == (r.status == "measured")
        assert not np.any(np.isnan(r.predicted))


# -------------------------------------------------------------------------------------------
# symbolic: the registry
# -------------------------------------------------------------------------------------------


@FUZZ
@given(name=st.one_of(st.text(max_size=20), st.sampled_from(["discretization", "consistency", "optimal_parameters"]), junk),
       key=st.one_of(st.text(max_size=10), st.sampled_from(["mu", "eta", "polyak_rate", "lr"]), junk))  # fmt: skip
def test_symbolic_registry_lookup(name, key):
    registry = symbolic.DERIVATIONS
    try:
        hash(name)
        hashable = True
    except TypeError:
        hashable = False
    if hashable:
        present = name in registry
        assert (registry.get(name) is not None) == present
        if not present:
            with pytest.raises(KeyError):
                registry[name]
    ok, fn = call(symbolic.numeric, name, key, names={"name", "key"})
    if ok:
        assert callable(fn)


# -------------------------------------------------------------------------------------------
# the command line, in-process
# -------------------------------------------------------------------------------------------
ARG_TOKENS = ["figures", "derive", "rates", "compare", "--kappa", "--h-min", "--h-max", "--format", "--m", "--c",
              "--dt", "--t-final", "--out", "--fast", "--data", "--list", "--latex", "--help", "-h", "--version",
              "--bogus", "-", "--", "0", "1", "100", "-1", "1e309", "nan", "NaN", "inf", "-inf", "1e-320",
              "99999999999999999999999", "0x10", "1_000", "table", "json", "latex", "pdf", "png,svg", "gif",
              "rate_map", "valley_zigzag", "nope", "discretization", "ΔΘ", "日本", "\u202e", "é", "", " ",
              "--kappa=10", "--format=json", "--m=1"]  # fmt: skip


def run_cli(argv):
    from heavyball import cli

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main(argv)
        except SystemExit as stop:  # main returns its status; a SystemExit would be a bug
            raise AssertionError(f"cli.main raised SystemExit({stop.code}) for {argv!r}") from None
    return code, out.getvalue(), err.getvalue()


def sanitize(argv: list[str]) -> list[str]:
    """Never run the whole catalogue or the derivations here (they are slow, not fragile):
    `figures` and `derive` only list; `compare` runs at most a few hundred steps."""
    argv = list(argv)
    if ("figures" in argv or "derive" in argv) and "--list" not in argv:
        argv.append("--list")
    if "compare" in argv:
        argv = [a for a in argv if not a.startswith(("--dt", "--t-final"))]
        argv += ["--dt", "0.1", "--t-final", "5"]
    return argv


@FUZZ
@given(argv=st.one_of(st.lists(st.sampled_from(ARG_TOKENS), max_size=8),
                      st.lists(st.text(max_size=12), max_size=4),
                      st.tuples(st.sampled_from(["rates", "compare"]), st.lists(st.sampled_from(ARG_TOKENS), max_size=8))
                      .map(lambda t: [t[0], *t[1]])))  # fmt: skip
def test_cli_random_argv(argv, monkeypatch_env):
    argv = sanitize(argv)
    code, out, err = run_cli(argv)
    assert code in (0, 1, 2), (argv, code, err)
    lines = err.splitlines()
    assert len(lines) <= 1, (argv, err)
    assert "Traceback" not in err
    if code != 0:
        assert len(lines) == 1 and lines[0].strip(), (argv, code, out, err)


@pytest.fixture
def monkeypatch_env(monkeypatch, tmp_path):
    monkeypatch.delenv("HEAVYBALL_DEBUG", raising=False)
    monkeypatch.chdir(tmp_path)  # a stray --out stays out of the repository
    yield
