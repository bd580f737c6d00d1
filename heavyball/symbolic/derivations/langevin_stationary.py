"""The derivation ``langevin_stationary`` (see :func:`langevin_stationary`)."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import sympy as sp

from ..algebra import assumption_texts, given_positive
from ..claims import Derivation, claim
from ..twins import Twin
from .noisy_stationary import noisy_stationary

#: position in the catalogue of derivations
ORDER = 150

FINDINGS = (
    "The heavy-ball SDE's stationary law is Gibbs at T = σ²/(2c): Var θ = T/h, Var v = T/m, θ and v "
    "uncorrelated (fluctuation–dissipation).",
    "Under the map γ = Δt²/m, μ = 1 − cΔt/m, gradient noise σ²/Δt per step, torch's heavy ball has the SDE's "
    "stationary variance times 1 + hΔt²/(4m) + O(Δt³): the first-order discretisation is second-order "
    "accurate in the stationary variance.",
    "Nesterov under the same map is off at first order, by the factor 1 − hΔt/c: its gradient correction "
    "damps the fluctuations like extra friction hΔt.",
)


def _library_sde_variance(stationary: Any, m: Any, c: Any, h: Any, sigma: Any) -> np.ndarray:
    import heavyball as hb

    out = []
    for mi, ci, hi, si in zip(m, c, h, sigma, strict=True):
        law = stationary(hb.HeavyBallSDE(m=float(mi), c=float(ci), sigma=float(si)), hb.Quadratic([[float(hi)]]))
        out.append(law.cov[0, 0])
    return np.array(out)


def _twins() -> dict[str, Twin]:
    """The library's exact stationary law of the heavy-ball SDE (:func:`heavyball.exact_moments.stationary`)."""
    return {
        "var_theta": Twin(
            "heavyball.exact_moments.stationary",
            _library_sde_variance,
            ((0.2, 5.0), (0.05, 5.0), (0.05, 10.0), (0.1, 3.0)),
            rtol=1e-11,
            note="stationary(HeavyBallSDE(m, c, sigma), Quadratic([[h]]))",
        ),
    }


