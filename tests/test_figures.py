"""The figure catalogue, tested on the numbers behind each figure.

Every figure's ``data(fast=True)`` is checked against an oracle independent of the figure
and of the module it calls: closed forms (matrix powers of ``I − γA``, Polyak's and GD's
tunings, ``μ^{t−i}``, ``2·J1(t)/t``), ``scipy.linalg.expm`` of the first-order ODE system,
``numpy.linalg.eigvals`` of companion matrices built here, recurrences written out here,
and least-squares slopes computed here with ``numpy.polyfit``. Each ``make(fast=True)`` is
checked to draw from ``data`` and to label what it shows.
"""

import itertools
import re
from pathlib import Path

import matplotlib.colors
import matplotlib.text
import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from scipy.linalg import expm
from scipy.special import j1

import heavyball as hb
from heavyball import figures
from heavyball.figures import CATALOGUE, FIGURES, csv_text

# the catalogue, from the registry (which discovers the modules; checked below against the
# package's files and the README's order)
NAMES = list(FIGURES)
FIGURES_DIR = Path(figures.__file__).parent
README = Path(__file__).resolve().parents[1] / "README.md"

_CACHE = {}


def fast_data(name):
    """``data(fast=True)`` of a figure, computed once per test session (read-only use)."""
    if name not in _CACHE:
        _CACHE[name] = FIGURES[name].data(fast=True)
    return _CACHE[name]


def ode_oracle(A, m, c, theta0, t, v0=None):
    """θ(t) of m·θ'' + c·θ' + Aθ = 0 from expm of the first-order system (rows: times)."""
    d = len(theta0)
    M = np.block([[np.zeros((d, d)), np.eye(d)], [-np.asarray(A) / m, -(c / m) * np.eye(d)]])
    y0 = np.concatenate([theta0, np.zeros(d) if v0 is None else v0])
    return np.array([(expm(M * tk) @ y0)[:d] for tk in t])


def sign_changes(x, visible):
    big = np.abs(x) > visible
    flips = np.sign(x[1:]) != np.sign(x[:-1])
    return int(np.count_nonzero(flips & big[1:] & big[:-1]))


# -- the registry and the common contract ----------------------------------------------------
def test_registry_is_every_figure_module_in_the_readmes_order():
    files = {p.stem for p in FIGURES_DIR.glob("*.py") if not p.stem.startswith("_")}
    assert set(FIGURES) == files and len(NAMES) == len(files) == 20  # no module missed, none twice
    shown = re.findall(r"^!\[(\w+)\]\(figures/\1\.png\)$", README.read_text(encoding="utf-8"), re.MULTILINE)
    assert NAMES == shown == list(CATALOGUE)  # `heavyball figures --list` and the README agree
    # the order is the modules' own ORDER, read here from the imported modules
    assert NAMES == sorted(NAMES, key=lambda name: (FIGURES[name].ORDER, name))
    assert len({FIGURES[name].ORDER for name in NAMES}) == len(NAMES)
    assert "nope" not in FIGURES
    with pytest.raises(KeyError):
        FIGURES["nope"]


def test_discovery_reads_order_from_the_source_and_skips_helpers(tmp_path, monkeypatch):
    (tmp_path / "b.py").write_text("ORDER = 5\n")
    (tmp_path / "a.py").write_text('"""A figure."""\n\nORDER: int = 5  # its place\nX = "ORDER = 1"\n')
    (tmp_path / "c.py").write_text("import this_module_does_not_exist\nORDER = 1\n")  # never imported
    (tmp_path / "_helpers.py").write_text("HELPER = True\n")
    monkeypatch.setattr(figures, "__path__", [str(tmp_path)])
    assert figures._discover() == ("c", "a", "b")  # by ORDER, ties by name; helpers are not figures
    (tmp_path / "d.py").write_text("order = 3\n")
    with pytest.raises(ImportError, match="`ORDER = <int>`"):
        figures._discover()


@pytest.mark.parametrize("name", NAMES)
def test_module_contract_and_make_draws_from_data(name, monkeypatch):
    module = FIGURES[name]
    assert module.__name__ == f"heavyball.figures.{name}" and isinstance(module.ORDER, int)
    assert isinstance(module.CAPTION, str) and len(module.CAPTION) > 80
    d = fast_data(name)
    assert isinstance(d, dict) and d
    for key, value in d.items():
        assert isinstance(key, str) and isinstance(value, np.ndarray), key
        if value.dtype.kind == "f":
            assert np.all(np.isfinite(value)), key  # no figure here shows a diverged (NaN) record
    calls = []

    def spy(*, fast=False):
        calls.append(fast)
        return d

    monkeypatch.setattr(module, "data", spy)
    fig = module.make(fast=True)
    assert calls == [True]  # make() draws from data(): picture and numbers cannot drift apart
    assert isinstance(fig, Figure)
    axes = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert any(ax.get_xlabel() and ax.get_ylabel() for ax in axes)
    for ax in axes:
        legend = ax.get_legend()
        if legend is not None:
            assert all(t.get_text() and not t.get_text().startswith("_") for t in legend.get_texts())
    for legend in fig.legends:
        assert all(t.get_text() and not t.get_text().startswith("_") for t in legend.get_texts())


def _visible_texts(fig):
    """Every visible piece of text a reader sees: titles, annotations, contour labels, legends."""
    texts = []
    for ax in fig.axes:
        texts += [*ax.texts, ax.title, ax._left_title, ax._right_title]
        legend = ax.get_legend()
        if legend is not None:
            texts += [*legend.get_texts(), legend.get_title()]
    for legend in fig.legends:
        texts += [*legend.get_texts(), legend.get_title()]
    return [t for t in texts if t.get_visible() and t.get_text().strip()]


