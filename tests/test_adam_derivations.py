"""The derivations about Adam in continuous time: they check, mutated claims are caught (the
error names the claim), and what they derive agrees with numbers computed here independently
(torch's update iterated in numpy, finite sums, a rotation applied to a numeric flow)."""

import numpy as np
import pytest
import sympy as sp

from heavyball.symbolic import DERIVATIONS, DerivationError, numeric

ADAM_DERIVATIONS = ["adam_ode_limit", "adam_sign_flow_limit", "adam_heavy_ball", "adam_rotation_invariance"]


@pytest.mark.parametrize("name", ADAM_DERIVATIONS)
def test_registered_and_verified(name):
    report = DERIVATIONS[name]().check()
    assert report.success and all(c.exact for c in report.claims)
    assert all(t.held for t in report.twins)


def _caught(d, claim_name, rhs):
    with pytest.raises(DerivationError, match=f"`{claim_name}`") as info:
        d.with_claim(claim_name, rhs).check()
    assert info.value.failed == (claim_name,)


def test_mutated_ode_limit_claims_are_caught():
    d = DERIVATIONS["adam_ode_limit"]()
    a, t, s = d.symbols["a"], d.symbols["t"], d.symbols["s"]
    _caught(d, "bias_power_limit", sp.exp(-a * t / 2))  # a wrong rate in the bias correction
    _caught(d, "bias_power_first_order", -a * t + a**2 * t * s / 2)  # the sign of the O(s) term
    _caught(d, "bias_rate_series", 1 / t + a / 3 + a**2 * t / 12)
    u1 = sp.Symbol("u_1", real=True)
    _caught(d, "series_start_slope", u1)  # m̂₁ = g₁ (no halving) is wrong


def test_mutated_sign_flow_claims_are_caught():
    d = DERIVATIONS["adam_sign_flow_limit"]()
    beta, g, eps = d.symbols["beta"], d.symbols["g"], d.symbols["eps"]
    _caught(d, "mean_age", 1 / (1 - beta))
    _caught(d, "sign_flow_limit", -g / (g**2 + eps))  # gradient-over-second-moment, not its root


def test_mutated_heavy_ball_claims_are_caught():
    d = DERIVATIONS["adam_heavy_ball"]()
    lr, beta1 = d.symbols["lr"], d.symbols["beta1"]
    _caught(d, "mass", lr * (1 - beta1))
    _caught(d, "momentum_is_beta1", 1 - beta1)


def test_mutated_rotation_claim_is_caught():
    d = DERIVATIONS["adam_rotation_invariance"]()
    _caught(d, "sign_flow_defect_45", sp.Integer(0))  # "the sign flow is rotation invariant"


def test_bias_power_matches_torchs_factor_numerically():
    # (1 − a·s)^{t/s} against e^{−at}(1 − a²ts/2): the remainder is O(s²)
    a, t = 1.3, 2.0
    for s in (1e-2, 5e-3):
        exact = (1 - a * s) ** (t / s)
        first = np.exp(-a * t) * (1 - a**2 * t * s / 2)
        assert abs(exact - first) < 2 * (a**2 * s) ** 2 * t * np.exp(-a * t)  # second-order remainder


def test_mean_age_of_the_ema_by_direct_summation():
    beta = 0.9
    i = np.arange(20000)
    w = (1 - beta) * beta**i
    assert abs(w.sum() - 1) < 1e-12 and abs((w * i).sum() - beta / (1 - beta)) < 1e-9


def test_heavy_ball_mass_twin_against_the_function():
    mass = numeric("adam_heavy_ball", "mass")
    assert mass(0.01, 0.9) == pytest.approx(0.1, rel=1e-14)


def test_settled_adam_step_is_the_heavy_ball_step_numerically(rng):
    # torch's Adam update with a settled v (bias corrections 1) against v ← β₁v − (1−β₁)Pg, θ ← θ + lr·v
    lr, beta1, eps = 0.01, 0.9, 1e-8
    v_hat = rng.uniform(0.5, 2.0, 3)
    P = 1 / (np.sqrt(v_hat) + eps)
    theta, m = rng.normal(size=3), rng.normal(size=3)
    g = rng.normal(size=3)
    m_new = m + (1 - beta1) * (g - m)
    theta_adam = theta - lr * m_new / (np.sqrt(v_hat) + eps)
    vel = beta1 * (-P * m) - (1 - beta1) * P * g
    np.testing.assert_allclose(theta_adam, theta + lr * vel, rtol=1e-14, atol=1e-15)
