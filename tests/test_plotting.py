"""The paper style, the axes-first helpers and deterministic, atomic saving.

Oracles: the Okabe–Ito palette as published (Okabe & Ito 2008), the objective's own values at
the contour vertices (a contour line of level L must lie where f = L), closed forms for the
predicted ρᵏ line and the unit circle, and byte comparison of files written by separate
processes.
"""

import os
import subprocess
import sys
import warnings
from pathlib import Path

import matplotlib
import matplotlib.style
import numpy as np
import pytest

import heavyball as hb
from heavyball import plotting
from heavyball.plotting import FAMILY_COLORS, new_figure, paper_style

# Okabe & Ito (2008), "Color Universal Design": the eight colourblind-safe colours
OKABE_ITO = {"#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7"}


def test_style_resolves_as_package_style_and_sets_print_values():
    with matplotlib.rc_context():
        matplotlib.style.use("heavyball.paper")  # matplotlib's dotted "package.style" lookup
        rc = matplotlib.rcParams
        assert rc["pdf.fonttype"] == 42 and rc["ps.fonttype"] == 42  # TrueType, editable text in PDF
        assert rc["svg.fonttype"] == "path"
        assert rc["svg.hashsalt"] == "heavyball"
        assert rc["text.usetex"] is False
        assert rc["font.sans-serif"][0] == "DejaVu Sans"
        assert rc["mathtext.fontset"] == "dejavusans"
        assert 7 <= rc["font.size"] <= 9 and 6 <= rc["xtick.labelsize"] <= 9
        assert list(rc["figure.figsize"]) == [plotting.SINGLE, 2.55]


def test_sizes_are_single_and_double_column():
    assert plotting.SINGLE == 3.4 and plotting.DOUBLE == 7.0


def test_family_colors_are_fixed_okabe_ito_and_distinct():
    assert set(FAMILY_COLORS) == {"gd", "heavyball", "nesterov", "adam", "ode"}
    colours = [c.upper() for c in FAMILY_COLORS.values()]
    assert set(colours) <= OKABE_ITO
    assert len(set(colours)) == len(colours)


def _rc_snapshot():
    # dict.items: reading rcParams["backend"] through the mapping would resolve (and import) a backend
    return {k: v for k, v in dict.items(matplotlib.rcParams) if k != "backend"}


def test_paper_style_restores_rcparams():
    before = _rc_snapshot()
    with paper_style():
        assert matplotlib.rcParams["svg.hashsalt"] == "heavyball"
    assert _rc_snapshot() == before


def test_import_has_no_side_effects_and_no_pyplot():
    code = (
        "import matplotlib, sys\n"
        "snapshot = lambda: {k: v for k, v in dict.items(matplotlib.rcParams) if k != 'backend'}\n"
        "before = snapshot()\n"
        "import heavyball.plotting, heavyball.figures\n"
        "assert snapshot() == before, 'rcParams changed at import'\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot imported'\n"
    )
    env = {**os.environ}
    env.pop("MPLBACKEND", None)
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert res.returncode == 0, res.stderr


def test_contour_lines_lie_on_their_level():
    q = hb.Quadratic.valley(kappa=10, angle=0.3)
    with paper_style():
        _fig, ax = new_figure()
        cs = plotting.contour(ax, q, xlim=(-2, 2), ylim=(-1, 1), levels=6, n=301)
    levels = np.asarray(cs.levels)
    assert levels.size == 6
    ratios = np.diff(levels) / levels[:-1]  # f_min = 0: geometric spacing means constant ratio
    np.testing.assert_allclose(levels[1:] / levels[:-1], levels[1] / levels[0], rtol=1e-12)
    assert np.all(ratios > 0)
    for level, segs in zip(levels, cs.allsegs, strict=False):
        pts = np.concatenate(segs)
        # linear interpolation on a 301² grid of a quadratic: error ~ (grid step)² · h_max
        step = 4 / 300
        np.testing.assert_allclose(q.value(pts), level, atol=2 * step**2, rtol=1e-2)
    assert ax.get_xlim() == (-2.0, 2.0)


