r"""Gradient descent on a valley with a learning rate too small, good, oscillating, divergent.

The lecture's "Gradient Descent – Learning Rate" slide, on the rotated valley
``f = ½θᵀAθ`` with curvatures ``h = 0.1`` and ``1`` (κ = 10). Along an eigendirection of
curvature ``h`` one GD step multiplies the error by ``1 − γh``: ``γ = 0.15`` crawls
(``|1 − γh| ≤ 0.985``), ``γ = 1/h_max = 1`` removes the steep component in one step,
``γ = 1.8`` flips it at every step (``1 − γh_max = −0.8``) and ``γ = 2.1 > 2/h_max`` makes it
grow (``−1.1``).
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from .. import plotting
from ..iterate import iterate
from ..optimizers import SGD
from ..problems import Quadratic
from ._common import ITERATION, LOSS, documented, make_of

ORDER = 10  # its place in the catalogue
CAPTION = (
    "Gradient descent θ ← θ − γ∇f(θ) on the valley f = ½θᵀAθ with curvatures 0.1 and 1 (κ = 10), "
    "rotated by 15° (the gentle floor direction, curvature 0.1, at 15° to the θ₁ axis: the tilted contours), "
    "from θ₀ = (−2.5, −0.35), 25 steps, for four learning rates, (a)–(d): γ = 0.15 is too small (slow, monotone), "
    "γ = 1 = 1/h_max is good (the steep direction is solved in one step), γ = 1.8 oscillates across "
    "the valley (factor 1 − γh_max = −0.8 per step) and γ = 2.1 > 2/h_max diverges (drawn until it "
    "leaves the frame). The oscillating γ = 1.8 is close to GD's fastest rate, γ = 2/(h_min + h_max) ≈ 1.82: "
    "on a valley the best gradient descent already zig-zags. "
    "(e) f(θ_k) − f* on a log scale."
)

KAPPA = 10.0
ANGLE = np.deg2rad(15.0)
THETA0 = (-2.5, -0.35)
LRS = (0.15, 1.0, 1.8, 2.1)
REGIMES = ("too small", "good", "oscillating", "divergent")
STEPS = 25


def problem() -> Quadratic:
    """The quadratic the figure runs on.

    Returns
    -------
    Quadratic
    """
    return Quadratic.valley(kappa=KAPPA, h_max=1.0, angle=ANGLE)


@documented
def data(*, fast: bool = False) -> dict[str, np.ndarray]:
    """GD iterates and losses for each learning rate (``fast`` changes nothing: it is cheap)."""
    q = problem()
    lr = np.asarray(LRS)
    tr = iterate(SGD(lr=lr[:, None]), q, np.asarray(THETA0), STEPS)
    theta = np.moveaxis(np.asarray(tr.theta), 0, 1)  # (lr, k, 2)
    loss = np.asarray(tr.loss).T  # (lr, k)
    return {
        "lr": lr,
        "regime": np.asarray(REGIMES),
        "k": np.arange(STEPS + 1),
        "theta": theta,
        "loss": loss,
        "status": np.asarray(tr.status),
        "angle_deg": np.asarray(np.rad2deg(ANGLE)),
    }


def _until_outside(theta: np.ndarray, xlim: tuple[float, float], ylim: tuple[float, float]) -> np.ndarray:
    """The path up to and including its first point outside the frame (a diverging path)."""
    outside = (theta[:, 0] < xlim[0]) | (theta[:, 0] > xlim[1]) | (theta[:, 1] < ylim[0]) | (theta[:, 1] > ylim[1])
    first = np.flatnonzero(outside)
    return theta if first.size == 0 else theta[: first[0] + 1]


@documented
def plot(d: dict[str, np.ndarray], *, fast: bool = False) -> Figure:
    """Draw the figure from the numbers of :func:`data`, in the paper style."""
    q = problem()
    with plotting.paper_style():
        fig = Figure(figsize=(plotting.DOUBLE, 3.5), layout="constrained")
        grid = fig.add_gridspec(2, 4, height_ratios=[1.15, 1.0])
        color = plotting.FAMILY_COLORS["gd"]
        xlim, ylim = (-3.0, 1.2), (-1.6, 1.6)
        for i, (lr, regime) in enumerate(zip(d["lr"], d["regime"], strict=False)):
            ax = fig.add_subplot(grid[0, i])
            plotting.contour(ax, q, xlim=xlim, ylim=ylim, levels=9)
            theta = d["theta"][i]
            plotting.trajectory(ax, _until_outside(theta, xlim, ylim), color=color)
            plotting.minimizer(ax)
            ax.set_xlabel(r"$\theta_1$")
            if i == 0:
                ax.set_ylabel(r"$\theta_2$")
            else:
                ax.tick_params(labelleft=False)
            ax.set_aspect("equal")
            plotting.panel_label(ax, f"({'abcd'[i]})", rf"$\gamma = {lr:g}$: {regime}")
        ax = fig.add_subplot(grid[1, :])
        styles = [(0, (1, 1.5)), "-", (0, (4, 1.5)), (0, (6, 1.5, 1, 1.5))]
        markers = ["o", "s", "^", "v"]
        for i, (lr, regime) in enumerate(zip(d["lr"], d["regime"], strict=False)):
            plotting.loss_curve(ax, d["loss"][i], k=d["k"], color=color, ls=styles[i], marker=markers[i], ms=2.5,
                                label=rf"$\gamma = {lr:g}$ ({regime})")  # fmt: skip
        plotting.panel(ax, "(e)", "loss", xlabel=ITERATION, ylabel=LOSS, ylim=(1e-7, 30), xlim=(0, d["k"][-1]),
                       legend={"ncols": 2, "loc": "lower left", "title": "gradient descent"})  # fmt: skip
    return fig


make = make_of(__name__)
