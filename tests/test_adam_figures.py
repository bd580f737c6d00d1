"""The three figures of Adam in continuous time, tested on their numbers like the rest of the
catalogue: the iterates against Adam's update written out here in numpy, the continuous curves
against closed forms (the sign flow's straight line, ``scipy.linalg.expm`` of the preconditioned
heavy ball), the orders against slopes computed here; the contract, determinism and no
overlapping text are the catalogue's own tests (``tests/test_figures.py``)."""

import numpy as np
import pytest
from scipy.linalg import expm

from heavyball.figures import FIGURES

NAMES = ["adam_ode", "adam_limits", "adam_heavy_ball"]
_CACHE = {}


def fast_data(name):
    if name not in _CACHE:
        _CACHE[name] = FIGURES[name].data(fast=True)
    return _CACHE[name]


def adam_numpy(A, theta0, lr, beta1, beta2, eps, steps):
    """torch's Adam on f = ½θᵀAθ, written out: m, v moving averages, bias-corrected step."""
    theta = np.array(theta0, dtype=float)
    m = np.zeros_like(theta)
    v = np.zeros_like(theta)
    out = [theta.copy()]
    for k in range(1, steps + 1):
        g = A @ theta
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        theta = theta - lr / (1 - beta1**k) * m / (np.sqrt(v) / np.sqrt(1 - beta2**k) + eps)
        out.append(theta.copy())
    return np.array(out)


def test_adam_ode_iterates_are_adam_and_the_error_halves():
    mod, d = FIGURES["adam_ode"], fast_data("adam_ode")
    A = mod.problem().A
    for i, s in enumerate(d["s"]):
        ref = adam_numpy(A, d["theta0"], s, 1 - mod.A_RATE * s, 1 - mod.B_RATE * s, mod.EPS, len(d[f"t_{i}"]) - 1)
        np.testing.assert_allclose(d[f"theta_{i}"], ref, rtol=0, atol=1e-12)  # rounding order differs
        np.testing.assert_allclose(d[f"t_{i}"], s * np.arange(len(ref)), rtol=1e-15)
    maxima = [float(d[f"max_error_{i}"]) for i in range(3)]
    ratios = np.array(maxima[:-1]) / np.array(maxima[1:])
    # order 1, seen from coarse steps (s up to 0.2, t <= 4: ratios measured 2.50, 2.29, falling
    # toward 2): each ratio in [1.8, 2.7] and the ratios decreasing
    assert np.all((ratios > 1.8) & (ratios < 2.7)) and ratios[1] < ratios[0], maxima


def test_adam_limits_data_against_oracles():
    mod, d = FIGURES["adam_limits"], fast_data("adam_limits")
    A = mod.problem().A
    # the sign flow on this valley from (1, 1) for t < 1: each coordinate falls at speed h|θ|/(h|θ| + ε) ≈ 1
    np.testing.assert_allclose(d["flow_theta"], (1 - d["flow_t"])[:, None] * np.ones(2), atol=1e-6)
    i = 0
    lr = d["fixed_lr"][i]
    steps = round(float(mod.T_FIXED / lr))
    ref = adam_numpy(A, mod.THETA0, lr, *mod.FIXED_BETAS, mod.EPS, steps)
    k = np.rint(d[f"fixed_t_{i}"] / lr).astype(int)
    np.testing.assert_allclose(d[f"fixed_theta_{i}"], ref[k], rtol=0, atol=1e-12)
    slope = np.polyfit(np.log(d["sweep_scaled_lr"]), np.log(d["sweep_scaled_error"]), 1)[0]
    assert 0.95 <= slope <= 1.05 and abs(slope - float(d["order_scaled"])) < 1e-12
    # fixed β₂ = 0.99: order 1 once lr ≪ 1 − β₂; at lr = 1 − β₂ no convergence yet
    small = np.polyfit(np.log(d["sweep_099_lr"][-3:]), np.log(d["sweep_099_error"][-3:]), 1)[0]
    assert 0.85 <= small <= 1.15, d["sweep_099_error"]
    assert d["sweep_fixed_error"][0] > 0.1 and d["sweep_fixed_error"][1] > 0.1  # lr = 1e-2, 1e-3 vs 1 − β₂ = 1e-3


def test_adam_heavy_ball_curve_is_the_preconditioned_ode_and_the_gap_shrinks():
    mod, d = FIGURES["adam_heavy_ball"], fast_data("adam_heavy_ball")
    q = mod.problem()
    P = np.diag(1 / (np.sqrt(d["v_hat"]) + mod.EPS))
    m = float(d["mass"])
    assert m == pytest.approx(mod.LR / (1 - mod.BETA1), rel=1e-14)
    M = np.block([[np.zeros((2, 2)), np.eye(2)], [-P @ q.A / m, -np.eye(2) / m]])
    y0 = np.concatenate([mod.THETA0, np.zeros(2)])
    t = d["heavy_ball_t"][::25]
    ref = np.array([(expm(M * tk) @ y0)[:2] for tk in t])
    np.testing.assert_allclose(d["heavy_ball_theta"][::25], ref, rtol=1e-9, atol=1e-12)
    gaps = d["max_gap"]
    assert np.all(np.diff(gaps) < 0)  # β₂ → 1: the gap shrinks
    assert gaps[0] / gaps[1] > 5  # proportional to b while the drift of v̂ dominates


@pytest.mark.parametrize("name", NAMES)
def test_in_the_catalogue(name):
    assert FIGURES[name].__name__ == f"heavyball.figures.{name}"