def test_contour_rejects_bad_limits_and_dimension():
    with paper_style():
        _fig, ax = new_figure()
        with pytest.raises(ValueError, match="`xlim`"):
            plotting.contour(ax, hb.Quadratic.valley(), xlim=(1, -1), ylim=(0, 1))
        with pytest.raises(ValueError, match="`problem`"):
            plotting.contour(ax, hb.Quadratic(np.eye(3)), xlim=(0, 1), ylim=(0, 1))


def test_trajectory_draws_the_finite_iterates_in_the_family_colour():
    theta = np.array([[1.0, 2.0], [0.5, -1.0], [np.nan, np.nan], [0.1, 0.2]])
    with paper_style():
        _fig, ax = new_figure()
        line = plotting.trajectory(ax, theta, family="nesterov")
    np.testing.assert_array_equal(line.get_xydata(), theta[[0, 1, 3]])
    assert line.get_label() == "Nesterov"
    assert matplotlib.colors.to_hex(line.get_color()).upper() == FAMILY_COLORS["nesterov"]
    with pytest.raises(ValueError, match="`family`"):
        plotting.trajectory(ax, theta, family="sgd-ish")


def test_loss_curve_prediction_is_rho_to_the_k_through_the_anchor():
    k = np.arange(50.0)
    values = 3.0 * 0.9**k * (1 + 0.1 * np.cos(k))
    with paper_style():
        _fig, ax = new_figure()
        out = plotting.loss_curve(ax, values, family="heavyball", predicted_rate=0.8, anchor=10)
    _x, y = out["predicted"].get_data()
    np.testing.assert_allclose(y, values[10] * 0.8 ** (k - 10), rtol=1e-13)
    assert ax.get_yscale() == "log"
    assert out["line"].get_color() == out["predicted"].get_color()


def test_loss_curve_hides_nonpositive_and_nonfinite_values():
    with paper_style():
        _fig, ax = new_figure()
        out = plotting.loss_curve(ax, [1.0, 0.0, np.inf, 0.5])
    y = out["line"].get_ydata()
    assert np.isnan(y[1]) and np.isnan(y[2]) and y[3] == 0.5


def test_rate_map_marks_unstable_cells():
    lr = np.linspace(0.1, 3, 4)
    mom = np.linspace(0, 0.9, 3)
    radius = np.array([[0.5, 0.9, 1.0, 2.0], [0.2, np.inf, 0.3, 0.99], [np.nan, 0.1, 0.2, 0.3]])
    with paper_style():
        _fig, ax = new_figure()
        out = plotting.rate_map(ax, lr, mom, radius)
    shown = np.ma.masked_invalid(out["mesh"].get_array()).reshape(radius.shape)
    unstable = ~(radius < 1)  # ρ ≥ 1, inf and NaN all mean "does not converge"
    assert np.all(shown.mask == unstable)
    np.testing.assert_array_equal(shown[~unstable], radius[~unstable])
    assert out["colorbar"] is not None


def test_roots_scatter_and_unit_circle():
    z = np.array([0.5 + 0.5j, -0.3, 0.9j])
    with paper_style():
        _fig, ax = new_figure()
        sc = plotting.roots(ax, z, family="gd", circles=[(0.7, "r")])
    np.testing.assert_array_equal(sc.get_offsets(), np.c_[z.real, z.imag])
    circle = ax.lines[0].get_xydata()
    np.testing.assert_allclose(np.hypot(circle[:, 0], circle[:, 1]), 1.0, rtol=1e-15)
    dashed = ax.lines[1].get_xydata()
    np.testing.assert_allclose(np.hypot(dashed[:, 0], dashed[:, 1]), 0.7, rtol=1e-15)


