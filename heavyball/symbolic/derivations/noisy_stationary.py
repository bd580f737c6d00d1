"""The derivation ``noisy_stationary`` (see :func:`noisy_stationary`)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import sympy as sp

from ..algebra import assumption_texts, given_positive
from ..claims import Derivation, claim
from ..twins import Twin

#: position in the catalogue of derivations
ORDER = 140

FINDINGS = (
    "torch's SGD with momentum under gradient noise σ² settles at Var θ = γσ²(1+μ)/(h(1−μ)(2(1+μ) − γh)) "
    "on curvature h: finite exactly where the noiseless method converges (0 < γh < 2(1+μ)).",
    "For small γ this is the Gibbs law at temperature T = γσ²/(2(1−μ)): momentum raises the temperature "
    "like the effective learning rate γ/(1−μ), and Nesterov has the same small-γ limit.",
    "Nesterov's look-ahead points are cooler at finite γ: the stability factor 2(1+μ) − γh of heavy ball's "
    "variance becomes 2(1+μ) − (1+2μ)γh, and 1 − μ becomes 1 − μ + γhμ.",
)


def _ar2_variance(T: Any, D: Any, out: tuple[Any, Any], gamma: Any, sigma: Any) -> tuple[Any, dict[Any, Any]]:
    """Stationary variance of ``o₀x_k + o₁x_{k−1}`` for ``x_{k+1} = Tx_k − Dx_{k−1} − γξ_k``,
    ``Var ξ = σ²``: the 2×2 discrete Lyapunov equation in the unknowns ``P₀ = Var x``,
    ``P₁ = Cov(x_k, x_{k−1})``."""
    P0, P1 = sp.symbols("P_0 P_1")
    eqs = [
        sp.Eq(P0, T**2 * P0 - 2 * T * D * P1 + D**2 * P0 + gamma**2 * sigma**2),
        sp.Eq(P1, T * P0 - D * P1),
    ]
    sol = sp.solve(eqs, [P0, P1], dict=True)[0]
    a, b = out
    return sp.factor((a * a + b * b) * sol[P0] + 2 * a * b * sol[P1]), sol


def _library_variance(nesterov: bool) -> Callable[..., Any]:
    def call(stationary: Callable[..., Any], gamma: Any, mu: Any, h: Any, sigma: Any) -> np.ndarray:
        import heavyball as hb

        out = []
        for g, m, c, s in zip(gamma, mu, h, sigma, strict=True):
            opt = hb.SGD(lr=float(g), momentum=float(m), nesterov=nesterov)
            law = stationary(opt, hb.Quadratic([[float(c)]]), hb.GradientNoise.isotropic(float(s)))
            out.append(law.cov[0, 0])
        return np.array(out)

    return call


def _stated_variances(gamma: Any, mu: Any, h: Any, sigma: Any) -> tuple[Any, Any]:
    """The closed forms stated for ``Var θ``: heavy ball's, and Nesterov's look-ahead points'."""
    heavy_ball = gamma * sigma**2 * (1 + mu) / (h * (1 - mu) * (2 * (1 + mu) - gamma * h))
    nesterov = (
        gamma
        * sigma**2
        * (1 + mu + gamma * h * mu * (1 + 2 * mu))
        / (h * (1 - mu + gamma * h * mu) * (2 * (1 + mu) - gamma * h * (1 + 2 * mu)))
    )
    return heavy_ball, nesterov


def _twins() -> dict[str, Twin]:
    """The library's exact stationary law (:func:`heavyball.exact_moments.stationary`) of
    torch's SGD with momentum, plain and Nesterov, on one curvature."""
    twin_box = ((1e-3, 0.3), (0.05, 0.95), (0.05, 3.0), (0.1, 3.0))
    return {
        "var_heavyball": Twin(
            "heavyball.exact_moments.stationary",
            _library_variance(False),
            twin_box,
            rtol=1e-11,
            note="stationary() of SGD(lr, momentum) on Quadratic([[h]])",
        ),
        "var_nesterov": Twin(
            "heavyball.exact_moments.stationary",
            _library_variance(True),
            twin_box,
            rtol=1e-11,
            note="stationary() of SGD(lr, momentum, nesterov=True)",
        ),
    }


