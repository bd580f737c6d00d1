r"""Adam's two limits ``lr → 0``: scaled β (the Adam ODE) and fixed β (the sign-gradient flow).

With ``β = 1 − (a, b)·lr`` the iterates follow :class:`heavyball.AdamODE`; with ``β`` fixed they
follow :class:`heavyball.SignGradientFlow`, but only once ``lr ≪ 1 − β₂``: the second moment
averages the last ``1/(1 − β₂)`` steps, a time window ``lr/(1 − β₂)`` that must be short.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from .. import plotting
from ..adam_limits import compare_sign_flow
from ..adam_ode import AdamODE, SignGradientFlow
from ..discretization import compare, fit_order
from ..dynamics import simulate
from ..problems import Quadratic
from ._common import documented, make_of

ORDER = 190  # its place in the catalogue
CAPTION = (
    "torch's Adam on the valley f = ½(θ₁² + 0.1·θ₂²) from θ₀ = (1, 1), ε = 10⁻⁸, in two limits lr → 0 "
    "(time t = k·lr). (a) β₁ = 1 − a·lr, β₂ = 1 − b·lr (a = 1, b = 2): the iterates for lr = 0.2, 0.1, "
    "0.05 approach the Adam ODE (black). (b) β = (0.9, 0.999) fixed: for lr = 10⁻², 10⁻³ and 4·10⁻⁵ "
    "the iterates approach the sign-gradient flow θ' = −∇f/(|∇f| + ε) (black: both coordinates "
    "fall at unit speed) only once lr ≪ 1 − β₂. (c) The errors against lr: scaled β, the maximum on "
    "[0, 4] (order 1); fixed β, the error at t = 0.8 — flat while the window lr/(1 − β₂) of the second "
    "moment is as long as the run, then order 1 (for β₂ = 0.999 and 0.99); the legend gives the "
    "least-squares slopes (for fixed β, over the three smallest lr: still approaching 1)."
)

A_RATE, B_RATE, EPS = 1.0, 2.0, 1e-8
THETA0 = (1.0, 1.0)
SCALED_LR = (0.2, 0.1, 0.05)
FIXED_BETAS = (0.9, 0.999)
FIXED_LR = (1e-2, 1e-3, 4e-5)
T_SCALED, T_FIXED = 4.0, 0.8
SWEEP_SCALED = (0.04, 0.02, 0.01, 0.005, 0.0025)
SWEEP_FIXED = (1e-2, 3e-3, 1e-3, 6e-4, 2e-4, 8e-5, 4e-5, 2e-5, 1e-5, 5e-6)
SWEEP_FIXED_099 = (1e-2, 3e-3, 1e-3, 4e-4, 2e-4, 1e-4, 5e-5)


def problem() -> Quadratic:
    """The figure's valley."""
    return Quadratic(np.diag([1.0, 0.1]))


