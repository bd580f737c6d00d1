r"""The noisy quadratic model's batch-size study: steps to a target loss against batch size.

The model of Zhang et al. (2019): ``f(θ) = ½Σ h_i θ_i²`` with ``d = 10⁴`` curvatures
``h_i = 1/i`` and mini-batch gradient noise of covariance ``H/B`` (``c_i = h_i``, batch size
``B``), started from ``θ₀ = 1``. For each batch size the hyperparameters are tuned to reach a
target expected loss in the fewest steps: the learning rate on a log grid for SGD; the learning
rate and the momentum for heavy ball (torch's SGD with momentum); the same for heavy ball
preconditioned by ``H^{-1/2}`` (per-mode learning rate ``γ h_i^{-1/2}``, the idealised
preconditioner of the paper's Adam-like methods).

Exact expected loss, no sampling. Each mode is the noisy recurrence
``x_{k+1} = T x_k − D x_{k−1} − γξ_k`` of :mod:`heavyball.exact_moments` (the iteration matrix
of :mod:`heavyball.recurrences`) with roots ``r₁, r₂``; from ``x_{−1} = x_0`` its mean is
``(r₁ᵏ(m₁ − r₂) − r₂ᵏ(m₁ − r₁))/(r₁ − r₂)`` (``m₁ = 1 − γh``) and its variance
``γ²(c/B)Σ_{n<k} ψ_n²`` with the impulse response ``ψ_n = (r₁^{n+1} − r₂^{n+1})/(r₁ − r₂)``,
summed in closed form as three geometric series. The loss is linear in ``1/B``
(``bias(k) + variance₁(k)/B``), so each configuration's curve is computed once for all batch
sizes. The steps to the target are the first point of a geometric grid of step counts (ratio
``STEP_RATIO``) where the expected loss is at or below the target, refined by log-linear
interpolation.

Findings reproduced (asserted by the tests on :func:`data`): perfect scaling (steps ∝ 1/B) at
small batches; no gain from momentum at small batches; a larger critical batch size with
momentum, and a larger one still with preconditioning.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from .. import plotting, recurrences
from ._common import documented, make_of

ORDER = 170  # its place in the catalogue
CAPTION = (
    "The noisy quadratic model (h_i = 1/i, i ≤ 10⁴, gradient-noise covariance H/B): steps to reach "
    "an expected loss of 0.1 against the batch size B, each point with its learning rate (and momentum) "
    "tuned for that B, from exact expected-loss curves. Dotted: perfect scaling, steps ∝ 1/B. At small "
    "batches SGD and heavy ball need the same number of steps (momentum only rescales the learning "
    "rate there); heavy ball keeps scaling to a larger critical batch size, and heavy ball preconditioned "
    "by H^(−1/2) to a larger one still. Circles: the critical batch size, where the steps reach twice "
    "the perfect-scaling line."
)

DIM = 10_000
FAST_DIM = 2000
TARGET = 0.1
STEP_RATIO = 1.25
MAX_STEPS = 1e9
MOMENTA = (0.0, 0.5, 0.9, 0.95, 0.98, 0.99, 0.995)
FAST_MOMENTA = (0.0, 0.9, 0.99, 0.995)
METHODS = ("sgd", "heavyball", "preconditioned")


def _roots(T, D):
    """Roots of ``z² − Tz + D`` (complex), kept apart where they would coincide."""
    disc = np.sqrt((T * T - 4 * D).astype(complex))
    r1, r2 = (T + disc) / 2, (T - disc) / 2
    close = np.abs(r1 - r2) < 1e-7 * np.maximum(np.abs(r1), 1e-300)
    r2 = np.where(close, r1 * (1 - 1e-7), r2)  # a double root: the limit, to ~1e-7 relative
    return r1, r2


def _geometric(r, rk, k):
    """``Σ_{n=1..k} rⁿ = r(1 − rᵏ)/(1 − r)`` given ``rᵏ`` (``k`` for ``r = 1``)."""
    one = np.abs(1 - r) < 1e-14
    return np.where(one, k, r * (1 - rk) / np.where(one, 1.0, 1 - r))


def loss_curves(h, lr, mu, k):
    """Expected loss of ``½Σh_i x_i²`` at the steps ``k``: ``(bias, variance per unit noise)``.

    ``h`` (d,), ``lr`` (..., d) per-mode step (a preconditioner makes it mode-dependent), ``mu``
    (...) momentum, ``k`` (n,) step counts; noise of variance ``h_i`` per mode (divide the
    second term by the batch size). Returns two arrays of shape ``(..., n)``.
    """
    mu_b = np.broadcast_to(np.asarray(mu, dtype=float)[..., None], lr.shape)
    T, D = recurrences.trace_det("heavyball", lr * h, mu_b)
    r1, r2 = _roots(np.asarray(T, dtype=float), np.asarray(D, dtype=float))
    r1, r2 = r1[..., None], r2[..., None]  # (..., d, 1)
    kk = np.asarray(k, dtype=float)
    m1 = (1 - lr * h)[..., None]
    # the only powers, as exp(k·log r): the logarithm once per mode, not once per step count
    # (``r**k`` takes a complex logarithm per element); the geometric sums reuse them
    with np.errstate(divide="ignore"):  # log 0 = −inf (a zero root): exp(−inf·k) = 0 for k ≥ 1
        p1, p2 = np.exp(np.log(r1) * kk), np.exp(np.log(r2) * kk)
    mean = (p1 * (m1 - r2) - p2 * (m1 - r1)) / (r1 - r2)
    psi2 = _geometric(r1 * r1, p1 * p1, kk) - 2 * _geometric(r1 * r2, p1 * p2, kk) + _geometric(r2 * r2, p2 * p2, kk)
    psi2 /= (r1 - r2) ** 2
    var = (lr * lr * h)[..., None] * psi2  # γ²·c_i·Σψ², c_i = h_i; Σ_{n<k}ψ_n² = Σ_{n=1..k}(…)/(r₁−r₂)²
    w = 0.5 * h[:, None]
    return np.sum(w * np.real(mean) ** 2, axis=-2), np.sum(w * np.real(var), axis=-2)


def _first_crossing(loss, k, target):
    """First step count where ``loss ≤ target`` (log-linear interpolation); ``inf`` if none."""
    below = loss <= target
    hit = below.any(axis=-1)
    j = np.argmax(below, axis=-1)
    jp = np.maximum(j - 1, 0)
    take = lambda a, i: np.take_along_axis(a, i[..., None], axis=-1)[..., 0]  # noqa: E731
    l0, l1 = take(loss, jp), take(loss, j)
    k0, k1 = np.log(k[jp]), np.log(k[j])
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.clip((np.log(l0) - np.log(target)) / (np.log(l0) - np.log(l1)), 0.0, 1.0)
    steps = np.where(j == 0, k[0], np.exp(k0 + frac * (k1 - k0)))
    return np.where(hit, steps, np.inf)


def _study(h, batches, lrs, momenta, power, k):
    """Tuned steps per batch size: ``(steps, best lr, best momentum)``, each ``(n_B,)``."""
    mu = np.asarray(momenta, dtype=float)
    steps = np.empty((len(batches), len(lrs), len(mu)))
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        for i, lr in enumerate(lrs):  # one learning rate at a time: (n_mu, d, n_k) temporaries
            lr_modes = lr * h ** (-power) * np.ones((len(mu), 1))
            # a configuration with a mode of spectral radius >= 1 never reaches the target
            T, D = recurrences.trace_det("heavyball", lr_modes * h, mu[:, None])
            r1, r2 = _roots(np.asarray(T, dtype=float), np.asarray(D, dtype=float))
            stable = np.maximum(np.abs(r1), np.abs(r2)).max(axis=-1) < 1
            bias, var = loss_curves(h, lr_modes, mu, k)  # (n_mu, n_k)
            loss = bias[None] + var[None] / batches[:, None, None]  # (n_B, n_mu, n_k)
            loss = np.where(np.isfinite(loss), loss, np.inf)
            steps[:, i] = np.where(stable[None], _first_crossing(loss, k, TARGET), np.inf)
    flat = steps.reshape(len(batches), -1)
    best = np.argmin(flat, axis=1)
    i_lr, i_mu = np.unravel_index(best, steps.shape[1:])
    return flat[np.arange(len(batches)), best], lrs[i_lr], np.asarray(momenta)[i_mu]


def critical_batch(batches, steps, factor=2.0):
    """The batch size where perfect scaling ends: the first ``B`` (log–log interpolated) at
    which the tuned steps exceed ``factor`` × the perfect-scaling line ``steps(B₀)·B₀/B``
    through the smallest batch ``B₀``."""
    excess = np.log(steps * batches / (steps[0] * batches[0]))
    goal = np.log(factor)
    lb = np.log(batches)
    if not np.any(excess >= goal):
        return float(batches[-1])
    j = int(np.argmax(excess >= goal))
    frac = (goal - excess[j - 1]) / (excess[j] - excess[j - 1])
    return float(np.exp(lb[j - 1] + frac * (lb[j] - lb[j - 1])))


@documented
def data(*, fast: bool = False) -> dict[str, np.ndarray]:
    """Tuned steps against batch size for the three methods (``fast``: d = 500, coarser grids)."""
    d = FAST_DIM if fast else DIM
    h = 1.0 / np.arange(1, d + 1)
    batches = 2.0 ** np.arange(0, 17 if not fast else 15, 1 if not fast else 2)
    ratio = 1.5 if fast else STEP_RATIO
    k = np.unique(np.round(ratio ** np.arange(0, int(np.log(MAX_STEPS) / np.log(ratio)) + 1)))
    lrs = 2.0 ** np.arange(-14, 2.01, 1.0 if fast else 0.5)
    out: dict[str, np.ndarray] = {"batch": batches, "h": h, "target": np.asarray(TARGET)}
    for method in METHODS:
        momenta = (0.0,) if method == "sgd" else (FAST_MOMENTA if fast else MOMENTA)
        power = 0.5 if method == "preconditioned" else 0.0
        steps, lr, mu = _study(h, batches, lrs, momenta, power, k)
        out[f"{method}_steps"] = steps
        out[f"{method}_lr"] = lr
        out[f"{method}_momentum"] = mu
        out[f"{method}_critical"] = np.asarray(critical_batch(batches, steps))
    return out


_LABELS = {"sgd": "SGD", "heavyball": "heavy ball (momentum tuned)", "preconditioned": r"heavy ball, $H^{-1/2}$"}


@documented
def plot(d: dict[str, np.ndarray], *, fast: bool = False) -> Figure:
    """Tuned steps against batch size, the perfect-scaling line and the critical batch sizes."""
    colors = {"sgd": plotting.FAMILY_COLORS["gd"], "heavyball": plotting.FAMILY_COLORS["heavyball"],
              "preconditioned": plotting.EXTRA_COLORS[0]}  # fmt: skip
    markers = {"sgd": "o", "heavyball": "s", "preconditioned": "^"}
    with plotting.paper_style():
        fig, ax = plotting.new_figure(plotting.SINGLE, 2.8)
        B = d["batch"]
        for m in METHODS:
            s = d[f"{m}_steps"]
            ax.plot(B, s, color=colors[m], marker=markers[m], ms=3, label=_LABELS[m])
            bc = float(d[f"{m}_critical"])
            ax.plot([bc], [np.exp(np.interp(np.log(bc), np.log(B), np.log(s)))], marker="o", ms=7,
                    mfc="none", mec=colors[m], mew=1.0)  # fmt: skip
        s0 = d["sgd_steps"][0]
        ax.plot(B, s0 / B, color="0.5", ls=(0, (1, 1.5)), lw=0.8, label=r"perfect scaling, $\propto 1/B$")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_ylim(min(float(np.min(d[f"{m}_steps"])) for m in METHODS) / 3, s0 * 3)
        ax.set_xlabel("batch size $B$")
        ax.set_ylabel(f"steps to expected loss {float(d['target']):g}")
        ax.legend(loc="upper right", fontsize=6.5)
    return fig


make = make_of(__name__)
