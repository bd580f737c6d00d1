r"""Adam's iterates against the Adam ODE for three step sizes.

torch's Adam with ``lr = s``, ``β₁ = 1 − a·s``, ``β₂ = 1 − b·s`` follows, in the time
``t = k·s``, the ODE ``θ' = −m̂/(√v̂ + ε)``, ``m̂' = a(∇f − m̂)/(1 − e^{−at})``,
``v̂' = b(∇f² − v̂)/(1 − e^{−bt})`` (:class:`heavyball.AdamODE`); the error is first order in ``s``.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from .. import plotting
from ..adam_ode import AdamODE
from ..discretization import compare
from ..dynamics import simulate
from ..problems import Quadratic
from ._common import documented, make_of

ORDER = 180  # its place in the catalogue
CAPTION = (
    "torch's Adam with lr = s, β₁ = 1 − a·s, β₂ = 1 − b·s (a = 1, b = 2, ε = 10⁻⁸) on the valley "
    "with curvatures 0.1 and 1 rotated by 30° from θ₀ = (−1.5, 0.5), for s = 0.2, 0.1 and 0.05, plotted at t = k·s, against "
    "the Adam ODE θ' = −m̂/(√v̂ + ε), m̂' = a(∇f − m̂)/(1 − e^{−at}), v̂' = b(∇f² − v̂)/(1 − e^{−bt}) "
    "(black; solved with DOP853 at rtol 10⁻¹⁰ from its series start). (a) Paths. (b) The coordinates "
    "against time: both start at unit speed (the first step is −s·sign ∇f). (c) The error "
    "‖θ_k − θ(ks)‖: it halves with s (order 1)."
)

A_RATE, B_RATE, EPS = 1.0, 2.0, 1e-8
THETA0 = (-1.5, 0.5)
STEPS_S = (0.2, 0.1, 0.05)
T_FINAL = 8.0
XLIM, YLIM = (-1.7, 0.9), (-0.9, 1.0)


ANGLE = np.pi / 6


def problem() -> Quadratic:
    """The figure's valley."""
    return Quadratic.valley(kappa=10.0, h_max=1.0, angle=ANGLE)


def ode() -> AdamODE:
    """The Adam ODE with the figure's ``a``, ``b`` and ``ε``."""
    return AdamODE(A_RATE, B_RATE, EPS)


@documented
def data(*, fast: bool = False) -> dict[str, np.ndarray]:
    """The iterates and errors for each ``s``, and the ODE on a fine grid (``fast``: ``t ≤ 4``)."""
    t_final = 4.0 if fast else T_FINAL
    q, sys = problem(), ode()
    out: dict[str, np.ndarray] = {"s": np.asarray(STEPS_S), "theta0": np.asarray(THETA0)}
    t = np.linspace(0.0, t_final, 401)
    sol = simulate(sys, q, THETA0, (0.0, t_final), t_eval=t)
    out["ode_t"], out["ode_theta"] = t, sol.theta
    for i, s in enumerate(STEPS_S):
        cmp = compare(sys, q, THETA0, dt=s, t_final=t_final)
        out[f"t_{i}"], out[f"theta_{i}"], out[f"error_{i}"] = cmp.t, cmp.theta_discrete, cmp.error
        out[f"max_error_{i}"] = np.asarray(cmp.max_error)
    return out


@documented
def plot(d: dict[str, np.ndarray], *, fast: bool = False) -> Figure:
    """Draw the figure from the numbers of :func:`data`."""
    colors = (plotting.family_color("adam"), *plotting.EXTRA_COLORS[:2])
    with plotting.paper_style():
        fig, axes = plotting.new_figure(plotting.DOUBLE, 2.45, ncols=3, gridspec_kw={"width_ratios": [1.0, 1.25, 1.25]})
        ax = axes[0]
        plotting.contour(ax, problem(), xlim=XLIM, ylim=YLIM, levels=8)
        for i, s in enumerate(d["s"]):
            plotting.trajectory(ax, d[f"theta_{i}"], color=colors[i], ms=1.6, lw=0.7, start=False,
                                markevery=max(1, round(float(0.2 / s))), label=f"s = {s:g}")  # fmt: skip
        plotting.trajectory(ax, d["ode_theta"], family="ode", marker=None, lw=0.9, label="Adam ODE")
        plotting.minimizer(ax)
        plotting.panel(ax, "(a)", "paths", xlabel=r"$\theta_1$", ylabel=r"$\theta_2$",
                       legend={"loc": "lower left", "fontsize": 6})  # fmt: skip
        ax = axes[1]
        for j, ls in enumerate(("-", "--")):
            ax.plot(d["ode_t"], d["ode_theta"][:, j], color="black", lw=0.9, ls=ls,
                    label=rf"ODE $\theta_{j + 1}$")  # fmt: skip
            for i, s in enumerate(d["s"]):
                every = max(1, round(float(0.4 / s)))
                ax.plot(d[f"t_{i}"][::every], d[f"theta_{i}"][::every, j], ls="none", marker="os"[j], ms=2.0,
                        color=colors[i])  # fmt: skip
        plotting.panel(ax, "(b)", "coordinates", xlabel=r"time $t = k\,s$",
                       ylabel=r"$\theta_1$ (solid), $\theta_2$ (dashed)", legend={"loc": "upper right"})  # fmt: skip
        ax = axes[2]
        for i, s in enumerate(d["s"]):
            err = d[f"error_{i}"]
            keep = err > 0
            ax.semilogy(d[f"t_{i}"][keep], err[keep], color=colors[i], lw=0.9,
                        label=f"s = {s:g}: max {float(d[f'max_error_{i}']):.2g}")  # fmt: skip
        plotting.panel(ax, "(c)", "error: halves with s", xlabel=r"time $t$", ylabel=r"$\|\theta_k - \theta(ks)\|$",
                       legend={"loc": "lower right"})  # fmt: skip
        plotting.align_titles(fig)
    return fig


make = make_of(__name__)