@pytest.mark.parametrize("name", NAMES)
def test_no_two_texts_overlap(name):
    # the rendered bounding boxes (Agg, as in the PNG) of every pair of texts are disjoint, 1 px
    # of slack; an annotation counts by its text, not its arrow
    fig = FIGURES[name].plot(fast_data(name), fast=True)
    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)
    texts = _visible_texts(fig)
    boxes = [matplotlib.text.Text.get_window_extent(t, renderer).padded(-1.0) for t in texts]
    clashes = [
        (a.get_text(), b.get_text())
        for (a, ba), (b, bb) in itertools.combinations(zip(texts, boxes, strict=False), 2)
        if ba.overlaps(bb)
    ]
    assert clashes == []


@pytest.mark.parametrize("name", ["momentum_memory", "characteristic_roots"])
def test_data_is_deterministic(name):
    a, b = FIGURES[name].data(fast=True), FIGURES[name].data(fast=True)
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])


def test_csv_text_long_format_round_trips():
    data = {"x": np.array([0.1, 1 / 3]), "m": np.arange(6).reshape(2, 3), "s": np.array("a,b"),
            "flag": np.array([True, False]), "z": np.array([1 + 2j])}  # fmt: skip
    lines = csv_text(data).splitlines()
    assert lines[0] == "array,index,value"
    assert lines[1:3] == ["x,0,0.1", f"x,1,{1 / 3!r}"]
    assert "m,1;2,5" in lines and 's,,"a,b"' in lines and "flag,1,0" in lines and "z,0,(1+2j)" in lines
    assert float(lines[2].split(",")[2]) == 1 / 3  # repr round-trips exactly


# -- 1. lr_regimes ---------------------------------------------------------------------------
def test_lr_regimes_paths_are_matrix_powers_and_show_each_regime():
    mod = FIGURES["lr_regimes"]
    d = fast_data("lr_regimes")
    q = mod.problem()
    A, theta0 = q.A, np.asarray(mod.THETA0)
    w = q.eigenvectors[:, -1]  # the steep direction (h_max)
    for i, lr in enumerate(d["lr"]):
        expected = np.array([np.linalg.matrix_power(np.eye(2) - lr * A, k) @ theta0 for k in d["k"]])
        np.testing.assert_allclose(d["theta"][i], expected, rtol=1e-12, atol=1e-12)
    across = d["theta"] @ w  # (lr, k): the component across the valley
    small, good, osc, div = range(4)
    assert sign_changes(across[small], 0) == 0 and np.all(np.diff(d["loss"][small]) < 0)
    assert np.all(np.abs(across[good][1:]) < 1e-14)  # γ = 1/h_max removes the steep component at once
    assert sign_changes(across[osc], 0) == len(d["k"]) - 1  # flips at every step: factor 1 − 1.8 = −0.8
    assert d["lr"][div] * q.h_max > 2 and d["loss"][div][-1] > 10 * d["loss"][div][0]
    assert list(d["regime"]) == ["too small", "good", "oscillating", "divergent"]


# -- 2. valley_zigzag ------------------------------------------------------------------------
def test_valley_zigzag_gd_changes_sign_more_often_than_momentum():
    mod = FIGURES["valley_zigzag"]
    d = fast_data("valley_zigzag")
    q = mod.problem()
    A, theta0 = q.A, np.asarray(mod.THETA0)
    # tunings: GD 2/(h_min + h_max); heavy ball γ = 1/h_max with μ = (1 − √(γ h_min))²; Nesterov 9/11
    assert float(d["gd_lr"]) == pytest.approx(2 / 1.01, rel=1e-14)
    assert float(d["heavyball_lr"]) == 1.0 and float(d["heavyball_momentum"]) == pytest.approx(0.81, rel=1e-14)
    assert float(d["nesterov_momentum"]) == pytest.approx(9 / 11, rel=1e-14)
    # paths against recurrences written here: GD θ ← (I − γA)θ; heavy ball (Polyak's two-step form)
    k = d["k"]
    gd = np.array([np.linalg.matrix_power(np.eye(2) - d["gd_lr"] * A, j) @ theta0 for j in k])
    np.testing.assert_allclose(d["gd_theta"], gd, rtol=1e-10, atol=1e-12)
    lr, mu = float(d["heavyball_lr"]), float(d["heavyball_momentum"])
    hb_path = [theta0, theta0 - lr * A @ theta0]
    for _ in k[2:]:
        hb_path.append(hb_path[-1] - lr * A @ hb_path[-1] + mu * (hb_path[-1] - hb_path[-2]))
    np.testing.assert_allclose(d["heavyball_theta"], np.array(hb_path), rtol=1e-10, atol=1e-12)
    # the story: GD flips across the valley at every step, momentum damps it (count recomputed here)
    visible = mod.VISIBLE * abs(theta0[1])
    counts = {m: sign_changes(d[f"{m}_theta"][:, 1], visible) for m in ("gd", "heavyball", "nesterov")}
    assert counts == {m: int(d[f"{m}_crossings"]) for m in counts}
    assert counts["gd"] == len(k) - 1
    assert counts["gd"] > 5 * counts["heavyball"] and counts["heavyball"] > counts["nesterov"]
    assert d["heavyball_distance"][-1] < 1e-3 * d["gd_distance"][-1]


# -- 3. momentum_memory ----------------------------------------------------------------------
def test_momentum_memory_weights_are_powers_of_mu():
    d = fast_data("momentum_memory")
    age = d["age"]
    for i, mu in enumerate(d["mu"]):
        # measured as θ_{t−1} − θ_t with |θ| up to 1/(1−μ) = 100: absolute round-off ~1e-14
        np.testing.assert_allclose(d["weights"][i], mu**age, rtol=1e-12, atol=1e-13)
        t = age.size
        assert d["weight_sum"][i] == pytest.approx((1 - mu**t) / (1 - mu), rel=1e-12)
    np.testing.assert_allclose(d["memory"], [2.0, 10.0, 100.0], rtol=1e-12)
    # torch's dampening: b_t = μ^{t−1} g₁ + (1 − τ) Σ_{k≥2} μ^{t−k} g_k (the first step undamped)
    mu, t = float(d["damp_mu"]), d["damp_index"][-1]
    for j, tau in enumerate(d["tau"]):
        i = d["damp_index"]
        expected = np.where(i == 1, mu ** (t - 1), (1 - tau) * mu ** (t - i))
        np.testing.assert_allclose(d["damp_weights"][j], expected, rtol=1e-12, atol=1e-14)


