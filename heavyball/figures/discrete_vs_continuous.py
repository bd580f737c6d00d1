r"""The heavy-ball ODE next to its discretisation for several time steps.

``m·θ'' + c·θ' + ∇f(θ) = 0`` with ``m = 1``, ``c = 0.5`` on the valley with curvatures
``0.25`` and ``1``, from rest at ``θ₀ = (−2, 1)``, solved in closed form, against semi-implicit
Euler — :class:`heavyball.HeavyBall` with ``(μ, η) = discretize(m, c, Δt)``, i.e.
``μ = 1 − cΔt/m``, ``η = Δt/m``, or ``torch.optim.SGD(lr = Δt²/m, momentum = μ)`` — at the
times ``t_k = kΔt`` (:func:`heavyball.compare`). The iterates follow the ball; the error
divided by ``Δt`` settles to one curve as ``Δt`` shrinks (first order).
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from .. import plotting
from ..discretization import compare
from ..dynamics import HeavyBallODE, exact
from ..problems import Quadratic
from ._common import documented, make_of

ORDER = 50  # its place in the catalogue
CAPTION = (
    "The heavy-ball ODE θ'' + 0.5·θ' + ∇f(θ) = 0 (m = 1, c = 0.5) on the valley with curvatures 0.25 "
    "and 1, from rest at θ₀ = (−2, 1), in closed form (black), and its semi-implicit Euler "
    "discretisation v ← μv − η∇f(θ), θ ← θ + Δt·v with μ = 1 − cΔt/m and η = Δt/m (torch: "
    "lr = Δt²/m) for Δt = 1.2, 0.6 and 0.2, plotted at t_k = kΔt (markers: every iterate of the two coarse runs). (a) In the plane. (b) The slow "
    "coordinate against time. (c) The error divided by the step, ‖θ_k − θ(t_k)‖/Δt: for Δt = 0.6 and 0.2 the "
    "scaled curves nearly coincide (largest values 0.62 and 0.59: the error is first order, about 0.6·Δt at most); "
    "Δt = 1.2 is not yet in that regime (0.84 at first, then below the others: the coarse scheme's extra damping "
    "also damps its error)."
)

M, C = 1.0, 0.5
H = (0.25, 1.0)
THETA0 = (-2.0, 1.0)
DTS = (1.2, 0.6, 0.2)
T_FINAL = 20.0
MARKERS = ("s", "^", None)
STYLES = ((0, (4, 1.5)), (0, (1.5, 1)), "-")
SHADES = ("#56B4E9", "#0072B2", "#0072B2")  # coarse runs lighter; the method colour is heavy ball blue


def problem() -> Quadratic:
    """The quadratic the figure runs on.

    Returns
    -------
    Quadratic
    """
    return Quadratic.from_eigenvalues(list(H))


@documented
def data(*, fast: bool = False) -> dict[str, np.ndarray]:
    """The comparisons for each ``Δt`` and a dense ODE curve (``fast``: a coarser dense curve)."""
    q = problem()
    ode = HeavyBallODE(m=M, c=C)
    t_dense = np.linspace(0.0, T_FINAL, 401 if fast else 2001)
    out = {"m": np.asarray(M), "c": np.asarray(C), "dt": np.asarray(DTS), "t_dense": t_dense,
           "theta_dense": exact(ode, q, np.asarray(THETA0), t_dense).theta}  # fmt: skip
    mus, etas, max_errors = [], [], []
    for i, dt in enumerate(DTS):
        cmp = compare(ode, q, np.asarray(THETA0), dt=dt, t_final=T_FINAL)
        out[f"t_{i}"] = cmp.t
        out[f"theta_discrete_{i}"] = cmp.theta_discrete
        out[f"theta_continuous_{i}"] = cmp.theta_continuous
        out[f"error_{i}"] = cmp.error
        mus.append(cmp.mu)
        etas.append(cmp.eta)
        max_errors.append(cmp.max_error)
    out["mu"], out["eta"], out["max_error"] = np.asarray(mus), np.asarray(etas), np.asarray(max_errors)
    out["max_error_over_dt"] = out["max_error"] / out["dt"]
    return out


def _label(d: dict[str, np.ndarray], i: int) -> str:
    return rf"$\Delta t = {d['dt'][i]:g}$ ($\mu = {d['mu'][i]:.3g}$, $\eta = {d['eta'][i]:.3g}$)"


@documented
def plot(d: dict[str, np.ndarray], *, fast: bool = False) -> Figure:
    """Draw the figure from the numbers of :func:`data`, in the paper style."""
    q = problem()
    black = plotting.FAMILY_COLORS["ode"]
    with plotting.paper_style():
        fig, (ax_a, ax_b, ax_c) = plotting.new_figure(plotting.DOUBLE, 2.6, ncols=3, width_ratios=[1.1, 1.0, 1.0])
        plotting.contour(ax_a, q, xlim=(-2.4, 1.6), ylim=(-1.3, 1.3), levels=8)
        (ode_line,) = ax_a.plot(*d["theta_dense"].T, color=black, lw=0.8, label="ODE (exact)", zorder=4)
        ax_b.plot(d["t_dense"], d["theta_dense"][:, 0], color=black, lw=0.8, zorder=4)
        handles = [ode_line]
        for i in range(len(d["dt"])):
            theta = d[f"theta_discrete_{i}"]
            style = {"color": SHADES[i], "lw": 0.9, "ls": STYLES[i], "marker": MARKERS[i], "ms": 2.8}
            (line,) = ax_a.plot(*theta.T, label=_label(d, i), **style)
            ax_b.plot(d[f"t_{i}"], theta[:, 0], **style)
            ax_c.plot(d[f"t_{i}"][1:], d[f"error_{i}"][1:] / d["dt"][i], color=SHADES[i], lw=0.9, ls=STYLES[i])
            handles.append(line)
        ax_a.plot(*d["theta_dense"][0], marker="o", ms=4.5, mfc="white", mec="black", ls="none", zorder=6)
        plotting.minimizer(ax_a)
        plotting.panel(ax_a, "(a)", "in the plane", aspect="equal", xlabel=r"$\theta_1$ ($h = 0.25$)",
                       ylabel=r"$\theta_2$ ($h = 1$)")  # fmt: skip
        ax_b.axhline(0.0, color="0.6", lw=0.5)
        plotting.panel(ax_b, "(b)", "against time", xlim=(0, d["t_dense"][-1]), xlabel="time $t = k\\,\\Delta t$",
                       ylabel=r"$\theta_1$")  # fmt: skip
        plotting.panel(ax_c, "(c)", r"error $/\,\Delta t$", yscale="log", xlim=(0, d["t_dense"][-1]), ylim=(1e-2, 3),
                       xlabel="time $t$", ylabel=r"$\|\theta_k - \theta(t_k)\| \,/\, \Delta t$")  # fmt: skip
        fig.legend(handles=handles, loc="outside upper center", ncols=4)
    plotting.align_titles(fig)
    return fig


make = make_of(__name__)