def test_regime_map_codes_and_unknown_category():
    regime = np.array([["real", "complex"], ["repeated", "real"]])
    with paper_style():
        _fig, ax = new_figure()
        out = plotting.regime_map(ax, [0, 1], [0, 1], regime, categories=("complex", "real", "repeated"))
        np.testing.assert_array_equal(out["codes"], [[1, 0], [2, 1]])
        with pytest.raises(ValueError, match="not in `categories`"):
            plotting.regime_map(ax, [0, 1], [0, 1], regime, categories=("complex", "real"))


_SAVE_SCRIPT = """
import sys
import numpy as np
import heavyball as hb
from heavyball import plotting
with plotting.paper_style():
    fig, ax = plotting.new_figure()
    plotting.contour(ax, hb.Quadratic.valley(kappa=10), xlim=(-1, 1), ylim=(-1, 1), levels=5, n=51)
    plotting.trajectory(ax, np.array([[0.9, 0.5], [0.2, -0.4], [0.0, 0.1]]), family="heavyball")
    ax.set_xlabel(r"$\\theta_1$"); ax.set_ylabel(r"$\\theta_2$"); ax.legend()
plotting.save(fig, sys.argv[1], ("pdf", "svg", "png"))
"""


def test_save_is_byte_identical_across_processes_and_dates(tmp_path):
    script = tmp_path / "make.py"
    script.write_text(_SAVE_SCRIPT)
    for run, epoch in (("a", "0"), ("b", "1700000000")):
        (tmp_path / run).mkdir()
        env = {**os.environ, "SOURCE_DATE_EPOCH": epoch}
        subprocess.run([sys.executable, str(script), str(tmp_path / run / "fig")], check=True, env=env, cwd=tmp_path)
    for fmt in ("pdf", "svg", "png"):
        a = (tmp_path / "a" / f"fig.{fmt}").read_bytes()
        b = (tmp_path / "b" / f"fig.{fmt}").read_bytes()
        assert a == b, fmt
    pdf = (tmp_path / "a" / "fig.pdf").read_bytes()
    assert b"CreationDate" not in pdf and b"Matplotlib" not in pdf
    assert b"<dc:date>" not in (tmp_path / "a" / "fig.svg").read_bytes()


def test_save_is_atomic_when_savefig_fails(tmp_path, monkeypatch):
    with paper_style():
        fig, ax = new_figure()
        ax.plot([0, 1], [0, 1])
    good = plotting.save(fig, tmp_path / "fig", ("pdf",))[0]
    before = good.read_bytes()

    def broken(self, fname, **kwargs):
        Path(fname).write_bytes(b"%PDF-1.4 partial")  # a half-written file in the temporary path
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", broken)
    with pytest.raises(OSError, match="No space"):
        plotting.save(fig, tmp_path / "fig", ("pdf",))
    assert good.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fig.pdf"]


def test_save_formats_and_suffix(tmp_path):
    with paper_style():
        fig, _ax = new_figure()
    written = plotting.save(fig, tmp_path / "x.pdf", "png,svg")
    assert [p.name for p in written] == ["x.png", "x.svg"]
    assert written[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="`formats`"):
        plotting.save(fig, tmp_path / "x", ("jpg",))
    with pytest.raises(ValueError, match="`formats`"):
        plotting.save(fig, tmp_path / "x", ())


def test_minimizer_star_is_drawn_above_paths_and_validated():
    with paper_style():
        _fig, ax = new_figure()
        path = plotting.trajectory(ax, [[1.0, 1.0], [0.0, 0.0]], family="adam")
        star = plotting.minimizer(ax, (0.0, 0.0))
    np.testing.assert_array_equal(star.get_xydata(), [[0.0, 0.0]])
    assert star.get_marker() == "*" and star.get_zorder() > path.get_zorder()
    with pytest.raises(ValueError, match="`point`"):
        plotting.minimizer(ax, (0.0, 0.0, 0.0))