@functools.cache
def noisy_stationary(*, gamma: Any = None, mu: Any = None, h: Any = None, sigma: Any = None) -> Derivation:
    r"""Stationary variance of torch's SGD with momentum (and Nesterov) under gradient noise.

    On one curvature ``h`` with gradient noise of variance ``σ²``, torch's heavy ball is the
    AR(2) process ``x_{k+1} = (1 + μ − γh)x_k − μx_{k−1} − γξ_k``; the discrete Lyapunov
    equation gives ``Var θ = γσ²(1+μ)/(h(1−μ)(2(1+μ) − γh))``, whose small-``γ`` limit
    ``γσ²/(2h(1−μ))`` is the Gibbs variance ``T/h`` at temperature ``T = γσ²/(2(1−μ))``.
    torch's Nesterov parameters are the look-ahead points ``(1+μ)x_k − μx_{k−1}`` of the
    textbook recurrence; their variance has the same small-``γ`` limit.

    Examples
    --------
    >>> d = noisy_stationary()
    >>> sorted(d.result)
    ['small_lr', 'temperature', 'var_heavyball', 'var_nesterov']
    """
    gamma, mu, h, sigma = given_positive(gamma=gamma, mu=mu, h=h, sigma=sigma)
    T_ = sp.Symbol("T", positive=True)
    var_hb, sol_hb = _ar2_variance(1 + mu - gamma * h, mu, (1, 0), gamma, sigma)
    a = 1 - gamma * h
    var_nag, _ = _ar2_variance((1 + mu) * a, mu * a, (1 + mu, -mu), gamma, sigma)
    closed, closed_nag = _stated_variances(gamma, mu, h, sigma)
    small = gamma * sigma**2 / (2 * h * (1 - mu))
    temperature = gamma * sigma**2 / (2 * (1 - mu))
    lead_hb = sp.limit(var_hb / gamma, gamma, 0) * gamma
    lead_nag = sp.limit(var_nag / gamma, gamma, 0) * gamma
    stable = gamma * h < 2 * (1 + mu) - sp.Rational(1, 10)
    stable_nag = gamma * h * (1 + 2 * mu) < 2 * (1 + mu) - sp.Rational(1, 10)
    box = {gamma: (1e-3, 1.0), mu: (0.05, 0.95), h: (0.05, 5.0), sigma: (0.1, 3.0)}
    claims = (
        claim(
            "heavy_ball_variance", var_hb, closed, box, where=stable, note="the Lyapunov solution is the closed form"
        ),
        claim(
            "heavy_ball_lag_covariance",
            sol_hb[sp.Symbol("P_1")],
            closed * (1 + mu - gamma * h) / (1 + mu),
            box,
            where=stable,
            note="Cov(x_k, x_{k−1}) = Var·T/(1 + D)",
        ),
        claim("small_lr_limit", lead_hb, small, box, note="leading order in γ"),
        claim("temperature", h * lead_hb, temperature, box, note="h·Var θ → T: the Gibbs law e^{−f/T}"),
        claim("nesterov_variance", var_nag, closed_nag, box, where=stable_nag),
        claim("nesterov_small_lr_limit", lead_nag, small, box, note="the same temperature as heavy ball"),
    )
    # every derivation module ends with its results, its steps and the keyword constructor, the
    # registry's interface: their shape repeats from module to module by design (the contents differ)
    result = {
        "var_heavyball": sp.Eq(sp.Symbol(r"\mathrm{Var}\,\theta"), closed),
        "small_lr": sp.Eq(sp.Symbol(r"\mathrm{Var}\,\theta_{\gamma\to0}"), small),
        "temperature": sp.Eq(T_, temperature),
        "var_nesterov": sp.Eq(sp.Symbol(r"\mathrm{Var}\,\theta_{\mathrm{NAG}}"), closed_nag),
    }
    steps = (
        (
            "the AR(2) process",
            sp.Eq(
                sp.Symbol("x_{k+1}"),
                (1 + mu - gamma * h) * sp.Symbol("x_k") - mu * sp.Symbol("x_{k-1}") - gamma * sp.Symbol(r"\xi_k"),
            ),
        ),
        ("its stationary variance (discrete Lyapunov equation)", sp.Eq(sp.Symbol("P_0"), var_hb)),
        ("Nesterov: the look-ahead point's variance", sp.Eq(sp.Symbol("P_y"), var_nag)),
    )
    signatures = {"var_heavyball": (gamma, mu, h, sigma), "var_nesterov": (gamma, mu, h, sigma)}
    return Derivation(
        name="noisy_stationary",
        title="Stationary variance of SGD with momentum under gradient noise",
        assumptions=assumption_texts(
            (gamma, mu, h, sigma),
            "gradient noise $ξ_k$ independent, mean 0, variance $σ²$; dampening and weight decay 0",
            "torch's form: b ← μb + g, θ ← θ − γb (heavy ball), θ ← θ − γ(g + μb) (Nesterov)",
        ),
        symbols={"gamma": gamma, "mu": mu, "h": h, "sigma": sigma},
        result=result,
        steps=steps,
        claims=claims,
        findings=FINDINGS,
        signatures=signatures,
        references=(
            "Mandt, Hoffman & Blei (2017), Stochastic gradient descent as approximate Bayesian inference, JMLR",
            "Zhang et al. (2019), noisy quadratic model, NeurIPS",
        ),
        twins=_twins(),
    )