# -- 4. heavy_ball_physics -------------------------------------------------------------------
def test_heavy_ball_physics_energy_and_regimes():
    mod = FIGURES["heavy_ball_physics"]
    d = fast_data("heavy_ball_physics")
    q = mod.problem()
    m, t = float(d["m"]), d["t"]
    for i, c in enumerate(d["c"]):
        np.testing.assert_allclose(
            d["theta"][i], ode_oracle(q.A, m, c, np.asarray(mod.THETA0), t), rtol=1e-9, atol=1e-11
        )
        E = d["energy"][i]
        # E = ½m‖v‖² + f(θ) recomputed here, and it never increases (round-off margin 1e-13·E₀)
        v, theta = d["v"][i], d["theta"][i]
        np.testing.assert_allclose(
            E, 0.5 * m * np.sum(v * v, 1) + 0.5 * np.einsum("ti,ij,tj->t", theta, q.A, theta), rtol=1e-12, atol=1e-15
        )
        assert np.all(np.diff(E) <= 1e-13 * E[0])
        # dE/dt = −c‖v‖²: E(0) − ∫c‖v‖² (trapezoid, Δt = 0.1) matches E to the rule's O(Δt²) error
        np.testing.assert_allclose(d["energy_balance"][i], E, atol=2e-3 * E[0])
    # regimes of (h_min, h_max) against c² vs 4mh
    expected = [["underdamped", "underdamped"], ["critical", "underdamped"], ["overdamped", "overdamped"]]
    assert d["regime"].tolist() == expected
    assert d["c"][1] == pytest.approx(2 * np.sqrt(m * q.h_min), rel=1e-15)


def test_heavy_ball_physics_draws_the_ode_in_its_black_one_style_per_regime():
    # every curve is the ODE: all in the palette's ODE black, the regimes told apart by line style
    fig = FIGURES["heavy_ball_physics"].plot(fast_data("heavy_ball_physics"))
    lines = fig.axes[1].get_lines()[:3]
    colours = {matplotlib.colors.to_hex(line.get_color()).upper() for line in lines}
    assert colours == {hb.plotting.FAMILY_COLORS["ode"]}
    assert len({str(line.get_linestyle()) for line in lines}) == 3


def test_heavy_ball_physics_energy_balance_is_second_order_in_the_grid():
    fast = fast_data("heavy_ball_physics")
    full = FIGURES["heavy_ball_physics"].data(fast=False)  # 5× finer grid: the rule's error drops ~25×
    err_fast = np.max(np.abs(fast["energy_balance"] - fast["energy"]))
    err_full = np.max(np.abs(full["energy_balance"] - full["energy"]))
    assert err_full < err_fast / 15


# -- 5. discrete_vs_continuous ---------------------------------------------------------------
def test_discrete_vs_continuous_coefficients_paths_and_first_order():
    mod = FIGURES["discrete_vs_continuous"]
    d = fast_data("discrete_vs_continuous")
    q = mod.problem()
    m, c = float(d["m"]), float(d["c"])
    theta0 = np.asarray(mod.THETA0)
    np.testing.assert_allclose(d["mu"], 1 - c * d["dt"] / m, rtol=1e-15)
    np.testing.assert_allclose(d["eta"], d["dt"] / m, rtol=1e-15)
    for i, dt in enumerate(d["dt"]):
        t = d[f"t_{i}"]
        np.testing.assert_allclose(d[f"theta_continuous_{i}"], ode_oracle(q.A, m, c, theta0, t), rtol=1e-9, atol=1e-11)
        # semi-implicit Euler written out: v ← μv − η∇f(θ), θ ← θ + Δt·v
        theta, v, path = theta0.copy(), np.zeros(2), [theta0]
        for _ in t[1:]:
            v = d["mu"][i] * v - d["eta"][i] * (q.A @ theta)
            theta = theta + dt * v
            path.append(theta)
        np.testing.assert_allclose(d[f"theta_discrete_{i}"], np.array(path), rtol=1e-12, atol=1e-13)
    # first order: Δt 0.6 → 0.2 divides the error by about 3 (pre-asymptotic: ±20%)
    assert 2.4 < d["max_error"][1] / d["max_error"][2] < 3.6


# -- 6. discretization_order -----------------------------------------------------------------
def test_discretization_order_slopes_are_one():
    mod = FIGURES["discretization_order"]
    d = fast_data("discretization_order")
    for scheme in ("semi_implicit", "implicit_friction", "exponential"):
        assert 0.95 <= float(d[f"{scheme}_order"]) <= 1.05
        assert np.all((1.9 < d[f"{scheme}_ratios"]) & (d[f"{scheme}_ratios"] < 2.2))
        slope = np.polyfit(np.log(d["dt"]), np.log(d[f"{scheme}_errors"]), 1)[0]
        assert slope == pytest.approx(float(d[f"{scheme}_order"]), abs=1e-10)
    # the semi-implicit error at Δt = 0.1 recomputed: a loop against the damped-oscillator closed form
    m, c, h, dt = mod.M, mod.C, mod.H, float(d["dt"][0])
    n = round(mod.T_FINAL / dt)
    x, v, errs = 1.0, 0.0, [0.0]
    for k in range(1, n + 1):
        v = (1 - c * dt / m) * v - (dt / m) * h * x
        x = x + dt * v
        errs.append(abs(x - ode_oracle([[h]], m, c, np.array([1.0]), [k * dt])[0, 0]))
    assert float(d["semi_implicit_errors"][0]) == pytest.approx(max(errs), rel=1e-9)


