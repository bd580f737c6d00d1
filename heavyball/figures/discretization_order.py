r"""Global error against the time step on log–log axes, for each discretisation scheme.

``m·θ'' + c·θ' + hθ = 0`` with ``m = 1``, ``c = 0.5``, ``h = 4`` from ``θ₀ = 1`` at rest on
``[0, 10]``, the global error ``max_k |θ_k − θ(kΔt)|`` against the closed form, for
``Δt = 0.1 … 0.003125`` (:func:`heavyball.convergence_order`), for the three velocity-form
schemes of :func:`heavyball.discretize`: semi-implicit (symplectic) Euler
``μ = 1 − cΔt/m``, ``η = Δt/m``; implicit friction (Qian 1999) ``μ = m/(m + cΔt)``,
``η = Δt/(m + cΔt)``; exponential friction (França et al. 2020) ``μ = e^{−cΔt/m}``,
``η = Δt/m``. All are first order: the fitted slopes are ≈ 1 and halving ``Δt`` halves the
error.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from .. import plotting
from ..discretization import SCHEMES, convergence_order
from ..dynamics import HeavyBallODE
from ..problems import Quadratic
from ._common import documented, make_of

ORDER = 60  # its place in the catalogue
CAPTION = (
    "Global error max_k |θ_k − θ(kΔt)| on [0, 10] against the time step Δt for the heavy-ball ODE "
    "θ'' + 0.5·θ' + 4θ = 0 (m = 1, c = 0.5, h = 4, θ₀ = 1 at rest), for the three velocity-form schemes "
    "v ← μv − η∇f(θ), θ ← θ + Δt·v: semi-implicit Euler (μ = 1 − cΔt/m, η = Δt/m), implicit friction "
    "(Qian 1999: μ = m/(m + cΔt), η = Δt/(m + cΔt)) and exponential friction (França et al. 2020: "
    "μ = e^(−cΔt/m), η = Δt/m). The legend gives the least-squares slopes: all three schemes are first "
    "order (the dotted guide has slope 1)."
)

M, C, H = 1.0, 0.5, 4.0
THETA0 = (1.0,)
T_FINAL = 10.0
LABELS = {"semi-implicit": "semi-implicit Euler", "implicit-friction": "implicit friction (Qian)",
          "exponential": "exponential friction (França)"}  # fmt: skip
MARKERS = {"semi-implicit": "o", "implicit-friction": "s", "exponential": "^"}
SHADES = {"semi-implicit": "#0072B2", "implicit-friction": "#56B4E9", "exponential": "#E69F00"}


def dts(fast: bool) -> np.ndarray:
    """The time steps of the order plot, halving from 0.1 (``fast``: 4 instead of 6)."""
    return 0.1 / 2.0 ** np.arange(4 if fast else 6)


@documented
def data(*, fast: bool = False) -> dict[str, np.ndarray]:
    """Errors and fitted orders per scheme (``fast``: 4 step sizes instead of 6)."""
    q = Quadratic([[H]])
    ode = HeavyBallODE(m=M, c=C)
    steps = dts(fast)
    out = {"dt": steps, "schemes": np.asarray(SCHEMES)}
    for scheme in SCHEMES:
        fit = convergence_order(ode, q, np.asarray(THETA0), T_FINAL, steps, scheme=scheme, full_output=True)
        key = scheme.replace("-", "_")
        out[f"{key}_errors"] = np.asarray(fit.errors)
        out[f"{key}_order"] = np.asarray(fit.order)
        out[f"{key}_constant"] = np.asarray(fit.constant)
        out[f"{key}_ratios"] = np.asarray(fit.ratios)
    return out


@documented
def plot(d: dict[str, np.ndarray], *, fast: bool = False) -> Figure:
    """Draw the figure from the numbers of :func:`data`, in the paper style."""
    dt = d["dt"]
    with plotting.paper_style():  # the opening every single-panel figure shares; what it draws is its own
        fig, ax = plotting.new_figure(plotting.SINGLE, 2.7)
        for scheme in SCHEMES:
            key = scheme.replace("-", "_")
            errors, order, const = d[f"{key}_errors"], float(d[f"{key}_order"]), float(d[f"{key}_constant"])
            hollow = scheme == "exponential"  # nearly on top of semi-implicit Euler: drawn hollow
            ax.plot(dt, errors, ls="none", marker=MARKERS[scheme], ms=3.5 if hollow else 5, color=SHADES[scheme],
                    mfc="white" if hollow else SHADES[scheme], mew=0.9, zorder=4 if hollow else 3,
                    label=f"{LABELS[scheme]}: slope {order:.3f}")  # fmt: skip
            ax.plot(dt, const * dt**order, color=SHADES[scheme], lw=0.8)
        guide = d["semi_implicit_errors"][0] * 3.0 * dt / dt[0]
        ax.plot(dt, guide, color="0.4", lw=0.8, ls=(0, (1, 1.5)), label=r"slope 1: error $\propto \Delta t$")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(r"time step $\Delta t$")
        ax.set_ylabel(r"global error $\max_k |\theta_k - \theta(k\Delta t)|$")
        ax.legend(loc="lower right", fontsize=6.5)
    return fig


make = make_of(__name__)