@functools.cache
def langevin_stationary(
    *, m: Any = None, c: Any = None, h: Any = None, sigma: Any = None, dt: Any = None
) -> Derivation:
    r"""The heavy-ball SDE's stationary law, and how close the noisy heavy ball comes to it.

    ``m·dv = −h·θ dt − c·v dt + σ dW``: the continuous Lyapunov equation
    ``FP + PFᵀ + GGᵀ = 0`` gives ``Var θ = σ²/(2ch)``, ``Var v = σ²/(2cm)``, ``Cov(θ, v) = 0``
    (fluctuation–dissipation: the Gibbs law at ``T = σ²/(2c)``). Under the velocity-form map
    ``γ = Δt²/m``, ``μ = 1 − cΔt/m`` with gradient noise ``σ_g² = σ²/Δt`` per step, torch's
    heavy ball has ``Var θ = (σ²/(2ch))·(4 − 2cΔt/m)/(4 − 2cΔt/m − hΔt²/m)
    = (σ²/(2ch))(1 + hΔt²/(4m) + O(Δt³))``; Nesterov's look-ahead points differ at first
    order, ``1 − hΔt/c + O(Δt²)``.

    Examples
    --------
    >>> d = langevin_stationary()
    >>> d.result["var_theta"]
    Eq(\mathrm{Var}\,\theta, sigma**2/(2*c*h))
    """
    m, c, h, sigma, dt = given_positive(m=m, c=c, h=h, sigma=sigma, Delta_t=dt)
    pxx, pxv, pvv = sp.symbols("P_xx P_xv P_vv")
    F = sp.Matrix([[0, 1], [-h / m, -c / m]])
    GG = sp.Matrix([[0, 0], [0, sigma**2 / m**2]])
    P = sp.Matrix([[pxx, pxv], [pxv, pvv]])
    lyap = F * P + P * F.T + GG
    sol = sp.solve([lyap[0, 0], lyap[0, 1], lyap[1, 1]], [pxx, pxv, pvv], dict=True)[0]
    var_theta, var_v = sigma**2 / (2 * c * h), sigma**2 / (2 * c * m)

    disc = noisy_stationary()
    g, mu, hd, sg = (disc.symbols[k] for k in ("gamma", "mu", "h", "sigma"))
    mapping = {g: dt**2 / m, mu: 1 - c * dt / m, hd: h, sg: sigma / sp.sqrt(dt)}
    ratio_hb = sp.cancel(disc.result["var_heavyball"].rhs.subs(mapping) / var_theta)
    ratio_nag = sp.cancel(disc.result["var_nesterov"].rhs.subs(mapping) / var_theta)
    series_hb = sp.series(ratio_hb, dt, 0, 3).removeO()
    series_nag = sp.series(ratio_nag, dt, 0, 2).removeO()
    a = c * dt / m
    box = {m: (0.2, 5.0), c: (0.05, 5.0), h: (0.05, 10.0), sigma: (0.1, 3.0), dt: (1e-3, 0.5)}
    claims = (
        claim("var_theta", sol[pxx], var_theta, box, note="fluctuation–dissipation"),
        claim("var_v", sol[pvv], var_v, box),
        claim("cov_theta_v", sol[pxv], sp.Integer(0), box),
        claim("temperature", h * sol[pxx], m * sol[pvv], box, note="equipartition: h·Var θ = m·Var v = σ²/(2c)"),
        claim(
            "heavy_ball_ratio",
            ratio_hb,
            (4 - 2 * a) / (4 - 2 * a - h * dt**2 / m),
            box,
            where=h * dt**2 / m < 4 - 2 * a - sp.Rational(1, 10),
        ),
        claim(
            "heavy_ball_agreement_order",
            series_hb,
            1 + h * dt**2 / (4 * m),
            box,
            note="the variances agree to second order in Δt",
        ),
        claim(
            "nesterov_agreement_order",
            series_nag,
            1 - h * dt / c,
            box,
            note="Nesterov's gradient correction acts as extra friction: first order only",
        ),
    )
    # every derivation module ends with its results, its steps and the keyword constructor, the
    # registry's interface: their shape repeats from module to module by design (the contents differ)
    result = {
        "var_theta": sp.Eq(sp.Symbol(r"\mathrm{Var}\,\theta"), var_theta),
        "var_v": sp.Eq(sp.Symbol(r"\mathrm{Var}\,v"), var_v),
        "ratio_heavyball": sp.Eq(sp.Symbol(r"\rho_{\mathrm{HB}}"), ratio_hb),
        "ratio_heavyball_series": sp.Eq(sp.Symbol(r"\rho_{\mathrm{HB}}"), series_hb),
        "ratio_nesterov_series": sp.Eq(sp.Symbol(r"\rho_{\mathrm{NAG}}"), series_nag),
    }
    steps = (
        ("the continuous Lyapunov equation", sp.Eq(lyap, sp.zeros(2, 2))),
        ("the velocity-form map", sp.Eq(sp.Tuple(g, mu, sg**2), sp.Tuple(dt**2 / m, 1 - c * dt / m, sigma**2 / dt))),
        ("discrete over continuous (heavy ball)", sp.Eq(sp.Symbol(r"\rho_{\mathrm{HB}}"), ratio_hb)),
    )
    return Derivation(
        name="langevin_stationary",
        title="The heavy-ball SDE's stationary law and the noisy heavy ball",
        assumptions=assumption_texts(
            (m, c, h, sigma, dt),
            "one curvature h; scalar noise amplitude σ; the discrete method is torch's SGD from the velocity-form map",
        ),
        symbols={"m": m, "c": c, "h": h, "sigma": sigma, "dt": dt},
        result=result,
        steps=steps,
        claims=claims,
        findings=FINDINGS,
        signatures={"var_theta": (m, c, h, sigma)},
        references=(
            "Pavliotis (2014), Stochastic Processes and Applications (the Langevin equation)",
            "Leimkuhler & Matthews (2013), Appl. Math. Res. Express",
        ),
        twins=_twins(),
    )