def test_regime_colours_are_distinct_and_none_is_a_family_colour():
    colours = [c.upper() for c in plotting.REGIME_COLORS.values()]
    assert set(plotting.REGIME_COLORS) == {"underdamped", "critical", "overdamped"}
    assert len(set(colours)) == 3 and not set(colours) & {c.upper() for c in FAMILY_COLORS.values()}


def test_align_titles_puts_a_row_of_titles_at_one_height():
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    with paper_style():
        fig, (a, b) = new_figure(plotting.DOUBLE, 2.5, ncols=2)
        a.set(xlim=(0, 4), ylim=(0, 1), aspect="equal")  # 4:1 in its slot: shorter than its neighbour
        a.set_title("(a)", loc="left")
        b.set_title("(b)", loc="left")
        plotting.align_titles(fig)
        renderer = FigureCanvasAgg(fig).get_renderer()
        fig.draw(renderer)
    if not hasattr(fig, "align_titles"):
        pytest.skip("matplotlib < 3.9 has no Figure.align_titles")
    ya, yb = (t.get_window_extent(renderer).y0 for t in (a._left_title, b._left_title))
    assert ya == pytest.approx(yb, abs=0.5)  # pixels


# -- the keyword `family` (a curve's colour key) and its deprecated spelling `method` ------------
def _drawn_with(helper, **keyword):
    with paper_style():
        _fig, ax = new_figure()
        if helper == "roots":
            return plotting.roots(ax, [0.5 + 0.5j], **keyword)
        if helper == "loss_curve":
            return plotting.loss_curve(ax, [1.0, 0.5, 0.25], **keyword)["line"]
        return plotting.trajectory(ax, [[1.0, 0.0], [0.0, 1.0]], **keyword)


@pytest.mark.parametrize("helper", ["trajectory", "loss_curve", "roots"])
def test_method_is_the_deprecated_spelling_of_family(helper):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the new spelling warns about nothing
        new = _drawn_with(helper, family="adam")
    with pytest.warns(DeprecationWarning, match=r"`method` is deprecated; use `family`") as caught:
        old = _drawn_with(helper, method="adam")
    assert caught[0].filename == __file__  # attributed to the caller's line
    # both spellings draw in Adam's published Okabe–Ito colour (reddish purple) with its legend name
    for artist in (new, old):
        colour = artist.get_facecolor()[0] if helper == "roots" else artist.get_color()
        assert matplotlib.colors.to_hex(colour).upper() == "#CC79A7"
        assert artist.get_label() == "Adam"
    with pytest.raises(TypeError, match="both `family` and its deprecated spelling `method`"):
        _drawn_with(helper, family="adam", method="gd")


def test_old_names_of_the_family_tables_and_lookups_warn_and_agree():
    for old, new in (("METHOD_COLORS", "FAMILY_COLORS"), ("METHOD_LABELS", "FAMILY_LABELS")):
        with pytest.warns(DeprecationWarning, match=f"plotting.{old} is deprecated; use heavyball.plotting.{new}"):
            assert getattr(plotting, old) is getattr(plotting, new)
    with pytest.warns(DeprecationWarning, match="use heavyball.plotting.family_color"):
        assert plotting.method_color("nesterov").upper() == "#009E73"  # bluish green (Okabe & Ito 2008)
    with pytest.warns(DeprecationWarning, match="use heavyball.plotting.family_label"):
        assert plotting.method_label("heavyball") == "heavy ball"
    assert plotting.family_color("gd").upper() == "#D55E00" and plotting.family_label("ode") == "ODE"
    with pytest.raises(AttributeError, match="no attribute 'METHOD_STYLES'"):
        plotting.METHOD_STYLES  # noqa: B018
    with pytest.raises(ValueError, match="`family`"):
        plotting.family_color("sgd")
