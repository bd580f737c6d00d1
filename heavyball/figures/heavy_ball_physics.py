r"""The continuous heavy ball in the three damping regimes.

The lecture's physical model ``θ' = v``, ``m·v' = −∇f(θ) − c·v`` on the valley ``f = ½θᵀAθ``
with curvatures ``h_min = 0.2`` and ``h_max = 1``, ``m = 1``, from rest at ``θ₀ = (−2, 1)``,
solved in closed form (:func:`heavyball.exact`). Each mode is a damped oscillator,
underdamped when ``c² < 4mh`` (:func:`heavyball.damping_regime`): with ``c = 0.3`` both modes
oscillate; with ``c = 2√(m·h_min) ≈ 0.894`` the slow mode is critically damped — the fastest
uniform decay, rate ``√(h_min/m)`` — and with ``c = 4`` both are overdamped and the ball
creeps. Friction dissipates the energy ``E = ½m‖v‖² + f(θ)`` at the rate ``dE/dt = −c‖v‖²``:
E never increases, and ``E(0) − ∫₀ᵗ c‖v‖² ds`` (trapezoidal rule, dots) lies on ``E(t)``.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from .. import plotting
from ..dynamics import HeavyBallODE, damping_regime, exact
from ..problems import Quadratic
from ._common import documented, make_of

ORDER = 40  # its place in the catalogue
CAPTION = (
    "The heavy-ball ODE m·θ'' + c·θ' + ∇f(θ) = 0 (m = 1) on the valley f = ½θᵀAθ with curvatures "
    "0.2 and 1, from rest at θ₀ = (−2, 1), in closed form, for three frictions, all in the ODE's black: c = 0.3 "
    "(solid; both modes underdamped), c = 2√(m·h_min) ≈ 0.894 (dashed; the slow mode critically damped, the fast "
    "one underdamped: the fastest uniform decay) and c = 4 (dotted; both overdamped). (a) Paths on the landscape. (b) The slow "
    "coordinate θ₁(t). (c) The energy E = ½m‖v‖² + f(θ) never increases; the dots, "
    "E(0) − ∫₀ᵗ c‖v‖² ds (the initial energy minus what friction has dissipated), lie on E(t)."
)

M = 1.0
H_MIN, H_MAX = 0.2, 1.0
THETA0 = (-2.0, 1.0)
FRICTIONS = (0.3, 2.0 * np.sqrt(M * H_MIN), 4.0)
LABELS = ("underdamped", "critical (slow mode)", "overdamped")
# every curve here is the ODE: all in the ODE's black (plotting.FAMILY_COLORS["ode"]), one line
# style per regime (plotting.REGIME_LINESTYLES)
COLOR = plotting.FAMILY_COLORS["ode"]
STYLES = tuple(plotting.REGIME_LINESTYLES[r] for r in ("underdamped", "critical", "overdamped"))
T_FINAL = 30.0


def problem() -> Quadratic:
    """The quadratic the figure runs on.

    Returns
    -------
    Quadratic
    """
    return Quadratic.from_eigenvalues([H_MIN, H_MAX])


@documented
def data(*, fast: bool = False) -> dict[str, np.ndarray]:
    """Exact solutions on a time grid (``fast``: 301 times instead of 1501)."""
    from scipy.integrate import cumulative_trapezoid

    q = problem()
    t = np.linspace(0.0, T_FINAL, 301 if fast else 1501)
    c = np.asarray(FRICTIONS)
    out = {"t": t, "m": np.asarray(M), "c": c, "h": np.asarray(q.eigenvalues)}
    thetas, velocities, energies, dissipated, regimes = [], [], [], [], []
    for ci in c:
        sol = exact(HeavyBallODE(m=M, c=float(ci)), q, np.asarray(THETA0), t)
        thetas.append(sol.theta)
        velocities.append(sol.v)
        energies.append(sol.energy)
        power = ci * np.sum(sol.v * sol.v, axis=1)  # c‖v‖²: the rate at which friction removes energy
        dissipated.append(sol.energy[0] - cumulative_trapezoid(power, t, initial=0.0))
        regimes.append(np.asarray(damping_regime(M, float(ci), q.eigenvalues)))
    out["theta"] = np.stack(thetas)  # (friction, t, 2)
    out["v"] = np.stack(velocities)
    out["energy"] = np.stack(energies)  # (friction, t)
    out["energy_balance"] = np.stack(dissipated)
    out["regime"] = np.stack(regimes)  # (friction, mode): regimes of h_min and h_max
    return out


@documented
def plot(d: dict[str, np.ndarray], *, fast: bool = False) -> Figure:
    """Draw the figure from the numbers of :func:`data`, in the paper style."""
    q = problem()
    t = d["t"]
    with plotting.paper_style():
        fig, (ax_a, ax_b, ax_c) = plotting.new_figure(plotting.DOUBLE, 2.6, ncols=3, width_ratios=[1.15, 1.0, 1.0])
        plotting.contour(ax_a, q, xlim=(-2.4, 1.2), ylim=(-1.2, 1.2), levels=9)
        handles = []
        for i, c in enumerate(d["c"]):
            label = f"${c:.3g}$: {LABELS[i]}".replace("$", "$c = ", 1)
            path = plotting.trajectory(ax_a, d["theta"][i], color=COLOR, marker=None, start=(i == 0), lw=1.0,
                                       label=label)  # fmt: skip
            path.set_linestyle(STYLES[i])
            handles += ax_b.plot(t, d["theta"][i][:, 0], color=COLOR, ls=STYLES[i], lw=1.0, label=label)
            ax_c.plot(t, d["energy"][i], color=COLOR, ls=STYLES[i], lw=1.0, label=label)
            every = max(1, len(t) // 25)
            ax_c.plot(t[::every], d["energy_balance"][i][::every], ls="none", marker="o", ms=2.2, mfc="none",
                      mec="0.45", mew=0.6)  # fmt: skip
        plotting.minimizer(ax_a)
        plotting.panel(ax_a, "(a)", "path", aspect="equal", xlabel=r"$\theta_1$ ($h_{\min} = 0.2$)",
                       ylabel=r"$\theta_2$ ($h_{\max} = 1$)")  # fmt: skip

        ax_b.axhline(0.0, color="0.6", lw=0.5)
        plotting.panel(ax_b, "(b)", "slow coordinate", xlabel="time $t$", ylabel=r"$\theta_1(t)$ (slow mode)",
                       xlim=(0, t[-1]))  # fmt: skip

        ax_c.set(yscale="log", xlabel="time $t$", ylabel=r"$E = \frac{1}{2}m\|v\|^2 + f(\theta)$", xlim=(0, t[-1]),
                 ylim=(1e-6, 2))  # fmt: skip
        (balance,) = ax_c.plot([], [], ls="none", marker="o", ms=2.5, mfc="none", mec="0.45",
                               label=r"$E(0) - \int_0^t c\|v\|^2\,ds$")  # fmt: skip
        fig.legend(handles=handles + [balance], loc="outside upper center", ncols=4)
        plotting.panel_label(ax_c, "(c)", "energy")
    plotting.align_titles(fig)
    return fig


make = make_of(__name__)