# -- 7. rate_map -----------------------------------------------------------------------------
def test_rate_map_marks_polyak_gd_and_nesterov_tunings():
    d = fast_data("rate_map")
    # Polyak (1964) for h ∈ [0.01, 1]: (400/121, 81/121), rate 9/11; GD: 2/1.01, 99/101; Nesterov
    assert float(d["heavyball_lr"]) == pytest.approx(400 / 121, rel=1e-12)
    assert float(d["heavyball_momentum"]) == pytest.approx(81 / 121, rel=1e-12)
    assert float(d["heavyball_rate"]) == pytest.approx(9 / 11, rel=1e-12)
    assert float(d["gd_lr"]) == pytest.approx(2 / 1.01, rel=1e-12) and float(d["gd_momentum"]) == 0.0
    assert float(d["gd_rate"]) == pytest.approx(99 / 101, rel=1e-12)
    assert (float(d["nesterov_lr"]), float(d["nesterov_rate"])) == pytest.approx((1.0, 0.9), rel=1e-12)
    assert float(d["nesterov_quadratic_rate"]) == pytest.approx(1 - 2 / np.sqrt(301), rel=1e-12)


def _companion_radius(h, lr, mu, nesterov=False):
    a = 1 - lr * h
    T, D = ((1 + mu) * a, mu * a) if nesterov else (1 + mu - lr * h, mu)
    return max(abs(np.linalg.eigvals(np.array([[T, -D], [1.0, 0.0]]))))


def test_rate_map_values_against_companion_eigenvalues(rng):
    d = fast_data("rate_map")
    lr, mom, h = d["lr"], d["momentum"], d["h"]
    for _ in range(60):
        i, j = rng.integers(mom.size), rng.integers(lr.size)
        for method, nesterov in (("heavyball", False), ("nesterov", True)):
            expected = max(_companion_radius(hk, lr[j], mom[i], nesterov) for hk in h)
            # 1e-7: the radius is not Lipschitz on the repeated-root curve (√ε there)
            assert d[f"{method}_radius"][i, j] == pytest.approx(expected, rel=1e-7, abs=1e-7)
    # the stability boundary γ·h_max < 2(1 + μ) (Goh 2017; Jury)
    stable = lr[None, :] * h.max() < 2 * (1 + mom[:, None]) - 1e-9
    unstable = lr[None, :] * h.max() > 2 * (1 + mom[:, None]) + 1e-9
    assert np.all(d["heavyball_radius"][stable] < 1) and np.all(d["heavyball_radius"][unstable] > 1)
    # nothing on the grid beats Polyak's rate (brute force over the map)
    assert d["heavyball_radius"].min() >= 9 / 11 - 1e-12
    # complex roots of h iff (1 + μ − γh)² < 4μ
    for name, hk in (("h_min", 0.01), ("h_max", 1.0)):
        disc = (1 + mom[:, None] - lr[None, :] * hk) ** 2 - 4 * mom[:, None]
        clear = np.abs(disc) > 1e-9
        assert np.array_equal(d[f"heavyball_complex_{name}"][clear], (disc < 0)[clear])


# -- 8. characteristic_roots -----------------------------------------------------------------
def test_characteristic_roots_satisfy_their_polynomials():
    d = fast_data("characteristic_roots")
    h = d["h"]
    assert h[0] == pytest.approx(0.01) and h[-1] == pytest.approx(1.0)
    for m in ("gd", "heavyball", "nesterov"):
        z = d[f"{m}_real"] + 1j * d[f"{m}_imag"]
        lr, mu = float(d[f"{m}_lr"]), float(d[f"{m}_momentum"])
        if m == "gd":
            np.testing.assert_allclose(z[:, 0], 1 - lr * h, rtol=1e-14, atol=1e-15)
            assert np.max(np.abs(z[:, 0])) == pytest.approx(99 / 101, rel=1e-12)
            continue
        T = 1 + mu - lr * h if m == "heavyball" else (1 + mu) * (1 - lr * h)
        D = mu + 0 * h if m == "heavyball" else mu * (1 - lr * h)
        resid = z**2 - T[:, None] * z + D[:, None]
        assert np.max(np.abs(resid)) < 1e-12
        # the largest modulus is the rate (double roots move by ~√ε: tolerance 1e-7)
        assert np.max(np.abs(z)) == pytest.approx(float(d[f"{m}_rate"]), abs=1e-7)
    z = d["heavyball_real"] + 1j * d["heavyball_imag"]
    np.testing.assert_allclose(np.abs(z), 9 / 11, atol=1e-7)  # Polyak: every root on |z| = √μ
    z = d["nesterov_real"] + 1j * d["nesterov_imag"]
    np.testing.assert_allclose(z[0], [0.9, 0.9], atol=1e-7)  # double root 1 − 1/√κ at h_min
    np.testing.assert_allclose(z[-1], [0.0, 0.0], atol=1e-15)  # γ = 1/h_max: z = 0 at h_max


