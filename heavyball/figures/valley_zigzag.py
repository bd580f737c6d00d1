r"""GD zig-zags across an elongated valley; heavy ball and Nesterov run along it.

The lecture's "geometric interpretation in elliptic valleys": on ``f = ½θᵀAθ`` with
curvatures ``h_min = 0.01`` (along the floor) and ``h_max = 1`` (across it), κ = 100, GD at its
optimal ``γ = 2/(h_min + h_max)`` (:func:`heavyball.rates.optimal_parameters`); heavy ball and
Nesterov with the modest step ``γ = 1/h_max``: heavy ball with the momentum that critically
damps the floor, ``μ = (1 − √(γh_min))² = 0.81`` (:func:`heavyball.rates.critical_momentum`,
Goh 2017), Nesterov with its textbook ``μ = (√κ − 1)/(√κ + 1)``; all run as
``torch.optim.SGD``. (Polyak's optimum ``(400/121, 81/121)`` converges faster still but
overshoots across the valley: see ``rate_map`` and ``predicted_vs_measured``.) The across-valley
coordinate flips sign at every GD step (factor ``1 − γh_max = −0.98``); momentum damps it
within a few steps and keeps the gradient's coherent component along the floor.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from .. import plotting
from ..iterate import iterate
from ..optimizers import SGD
from ..problems import Quadratic
from ..rates import Tuned, critical_momentum, critical_rate, optimal_parameters
from ._common import DISTANCE, ITERATION, documented, make_of, tuning_text

ORDER = 20  # its place in the catalogue
CAPTION = (
    "An elongated valley f = ½θᵀAθ with curvatures 0.01 along the floor and 1 across it (κ = 100), "
    "from θ₀ = (−10, 1), 150 steps. (a) Gradient descent at its optimal γ = 2/(h_min + h_max) zig-zags "
    "across the valley; with the smaller step γ = 1/h_max, heavy ball (μ = (1 − √(γh_min))² = 0.81, "
    "critically damped along the floor) and Nesterov (μ = (√κ − 1)/(√κ + 1) = 9/11) run along it "
    "and need about five times fewer steps (rate 0.9 against 0.98 per step). (b) The across-valley coordinate θ₂ "
    "over the same 150 steps: the legend counts the steps at which it changes sign while still larger than 1% of its "
    "initial value. "
    "(c) Distance to the minimiser (heavy ball and Nesterov share the rate 0.9 and nearly coincide)."
)

KAPPA = 100.0
THETA0 = (-10.0, 1.0)
STEPS = 150
METHODS = ("gd", "heavyball", "nesterov")
#: a sign change counts while |θ₂| is above this fraction of |θ₂(0)| (below, it is invisible)
VISIBLE = 0.01


def problem() -> Quadratic:
    """The quadratic the figure runs on.

    Returns
    -------
    Quadratic
    """
    return Quadratic.valley(kappa=KAPPA, h_max=1.0, angle=0.0)


def tunings(q: Quadratic) -> dict:
    """GD's optimum, heavy ball critically damped along the floor at γ = 1/h_max, Nesterov's textbook tuning,
    for the spectrum of ``q`` (family -> :class:`~heavyball.rates.Tuned`).
        By method: ``"gd"``, ``"heavyball"``, ``"nesterov"``.
    """
    lr = 1.0 / q.h_max
    heavyball = Tuned(lr, float(critical_momentum(q.h_min, lr)), float(critical_rate(q.h_min, lr)))
    return {
        "gd": optimal_parameters(q.h_min, q.h_max, "gd"),
        "heavyball": heavyball,
        "nesterov": optimal_parameters(q.h_min, q.h_max, "nesterov"),
    }


def crossings(across: np.ndarray, visible: float = VISIBLE) -> int:
    """Sign changes of ``across[k]`` between consecutive steps where both are visible.

    Parameters
    ----------
    across : ndarray
        The across-valley coordinate, one value per step.
    visible : float, optional
        A value counts when larger than this fraction of ``|across[0]|``.

    Returns
    -------
    int
    """
    big = np.abs(across) > visible * abs(across[0])
    flips = np.sign(across[1:]) != np.sign(across[:-1])
    return int(np.count_nonzero(flips & big[1:] & big[:-1]))


@documented
def data(*, fast: bool = False) -> dict[str, np.ndarray]:
    """Iterates of GD, heavy ball and Nesterov (``fast`` changes nothing: it is cheap)."""
    q = problem()
    tuned = tunings(q)
    out = {"k": np.arange(STEPS + 1)}
    for m in METHODS:
        t = tuned[m]
        opt = SGD(lr=float(t.lr), momentum=float(t.momentum), nesterov=(m == "nesterov"))
        tr = iterate(opt, q, np.asarray(THETA0), STEPS)
        theta = np.asarray(tr.theta)
        out[f"{m}_lr"] = np.asarray(float(t.lr))
        out[f"{m}_momentum"] = np.asarray(float(t.momentum))
        out[f"{m}_theta"] = theta
        out[f"{m}_distance"] = np.asarray(tr.distance)
        out[f"{m}_crossings"] = np.asarray(crossings(theta[:, 1]))
    return out


def _count(n: int) -> str:
    return f"{n} sign change" + ("" if n == 1 else "s")


def _legend(d: dict[str, np.ndarray], m: str) -> str:
    momentum = None if m == "gd" else float(d[f"{m}_momentum"])
    return f"{plotting.family_label(m)} ({tuning_text(float(d[f'{m}_lr']), momentum, '.3g')})"


@documented
def plot(d: dict[str, np.ndarray], *, fast: bool = False) -> Figure:
    """Draw the figure from the numbers of :func:`data`, in the paper style."""
    q = problem()
    with plotting.paper_style():
        fig = Figure(figsize=(plotting.DOUBLE, 3.6), layout="constrained")
        grid = fig.add_gridspec(2, 2, height_ratios=[1.0, 1.0], width_ratios=[1.0, 1.0])
        ax = fig.add_subplot(grid[0, :])
        plotting.contour(ax, q, xlim=(-11.0, 1.0), ylim=(-1.4, 1.4), levels=8)
        for m in METHODS:
            plotting.trajectory(ax, d[f"{m}_theta"], family=m, label=_legend(d, m), ms=1.6, lw=0.8,
                                start=(m == METHODS[-1]))  # fmt: skip
        plotting.minimizer(ax)
        right_of_title = {"loc": "lower right", "ncols": 3, "bbox_to_anchor": (1.0, 1.0), "borderaxespad": 0.2}
        plotting.panel(ax, "(a)", "paths", xlabel=r"$\theta_1$ (along the floor, $h_{\min} = 0.01$)",
                       ylabel=r"$\theta_2$ (across, $h_{\max} = 1$)", legend=right_of_title)  # fmt: skip

        ax = fig.add_subplot(grid[1, 0])
        k = d["k"]
        for m in METHODS:  # every step that the legend counts over
            ax.plot(k, d[f"{m}_theta"][:, 1], color=plotting.family_color(m), lw=0.6,
                    marker="o", ms=1.0, label=f"{plotting.family_label(m)}: {_count(int(d[f'{m}_crossings']))}")  # fmt: skip
        ax.axhline(0.0, color="0.6", lw=0.5)
        plotting.panel(ax, "(b)", "across the valley", xlabel=ITERATION, ylabel=r"$\theta_2$ (across the valley)",
                       xlim=(0, k[-1]), ylim=(-1.1, 1.1), legend={"loc": "upper right", "ncols": 1})  # fmt: skip

        ax = fig.add_subplot(grid[1, 1])
        for m, ls in zip(METHODS, ("-", "-", (0, (4, 2))), strict=False):
            plotting.loss_curve(ax, d[f"{m}_distance"], k=k, family=m, ls=ls)
        plotting.panel(ax, "(c)", "distance to the minimiser", xlabel=ITERATION, ylabel=DISTANCE, xlim=(0, k[-1]),
                       ylim=(1e-7, 30), legend={"loc": "lower left"})  # fmt: skip
    return fig


make = make_of(__name__)
