r"""Paper-style plotting: the style context, axes-first helpers, deterministic saving.

Every helper takes the :class:`~matplotlib.axes.Axes` to draw on first and returns what it
drew, so figures compose them freely and tests can inspect the artists. Figures are made
with :class:`matplotlib.figure.Figure` directly (no ``pyplot`` global state: nothing
leaks between figures and no interactive backend is ever selected).

The look lives in data, in ``heavyball/paper.mplstyle``; use it with ``paper_style()`` or
``matplotlib.style.use("heavyball.paper")``. Each family — the recurrence families ``"gd"``,
``"heavyball"``, ``"nesterov"`` of :mod:`heavyball.recurrences`, and ``"adam"`` and the
continuous ``"ode"`` — has ONE colour everywhere (:data:`FAMILY_COLORS`, from the Okabe–Ito
colourblind-safe palette: Okabe & Ito, *Color Universal Design*, 2008) and one legend name
(:data:`FAMILY_LABELS`); the helpers take it as ``family=``.

:func:`save` writes every format atomically (a temporary file beside the target, moved
into place with :func:`os.replace`) with fixed metadata, so PDF and SVG files are
byte-identical between runs (and PNG files on the same machine), whatever the date or
``SOURCE_DATE_EPOCH``.

This module and :mod:`heavyball.figures` are the only places that import matplotlib.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import matplotlib
import matplotlib.colors
import matplotlib.patches
import matplotlib.style
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ._io import atomic_path
from ._validation import as_choice, as_float_array, as_real, describe, renamed_keyword

__all__ = [
    "DOUBLE",
    "EXTRA_COLORS",
    "FAMILY_COLORS",
    "FAMILY_LABELS",
    "FORMATS",
    "METADATA",
    "REGIME_COLORS",
    "REGIME_LINESTYLES",
    "SINGLE",
    "STYLE",
    "align_titles",
    "contour",
    "family_color",
    "family_label",
    "loss_curve",
    "minimizer",
    "new_figure",
    "panel",
    "panel_label",
    "paper_style",
    "rate_map",
    "regime_map",
    "roots",
    "save",
    "trajectory",
]

#: the style name (``heavyball/paper.mplstyle``), for ``matplotlib.style.use``
STYLE = "heavyball.paper"
#: single-column width in inches
SINGLE = 3.4
#: double-column width in inches
DOUBLE = 7.0

#: one fixed colour per family, everywhere (Okabe–Ito palette)
FAMILY_COLORS = {
    "gd": "#D55E00",  # vermillion
    "heavyball": "#0072B2",  # blue
    "nesterov": "#009E73",  # bluish green
    "adam": "#CC79A7",  # reddish purple
    "ode": "#000000",  # black: the continuous solution
}
#: the remaining Okabe–Ito colours, for things that are not families
EXTRA_COLORS = ("#E69F00", "#56B4E9", "#F0E442", "#999999")
#: one colour per damping regime of the continuous ball (the remaining Okabe–Ito colours and a
#: dark grey, so that a family of ODE solutions is never drawn in the ODE's own black)
REGIME_COLORS = {
    "underdamped": "#56B4E9",  # sky blue
    "critical": "#E69F00",  # orange
    "overdamped": "#666666",  # dark grey (darker than the contour lines)
}
#: one line style per damping regime: a family of ODE solutions is drawn in the ODE's own black
#: (FAMILY_COLORS["ode"]) and told apart by its line style
REGIME_LINESTYLES = {
    "underdamped": "-",
    "critical": "--",
    "overdamped": ":",
}
#: how each family is named in legends
FAMILY_LABELS = {
    "gd": "GD",
    "heavyball": "heavy ball",
    "nesterov": "Nesterov",
    "adam": "Adam",
    "ode": "ODE",
}
#: formats :func:`save` writes
FORMATS = ("pdf", "png", "svg")
#: fixed metadata per format: no dates, no version strings, so files are reproducible
METADATA: dict[str, dict[str, str | None]] = {
    "pdf": {"Creator": "heavyball", "Producer": "heavyball", "CreationDate": None, "ModDate": None},
    "svg": {"Creator": "heavyball", "Date": None},
    "png": {"Software": "heavyball"},
}


@contextlib.contextmanager
def paper_style() -> Any:
    """Apply the paper style (``heavyball/paper.mplstyle``) inside a ``with`` block.

    Matplotlib's rcParams are restored on exit. Build a figure *and* save it inside the
    block: artists read the style when they are created, ``savefig`` when it writes.

    Examples
    --------
    >>> from heavyball.plotting import paper_style, new_figure
    >>> with paper_style():
    ...     fig, ax = new_figure()
    """
    with matplotlib.style.context(STYLE):
        yield


def new_figure(
    width: float = SINGLE, height: float | None = None, *, nrows: int = 1, ncols: int = 1, **subplots_kw: Any
) -> Any:
    """A new :class:`~matplotlib.figure.Figure` (no pyplot) and its axes.

    Parameters
    ----------
    width : float
        Inches: :data:`SINGLE` (3.4) or :data:`DOUBLE` (7.0).
    height : float, optional
        Inches; ``0.75·width`` for one panel when omitted.
    nrows, ncols, **subplots_kw
        Passed to :meth:`Figure.subplots` (``squeeze=True``).

    Returns
    -------
    fig, axes
    """
    width = as_real("width", width, lower=0.5, upper=40.0)
    height = 0.75 * width if height is None else as_real("height", height, lower=0.5, upper=40.0)
    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(nrows, ncols, **subplots_kw)
    return fig, axes


def family_color(family: str) -> str:
    """The fixed colour of ``family`` (a key of :data:`FAMILY_COLORS`)."""
    return FAMILY_COLORS[as_choice("family", family, FAMILY_COLORS)]


def family_label(family: str) -> str:
    """The legend name of ``family`` (a key of :data:`FAMILY_LABELS`)."""
    return FAMILY_LABELS[as_choice("family", family, FAMILY_LABELS)]


def _style_for(family: Any, color: Any, label: Any) -> Any:
    if family is not None:
        color = family_color(family) if color is None else color
        label = family_label(family) if label is None else label
    return color, label


# The names this module used before ``family``: each still works for one release, with a
# DeprecationWarning that names the new one.
def _deprecated(old: str, new: str) -> None:
    warnings.warn(
        f"heavyball.plotting.{old} is deprecated; use heavyball.plotting.{new} (`{old}` will be removed in the next release)",
        DeprecationWarning,
        stacklevel=3,
    )


def method_color(method: str) -> str:
    """Deprecated spelling of :func:`family_color`."""
    _deprecated("method_color", "family_color")
    return family_color(method)


def method_label(method: str) -> str:
    """Deprecated spelling of :func:`family_label`."""
    _deprecated("method_label", "family_label")
    return family_label(method)


_RENAMED_TABLES = {"METHOD_COLORS": "FAMILY_COLORS", "METHOD_LABELS": "FAMILY_LABELS"}


def __getattr__(name: str) -> dict[str, str]:
    new = _RENAMED_TABLES.get(name)
    if new is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    _deprecated(name, new)
    table: dict[str, str] = globals()[new]
    return table


# -- landscapes and paths ------------------------------------------------------------------
def contour(ax: Axes, problem: Any, *, xlim: Any, ylim: Any, levels: Any=12, n: int = 241, filled: bool = False, colors: Any="0.72",
            linewidths: Any=0.5, minimum: Any=None, **kwargs: Any) -> Any:  # fmt: skip
    r"""Contour lines of a 2-D problem's ``f`` over a rectangle.

    Parameters
    ----------
    ax : Axes
    problem : heavyball problem with ``dim == 2`` and a vectorised ``value``
    xlim, ylim : (float, float)
    levels : int or array_like
        An array: the levels of ``f``. An integer ``n``: ``n`` geometrically spaced levels
        of ``f − f_min`` between the 1st and 98th percentile of its values on the grid (so
        both the floor of a valley and its walls get lines). ``f_min`` is ``minimum`` or
        ``problem.minimum`` or the grid's minimum.
    n : int
        Grid points per axis.
    filled : bool
        Filled contours (``contourf``) instead of lines.

    Returns
    -------
    matplotlib.contour.QuadContourSet

    Examples
    --------
    >>> import heavyball as hb
    >>> from heavyball.plotting import contour, new_figure, paper_style
    >>> with paper_style():
    ...     fig, ax = new_figure()
    ...     cs = contour(ax, hb.Quadratic.valley(kappa=10), xlim=(-1, 1), ylim=(-1, 1))
    """
    if getattr(problem, "dim", None) != 2:
        raise ValueError(f"`problem` must be two-dimensional, got {describe(problem)}")
    xlim = as_float_array("xlim", xlim, dtype=np.float64)
    ylim = as_float_array("ylim", ylim, dtype=np.float64)
    for name, lim in (("xlim", xlim), ("ylim", ylim)):
        if lim.shape != (2,) or not lim[0] < lim[1]:
            raise ValueError(f"`{name}` must be (low, high) with low < high, got {describe(lim)}")
    x = np.linspace(xlim[0], xlim[1], n)
    y = np.linspace(ylim[0], ylim[1], n)
    X, Y = np.meshgrid(x, y)
    Z = np.asarray(problem.value(np.stack([X, Y], axis=-1)), dtype=np.float64)
    if np.ndim(levels) == 0:
        count = int(levels)
        if minimum is None:
            minimum = getattr(problem, "minimum", None)
        floor = float(np.min(Z)) if minimum is None else float(minimum)
        excess = Z - floor
        positive = excess[excess > 0]
        lo, hi = np.percentile(positive, [1.0, 98.0])
        levels = floor + np.geomspace(lo, hi, count)
    else:
        levels = as_float_array("levels", levels, dtype=np.float64, ndim=1)
    draw = ax.contourf if filled else ax.contour
    style = dict(kwargs)
    if not filled:
        style.setdefault("colors", colors)
        style.setdefault("linewidths", linewidths)
    cs = draw(X, Y, Z, levels=levels, zorder=0, **style)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    return cs


@renamed_keyword("method", "family")
def trajectory(ax: Axes, theta: Any, *, family: str | None = None, label: str | None = None, color: Any=None, marker: Any="o",
               markevery: Any=1, start: bool = True, **kwargs: Any) -> Any:  # fmt: skip
    """Draw a path ``theta`` shaped ``(n, 2)`` (iterates or ODE samples) in the plane.

    Parameters
    ----------
    theta : array_like, shape (n, 2)
        Non-finite rows (a diverged run) are dropped.
    family : str, optional
        A key of :data:`FAMILY_COLORS`: sets the colour and the default label (``method=``
        is its deprecated spelling).
    marker, markevery
        Iterates get markers (``marker=None`` for a continuous path).
    start : bool
        Mark the first point with a hollow circle.

    Returns
    -------
    matplotlib.lines.Line2D
        The path (the start marker, if any, is a separate, unlabelled line).
    """
    theta = as_float_array("theta", theta, dtype=np.float64, finite=False)
    if theta.ndim != 2 or theta.shape[1] != 2:
        raise ValueError(f"`theta` must have shape (n, 2), got shape {theta.shape}")
    theta = theta[np.all(np.isfinite(theta), axis=1)]
    color, label = _style_for(family, color, label)
    kwargs.setdefault("lw", 0.9)
    kwargs.setdefault("ms", 2.2)
    (line,) = ax.plot(theta[:, 0], theta[:, 1], color=color, label=label, marker=marker,
                      markevery=markevery, **kwargs)  # fmt: skip
    if start and len(theta):
        ax.plot(theta[:1, 0], theta[:1, 1], marker="o", ms=4.5, mfc="white", mec="black", mew=0.8,
                ls="none", zorder=5)  # fmt: skip
    return line


def minimizer(ax: Axes, point: Any = (0.0, 0.0), *, size: float = 7.0, **kwargs: Any) -> Any:
    """Mark the minimiser ``point`` with a black star drawn above every path and marker.

    Returns
    -------
    matplotlib.lines.Line2D
    """
    point = as_float_array("point", point, dtype=np.float64)
    if point.shape != (2,):
        raise ValueError(f"`point` must be a point (x, y) of the plane, got shape {point.shape}")
    style: dict[str, Any] = {
        "marker": "*",
        "ms": size,
        "color": "black",
        "mec": "white",
        "mew": 0.4,
        "ls": "none",
        "zorder": 8,
    }
    style.update(kwargs)
    (line,) = ax.plot(point[:1], point[1:], **style)
    return line


@renamed_keyword("method", "family")
def loss_curve(ax: Axes, values: Any, *, k: Any=None, family: str | None = None, label: str | None = None, color: Any=None,
               predicted_rate: Any=None, anchor: int = 0, predicted_label: str | None = None,
               predicted_kw: Any=None, **kwargs: Any) -> Any:  # fmt: skip
    r"""A decaying quantity (loss, distance, error) on a log scale, with its predicted ``ρᵏ``.

    Parameters
    ----------
    values : array_like, shape (n,)
        Non-positive and non-finite values are not drawn (a log axis cannot show them).
    k : array_like, shape (n,), optional
        The abscissa (iterations or time); ``arange(n)`` when omitted.
    family : str, optional
        A key of :data:`FAMILY_COLORS`: sets the colour and the default label (``method=``
        is its deprecated spelling).
    predicted_rate : float, optional
        Also draw the prediction :math:`v_a·ρ^{k − k_a}` through the point at index
        ``anchor`` (dashed, same colour).
    anchor : int
        Index where the predicted line meets the curve.

    Returns
    -------
    dict
        ``{"line": Line2D, "predicted": Line2D or None}``.
    """
    values = as_float_array("values", values, dtype=np.float64, ndim=1, finite=False)
    k = np.arange(values.size, dtype=np.float64) if k is None else as_float_array("k", k, dtype=np.float64, ndim=1)
    if k.shape != values.shape:
        raise ValueError(f"`k` must have the shape of `values` {values.shape}, got shape {k.shape}")
    color, label = _style_for(family, color, label)
    shown = np.where(np.isfinite(values) & (values > 0), values, np.nan)
    (line,) = ax.plot(k, shown, color=color, label=label, **kwargs)
    ax.set_yscale("log")
    predicted = None
    if predicted_rate is not None:
        rho = as_real("predicted_rate", predicted_rate, lower=0.0, lower_inclusive=False)
        if not 0 <= anchor < values.size or not np.isfinite(shown[anchor]):
            raise ValueError(f"`anchor` must index a positive finite value of `values`, got {anchor}")
        ref = shown[anchor] * rho ** (k - k[anchor])
        style: dict[str, Any] = {"ls": (0, (4, 2)), "lw": 0.9, "color": line.get_color()}
        style.update(predicted_kw or {})
        (predicted,) = ax.plot(k, ref, label=predicted_label, **style)
    return {"line": line, "predicted": predicted}


# -- parameter maps --------------------------------------------------------------------------
def rate_map(ax: Axes, lr: Any, momentum: Any, radius: Any, *, vmin: float = 0.0, vmax: float = 1.0, cmap: Any="viridis",
             unstable_color: Any="0.85", colorbar: bool = True, label: Any=r"spectral radius $\rho$") -> Any:  # fmt: skip
    r"""The spectral radius over a ``(lr, momentum)`` grid; unstable cells (``ρ ≥ 1``) in grey.

    Parameters
    ----------
    lr : array_like, shape (nx,)
        Grid abscissae (the learning rate γ).
    momentum : array_like, shape (ny,)
        Grid ordinates (μ).
    radius : array_like, shape (ny, nx)
        ``radius[i, j]`` at ``(lr[j], momentum[i])``.
    colorbar : bool
        Attach a colour bar to ``ax``.

    Returns
    -------
    dict
        ``{"mesh": QuadMesh, "colorbar": Colorbar or None}``.
    """
    lr = as_float_array("lr", lr, dtype=np.float64, ndim=1)
    momentum = as_float_array("momentum", momentum, dtype=np.float64, ndim=1)
    radius = as_float_array("radius", radius, dtype=np.float64, ndim=2, finite=False)
    if radius.shape != (momentum.size, lr.size):
        raise ValueError(
            f"`radius` must have shape (len(momentum), len(lr)) = {(momentum.size, lr.size)}, got {radius.shape}"
        )
    cm = matplotlib.colormaps[cmap].with_extremes(over=unstable_color, bad=unstable_color)
    shown = np.ma.masked_invalid(np.where(radius >= 1.0, np.inf, radius))
    mesh = ax.pcolormesh(lr, momentum, np.ma.filled(shown, np.nan), cmap=cm, vmin=vmin,
                         vmax=vmax, shading="nearest", rasterized=True)  # fmt: skip
    cbar = None
    if colorbar:
        cbar = ax.figure.colorbar(mesh, ax=ax, extend="max", extendfrac=0.04, pad=0.02, aspect=25)
        cbar.set_label(label)
        cbar.outline.set_linewidth(0.4)
    return {"mesh": mesh, "colorbar": cbar}


def regime_map(ax: Axes, x: Any, y: Any, regime: Any, *, categories: Sequence[str], colors: Sequence | None = None,
               labels: Sequence[str] | None = None, legend: bool = True, alpha: float = 1.0, **legend_kw: Any) -> Any:  # fmt: skip
    """A categorical map: ``regime[i, j]`` (a string) at ``(x[j], y[i])``.

    Parameters
    ----------
    regime : array_like of str, shape (ny, nx)
        Each entry one of ``categories``.
    categories : sequence of str
        The possible values, in legend order.
    colors, labels : sequences, optional
        One per category (defaults: the extra Okabe–Ito colours; the category names).

    Returns
    -------
    dict
        ``{"mesh": QuadMesh, "legend": Legend or None, "codes": int array}``.
    """
    x = as_float_array("x", x, dtype=np.float64, ndim=1)
    y = as_float_array("y", y, dtype=np.float64, ndim=1)
    regime = np.asarray(regime)
    if regime.shape != (y.size, x.size):
        raise ValueError(f"`regime` must have shape (len(y), len(x)) = {(y.size, x.size)}, got {regime.shape}")
    categories = tuple(categories)
    colors = (
        tuple(colors) if colors is not None else (EXTRA_COLORS[1], EXTRA_COLORS[0], EXTRA_COLORS[3])[: len(categories)]
    )
    labels = tuple(labels) if labels is not None else categories
    if not (len(colors) == len(labels) == len(categories)):
        raise ValueError("`colors`, `labels` and `categories` must have the same length")
    codes = np.full(regime.shape, -1)
    for i, name in enumerate(categories):
        codes[regime == name] = i
    if np.any(codes < 0):
        unknown = sorted(set(np.unique(regime[codes < 0]).tolist()))
        raise ValueError(f"`regime` has values {unknown} not in `categories` {list(categories)}")
    cm = matplotlib.colors.ListedColormap(colors)
    mesh = ax.pcolormesh(x, y, codes, cmap=cm, vmin=-0.5, vmax=len(categories) - 0.5, shading="nearest",
                         alpha=alpha, rasterized=True)  # fmt: skip
    leg = None
    if legend:
        handles = [
            matplotlib.patches.Patch(color=c, label=lab, alpha=alpha) for c, lab in zip(colors, labels, strict=False)
        ]
        leg = ax.legend(handles=handles, **legend_kw)
    return {"mesh": mesh, "legend": leg, "codes": codes}


@renamed_keyword("method", "family")
def roots(ax: Axes, roots: Any, *, family: str | None = None, label: str | None = None, color: Any=None, unit_circle: bool = True,
          circles: Iterable[tuple[float, str]] = (), marker: Any="o", size: Any=6.0, **kwargs: Any) -> Any:  # fmt: skip
    r"""Characteristic roots in the complex plane, with the unit circle.

    Parameters
    ----------
    roots : array_like of complex
        Any shape (flattened).
    family : str, optional
        A key of :data:`FAMILY_COLORS`: sets the colour and the default label (``method=``
        is its deprecated spelling).
    unit_circle : bool
        Draw ``|z| = 1`` (the stability boundary).
    circles : iterable of (radius, label)
        Extra dashed circles, e.g. ``[(np.sqrt(mu), r"$|z|=\sqrt{\mu}$")]``.

    Returns
    -------
    matplotlib.collections.PathCollection
        The roots' scatter.
    """
    z = np.asarray(roots).astype(np.complex128).ravel()
    color, label = _style_for(family, color, label)
    theta = np.linspace(0.0, 2.0 * np.pi, 721)
    if unit_circle:
        ax.plot(np.cos(theta), np.sin(theta), color="0.25", lw=0.7, zorder=1)
    for radius, circle_label in circles:
        r = as_real("circles radius", radius, lower=0.0)
        ax.plot(
            r * np.cos(theta), r * np.sin(theta), color="0.45", lw=0.7, ls=(0, (3, 2)), label=circle_label, zorder=1
        )
    ax.axhline(0.0, color="0.8", lw=0.4, zorder=0)
    ax.axvline(0.0, color="0.8", lw=0.4, zorder=0)
    sc = ax.scatter(z.real, z.imag, s=size, color=color, label=label, marker=marker, zorder=3, linewidths=0, **kwargs)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel(r"$\mathrm{Re}\,z$")
    ax.set_ylabel(r"$\mathrm{Im}\,z$")
    return sc


def panel_label(ax: Axes, label: str, title: str = "", *, pad: float | None = None) -> Any:
    """Label a panel the catalogue's one way: ``"(a) title"`` as the left-aligned axes title.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    label : str
        The panel's letter in parentheses, e.g. ``"(a)"``.
    title : str, optional
        What the panel shows (mathtext allowed), after the letter.
    pad : float, optional
        Distance from the axes in points (default: the style's ``axes.titlepad``); raise it
        above annotations that sit just over the axes.

    Returns
    -------
    matplotlib.text.Text
        The title (regular weight, the style's title size).
    """
    return ax.set_title(f"{label} {title}".rstrip(), loc="left", pad=pad)


def panel(ax: Axes, label: str, title: str = "", *, legend: dict[str, Any] | bool = False, pad: float | None = None,
          **properties: Any) -> dict[str, Any]:  # fmt: skip
    r"""Finish a panel the catalogue's one way: its axes' properties, its legend, its letter and title.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    label, title, pad
        As for :func:`panel_label`: ``"(a)"``, what the panel shows, the title's distance.
    legend : dict or bool
        ``True`` or a dict of :meth:`Axes.legend` options (``{"loc": "lower left"}``): draw
        the legend of the labelled artists; ``False`` (the default): none.
    **properties
        Passed to :meth:`Axes.set`, in the order given: ``xlabel``, ``ylabel``, ``xscale``,
        ``yscale`` (a scale before the limits), ``xlim``, ``ylim``, ...

    Returns
    -------
    dict
        ``{"title": Text, "legend": Legend or None}``.

    Examples
    --------
    >>> from heavyball.plotting import new_figure, panel, paper_style
    >>> with paper_style():
    ...     fig, ax = new_figure()
    ...     _ = ax.plot([0, 1, 2], [1.0, 0.1, 0.01], label="loss")
    ...     out = panel(ax, "(a)", "loss", xlabel="iteration $k$", yscale="log", xlim=(0, 2), legend=True)
    >>> out["title"].get_text(), ax.get_yscale()
    ('(a) loss', 'log')
    """
    if properties:
        ax.set(**properties)
    drawn = None
    if legend is not False:
        drawn = ax.legend(**(legend if isinstance(legend, dict) else {}))
    return {"title": panel_label(ax, label, title, pad=pad), "legend": drawn}


def align_titles(fig: Any) -> Any:
    """Put the titles of panels in the same row at the same height (matplotlib >= 3.9).

    A panel with an equal aspect ratio is shorter than its neighbours, and its title would
    otherwise sit lower than theirs. With an older matplotlib this does nothing.
    """
    align = getattr(fig, "align_titles", None)
    if align is not None:
        align()
    return fig


# -- output -----------------------------------------------------------------------------------
def _check_formats(formats: Any) -> tuple[str, ...]:
    if isinstance(formats, str):
        formats = [f for f in formats.split(",") if f]
    formats = tuple(formats)
    if not formats:
        raise ValueError(f"`formats` must name at least one of {', '.join(FORMATS)}, got none")
    for fmt in formats:
        as_choice("formats", fmt, FORMATS)
    return tuple(dict.fromkeys(formats))  # drop repeats, keep order


@contextlib.contextmanager
def _quiet_font_subsetter() -> Any:
    """Silence fontTools' warnings while fonts are subset into a PDF.

    DejaVu Sans Display (mathtext's radicals and large delimiters) has a ``head`` timestamp
    before 1970, which fontTools reports with a logging warning on every save; the value is
    adjusted deterministically, so the warning says nothing useful to the user. The logger's
    level is restored afterwards.
    """
    logger = logging.getLogger("fontTools")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def save(fig: Figure, path: Any, formats: Any = ("pdf", "png")) -> list[Path]:
    """Write ``fig`` to ``path`` with each suffix in ``formats``, atomically and reproducibly.

    Each file is rendered into a temporary file in the destination directory and moved
    into place with :func:`os.replace` (:func:`heavyball._io.atomic_path`), so an error or
    Ctrl-C never leaves a partial file and never replaces a good one. Metadata are fixed
    (:data:`METADATA`: no creation date, no version string) and the style fixes the SVG
    hash salt, so PDF and SVG are byte-identical between runs, independently of
    ``SOURCE_DATE_EPOCH``; PNG files are identical on the same machine.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    path : str or Path
        Target without its suffix (any suffix given is replaced): ``figures/rate_map``.
    formats : sequence of str or str
        Subset of ``("pdf", "png", "svg")``, or a comma-separated string.

    Returns
    -------
    list of Path
        The files written, in the order of ``formats``.
    """
    formats = _check_formats(formats)
    base = Path(path)
    written = []
    with paper_style(), _quiet_font_subsetter():
        for fmt in formats:
            target = base.with_suffix(f".{fmt}") if base.suffix in {f".{f}" for f in FORMATS} else Path(f"{base}.{fmt}")
            with atomic_path(target) as tmp:
                fig.savefig(tmp, format=fmt, metadata=dict(METADATA[fmt]))
            written.append(target)
    return written