# -- 9. predicted_vs_measured ----------------------------------------------------------------
def test_predicted_lines_agree_with_fitted_slopes_within_one_percent():
    d = fast_data("predicted_vs_measured")
    k = d["k"]
    closed = {"gd": 99 / 101, "heavyball": 9 / 11, "nesterov": 0.9}
    for m, rho in closed.items():
        # Polyak's and Nesterov's tunings sit on the repeated-root curve, where the radius moves
        # by ~√ε under rounding of (γ, μ): tolerance 1e-7 (exact for GD)
        assert float(d[f"{m}_predicted_rate"]) == pytest.approx(rho, rel=1e-7 if m != "gd" else 1e-12)
        start, stop = (int(x) for x in d[f"{m}_window"])
        p = int(d[f"{m}_multiplicity"])
        assert p == (1 if m == "gd" else 2)  # Polyak's and Nesterov's tunings: double roots
        window = slice(start, stop)
        # least squares here, on the peaks-free window: log(distance / k^(p−1)) against k
        y = np.log(d[f"{m}_distance"][window] / k[window] ** (p - 1))
        slope = np.polyfit(k[window], y, 1)[0]
        assert abs(slope / np.log(rho) - 1) <= 0.01, (m, slope, np.log(rho))
        assert float(d[f"{m}_exponent_error"]) <= 0.01
        # the predicted curve is C·k^(p−1)·ρᵏ through the distance at the window's start
        pred = d[f"{m}_predicted_curve"]
        assert pred[start] == pytest.approx(d[f"{m}_distance"][start], rel=1e-12)
        rho_drawn = float(d[f"{m}_predicted_rate"])
        np.testing.assert_allclose(
            pred[start + 1 :] / pred[start:-1], rho_drawn * (k[start + 1 :] / k[start:-1]) ** (p - 1), rtol=1e-10
        )
    assert np.all(np.isfinite(d["adam_distance"]))


# -- 10. nesterov_lookahead ------------------------------------------------------------------
def test_nesterov_lookahead_steps_and_smaller_overshoot():
    mod = FIGURES["nesterov_lookahead"]
    d = fast_data("nesterov_lookahead")
    A = mod.problem().A
    theta, v, mu, eta = d["theta"], d["velocity"], float(d["mu"]), float(d["eta"])
    np.testing.assert_allclose(d["heavyball_theta_next"], theta + mu * v - eta * A @ theta, rtol=1e-14)
    y = theta + mu * v
    np.testing.assert_allclose(d["nesterov_grad_point"], y, rtol=1e-15)
    np.testing.assert_allclose(d["nesterov_theta_next"], theta + mu * v - eta * A @ y, rtol=1e-14)
    np.testing.assert_allclose(d["heavyball_grad_point"], theta, rtol=0)
    # the ball crosses the valley floor θ₂ = 0; Nesterov's look-ahead overshoots it less
    assert theta[1] < 0 < d["nesterov_theta_next"][1] < d["heavyball_theta_next"][1]


# -- 11. adam_rotation -----------------------------------------------------------------------
def test_adam_depends_on_the_axes_heavy_ball_does_not():
    mod = FIGURES["adam_rotation"]
    d = fast_data("adam_rotation")
    R = np.array([[np.cos(np.pi / 4), -np.sin(np.pi / 4)], [np.sin(np.pi / 4), np.cos(np.pi / 4)]])
    np.testing.assert_allclose(d["theta0_1"], R @ d["theta0_0"], rtol=1e-15)
    # heavy ball is rotation-equivariant: the rotated run is the rotated path (round-off only)
    np.testing.assert_allclose(d["heavyball_theta_1"], d["heavyball_theta_0"] @ R.T, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(d["heavyball_distance_1"], d["heavyball_distance_0"], rtol=1e-9, atol=1e-13)
    # Adam is not: paths differ by far more than round-off
    assert np.max(np.abs(d["adam_theta_1"] - d["adam_theta_0"] @ R.T)) > 0.3
    # Adam's first step, bias-corrected: −γ·g/(|g| + ε) per coordinate (Kingma & Ba 2015)
    lr = float(d["adam_lr"])
    for i, q in enumerate(mod.problems()):
        g = q.A @ d[f"theta0_{i}"]
        np.testing.assert_allclose(d[f"adam_theta_{i}"][1], d[f"theta0_{i}"] - lr * g / (np.abs(g) + 1e-8), rtol=1e-12)
    # on the axis-aligned valley Adam converges much further than on the rotated one
    assert d["adam_distance_0"][-1] < 0.1 * d["adam_distance_1"][-1]


# -- 12. nesterov_ode ------------------------------------------------------------------------
def test_nesterov_ode_matches_bessel_and_error_falls_like_sqrt_s():
    d = fast_data("nesterov_ode")
    s = d["s"]
    slope = np.polyfit(np.log(s), np.log(d["max_error"]), 1)[0]
    assert 0.45 < slope < 0.55  # error ~ √s (Su, Boyd & Candès 2016)
    # Su, Boyd & Candès (2016): about 7e-2 at s = 1e-2
    assert 0.06 < d["max_error"][list(s).index(1e-2)] < 0.09
    t = d["t_bessel"][1:]
    np.testing.assert_allclose(d["bessel"][1:], 2 * j1(t) / t, rtol=1e-13)
    for j in range(3):
        tk = d[f"t_{j}"][1:]
        np.testing.assert_allclose(d[f"ode_{j}"][1:], 2 * j1(tk) / tk, atol=1e-8)  # simulate at rtol 1e-10
    # Nesterov's recurrence on f = ½x² by hand for s = 0.01: x₁ = 0.99, x₂ = 0.9801, x₃ = 0.967849…
    x = d["x_1"]
    assert x[:3].tolist() == pytest.approx([1.0, 0.99, 0.9801], rel=1e-15)
    y2 = x[2] + (1 / 4) * (x[2] - x[1])
    assert x[3] == pytest.approx(y2 - 0.01 * y2, rel=1e-14)


# -- 13. scaling_limits ----------------------------------------------------------------------
def test_scaling_limits_orders():
    mod = FIGURES["scaling_limits"]
    d = fast_data("scaling_limits")
    lr = d["lr"]

    def slope(key):
        return np.polyfit(np.log(lr), np.log(d[f"error_{key}"]), 1)[0]

    assert 0.9 < slope("gradient_flow") < 1.15  # Kovachki & Stuart: O(lr)
    assert 1.85 < slope("modified_equation") < 2.2  # modified equation: O(lr²)
    assert np.all(np.diff(d["error_heavyball_ode_fixed"]) > 0)  # fixed (m, c): the error grows as lr → 0
    assert 0.45 < slope("heavyball_ode_scaled") < 0.55  # μ = 1 − c√(lr/m): O(√lr)
    # the rescaled gradient flow θ(t) = exp(−At/(1−μ))θ₀, from expm
    A = mod.problem().A
    mu = float(d["momentum"])
    for j in range(3):
        expected = np.array([expm(-A * t / (1 - mu)) @ np.asarray(mod.THETA0) for t in d[f"flow_t_{j}"]])
        np.testing.assert_allclose(d[f"flow_theta_{j}"], expected, rtol=1e-9, atol=1e-12)
    t = d["ode_t_2"]  # the heavy-ball ODE of the ODE scaling, every 50th sample against expm
    oracle = ode_oracle(A, float(d["m"]), float(d["c"]), np.asarray(mod.THETA0), t[::50])
    np.testing.assert_allclose(d["ode_theta_2"][::50], oracle, rtol=1e-9, atol=1e-11)


# -- 14. rosenbrock --------------------------------------------------------------------------
def _rosenbrock(theta):
    x, y = theta[..., 0], theta[..., 1]
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def test_rosenbrock_losses_and_ordering():
    d = fast_data("rosenbrock")
    np.testing.assert_array_equal(d["minimizer"], [1.0, 1.0])
    for m in ("gd", "heavyball", "nesterov", "adam"):
        np.testing.assert_allclose(d[f"{m}_loss"], _rosenbrock(d[f"{m}_theta"]), rtol=1e-12, atol=1e-300)
        np.testing.assert_allclose(d[f"{m}_distance"], np.linalg.norm(d[f"{m}_theta"] - 1.0, axis=-1), rtol=1e-12)
    # GD's first step with the gradient written out: ∇f = (−2(1−x) − 400x(y−x²), 200(y−x²))
    x, y = d["theta0"]
    g = np.array([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])
    np.testing.assert_allclose(d["gd_theta"][1], d["theta0"] - 1e-3 * g, rtol=1e-14)
    # momentum carries the iterates along the curved valley: far ahead of GD
    final = {m: d[f"{m}_loss"][-1] for m in ("gd", "heavyball", "nesterov", "adam")}
    assert final["heavyball"] < 1e-2 * final["gd"] and final["nesterov"] < 1e-2 * final["gd"]
    assert final["adam"] < final["gd"]


def test_rosenbrock_caption_gd_stops_short_the_others_reach_the_minimiser():
    # the caption's claim about the paper figure (2000 steps): only GD's last iterate is farther
    # than SHORT_OF_MINIMIZER from (1, 1), so it is the one drawn with a large marker
    mod = FIGURES["rosenbrock"]
    d = mod.data(fast=False)
    far = {m: float(np.hypot(*(d[f"{m}_theta"][-1] - 1.0))) > mod.SHORT_OF_MINIMIZER for m in mod.METHODS}
    assert far == {"gd": True, "heavyball": False, "nesterov": False, "adam": False}


# -- one style for the whole catalogue, and the claims the captions make -------------------------
GREEK_OUTSIDE_MATH = re.compile(r"[\u0391-\u03a9\u03b1-\u03c9\u221a\u221e]")


def _drawn(name):
    fig = FIGURES[name].plot(fast_data(name), fast=True)
    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)
    return fig, renderer


