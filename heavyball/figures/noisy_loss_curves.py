r"""Expected loss under gradient noise: exact curves of GD, heavy ball and Nesterov, with Monte Carlo.

On the κ = 10 valley (curvatures 0.1 and 1, rotated by 30°) with isotropic gradient noise
``σ = 0.05``, each linear method at its noiseless tuning (GD at ``2/(h_min + h_max)``, heavy ball
at Polyak's optimum, Nesterov at its textbook tuning), all as ``torch.optim.SGD``. The exact
curve is :func:`heavyball.moments`' ``expected_loss`` (no sampling: the discrete Lyapunov
recursion); the band is the Monte Carlo mean of ``f(θ_k) − f*`` over seeded noisy runs of
:func:`heavyball.iterate` ± 2 standard errors, and the dotted line the stationary expected loss
of :func:`heavyball.stationary`. Heavy ball sits on a higher floor than GD (its temperature
``γσ²/(2(1−μ))`` is larger); Nesterov, at a smaller step and with its look-ahead gradient, on the
lowest.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from .. import plotting
from ..exact_moments import moments, stationary
from ..iterate import iterate
from ..noise import GradientNoise
from ..problems import Quadratic
from ._common import documented, make_of, tuned_sgd

ORDER = 150  # its place in the catalogue
CAPTION = (
    "Expected loss E f(θ_k) − f* under isotropic gradient noise (σ = 0.05) on the valley with curvatures 0.1 "
    "and 1 (κ = 10, rotated by 30°), from θ₀ = (1, 1): exact curves from the discrete Lyapunov recursion "
    "(lines) with Monte Carlo means of 4000 seeded noisy runs ± 2 standard errors over them (bands), and the "
    "stationary expected loss (dotted). GD at γ = 2/1.1, heavy ball at Polyak's tuning, Nesterov at "
    "(1, (√10 − 1)/(√10 + 1)), all as torch's SGD. Heavy ball settles on a higher floor than GD (its "
    "temperature γσ²/(2(1 − μ)) is larger); Nesterov, at a smaller step and with its look-ahead gradient, "
    "settles on the lowest."
)

ANGLE = np.pi / 6
THETA0 = (1.0, 1.0)
SIGMA = 0.05
STEPS = 120
SAMPLES = 4000
SEED = 2019
METHODS = ("gd", "heavyball", "nesterov")


def problem() -> Quadratic:
    """The κ = 10 valley, rotated by 30°."""
    return Quadratic.valley(kappa=10.0, h_max=1.0, angle=ANGLE)


@documented
def data(*, fast: bool = False) -> dict[str, np.ndarray]:
    """Exact and Monte Carlo expected losses per method (``fast``: 1000 runs)."""
    q = problem()
    noise = GradientNoise.isotropic(SIGMA)
    samples = 1000 if fast else SAMPLES
    theta0 = np.broadcast_to(np.asarray(THETA0), (samples, 2))
    out: dict[str, np.ndarray] = {"k": np.arange(STEPS + 1), "samples": np.asarray(samples)}
    for i, m in enumerate(METHODS):
        opt = tuned_sgd(m, q)
        out[f"{m}_exact"] = moments(opt, q, THETA0, STEPS, noise=noise).expected_loss
        out[f"{m}_stationary"] = np.asarray(stationary(opt, q, noise).expected_loss)
        tr = iterate(opt, q, theta0, STEPS, record="loss", noise=noise, seed=SEED + i)
        excess = np.asarray(tr.loss) - q.minimum  # (n, samples)
        out[f"{m}_mc_mean"] = excess.mean(axis=1)
        out[f"{m}_mc_se"] = excess.std(axis=1, ddof=1) / np.sqrt(samples)
    return out


@documented
def plot(d: dict[str, np.ndarray], *, fast: bool = False) -> Figure:
    """Exact curves, Monte Carlo bands and stationary levels."""
    with plotting.paper_style():
        fig, ax = plotting.new_figure(plotting.SINGLE, 2.6)
        k = d["k"]
        for m in METHODS:
            color = plotting.family_color(m)
            lo = d[f"{m}_mc_mean"] - 2 * d[f"{m}_mc_se"]
            hi = d[f"{m}_mc_mean"] + 2 * d[f"{m}_mc_se"]
            ax.fill_between(k, np.maximum(lo, 1e-12), hi, color=color, alpha=0.3, lw=0)
            plotting.loss_curve(ax, d[f"{m}_exact"], k=k, family=m, lw=1.0)
            ax.axhline(float(d[f"{m}_stationary"]), color=color, ls=(0, (1, 1.5)), lw=0.8)
        ax.set_xlim(0, k[-1])
        ax.set_xlabel("step $k$")
        ax.set_ylabel(r"$\mathbb{E}\,f(\theta_k) - f^*$")
        ax.legend(loc="upper right")
    return fig


make = make_of(__name__)
