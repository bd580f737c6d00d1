r"""Which continuous limit do momentum iterates follow? It depends on how μ scales with lr.

PyTorch's ``SGD(lr, momentum=μ)`` on ``f = ½θᵀAθ`` (curvatures 0.2 and 1), from ``θ₀ = (1, 1)``,
compared by :func:`heavyball.discretization.compare_momentum`:

* **μ fixed** (Kovachki & Stuart 2021): in the time ``t = k·lr`` the iterates follow the
  *rescaled gradient flow* ``θ' = −∇f(θ)/(1 − μ)`` (:func:`heavyball.gradient_flow_limit`)
  with error ``O(lr)``, and the modified equation
  ``θ' = −∇f/(1 − μ) − lr·C(μ)∇²f∇f`` (:func:`heavyball.modified_equation`) with error
  ``O(lr²)``: momentum survives only as a larger effective step, not as inertia. The
  heavy-ball ODE with fixed ``(m, c)`` does not describe them: its error does not shrink.
* **μ = 1 − c√(lr/m)** (the ODE scaling of :func:`heavyball.to_torch`): in the time
  ``t = k√(lr·m)`` the iterates follow the heavy-ball ODE ``m·θ'' + c·θ' + ∇f = 0`` with
  error ``O(√lr)``.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure

from .. import plotting
from ..discretization import compare_momentum, gradient_flow_limit, modified_equation
from ..dynamics import HeavyBallODE
from ..problems import Quadratic
from ._common import documented, make_of

ORDER = 130  # its place in the catalogue
CAPTION = (
    "torch's SGD(lr, momentum = μ) on f = ½θᵀAθ (curvatures 0.2 and 1) from θ₀ = (1, 1), in two limits "
    "lr → 0. (a) μ = 0.9 fixed, against t = k·lr: the iterates approach the rescaled gradient flow "
    "θ' = −∇f/(1 − μ) (Kovachki & Stuart 2021), not an oscillating ball. (b) μ = 1 − c√(lr/m) with "
    "m = 1, c = 0.5, against t = k√(lr·m): the iterates approach the heavy-ball ODE "
    "m·θ'' + c·θ' + ∇f = 0. (c) Errors against lr: fixed μ against the gradient flow (order 1) and "
    "against the modified equation θ' = −∇f/(1 − μ) − lr·C(μ)∇²f∇f (order 2), both at t = 1; fixed μ "
    "against the heavy-ball ODE whose (m, c) match the largest lr (no convergence), and the ODE scaling "
    "against its heavy-ball ODE (order ½ in lr), both as the maximum over t ∈ [0, 10]."
)

H = (0.2, 1.0)
THETA0 = (1.0, 1.0)
MOMENTUM = 0.9
T_FIXED = 1.0  # in t = k·lr
M, C, T_ODE = 1.0, 0.5, 10.0  # the ODE scaling, t = k·√(lr·m)
SHOWN_FIXED = (0.04, 0.01, 0.0025)
SHOWN_ODE = (0.16, 0.04, 0.01)
SHADES = ("#A6D8F0", "#56B4E9", "#0072B2")  # light to dark: heavy-ball blue
MARKERS = ("s", "^", "o")


def problem() -> Quadratic:
    """The quadratic the figure runs on.

    Returns
    -------
    Quadratic
    """
    return Quadratic.from_eigenvalues(list(H))


def lrs(fast: bool) -> np.ndarray:
    """The learning rates of the error-against-lr panel, halving from 0.005 (``fast``: 4 instead of 7)."""
    return 0.005 / 2.0 ** np.arange(4 if fast else 7)


@documented
def data(*, fast: bool = False) -> dict[str, np.ndarray]:
    """Paths for a few ``lr`` and errors for a halving sequence (``fast``: 4 values of ``lr`` instead of 7)."""
    q = problem()
    theta0 = np.asarray(THETA0)
    flow = gradient_flow_limit(MOMENTUM)
    steps = lrs(fast)
    c_fixed = (1.0 - MOMENTUM) * math.sqrt(M / steps[0])  # (m, c) whose to_torch is (lr₀, μ)
    out = {"lr": steps, "momentum": np.asarray(MOMENTUM), "m": np.asarray(M), "c": np.asarray(C),
           "c_fixed": np.asarray(c_fixed)}  # fmt: skip
    errors: dict[str, list[float]] = {"gradient_flow": [], "modified_equation": [], "heavyball_ode_fixed": [],
                                      "heavyball_ode_scaled": []}  # fmt: skip
    for lr in steps:
        lr = float(lr)
        kw = {"lr": lr, "momentum": MOMENTUM, "t_final": T_FIXED}
        errors["gradient_flow"].append(compare_momentum(flow, q, theta0, **kw).final_error)
        errors["modified_equation"].append(
            compare_momentum(modified_equation(MOMENTUM, lr), q, theta0, **kw).final_error
        )
        errors["heavyball_ode_fixed"].append(
            compare_momentum(HeavyBallODE(M, c_fixed), q, theta0, lr=lr, momentum=MOMENTUM, t_final=T_ODE).max_error
        )
        mu = 1.0 - C * math.sqrt(lr / M)
        errors["heavyball_ode_scaled"].append(
            compare_momentum(HeavyBallODE(M, C), q, theta0, lr=lr, momentum=mu, t_final=T_ODE).max_error
        )
    for key, values in errors.items():
        out[f"error_{key}"] = np.asarray(values)
    for j, lr in enumerate(SHOWN_FIXED):
        cmp = compare_momentum(flow, q, theta0, lr=lr, momentum=MOMENTUM, t_final=T_FIXED)
        out[f"fixed_t_{j}"], out[f"fixed_theta_{j}"] = cmp.t, cmp.theta_discrete
        out[f"flow_t_{j}"], out[f"flow_theta_{j}"] = cmp.t, cmp.theta_continuous
    for j, lr in enumerate(SHOWN_ODE):
        mu = 1.0 - C * math.sqrt(lr / M)
        cmp = compare_momentum(HeavyBallODE(M, C), q, theta0, lr=lr, momentum=mu, t_final=T_ODE)
        out[f"scaled_t_{j}"], out[f"scaled_theta_{j}"] = cmp.t, cmp.theta_discrete
        out[f"ode_t_{j}"], out[f"ode_theta_{j}"] = cmp.t, cmp.theta_continuous
    return out


@documented
def plot(d: dict[str, np.ndarray], *, fast: bool = False) -> Figure:
    """Draw the figure from the numbers of :func:`data`, in the paper style."""
    black = plotting.FAMILY_COLORS["ode"]
    with plotting.paper_style():
        fig, (ax_a, ax_b, ax_c) = plotting.new_figure(plotting.DOUBLE, 3.1, ncols=3)
        last = len(SHOWN_FIXED) - 1
        for j, lr in enumerate(SHOWN_FIXED):
            ax_a.plot(d[f"fixed_t_{j}"], d[f"fixed_theta_{j}"][:, 0], color=SHADES[j], lw=0.8, marker=MARKERS[j],
                      ms=2.4, markevery=max(1, len(d[f"fixed_t_{j}"]) // 12), label=rf"$\mathrm{{lr}} = {lr:g}$")  # fmt: skip
        ax_a.plot(d[f"flow_t_{last}"], d[f"flow_theta_{last}"][:, 0], color=black, lw=1.0, ls=(0, (4, 1.5)),
                  label=r"$\theta' = -\nabla f/(1-\mu)$", zorder=4)  # fmt: skip
        plotting.panel(ax_a, "(a)", rf"$\mu = {float(d['momentum']):g}$ fixed", xlabel=r"time $t = k\cdot\mathrm{lr}$",
                       ylabel=r"$\theta_1$ ($h = 0.2$)", xlim=(0, T_FIXED), legend={"loc": "upper right"})  # fmt: skip

        for j, lr in enumerate(SHOWN_ODE):
            mu = 1.0 - C * math.sqrt(lr / M)
            ax_b.plot(d[f"scaled_t_{j}"], d[f"scaled_theta_{j}"][:, 0], color=SHADES[j], lw=0.8, marker=MARKERS[j],
                      ms=2.4, markevery=max(1, len(d[f"scaled_t_{j}"]) // 25),
                      label=rf"$\mathrm{{lr}} = {lr:g}$, $\mu = {mu:.2f}$")  # fmt: skip
        ax_b.plot(d[f"ode_t_{last}"], d[f"ode_theta_{last}"][:, 0], color=black, lw=1.0, ls=(0, (4, 1.5)),
                  label=r"$m\theta'' + c\theta' + \nabla f = 0$", zorder=4)  # fmt: skip
        ax_b.axhline(0.0, color="0.6", lw=0.5)
        plotting.panel(ax_b, "(b)", r"$\mu = 1 - c\sqrt{\mathrm{lr}/m}$", xlabel=r"time $t = k\sqrt{\mathrm{lr}\cdot m}$",
                       ylabel=r"$\theta_1$ ($h = 0.2$)", xlim=(0, T_ODE), legend={"loc": "upper right"})  # fmt: skip

        lrs = d["lr"]
        rows = [
            ("gradient_flow", r"fixed $\mu$ vs gradient flow", "o", "-"),
            ("modified_equation", r"fixed $\mu$ vs modified eq.", "s", "-"),
            ("heavyball_ode_fixed", r"fixed $\mu$ vs heavy-ball ODE", "x", (0, (1, 1))),
            ("heavyball_ode_scaled", r"$\mu = 1 - c\sqrt{\mathrm{lr}/m}$ vs heavy-ball ODE", "^", (0, (4, 1.5))),
        ]
        colors = (plotting.FAMILY_COLORS["heavyball"], plotting.FAMILY_COLORS["heavyball"], black, black)
        for (key, label, marker, ls), color in zip(rows, colors, strict=False):
            err = d[f"error_{key}"]
            slope = np.polyfit(np.log(lrs), np.log(err), 1)[0]
            # a negative slope: the error does not shrink with lr, it grows as lr → 0
            note = r"grows as $\mathrm{lr} \to 0$" if slope < 0 else f"slope {slope:.2f}"
            ax_c.plot(lrs, err, marker=marker, ms=3.5, ls=ls, lw=0.9, color=color, mfc="white" if marker == "s" else color,
                      label=f"{label} ({note})")  # fmt: skip
        plotting.panel(ax_c, "(c)", "error against lr", xscale="log", yscale="log", xlabel="learning rate lr",
                       ylabel="error")  # fmt: skip
        fig.legend(handles=ax_c.lines, loc="outside lower center", ncols=2, title="panel (c), slopes fitted in log–log",
                   title_fontsize=7, alignment="left")  # fmt: skip
    return fig


make = make_of(__name__)