@pytest.mark.parametrize("name", NAMES)
def test_one_panel_label_style_and_greek_in_mathtext(name):
    fig, _ = _drawn(name)
    axes = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    for text in fig.findobj(matplotlib.text.Text):
        words = text.get_text()
        if not words or not text.get_visible():
            continue
        assert text.get_fontweight() in ("normal", 400), (name, words)  # no bold panel letters
        # Greek letters, √ and ∞ only inside $...$: italic mathtext as on the axes, never upright Unicode
        assert not GREEK_OUTSIDE_MATH.search(re.sub(r"\$[^$]*\$", "", words)), (name, words)
        if re.match(r"\([a-z]\)", words):  # a panel letter is the start of a left-aligned axes title
            assert any(text is ax._left_title for ax in axes), (name, words)
    if len(axes) > 1:  # every panel of a multi-panel figure is lettered, in order
        letters = [ax._left_title.get_text()[:3] for ax in axes if ax._left_title.get_text()]
        assert letters == [f"({c})" for c in "abcdefgh"[: len(letters)]] and len(letters) >= 2, (name, letters)


def test_lr_regimes_caption_names_the_rotation_the_contours_show():
    d = fast_data("lr_regimes")
    q = FIGURES["lr_regimes"].problem()
    floor = q.eigenvectors[:, np.argmin(q.eigenvalues)]  # the gentle direction
    angle = np.rad2deg(np.arctan2(floor[1], floor[0])) % 180.0
    assert angle == pytest.approx(15.0, abs=1e-9) and float(d["angle_deg"]) == pytest.approx(15.0, abs=1e-12)
    assert "rotated by 15°" in FIGURES["lr_regimes"].CAPTION


def test_valley_zigzag_b_shows_the_steps_its_legend_counts():
    d = fast_data("valley_zigzag")
    fig, _ = _drawn("valley_zigzag")
    ax = fig.axes[1]
    assert ax.get_xlim()[0] <= 0 and ax.get_xlim()[1] >= d["k"][-1]
    lines = ax.get_lines()[:3]
    top = max(np.max(np.abs(line.get_ydata())) for line in lines)
    assert ax.get_ylim()[1] <= 1.2 * top  # the axis ends near the data, not at twice its height
    for line in lines:
        shown = np.asarray(line.get_ydata())
        assert len(shown) == len(d["k"])  # every step is drawn
        count = sign_changes(shown, 0.01 * abs(shown[0]))
        assert f": {count} sign change" in line.get_label()


