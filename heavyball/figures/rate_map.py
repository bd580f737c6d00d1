r"""The spectral radius over (learning rate, momentum) for a κ = 100 valley.

On ``f = ½θᵀAθ`` with curvatures ``h ∈ {0.01, 1}`` every linear method is a 2×2 recurrence
per curvature; its rate is the spectral radius :func:`heavyball.rates.spectral_radius`,
the largest root modulus over both curvatures. Over the ``(γ, μ)`` plane the map shows the
stability boundary (``ρ = 1``: ``γh_max = 2(1 + μ)`` for heavy ball), the curves where the
roots of ``h_min`` and of ``h_max`` turn complex (:func:`heavyball.rates.root_regime`; in the
region between them both modes oscillate and ``ρ = √μ``), Polyak's optimum
``(400/121, 81/121)`` with rate ``9/11``, GD's optimum ``(2/(h_min + h_max), 0)`` with rate
``99/101``, and — on Nesterov's own map — its textbook tuning ``(1/h_max, 9/11)`` and the
quadratic-optimal one of Lessard, Recht & Packard (2016).
"""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .. import plotting
from ..rates import optimal_parameters, root_regime, spectral_radius
from ._common import documented, make_of

ORDER = 70  # its place in the catalogue
CAPTION = (
    "Spectral radius ρ (the asymptotic rate: error ~ ρᵏ) over the learning rate γ and the momentum μ "
    "for the valley with curvatures 0.01 and 1 (κ = 100), from the eigenvalues; grey: unstable "
    "(ρ ≥ 1), thin white lines: ρ = 0.85 (in (a) only: Nesterov's best here is 0.885), 0.9 (in (b) the "
    "unlabelled sliver between its two tunings), 0.95, 0.99. (a) Heavy ball: the dashed curves are where the "
    "roots turn complex, for h_min above the upper curve and for h_max inside the parabola; where both are "
    "complex ρ = √μ; Polyak's optimum "
    "(γ, μ) = (400/121, 81/121) gives ρ = 9/11 ≈ 0.818, GD's optimum γ = 2/1.01 on the μ = 0 axis "
    "gives 99/101 ≈ 0.980. (b) Nesterov: the textbook tuning (1/h_max, 9/11) gives 0.9 and the "
    "quadratic-optimal one of Lessard, Recht & Packard (2016) gives 1 − 2/√301 ≈ 0.885."
)

H_MIN, H_MAX = 0.01, 1.0
LR_MAX = 4.4
LEVELS = (0.85, 0.9, 0.95, 0.99)
#: where "both modes complex: ρ = √μ" is written (white on the map): between the contours
#: ρ = 0.9 (μ = 0.81) and ρ = 0.95 (μ = 0.9025) of that region, on none of them
COMPLEX_TEXT_AT = (2.35, 0.857)
# where the contour labels go (each label sits on the contour nearest to its point): on straight
# stretches, clear of the dashed regime curves, the annotations and the frame
LABEL_AT = {
    "heavyball": ((0.5, 0.5), (2.3, 0.52), (1.9, 0.81), (3.05, 0.7225)),
    "nesterov": ((0.5, 0.5), (0.62, 0.85)),
}


def grid(fast: bool) -> tuple[np.ndarray, np.ndarray]:
    """The learning-rate and momentum axes of the maps.

    Parameters
    ----------
    fast : bool
        A 160×120 grid instead of 900×700.

    Returns
    -------
    lr, momentum : ndarray
    """
    n_lr, n_mu = (160, 120) if fast else (900, 700)
    lr = np.linspace(LR_MAX / n_lr, LR_MAX, n_lr)
    momentum = np.linspace(0.0, 0.995, n_mu)
    return lr, momentum


@documented
def data(*, fast: bool = False) -> dict[str, np.ndarray]:
    """Rate maps, regime maps and tunings (``fast``: a 160×120 grid instead of 900×700)."""
    lr, momentum = grid(fast)
    LR, MU = lr[None, :], momentum[:, None]
    spectrum = np.array([H_MIN, H_MAX])
    out = {"lr": lr, "momentum": momentum, "h": spectrum}
    for method in ("heavyball", "nesterov"):
        out[f"{method}_radius"] = np.asarray(spectral_radius(spectrum, lr=LR, momentum=MU, family=method))
    for name, h in (("h_min", H_MIN), ("h_max", H_MAX)):
        out[f"heavyball_complex_{name}"] = (
            np.asarray(root_regime(h, lr=LR, momentum=MU, family="heavyball")) == "complex"
        )
    for tuning in ("gd", "heavyball", "nesterov", "nesterov-quadratic"):
        t = optimal_parameters(H_MIN, H_MAX, tuning)
        key = tuning.replace("-", "_")
        out[f"{key}_lr"], out[f"{key}_momentum"], out[f"{key}_rate"] = (np.asarray(float(x)) for x in t)
    return out