@documented
def data(*, fast: bool = False) -> dict[str, np.ndarray]:
    """Iterates, the two limits and the error sweeps (``fast``: fewer and larger lr)."""
    q = problem()
    ode = AdamODE(A_RATE, B_RATE, EPS)
    out: dict[str, np.ndarray] = {"scaled_lr": np.asarray(SCALED_LR), "fixed_lr": np.asarray(FIXED_LR)}
    t = np.linspace(0.0, T_SCALED, 201)
    out["ode_t"], out["ode_theta"] = t, simulate(ode, q, THETA0, (0.0, T_SCALED), t_eval=t).theta
    for i, lr in enumerate(SCALED_LR):
        cmp = compare(ode, q, THETA0, dt=lr, t_final=T_SCALED)
        out[f"scaled_t_{i}"], out[f"scaled_theta_{i}"] = cmp.t, cmp.theta_discrete
    t = np.linspace(0.0, T_FIXED, 81)
    out["flow_t"] = t
    out["flow_theta"] = simulate(SignGradientFlow(EPS), q, THETA0, (0.0, T_FIXED), t_eval=t).theta
    for i, lr in enumerate(FIXED_LR):
        cmp = compare_sign_flow(q, THETA0, lr=lr, t_final=T_FIXED, betas=FIXED_BETAS, eps=EPS)
        every = max(1, cmp.steps // 40)
        out[f"fixed_t_{i}"], out[f"fixed_theta_{i}"] = cmp.t[::every], cmp.theta_discrete[::every]
    sweep_fixed = (1e-2, 1e-3, 2e-4, 8e-5, 4e-5) if fast else SWEEP_FIXED
    sweep_099 = (1e-2, 1e-3, 4e-4, 2e-4, 1e-4) if fast else SWEEP_FIXED_099
    out["sweep_scaled_lr"] = np.asarray(SWEEP_SCALED)
    out["sweep_scaled_error"] = np.array(
        [compare(ode, q, THETA0, dt=lr, t_final=T_SCALED).max_error for lr in SWEEP_SCALED]
    )
    out["sweep_fixed_lr"] = np.asarray(sweep_fixed)
    out["sweep_fixed_error"] = np.array(
        [
            compare_sign_flow(q, THETA0, lr=lr, t_final=T_FIXED, betas=FIXED_BETAS, eps=EPS).final_error
            for lr in sweep_fixed
        ]
    )
    out["sweep_099_lr"] = np.asarray(sweep_099)
    out["sweep_099_error"] = np.array(
        [
            compare_sign_flow(q, THETA0, lr=lr, t_final=T_FIXED, betas=(0.9, 0.99), eps=EPS).final_error
            for lr in sweep_099
        ]
    )
    out["order_scaled"] = np.asarray(fit_order(out["sweep_scaled_lr"], out["sweep_scaled_error"]).order)
    out["order_fixed"] = np.asarray(fit_order(out["sweep_fixed_lr"][-3:], out["sweep_fixed_error"][-3:]).order)
    out["order_099"] = np.asarray(fit_order(out["sweep_099_lr"][-3:], out["sweep_099_error"][-3:]).order)
    return out


@documented
def plot(d: dict[str, np.ndarray], *, fast: bool = False) -> Figure:
    """Draw the figure from the numbers of :func:`data`."""
    colors = (plotting.family_color("adam"), *plotting.EXTRA_COLORS[:2])
    with plotting.paper_style():
        fig, axes = plotting.new_figure(plotting.DOUBLE, 2.45, ncols=3)
        ax = axes[0]
        ax.plot(d["ode_t"], d["ode_theta"][:, 0], color="black", lw=0.9, label="Adam ODE")
        for i, lr in enumerate(d["scaled_lr"]):
            every = max(1, round(float(0.2 / lr)))
            ax.plot(d[f"scaled_t_{i}"][::every], d[f"scaled_theta_{i}"][::every, 0], ls="none", marker="o", ms=2.0,
                    color=colors[i], label=f"lr = {lr:g}")  # fmt: skip
        plotting.panel(ax, "(a)", r"$\beta = 1 - (a, b)\,\mathrm{lr}$", xlabel=r"time $t = k\,\mathrm{lr}$",
                       ylabel=r"$\theta_1$", legend={"loc": "upper right"})  # fmt: skip
        ax = axes[1]
        ax.plot(d["flow_t"], d["flow_theta"][:, 0], color="black", lw=0.9, label="sign flow")
        for i, lr in enumerate(d["fixed_lr"]):
            ax.plot(d[f"fixed_t_{i}"], d[f"fixed_theta_{i}"][:, 0], ls="none", marker="o", ms=2.0, color=colors[i],
                    label=f"lr = {lr:g}")  # fmt: skip
        plotting.panel(ax, "(b)", r"$\beta = (0.9, 0.999)$ fixed", xlabel=r"time $t = k\,\mathrm{lr}$",
                       ylabel=r"$\theta_1$", legend={"loc": "upper right"})  # fmt: skip
        ax = axes[2]
        ax.loglog(d["sweep_scaled_lr"], d["sweep_scaled_error"], marker="o", ms=2.5, color=colors[0],
                  label=rf"scaled $\beta$ vs ODE (slope {float(d['order_scaled']):.2f})")  # fmt: skip
        ax.loglog(d["sweep_fixed_lr"], d["sweep_fixed_error"], marker="s", ms=2.5, color=colors[1],
                  label=rf"$\beta_2 = 0.999$ vs sign flow ({float(d['order_fixed']):.2f})")  # fmt: skip
        ax.loglog(d["sweep_099_lr"], d["sweep_099_error"], marker="^", ms=2.5, color=colors[2],
                  label=rf"$\beta_2 = 0.99$ vs sign flow ({float(d['order_099']):.2f})")  # fmt: skip
        for beta2, color in ((0.999, colors[1]), (0.99, colors[2])):
            ax.axvline(1 - beta2, color=color, lw=0.6, ls=":")
        # the lower y-limit leaves room below the data for the legend
        plotting.panel(ax, "(c)", r"errors (dotted: lr $= 1 - \beta_2$)", xlabel="lr", ylabel="error",
                       ylim=(1.5e-4, 0.6), legend={"loc": "lower left", "fontsize": 5.5})  # fmt: skip
        plotting.align_titles(fig)
    return fig


make = make_of(__name__)