def test_momentum_memory_marks_mu_to_the_memory_and_its_caption_says_so():
    d = FIGURES["momentum_memory"].data()  # 400 ages: the memory 100 of μ = 0.99 is on the grid
    mu, memory = d["mu"], d["memory"]
    measured = np.array([d["weights"][i, int(np.rint(memory[i]))] for i in range(len(mu))])
    np.testing.assert_allclose(d["weight_at_memory"], measured, rtol=1e-12)  # the dots sit on the curves
    np.testing.assert_allclose(measured, mu ** (1 / (1 - mu)), rtol=1e-12)
    # the claim "about 1/e" holds only as μ → 1: 0.25 at μ = 0.5 is far from 0.368
    assert abs(measured[0] - np.exp(-1)) > 0.1 and abs(measured[-1] - np.exp(-1)) < 0.01
    caption = FIGURES["momentum_memory"].CAPTION
    assert "fallen to about 1/e" not in caption
    assert ", ".join(f"{w:.2f}" for w in measured) in caption.replace(" and ", ", ")
    fig = FIGURES["momentum_memory"].plot(d)
    dots = [line for line in fig.axes[0].get_lines() if line.get_marker() == "o"]
    np.testing.assert_allclose(sorted(float(line.get_ydata()[0]) for line in dots), sorted(measured), rtol=1e-12)


def test_discrete_vs_continuous_caption_numbers_are_the_scaled_errors():
    d = fast_data("discrete_vs_continuous")
    scaled = d["max_error"] / d["dt"]
    np.testing.assert_allclose(d["max_error_over_dt"], scaled, rtol=1e-15)
    caption = FIGURES["discrete_vs_continuous"].CAPTION
    assert f"largest values {scaled[1]:.2f} and {scaled[2]:.2f}" in caption and f"{scaled[0]:.2f} at first" in caption
    assert "in proportion to Δt" not in caption
    # first order: the two finest runs' scaled errors agree within 10% at their maximum
    assert scaled[1] / scaled[2] == pytest.approx(1.0, abs=0.1)
    fig, _ = _drawn("discrete_vs_continuous")
    for i, line in enumerate(fig.axes[2].get_lines()[:3]):  # panel (c) draws error/Δt
        np.testing.assert_allclose(line.get_ydata(), d[f"error_{i}"][1:] / d["dt"][i], rtol=1e-15)


def test_rate_map_complex_label_is_off_the_contours_and_every_level_is_labelled():
    module = FIGURES["rate_map"]
    x, y = module.COMPLEX_TEXT_AT
    rho = float(hb.rates.spectral_radius([module.H_MIN, module.H_MAX], lr=x, momentum=y))
    assert rho == pytest.approx(np.sqrt(y), rel=1e-12)  # inside "both modes complex": ρ = √μ
    assert min(abs(rho - level) for level in module.LEVELS) > 0.01  # on no white contour line
    fig, _ = _drawn("rate_map")
    d = fast_data("rate_map")
    for ax, method in zip(fig.axes[:2], ("heavyball", "nesterov"), strict=False):
        labels = {t.get_text() for t in ax.texts}
        for level in module.LEVELS:
            inside = np.nonzero(d[f"{method}_radius"] < level)[0]  # momentum rows below the level
            span = np.ptp(d["momentum"][inside]) if inside.size else 0.0
            # every contour with room for a label has one (Nesterov's ρ = 0.9 is a sliver 0.03 high,
            # which the caption points out)
            assert (f"{level:.2f}" in labels) == (span > 0.05), (method, level, span)
    assert "0.85" in {t.get_text() for t in fig.axes[0].texts}
    assert "sliver" in module.CAPTION


def test_characteristic_roots_circle_only_where_the_roots_lie_on_it():
    d = fast_data("characteristic_roots")
    fig, _ = _drawn("characteristic_roots")
    for ax, m in zip(fig.axes, ("gd", "heavyball", "nesterov"), strict=False):
        dashed = [line for line in ax.get_lines() if line.get_linestyle() not in ("-", "None", "none")]
        if m != "heavyball":
            assert not dashed, m
            continue
        (circle,) = dashed
        radius = np.hypot(circle.get_xdata(), circle.get_ydata())
        np.testing.assert_allclose(radius, np.sqrt(float(d["heavyball_momentum"])), rtol=1e-12)
        z = d["heavyball_real"] + 1j * d["heavyball_imag"]
        complex_roots = z[np.abs(z.imag) > 1e-9]
        # a complex pair's product is μ: every complex root has modulus √μ (to rounding)
        np.testing.assert_allclose(np.abs(complex_roots), radius[0], rtol=1e-9)


def test_predicted_vs_measured_legend_hides_no_curve():
    fig, renderer = _drawn("predicted_vs_measured")
    (ax,) = fig.axes
    legend_box = fig.legends[0].get_window_extent(renderer)
    assert not legend_box.overlaps(ax.get_window_extent(renderer))


def test_nesterov_lookahead_has_a_right_margin():
    fig, renderer = _drawn("nesterov_lookahead")
    right = max(ax.get_tightbbox(renderer).x1 for ax in fig.axes)
    assert fig.bbox.width - right >= 0.05 * fig.dpi  # at least 0.05 in of blank space


def test_adam_rotation_marks_adams_pace_and_the_caption_quotes_it():
    d = fast_data("adam_rotation")
    at50 = [float(d[f"adam_distance_{i}"][50]) for i in range(2)]
    caption = FIGURES["adam_rotation"].CAPTION
    assert f"{at50[0]:.2f} from the minimiser" in caption and f"{at50[1]:.1f} on the rotated one" in caption
    assert at50[1] > 3 * at50[0]  # rotated Adam is slower, whatever its smoother path suggests
    fig, _ = _drawn("adam_rotation")
    module = FIGURES["adam_rotation"]
    for i, ax in enumerate(fig.axes[:2]):
        path = d[f"adam_theta_{i}"] @ module.rotation(d["angle"][i])  # in the valley's own axes
        marked = [line for line in ax.get_lines() if line.get_marker() == "o" and len(line.get_xdata()) == 1
                  and line.get_markerfacecolor() != "white"]  # fmt: skip
        shown = np.array([[line.get_xdata()[0], line.get_ydata()[0]] for line in marked])
        np.testing.assert_allclose(shown, path[list(module.MARKED)], rtol=1e-12, atol=1e-15)


