r"""Nesterov's iterates approach the Su–Boyd–Candès ODE and its Bessel solution.

Su, Boyd & Candès (2016): Nesterov's method ``x_k = y_{k−1} − s∇f(y_{k−1})``,
``y_k = x_k + (k − 1)/(k + 2)·(x_k − x_{k−1})`` follows, in the time ``t = k√s``, the ODE
``X'' + (3/t)X' + ∇f(X) = 0`` with ``X(0) = x₀``, ``X'(0) = 0``. On ``f = ½x²`` from
``x₀ = 1`` the solution is ``X(t) = 2J₁(t)/t`` (first zero at ``t = 3.8317``). The iterates
(:func:`heavyball.discretization.nesterov_iterates`) and the ODE integrated numerically
(:func:`heavyball.simulate`, via :func:`heavyball.discretization.nesterov_limit`) are drawn
against the Bessel curve; the maximal error on ``[0, 20]`` falls like ``√s``.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from .. import plotting
from ..discretization import nesterov_limit
from ..problems import Quadratic
from ._common import documented, make_of

ORDER = 120  # its place in the catalogue
CAPTION = (
    "Nesterov's method with momentum (k − 1)/(k + 2) and step s on f = ½x² from x₀ = 1, plotted at "
    "t = k√s, against the Su–Boyd–Candès ODE X'' + (3/t)X' + X = 0 (integrated numerically, black) and its "
    "closed form 2J₁(t)/t (dotted grey, on top of it). (a) The iterates for s = 0.1, 0.01 and 0.001. "
    "(b) The maximal error on [0, 20] against s: it falls like √s (the dotted guide has slope ½)."
)

T_FINAL = 20.0
S_SHOWN = (1e-1, 1e-2, 1e-3)
SHADES = ("#8FD6C1", "#009E73", "#00573F")  # light to dark: Nesterov green
MARKERS = ("s", "^", "o")


def s_values(fast: bool) -> np.ndarray:
    """The step sizes ``s`` of Nesterov's method compared with its ODE (``fast``: 3 instead of 5)."""
    return np.array([1e-1, 1e-2, 1e-3]) if fast else np.array([1e-1, 1e-2, 1e-3, 1e-4, 1e-5])


@documented
def data(*, fast: bool = False) -> dict[str, np.ndarray]:
    """Iterates and ODE solution per ``s``, the Bessel curve, and the errors (``fast``: s down to 1e-3)."""
    from scipy.special import j1

    q = Quadratic([[1.0]])
    ss = s_values(fast)
    t = np.linspace(0.0, T_FINAL, 801)
    with np.errstate(invalid="ignore", divide="ignore"):
        bessel = np.where(t > 0, 2.0 * j1(t) / np.where(t > 0, t, 1.0), 1.0)
    out = {"s": ss, "t_bessel": t, "bessel": bessel}
    max_error, ode_error = [], []
    for _i, s in enumerate(ss):
        cmp = nesterov_limit(q, np.array([1.0]), s=float(s), t_final=T_FINAL)
        tk = cmp.t
        with np.errstate(invalid="ignore", divide="ignore"):
            exact_k = np.where(tk > 0, 2.0 * j1(tk) / np.where(tk > 0, tk, 1.0), 1.0)
        max_error.append(float(np.max(np.abs(cmp.theta_discrete[:, 0] - exact_k))))
        ode_error.append(float(np.max(np.abs(cmp.theta_continuous[:, 0] - exact_k))))
        if s in S_SHOWN:
            j = S_SHOWN.index(float(s))
            out[f"t_{j}"] = tk
            out[f"x_{j}"] = cmp.theta_discrete[:, 0]
            out[f"ode_{j}"] = cmp.theta_continuous[:, 0]
    out["max_error"] = np.asarray(max_error)  # iterates against 2·J1(t)/t
    out["ode_error"] = np.asarray(ode_error)  # the numerical ODE solution against 2·J1(t)/t
    return out


@documented
def plot(d: dict[str, np.ndarray], *, fast: bool = False) -> Figure:
    """Draw the figure from the numbers of :func:`data`, in the paper style."""
    with plotting.paper_style():
        fig, (ax_a, ax_b) = plotting.new_figure(plotting.DOUBLE, 2.6, ncols=2, width_ratios=[1.6, 1.0])
        # the ODE solved numerically (finest s: the densest time grid) and its closed form
        finest = max(j for j in range(len(S_SHOWN)) if f"ode_{j}" in d)
        ax_a.plot(d[f"t_{finest}"], d[f"ode_{finest}"], color=plotting.FAMILY_COLORS["ode"], lw=1.6,
                  label=r"ODE $X'' + \frac{3}{t}X' + X = 0$")  # fmt: skip
        ax_a.plot(d["t_bessel"], d["bessel"], color="0.75", lw=0.9, ls=(0, (1, 1)), label=r"$2J_1(t)/t$")
        for j, s in enumerate(S_SHOWN):
            if f"x_{j}" not in d:
                continue
            t, x = d[f"t_{j}"], d[f"x_{j}"]
            every = max(1, round(0.5 / np.sqrt(s)))
            ax_a.plot(t, x, color=SHADES[j], lw=0.8, marker=MARKERS[j], ms=2.4, markevery=every,
                      label=f"Nesterov, $s = {s:g}$")  # fmt: skip
        ax_a.axhline(0.0, color="0.6", lw=0.5)
        ax_a.axvline(3.8317, color="0.6", lw=0.5, ls=(0, (3, 2)))
        ax_a.annotate("first zero\n$t = 3.8317$", (3.8317, 0.75), xytext=(6, 0), textcoords="offset points", fontsize=7,
                      va="center")  # fmt: skip
        plotting.panel(ax_a, "(a)", "iterates against the ODE", xlim=(0, T_FINAL), xlabel=r"time $t = k\sqrt{s}$",
                       ylabel=r"$x_k$,  $X(t)$", legend={"loc": "upper right"})  # fmt: skip

        steps = d["s"]
        ax_b.plot(steps, d["max_error"], marker="o", ms=4, color=plotting.FAMILY_COLORS["nesterov"],
                  label=r"iterates vs $2J_1(t)/t$")  # fmt: skip
        guide = d["max_error"][0] * np.sqrt(steps / steps[0]) * 2.5
        ax_b.plot(steps, guide, color="0.4", lw=0.8, ls=(0, (1, 1.5)), label=r"$\propto \sqrt{s}$")
        plotting.panel(ax_b, "(b)", "error", xscale="log", yscale="log", xlabel="step $s$",
                       ylabel=r"$\max_{t_k \leq 20} |x_k - X(t_k)|$", legend={"loc": "lower right"})  # fmt: skip
    return fig


make = make_of(__name__)
