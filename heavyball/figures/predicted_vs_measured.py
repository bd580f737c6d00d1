r"""Distance to the minimiser against iteration, with the eigenvalue-predicted rates.

On a κ = 100 valley (curvatures 0.01 and 1, rotated by 30°), each linear method at its
tuning: GD at ``2/(h_min + h_max)`` (predicted ``ρ = 99/101``), heavy ball at Polyak's optimum
(``9/11``), Nesterov at its textbook tuning (``0.9``), all run as ``torch.optim.SGD``. The
prediction is :func:`heavyball.rates.spectral_radius`; the measurement is
:func:`heavyball.rates.predicted_vs_measured` (a least-squares fit of ``log‖θ_k − θ*‖`` on the
window it reports). Polyak's and Nesterov's tunings have a double root at the slowest
curvature, where the error decays like ``k·ρᵏ``: the fit divides by ``k`` (multiplicity 2)
and the predicted curve drawn is ``C·k·ρᵏ``. Adam is shown for comparison: it is not a
linear iteration and has no such prediction.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from .. import plotting
from ..iterate import iterate
from ..optimizers import Adam
from ..problems import Quadratic
from ..rates import predicted_vs_measured
from ._common import DISTANCE, ITERATION, documented, make_of, tuned_sgd

ORDER = 90  # its place in the catalogue
CAPTION = (
    "Distance to the minimiser ‖θ_k − θ*‖ on the valley with curvatures 0.01 and 1 (κ = 100, "
    "rotated by 30°), from θ₀ = (1, 1), with the decay predicted by the eigenvalues (broad translucent "
    "curves, drawn through the start of the fitted window; ticks mark the window): GD at γ = 2/1.01 (ρ = 99/101), heavy ball "
    "at Polyak's (400/121, 81/121) (ρ = 9/11) and Nesterov at (1, 9/11) (ρ = 0.9); for the last two the "
    "slowest mode has a double root and decays like k·ρᵏ, which the predicted curves include. The legend "
    "(below the plot) gives predicted and fitted ρ; they agree to better than 1% in the exponent. Adam (γ = 0.05) is not a "
    "linear iteration and has no predicted rate."
)

ANGLE = np.pi / 6
THETA0 = (1.0, 1.0)
STEPS = 400
ADAM_LR = 0.05
LINEAR = ("gd", "heavyball", "nesterov")


def problem() -> Quadratic:
    """The quadratic the figure runs on.

    Returns
    -------
    Quadratic
    """
    return Quadratic.valley(kappa=100.0, h_max=1.0, angle=ANGLE)


@documented
def data(*, fast: bool = False) -> dict[str, np.ndarray]:
    """Distances, predicted and fitted rates, fit windows and predicted curves (``fast`` is the same)."""
    q = problem()
    theta0 = np.asarray(THETA0)
    k = np.arange(STEPS + 1)
    out = {"k": k}
    for m in LINEAR:
        opt = tuned_sgd(m, q)
        distance = np.asarray(iterate(opt, q, theta0, STEPS).distance)
        cmp = predicted_vs_measured(opt, q, theta0, STEPS)
        start, stop = int(cmp.fit.start), int(cmp.fit.stop)
        rho, mult = float(np.asarray(cmp.predicted)), int(np.asarray(cmp.multiplicity))
        # the predicted decay C·k^(p−1)·ρᵏ through the distance at the start of the fitted window
        shape = np.maximum(k, 1.0) ** (mult - 1) * rho**k
        out[f"{m}_distance"] = distance
        out[f"{m}_predicted_rate"] = np.asarray(rho)
        out[f"{m}_measured_rate"] = np.asarray(cmp.measured, dtype=np.float64)
        out[f"{m}_exponent_error"] = np.asarray(cmp.exponent_error, dtype=np.float64)
        out[f"{m}_multiplicity"] = np.asarray(mult)
        out[f"{m}_window"] = np.array([start, stop])
        out[f"{m}_predicted_curve"] = distance[start] * shape / shape[start]
    out["adam_distance"] = np.asarray(iterate(Adam(lr=ADAM_LR), q, theta0, STEPS).distance)
    return out


@documented
def plot(d: dict[str, np.ndarray], *, fast: bool = False) -> Figure:
    """Draw the figure from the numbers of :func:`data`, in the paper style."""
    k = d["k"]
    with plotting.paper_style():  # the opening every single-panel figure shares; what it draws is its own
        fig, ax = plotting.new_figure(plotting.SINGLE, 3.7)
        for m in LINEAR:
            pred, meas = float(d[f"{m}_predicted_rate"]), float(d[f"{m}_measured_rate"])
            color = plotting.family_color(m)
            ax.plot(k, d[f"{m}_predicted_curve"], color=color, lw=3.5, alpha=0.3, solid_capstyle="butt", zorder=1)
            ax.plot(k, d[f"{m}_distance"], color=color, lw=0.9, zorder=3,
                    label=rf"{plotting.family_label(m)}: $\rho = {pred:.4f}$ predicted, ${meas:.4f}$ fitted")  # fmt: skip
            start, stop = (int(x) for x in d[f"{m}_window"])
            for j in (start, stop - 1):
                ax.plot([k[j]], [d[f"{m}_distance"][j]], marker="|", ms=7, mew=1.0, color=color, ls="none")
        ax.plot(k, d["adam_distance"], color=plotting.family_color("adam"),
                label=rf"Adam ($\gamma = {ADAM_LR:g}$): no linear rate")  # fmt: skip
        ax.plot([], [], color="0.3", lw=3.5, alpha=0.3, label=r"predicted $C\,k^{p-1}\rho^k$ (eigenvalues)")
        ax.set(yscale="log", xlim=(0, k[-1]), ylim=(1e-14, 10), xlabel=ITERATION, ylabel=DISTANCE)
        fig.legend(loc="outside lower center", fontsize=6.5, ncols=1)  # below the axes: it hides no curve
    return fig


make = make_of(__name__)