def test_scaling_limits_legend_says_which_way_the_error_moves():
    d = fast_data("scaling_limits")
    fig, _ = _drawn("scaling_limits")
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    (grows,) = [label for label in labels if "heavy-ball ODE (grows" in label]
    assert r"as $\mathrm{lr} \to 0$" in grows
    err, lr = d["error_heavyball_ode_fixed"], d["lr"]
    assert err[np.argmin(lr)] > err[np.argmax(lr)]  # it does grow as lr shrinks


# -------------------------------------------------------------------------------------------
# the stochastic figures
# -------------------------------------------------------------------------------------------
def test_noisy_loss_curves_monte_carlo_within_four_standard_errors_of_the_exact_curves():
    d = fast_data("noisy_loss_curves")
    q = hb.Quadratic.valley(kappa=10.0, angle=np.pi / 6)
    for m in ("gd", "heavyball", "nesterov"):
        z = (d[f"{m}_mc_mean"] - d[f"{m}_exact"]) / d[f"{m}_mc_se"]
        assert np.all(np.abs(z[[1, 10, 30, 120]]) <= 4), (m, z[[1, 10, 30, 120]])
        # the exact curve reaches the stationary level of the discrete Lyapunov equation
        assert d[f"{m}_exact"][-1] == pytest.approx(float(d[f"{m}_stationary"]), rel=1e-8)
    # the closed form of one mode pair: the stationary loss is ½Σ h·Var, each Var from the
    # closed form of torch's heavy ball (both curvatures: the noise is isotropic)
    t = hb.rates.optimal_parameters(0.1, 1.0, "heavyball")
    lr, mu = float(t.lr), float(t.momentum)
    var = lambda h: lr * 0.05**2 * (1 + mu) / (h * (1 - mu) * (2 * (1 + mu) - lr * h))  # noqa: E731
    assert float(d["heavyball_stationary"]) == pytest.approx(0.5 * (0.1 * var(0.1) + var(1.0)), rel=1e-12)
    assert q.h_min == pytest.approx(0.1)
    assert d["heavyball_stationary"] > d["gd_stationary"] > d["nesterov_stationary"]  # the caption's order


def test_gibbs_double_well_histograms_pass_a_kolmogorov_smirnov_test():
    from scipy import integrate, stats

    d = fast_data("gibbs_double_well")
    T, tilt = float(d["temperature"]), 0.25
    grid = np.linspace(-3.0, 3.0, 30001)
    dens = np.exp(-((grid**2 - 1) ** 2 + tilt * grid) / T)  # independent of the module's gibbs()
    cdf = integrate.cumulative_trapezoid(dens, grid, initial=0.0)
    cdf /= cdf[-1]
    z = np.sum(0.5 * (dens[1:] + dens[:-1]) * np.diff(grid))
    g = d["grid"]
    expected = np.exp(-((g**2 - 1) ** 2 + tilt * g) / T) / z
    np.testing.assert_allclose(d["gibbs"], expected, rtol=1e-7)  # two trapezoidal rules, h = 1e-4 and 2e-4
    for key in ("baoab", "sgd"):
        assert stats.kstest(d[key], lambda s: np.interp(s, grid, cdf)).pvalue > 0.01, key  # 1% level, fixed seeds
    # the deeper (left) well holds most of the mass, as the Gibbs law says
    left = float(np.interp(0.0, grid, cdf))
    for key in ("baoab", "sgd"):
        assert abs(np.mean(d[key] < 0) - left) <= 4 * np.sqrt(left * (1 - left) / d[key].size)
    # the SGD noise is the one whose small-lr temperature is T
    assert 0.01 * float(d["sigma_g"]) ** 2 / (2 * (1 - 0.9)) == pytest.approx(T, rel=1e-12)


def test_batch_size_study_shows_the_three_findings():
    from heavyball.figures import batch_size_scaling as bss

    d = fast_data("batch_size_scaling")
    B = d["batch"]
    sgd, hbm, pre = d["sgd_steps"], d["heavyball_steps"], d["preconditioned_steps"]
    assert np.all(pre <= hbm)  # the preconditioned method never needs more steps
    # 1. perfect scaling at small batches: steps ∝ 1/B (slope −1 over the first two points, ±5%)
    slope = np.log(sgd[1] / sgd[0]) / np.log(B[1] / B[0])
    assert slope == pytest.approx(-1.0, abs=0.05)
    # 2. no gain from momentum at small batches (within 5%), a large one at large batches
    assert hbm[0] == pytest.approx(sgd[0], rel=0.05)
    assert hbm[-1] < sgd[-1] / 10
    # 3. a larger critical batch size with momentum (here ≥ 10×)
    assert float(d["heavyball_critical"]) > 10 * float(d["sgd_critical"])
    # the exact loss curves behind it equal the moments of the noisy recurrence
    h = 1.0 / np.arange(1, 6)
    q = hb.Quadratic(np.diag(h))
    bias, var = bss.loss_curves(h, np.full(5, 0.3), np.asarray(0.9), np.array([1, 7, 40]))
    mo = hb.moments(hb.SGD(lr=0.3, momentum=0.9), q, np.ones(5), 40, noise=hb.GradientNoise.hessian(q, 0.25))
    np.testing.assert_allclose(bias + var / 4, mo.expected_loss[[1, 7, 40]], rtol=1e-10)
