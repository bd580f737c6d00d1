r"""The stationary law of the noisy heavy ball on a double well is the Gibbs density.

On the tilted double well ``f(θ) = (θ² − 1)² + θ/4`` the iterates of long noisy runs are
histogrammed against the Gibbs density ``∝ exp(−f/T)``: (a) the heavy-ball SDE
``dθ = v dt, m dv = −f'(θ)dt − cv dt + σ dW`` sampled with BAOAB, at ``T = σ²/(2c)``;
(b) torch's SGD with momentum under Gaussian gradient noise ``σ_g``, whose small-learning-rate
temperature is ``T = γσ_g²/(2(1 − μ))``. Both runs start on the barrier (θ₀ = 0) and run long
enough to cross it many times; the left well is the deeper one, and its extra mass is the
Boltzmann factor of the tilt.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from .. import plotting
from ..iterate import iterate
from ..noise import GradientNoise
from ..optimizers import SGD
from ..problems import Objective
from ..sde import HeavyBallSDE, sample_paths
from ._common import documented, make_of

ORDER = 160  # its place in the catalogue
CAPTION = (
    "Stationary distribution on the tilted double well f(θ) = (θ² − 1)² + θ/4 against the Gibbs density "
    "∝ exp(−f/T) at T = 0.3 (black). (a) The heavy-ball SDE (m = 1, c = 1, σ² = 2cT) sampled by BAOAB "
    "(Δt = 0.05, t = 150): final positions of 4000 paths. (b) torch's SGD with momentum (γ = 0.01, μ = 0.9) "
    "with Gaussian gradient noise of variance σ_g² = 2(1 − μ)T/γ, i.e. temperature γσ_g²/(2(1 − μ)) = T: "
    "final iterates of 4000 runs of 15 000 steps. Both start on the barrier, θ₀ = 0; f is drawn in grey."
)

TEMPERATURE = 0.3
TILT = 0.25
SAMPLES = 4000
SDE_T, SDE_DT = 150.0, 0.05
LR, MOMENTUM, STEPS = 0.01, 0.9, 15_000
SEED = 2013
EDGES = np.linspace(-2.0, 2.0, 41)


def f(theta):
    """``(θ² − 1)² + TILT·θ``."""
    theta = np.asarray(theta)
    return (theta * theta - 1) ** 2 + TILT * theta


def problem() -> Objective:
    """The double well as a problem (value and gradient on the last axis)."""
    return Objective(lambda th: f(th[..., 0]), lambda th: 4 * th * (th * th - 1) + TILT, 1)


def gibbs(grid, temperature=TEMPERATURE):
    """The normalised Gibbs density ``exp(−f/T)/Z`` on ``grid`` (Z by the trapezoidal rule on
    ``[−3, 3]`` with 60 001 points)."""
    fine = np.linspace(-3.0, 3.0, 60_001)
    w = np.exp(-(f(fine) - f(fine).min()) / temperature)
    z = np.sum(0.5 * (w[1:] + w[:-1]) * np.diff(fine))
    return np.exp(-(f(grid) - f(fine).min()) / temperature) / z


@documented
def data(*, fast: bool = False) -> dict[str, np.ndarray]:
    """Final positions of both samplers and the Gibbs density (``fast``: 1000 runs, shorter)."""
    samples = 1000 if fast else SAMPLES
    t_end = 60.0 if fast else SDE_T
    steps = 6000 if fast else STEPS
    sde = HeavyBallSDE(m=1.0, c=1.0, sigma=np.sqrt(2.0 * TEMPERATURE))
    paths = sample_paths(sde, problem(), [0.0], [0.0, t_end], samples=samples, seed=SEED, scheme="baoab", dt=SDE_DT)
    sigma_g = np.sqrt(2 * (1 - MOMENTUM) * TEMPERATURE / LR)
    opt = SGD(lr=LR, momentum=MOMENTUM)
    tr = iterate(opt, problem(), np.zeros((samples, 1)), steps, record="final",
                 noise=GradientNoise.isotropic(sigma_g), seed=SEED + 1)  # fmt: skip
    grid = np.linspace(-2.0, 2.0, 401)
    return {
        "grid": grid,
        "f": f(grid),
        "gibbs": gibbs(grid),
        "edges": EDGES,
        "baoab": paths.theta[-1, :, 0],
        "sgd": np.asarray(tr.theta)[-1, :, 0],
        "temperature": np.asarray(TEMPERATURE),
        "sigma_g": np.asarray(sigma_g),
    }


@documented
def plot(d: dict[str, np.ndarray], *, fast: bool = False) -> Figure:
    """Histograms (density) against the Gibbs density, with f in grey."""
    with plotting.paper_style():
        fig, axes = plotting.new_figure(plotting.DOUBLE, 2.4, ncols=2, sharey=True)
        for ax, key, label, color in (
            (axes[0], "baoab", "(a) heavy-ball SDE, BAOAB", plotting.family_color("heavyball")),
            (axes[1], "sgd", "(b) SGD with momentum, noisy gradients", plotting.family_color("nesterov")),
        ):
            ax.hist(d[key], bins=d["edges"], density=True, color=color, alpha=0.55, lw=0, label="iterates")
            ax.plot(d["grid"], d["gibbs"], color="k", lw=1.0, label=r"Gibbs $\propto e^{-f/T}$")
            twin = ax.twinx()
            twin.plot(d["grid"], d["f"], color="0.6", lw=0.8, ls=(0, (3, 1.5)))
            twin.set_ylim(-1.5, 4.0)
            twin.set_yticks([])
            ax.set_xlim(d["grid"][0], d["grid"][-1])
            ax.set_xlabel(r"$\theta$")
            ax.set_title(label, loc="left")
        axes[0].set_ylabel("density")
        axes[0].legend(loc="upper right")
    return fig


make = make_of(__name__)