def _marker(ax: Axes, d: dict[str, np.ndarray], key: str, marker: str, text: str, offset: tuple[float, float],
            color: str = "white") -> None:  # fmt: skip
    x, y, rate = float(d[f"{key}_lr"]), float(d[f"{key}_momentum"]), float(d[f"{key}_rate"])
    ax.plot(x, y, marker=marker, ms=6, mfc=color, mec="black", mew=0.7, ls="none", zorder=6, clip_on=False)
    ax.annotate(f"{text}\n$\\rho = {rate:.3f}$", (x, y), xytext=offset, textcoords="offset points", fontsize=7,
                ha="center", va="center", zorder=7,
                bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.85},
                arrowprops={"arrowstyle": "-", "lw": 0.5, "color": "black"})  # fmt: skip


@documented
def plot(d: dict[str, np.ndarray], *, fast: bool = False) -> Figure:
    """Draw the figure from the numbers of :func:`data`, in the paper style."""
    lr, momentum = d["lr"], d["momentum"]
    with plotting.paper_style():
        fig, axes = plotting.new_figure(plotting.DOUBLE, 3.0, ncols=2, sharey=True)
        for ax, method in zip(axes, ("heavyball", "nesterov"), strict=False):
            radius = d[f"{method}_radius"]
            out = plotting.rate_map(ax, lr, momentum, radius, vmin=0.8, vmax=1.0, colorbar=(method == "nesterov"))
            cs = ax.contour(lr, momentum, radius, levels=list(LEVELS), colors="white", linewidths=0.45)
            ax.clabel(cs, fmt="%.2f", fontsize=6, inline_spacing=2, manual=LABEL_AT[method])
            ax.contour(lr, momentum, radius, levels=[1.0], colors="black", linewidths=0.9)
            ax.set_xlabel(r"learning rate $\gamma$")
            ax.set_xlim(0, lr[-1])
            ax.set_ylim(0, 1)
            if out["colorbar"] is not None:
                out["colorbar"].set_label(r"spectral radius $\rho$ (grey: $\rho \geq 1$)")
        ax = axes[0]
        stable = d["heavyball_radius"] < 1.0
        for name in ("h_min", "h_max"):  # where the roots of each curvature turn complex (stable region only)
            field = np.where(stable, d[f"heavyball_complex_{name}"].astype(float), np.nan)
            ax.contour(lr, momentum, field, levels=[0.5], colors="0.1", linewidths=0.7, linestyles=[(0, (3, 1.5))])
        ax.text(4.3, 0.15, "unstable\n" + r"$\gamma h_{\max} > 2(1+\mu)$", fontsize=7, ha="right", va="bottom")
        ax.text(
            *COMPLEX_TEXT_AT,
            "both modes complex: " + r"$\rho = \sqrt{\mu}$",
            fontsize=6.5,
            color="white",
            ha="center",
            va="center",
        )
        ax.annotate(r"$h_{\min}$ complex" + "\nabove this curve", xy=(0.7, 0.84), xytext=(0.62, 0.6), fontsize=6.5,
                    ha="left", va="top", arrowprops={"arrowstyle": "-", "lw": 0.5, "color": "black"})  # fmt: skip
        ax.text(0.6, 0.3, r"$h_{\max}$ complex inside", fontsize=6.5, ha="left", va="center")
        _marker(ax, d, "heavyball", "*", "Polyak", (30, -44))
        _marker(ax, d, "gd", "o", "GD", (34, 20))
        ax.set_ylabel(r"momentum $\mu$")
        plotting.panel_label(ax, "(a)", "heavy ball")
        ax = axes[1]
        _marker(ax, d, "nesterov", "^", r"textbook", (-34, -34))
        _marker(ax, d, "nesterov_quadratic", "D", "Lessard et al.", (48, 8))
        _marker(ax, d, "gd", "o", "GD", (-26, 16))
        plotting.panel_label(ax, "(b)", "Nesterov")
    return fig


make = make_of(__name__)
