r"""One step of momentum against one step of Nesterov, drawn as vectors.

The lecture's figure (a)/(b) and its look-ahead slide: from the same point ``θ_t`` with the
same velocity ``v_t``, heavy ball takes the gradient where it stands,
``v_{t+1} = μv_t − η∇f(θ_t)``, while Nesterov first looks ahead along the momentum,
``y_t = θ_t + μv_t``, and takes the gradient there, ``v_{t+1} = μv_t − η∇f(y_t)``; both then
move ``θ_{t+1} = θ_t + v_{t+1}``. Heading across a valley, the look-ahead gradient already
points back, so Nesterov overshoots less. The steps are computed by
:class:`heavyball.HeavyBall` and :class:`heavyball.NesterovLookahead` (``Δt = 1``).
"""

from __future__ import annotations

from typing import cast

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.text import Annotation

from .. import plotting
from ..optimizers import HeavyBall, HeavyBallState, NesterovLookahead
from ..problems import Quadratic
from ._common import documented, make_of

ORDER = 100  # its place in the catalogue
CAPTION = (
    "One step from the same point θ_t with the same velocity v_t on the valley f = ½θᵀAθ "
    "(curvatures 0.1 and 1), μ = 0.9, η = 0.5. (a) Heavy ball: the momentum μv_t plus the gradient "
    "step −η∇f(θ_t) taken where the ball stands. (b) Nesterov: first the look-ahead point "
    "y_t = θ_t + μv_t, then the gradient step −η∇f(y_t) taken there. Heading across the valley, the "
    "look-ahead gradient already points back, so Nesterov's step θ_{t+1} − θ_t overshoots the "
    "valley floor (θ₂ = 0) less. Dots mark where each method evaluates the gradient."
)

THETA = (-3.0, -0.3)
VELOCITY = (0.3, 0.9)
MU = 0.9
ETA = 0.5
#: blank space at the figure's sides, in inches
RIGHT_MARGIN_IN = 0.08


def problem() -> Quadratic:
    """The quadratic the figure runs on.

    Returns
    -------
    Quadratic
    """
    return Quadratic.valley(kappa=10.0, h_max=1.0, angle=0.0)


def _one_step(
    opt: HeavyBall | NesterovLookahead, q: Quadratic, theta: np.ndarray, velocity: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    state = cast(HeavyBallState, opt.init(theta))._replace(v=np.array(velocity, dtype=np.float64))
    point = np.asarray(opt.grad_point(theta, state))
    new_theta, new_state = opt.step(theta, q.grad(point), state)
    return point, np.asarray(new_theta), np.asarray(cast(HeavyBallState, new_state).v)


@documented
def data(*, fast: bool = False) -> dict[str, np.ndarray]:
    """The two steps (``fast`` changes nothing)."""
    q = problem()
    theta = np.asarray(THETA, dtype=np.float64)
    v = np.asarray(VELOCITY, dtype=np.float64)
    out = {"theta": theta, "velocity": v, "mu": np.asarray(MU), "eta": np.asarray(ETA), "momentum_step": MU * v}
    for key, opt in (("heavyball", HeavyBall(eta=ETA, mu=MU)), ("nesterov", NesterovLookahead(eta=ETA, mu=MU))):
        point, new_theta, new_v = _one_step(opt, q, theta, v)
        out[f"{key}_grad_point"] = point
        out[f"{key}_grad_step"] = -ETA * q.grad(point)
        out[f"{key}_theta_next"] = new_theta
        out[f"{key}_v_next"] = new_v
    return out


def _arrow(ax: Axes, start: np.ndarray, end: np.ndarray, color: str, *, lw: float = 1.2,
           ls: str | tuple[float, tuple[float, ...]] = "-", zorder: float = 4) -> Annotation:  # fmt: skip
    return ax.annotate("", xy=tuple(end), xytext=tuple(start), zorder=zorder,
                       arrowprops={"arrowstyle": "-|>", "color": color, "lw": lw, "ls": ls,
                                   "shrinkA": 0, "shrinkB": 0, "mutation_scale": 8})  # fmt: skip


@documented
def plot(d: dict[str, np.ndarray], *, fast: bool = False) -> Figure:
    """Draw the figure from the numbers of :func:`data`, in the paper style."""
    q = problem()
    grey = "0.35"
    theta, mstep = d["theta"], d["momentum_step"]
    with plotting.paper_style():
        fig = Figure(figsize=(5.6, 3.0), layout="constrained")
        # the contours run to the right end of the x-axis: a margin as wide as the other figures' tick overhang
        engine = fig.get_layout_engine()
        assert isinstance(engine, ConstrainedLayoutEngine)
        engine.set(w_pad=RIGHT_MARGIN_IN)
        axes = fig.subplots(1, 2)
        for ax, key, title, label in zip(axes, ("heavyball", "nesterov"), ("momentum (heavy ball)", "Nesterov (look-ahead)"),
                                         (r"$-\eta\nabla f(\theta_t)$", r"$-\eta\nabla f(y_t)$"), strict=False):  # fmt: skip
            color = plotting.family_color(key)
            plotting.contour(ax, q, xlim=(-3.45, -2.05), ylim=(-0.5, 0.9), levels=12)
            ax.axhline(0.0, color="0.75", lw=0.6, ls=(0, (4, 2)), zorder=0)
            ax.text(-2.1, 0.03, "valley floor", ha="right", va="bottom", fontsize=7, color="0.5")
            tip = theta + mstep
            point, gstep, new = d[f"{key}_grad_point"], d[f"{key}_grad_step"], d[f"{key}_theta_next"]
            _arrow(ax, theta, tip, grey)
            ax.text(*(theta + 0.5 * mstep + np.array([-0.06, 0.05])), r"$\mu v_t$", ha="right", color=grey)
            _arrow(ax, tip, tip + gstep, color, ls=(0, (3, 1.5)))
            if key == "heavyball":
                ax.text(*(tip + np.array([-0.03, 0.05])), label, ha="right", va="bottom", color=color)
            else:
                ax.text(*(tip + 0.5 * gstep + np.array([0.04, 0.03])), label, ha="left", va="bottom", color=color)
            _arrow(ax, theta, new, color, lw=1.6)
            ax.text(*(new + np.array([0.03, -0.04])), r"$\theta_{t+1}$", ha="left", va="top", color=color)
            ax.plot(*point, marker="o", ms=3.5, color=color, zorder=7, ls="none")
            ax.plot(*theta, marker="o", ms=5, mfc="white", mec="black", zorder=6, ls="none")
            ax.text(*(theta + np.array([0.04, -0.08])), r"$\theta_t$", ha="left", va="top")
            if key == "nesterov":
                ax.text(*(tip + np.array([-0.06, 0.0])), r"$y_t$", ha="right", va="center", color=color)
            plotting.panel_label(ax, "(a)" if key == "heavyball" else "(b)", title)
            ax.set_xlabel(r"$\theta_1$")
            ax.set_aspect("equal")
        axes[0].set_ylabel(r"$\theta_2$")
    return fig


make = make_of(__name__)
