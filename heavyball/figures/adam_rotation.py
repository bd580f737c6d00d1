r"""Adam against heavy ball on the same valley, axis-aligned and rotated by 45°.

The lecture's "Adam in practice": Adam's step is adaptive *per coordinate*,
``θ ← θ − γ m̂/(√v̂ + ε)``, so it depends on the axes. On a valley whose axes are the
coordinate axes, the per-coordinate normalisation equalises the two curvatures (a diagonal
preconditioner that happens to be the right one); rotate the same valley by 45° and the
normalisation mixes the steep and the flat directions. Heavy ball is equivariant under
rotations: its path on the rotated valley is exactly the rotated path.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from .. import plotting
from ..iterate import iterate
from ..optimizers import SGD, Adam
from ..problems import Quadratic
from ..rates import critical_momentum
from ._common import DISTANCE, ITERATION, documented, make_of

ORDER = 110  # its place in the catalogue
CAPTION = (
    "The same valley (curvatures 0.02 and 1, κ = 50) with its axes along the coordinate axes (a) and "
    "rotated by 45° (b), from the same starting point relative to the valley, θ₀ = (−5, 1) in its own "
    "axes, 250 steps; both panels are drawn in the valley's own axes (along / across its floor). "
    "Adam (γ = 0.1, β = (0.9, 0.999), torch's defaults otherwise) normalises each coordinate of its "
    "step, which suits the axis-aligned valley but not the rotated one: there its path is smoother but much slower. "
    "The numbered dots mark Adam's iterates k = 25, 50 and 100: at k = 50 it is 0.90 from the minimiser "
    "on the axis-aligned valley and 3.6 on the rotated one. Heavy ball (SGD with γ = 1, "
    "μ = (1 − √(γh_min))² ≈ 0.74) is rotation-equivariant: its two paths are rotations of each "
    "other, so they coincide here. (c) Distance to the minimiser: the two heavy-ball curves coincide; Adam's do not."
)

KAPPA = 50.0
ANGLES = (0.0, np.pi / 4)
THETA0_VALLEY = (-5.0, 1.0)
ADAM_LR = 0.1
STEPS = 250
#: Adam's iterates marked (with their k) on both paths, to show its pace
MARKED = (25, 50, 100)


def rotation(angle: float) -> np.ndarray:
    """The rotation matrix by ``angle`` radians (counter-clockwise).

    Parameters
    ----------
    angle : float

    Returns
    -------
    ndarray, shape (2, 2)
    """
    return np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])


def problems() -> list[Quadratic]:
    """The valleys the figure runs on: axis-aligned, then rotated by 45°.

    Returns
    -------
    list of Quadratic
    """
    return [Quadratic.valley(kappa=KAPPA, h_max=1.0, angle=a) for a in ANGLES]


def heavyball_optimizer(q: Quadratic) -> SGD:
    """Heavy ball at ``γ = 1/h_max``, critically damped along the valley floor of ``q`` (torch's SGD)."""
    lr = 1.0 / q.h_max
    return SGD(lr=lr, momentum=float(critical_momentum(q.h_min, lr)))


@documented
def data(*, fast: bool = False) -> dict[str, np.ndarray]:
    """Paths and distances of Adam and heavy ball on both valleys (``fast``: 120 steps)."""
    steps = 120 if fast else STEPS
    out = {"angle": np.asarray(ANGLES), "k": np.arange(steps + 1), "adam_lr": np.asarray(ADAM_LR)}
    for i, q in enumerate(problems()):
        theta0 = rotation(ANGLES[i]) @ np.asarray(THETA0_VALLEY)
        out[f"theta0_{i}"] = theta0
        hb = heavyball_optimizer(q)
        out["heavyball_lr"], out["heavyball_momentum"] = np.asarray(float(hb.lr)), np.asarray(float(hb.momentum))
        for key, opt in (("adam", Adam(lr=ADAM_LR)), ("heavyball", hb)):
            tr = iterate(opt, q, theta0, steps)
            out[f"{key}_theta_{i}"] = np.asarray(tr.theta)
            out[f"{key}_distance_{i}"] = np.asarray(tr.distance)
    return out


@documented
def plot(d: dict[str, np.ndarray], *, fast: bool = False) -> Figure:
    """Draw the figure from the numbers of :func:`data`, in the paper style."""
    valley = Quadratic.valley(kappa=KAPPA, h_max=1.0, angle=0.0)  # both panels in the valley's own axes
    with plotting.paper_style():
        fig = Figure(figsize=(plotting.DOUBLE, 3.1), layout="constrained")
        grid = fig.add_gridspec(2, 2, width_ratios=[1.45, 1.0])
        titles = (("(a)", "valley along the coordinate axes"), ("(b)", "valley rotated by 45°, drawn in its own axes"))
        for i in range(2):
            ax = fig.add_subplot(grid[i, 0])
            back = rotation(ANGLES[i]).T  # coordinates along / across the valley
            plotting.contour(ax, valley, xlim=(-5.6, 1.0), ylim=(-1.5, 1.5), levels=8)
            hb_label = (rf"heavy ball ($\gamma = {float(d['heavyball_lr']):g}$, "
                        rf"$\mu = {float(d['heavyball_momentum']):.2f}$)")  # fmt: skip
            plotting.trajectory(ax, d[f"heavyball_theta_{i}"] @ back.T, family="heavyball", ms=1.2, lw=0.8,
                                start=False, label=hb_label)  # fmt: skip
            adam_path = d[f"adam_theta_{i}"] @ back.T
            plotting.trajectory(ax, adam_path, family="adam", ms=1.2, lw=0.8,
                                label=rf"Adam ($\gamma = {float(d['adam_lr']):g}$)")  # fmt: skip
            for k in (k for k in MARKED if k < len(adam_path)):  # Adam's pace: where it is at k = 25, 50, 100
                ax.plot(*adam_path[k], marker="o", ms=4.5, mfc=plotting.family_color("adam"), mec="black", mew=0.6,
                        ls="none", zorder=6)  # fmt: skip
                ax.annotate(f"{k}", adam_path[k], xytext=(0, -7), textcoords="offset points", ha="center", va="top",
                            fontsize=6.5, color="black", zorder=7)  # fmt: skip
            plotting.minimizer(ax)
            ax.set_ylabel("across")
            plotting.panel_label(ax, *titles[i])
            if i == 0:
                ax.tick_params(labelbottom=False)
                ax.legend(loc="upper right", ncols=1)
            else:
                ax.set_xlabel("along the valley floor")
        ax = fig.add_subplot(grid[:, 1])
        for i, ls in enumerate(("-", (0, (3, 1.5)))):
            which = ("axis-aligned", "rotated")[i]
            plotting.loss_curve(ax, d[f"heavyball_distance_{i}"], k=d["k"], family="heavyball", ls=ls,
                                label=f"heavy ball, {which}")  # fmt: skip
            plotting.loss_curve(ax, d[f"adam_distance_{i}"], k=d["k"], family="adam", ls=ls, label=f"Adam, {which}")
        plotting.panel(ax, "(c)", "distance to the minimiser", xlabel=ITERATION, ylabel=DISTANCE,
                       xlim=(0, d["k"][-1]), ylim=(1e-8, 20), legend={"loc": "lower left"})  # fmt: skip
    return fig


make = make_of(__name__)
