r"""GD, heavy ball, Nesterov and Adam on the Rosenbrock function.

The lecture's "How do we find the minimum of this function?": Rosenbrock's banana
``f(x, y) = (1 − x)² + 100(y − x²)²`` (Rosenbrock 1960), from the classic start
``(−1.2, 1)``. The valley is narrow (curvature ≈ 10³ across it) and curved, so a stable
learning rate (``γ = 10⁻³``) leaves gradient descent crawling along the floor; momentum
(``μ = 0.9``, torch's SGD, plain and Nesterov) carries speed along it; Adam's per-coordinate
steps make progress at a fixed step size ``γ = 0.05``.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from .. import plotting
from ..iterate import iterate
from ..optimizers import SGD, Adam
from ..problems import Rosenbrock
from ._common import ITERATION, LOSS, documented, make_of, tuning_text

ORDER = 140  # its place in the catalogue
CAPTION = (
    "Rosenbrock's function f(x, y) = (1 − x)² + 100(y − x²)² from (−1.2, 1), 2000 steps, run as "
    "torch.optim does: gradient descent (γ = 10⁻³, the largest round learning rate that is stable at "
    "the start), heavy ball and Nesterov (γ = 10⁻³, μ = 0.9) and Adam (γ = 0.05, β = (0.9, 0.999)). "
    "(a) Paths over the contours of f (small markers every 100 steps); the star is the minimiser (1, 1), "
    "where heavy ball, Nesterov and Adam end; the large dot is GD's last iterate, still well short of it. "
    "(b) f(θ_k) − f* on a log scale."
)

THETA0 = (-1.2, 1.0)
STEPS = 2000
METHODS = ("gd", "heavyball", "nesterov", "adam")
#: a last iterate farther than this from the minimiser gets a large marker (closer ones would hide the star)
SHORT_OF_MINIMIZER = 0.02


def optimizers() -> dict:
    """The four optimisers of the figure, by method name.

    Returns
    -------
    dict of str to optimiser
    """
    return {
        "gd": SGD(lr=1e-3),
        "heavyball": SGD(lr=1e-3, momentum=0.9),
        "nesterov": SGD(lr=1e-3, momentum=0.9, nesterov=True),
        "adam": Adam(lr=0.05),
    }


@documented
def data(*, fast: bool = False) -> dict[str, np.ndarray]:
    """Paths, losses and distances for the four methods (``fast``: 600 steps)."""
    steps = 600 if fast else STEPS
    f = Rosenbrock()
    out = {"k": np.arange(steps + 1), "theta0": np.asarray(THETA0), "minimizer": np.asarray(f.minimizer)}
    for m, opt in optimizers().items():
        tr = iterate(opt, f, np.asarray(THETA0), steps)
        out[f"{m}_theta"] = np.asarray(tr.theta)
        out[f"{m}_loss"] = np.asarray(tr.loss)
        out[f"{m}_distance"] = np.asarray(tr.distance)
    return out


def _label(m: str) -> str:
    opt = optimizers()[m]
    momentum = None if m in ("adam", "gd") else opt.momentum
    return f"{plotting.family_label(m)} ({tuning_text(opt.lr, momentum)})"


@documented
def plot(d: dict[str, np.ndarray], *, fast: bool = False) -> Figure:
    """Draw the figure from the numbers of :func:`data`, in the paper style."""
    f = Rosenbrock()
    with plotting.paper_style():
        fig, (ax_a, ax_b) = plotting.new_figure(plotting.DOUBLE, 2.9, ncols=2, width_ratios=[1.2, 1.0])
        plotting.contour(ax_a, f, xlim=(-1.6, 1.6), ylim=(-0.6, 1.6), levels=np.geomspace(0.02, 400, 12))
        for m, marker in zip(METHODS, ("o", "s", "^", "D"), strict=False):
            theta = d[f"{m}_theta"]
            plotting.trajectory(ax_a, theta, family=m, label=_label(m), marker=marker, markevery=100,
                                ms=2.2, lw=0.9, start=(m == METHODS[-1]))  # fmt: skip
            if np.linalg.norm(theta[-1] - d["minimizer"]) > SHORT_OF_MINIMIZER:  # a run that stopped short
                ax_a.plot(*theta[-1], marker=marker, ms=5.5, color=plotting.family_color(m), mec="black", mew=0.6,
                          ls="none", zorder=7)  # fmt: skip
        plotting.minimizer(ax_a, d["minimizer"], size=8.0)
        plotting.panel(ax_a, "(a)", "paths", xlabel="$x$", ylabel="$y$", legend={"loc": "lower right"})
        for m in METHODS:
            plotting.loss_curve(ax_b, d[f"{m}_loss"], k=d["k"], family=m)
        plotting.panel(ax_b, "(b)", "loss", xlabel=ITERATION, ylabel=LOSS, xlim=(0, d["k"][-1]), ylim=(1e-10, 1e2),
                       legend={"loc": "lower left"})  # fmt: skip
    return fig


make = make_of(__name__)
