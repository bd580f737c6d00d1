r"""Adam beside its heavy ball: with ``v̂`` settled, Adam is ``(lr/(1 − β₁))·θ'' + θ' + P∇f = 0``.

Adam is started with a settled second moment ``v̂`` (its bias corrections 1) and at rest; the
heavy ball of mass ``lr/(1 − β₁)``, unit friction and force ``P∇f``, ``P = 1/(√v̂ + ε)``
(:func:`heavyball.adam_heavy_ball`) is solved exactly. The gap grows with the drift of ``v̂``,
whose rate is ``b = (1 − β₂)/lr``; as ``β₂ → 1`` it falls to the ``O(lr)`` of the discretisation.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from .. import plotting
from ..adam_limits import adam_heavy_ball, compare_heavy_ball
from ..problems import Quadratic
from ._common import documented, make_of

ORDER = 200  # its place in the catalogue
CAPTION = (
    "Adam as a heavy ball with friction on the valley with curvatures 0.1 and 1 rotated by 30°, from "
    "θ₀ = (−1.5, 0.5) at rest, with the second moment settled at v̂ = ∇f(θ₀)² (ε = 10⁻⁸, lr = 10⁻³, "
    "β₁ = 0.99), against the heavy ball (lr/(1 − β₁))·θ'' + θ' + P∇f(θ) = 0, P = diag(1/(√v̂ + ε)): "
    "mass 0.1, unit friction, β₁ in the place of the momentum μ = 1 − cΔt/m (closed form in "
    "φ = P^(−1/2)θ, black). (a) Paths for β₂ = 0.999 and 0.99999. (b) The gap ‖θ_k − θ(k·lr)‖ for "
    "β₂ = 0.99 … 0.999999. (c) Its maximum on [0, 3] against b = (1 − β₂)/lr, the rate at which v̂ "
    "drifts: proportional to b (dotted: slope 1) until the O(lr) of the discretisation (dashed: the "
    "gap at β₂ = 0.999999 for lr = 10⁻³)."
)

ANGLE = np.pi / 6
THETA0 = (-1.5, 0.5)
LR, BETA1, EPS = 1e-3, 0.99, 1e-8
BETA2S = (0.99, 0.999, 0.9999, 0.99999, 0.999999)
PATH_BETA2S = (0.999, 0.99999)
T_FINAL = 3.0


def problem() -> Quadratic:
    """The figure's valley."""
    return Quadratic.valley(kappa=10.0, h_max=1.0, angle=ANGLE)


def v_settled() -> np.ndarray:
    """The settled second moment ``v̂ = ∇f(θ₀)²``."""
    return problem().grad(np.asarray(THETA0)) ** 2


@documented
def data(*, fast: bool = False) -> dict[str, np.ndarray]:
    """Adam for each β₂, the heavy ball, and the gaps (``fast``: t ≤ 1.5, three β₂)."""
    t_final = 1.5 if fast else T_FINAL
    beta2s = BETA2S[1::2] if fast else BETA2S
    q, v_hat = problem(), v_settled()
    form = adam_heavy_ball(LR, (BETA1, 0.999), EPS, v_hat=v_hat)
    out: dict[str, np.ndarray] = {
        "beta2": np.asarray(beta2s),
        "b": (1.0 - np.asarray(beta2s)) / LR,
        "mass": np.asarray(form.mass),
        "preconditioner": form.preconditioner,
        "v_hat": v_hat,
    }
    for i, beta2 in enumerate(beta2s):
        cmp = compare_heavy_ball(q, THETA0, lr=LR, betas=(BETA1, beta2), v_hat=v_hat, t_final=t_final, eps=EPS)
        every = max(1, cmp.steps // 300)
        out[f"t_{i}"], out[f"gap_{i}"] = cmp.t[::every], cmp.error[::every]
        out[f"theta_{i}"] = cmp.theta_discrete[::every]
        out["heavy_ball_theta"] = cmp.theta_continuous[::every]
        out["heavy_ball_t"] = cmp.t[::every]
    out["max_gap"] = np.array([np.max(out[f"gap_{i}"]) for i in range(len(beta2s))])
    return out


@documented
def plot(d: dict[str, np.ndarray], *, fast: bool = False) -> Figure:
    """Draw the figure from the numbers of :func:`data`."""
    colors = (plotting.family_color("adam"), "#E69F00", "#56B4E9", "#999999", "#555555")
    with plotting.paper_style():
        fig, axes = plotting.new_figure(plotting.DOUBLE, 2.45, ncols=3, gridspec_kw={"width_ratios": [1.0, 1.2, 1.1]})
        ax = axes[0]
        plotting.contour(ax, problem(), xlim=(-1.65, 0.25), ylim=(-0.6, 0.65), levels=10)
        shown = [i for i, b2 in enumerate(d["beta2"]) if float(b2) in PATH_BETA2S] or [0]
        for j, i in enumerate(shown):
            plotting.trajectory(ax, d[f"theta_{i}"], color=colors[j], marker=None, lw=1.6 - 0.7 * j, start=j == 0,
                                label=rf"Adam, $\beta_2 = {float(d['beta2'][i]):g}$")  # fmt: skip
        plotting.trajectory(ax, d["heavy_ball_theta"], family="ode", marker=None, lw=0.7, ls="--", start=False,
                            label=f"heavy ball, m = {float(d['mass']):g}")  # fmt: skip
        plotting.minimizer(ax)
        plotting.panel(ax, "(a)", "paths", xlabel=r"$\theta_1$", ylabel=r"$\theta_2$",
                       legend={"loc": "lower right", "fontsize": 5.5})  # fmt: skip
        ax = axes[1]
        for i, beta2 in enumerate(d["beta2"]):
            gap = d[f"gap_{i}"]
            keep = gap > 0
            ax.semilogy(d[f"t_{i}"][keep], gap[keep], color=colors[i % len(colors)], lw=0.9,
                        label=rf"$\beta_2 = {float(beta2):g}$")  # fmt: skip
        plotting.panel(ax, "(b)", "Adam minus heavy ball", xlabel=r"time $t = k\,\mathrm{lr}$",
                       ylabel=r"gap $\|\theta_k - \theta(k\,\mathrm{lr})\|$", ylim=(3e-6, 3.0),
                       legend={"loc": "lower right", "ncols": 2, "fontsize": 5.5})  # fmt: skip
        ax = axes[2]
        b, gap = d["b"], d["max_gap"]
        ax.loglog(b, gap, marker="o", ms=3, color=colors[0], label="max gap")
        ax.loglog(b, gap[0] * b / b[0], ls=":", color="0.4", lw=0.8, label="slope 1")
        ax.axhline(float(gap[-1]), ls="--", color="0.4", lw=0.8, label="O(lr) floor")
        plotting.panel(ax, "(c)", "the gap against b", xlabel=r"$b = (1 - \beta_2)/\mathrm{lr}$", ylabel="max gap",
                       legend={"loc": "upper left"})  # fmt: skip
        plotting.align_titles(fig)
    return fig


make = make_of(__name__)
