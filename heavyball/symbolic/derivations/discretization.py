"""The derivation ``discretization`` (see :func:`discretization`)."""

from __future__ import annotations

import functools
from typing import Any

import sympy as sp

from ..algebra import assumption_texts, box_of, given_positive, pos, real
from ..claims import Derivation, claim
from ..rules import semi_implicit_euler, torch_sgd_step

#: position in the catalogue of derivations
ORDER = 10

#: what the derivation shows, in words
FINDINGS = (
    "Semi-implicit Euler gives $μ = 1 − cΔt/m$ and $η = Δt/m$ in the velocity form "
    "$v_{k+1} = μv_k − η∇f(θ_k)$, $θ_{k+1} = θ_k + Δt·v_{k+1}$.",
    "In the displacement form $θ_{k+1} = θ_k + p_{k+1}$ ($p = Δt·v$), which is the form of the "
    "lecture's slide and of torch.optim.SGD, the gradient coefficient is $Δt²/m$: "
    "SGD with $γ = Δt²/m$ and momentum $1 − cΔt/m$, buffer $b = −p/γ$.",
    "The lecture pairs $θ_{t+1} = θ_t + v_{t+1}$ with $η = Δt/m$. That pairing holds only in the "
    "velocity form $θ ← θ + Δt·v$. Read literally, $v ← μv − (Δt/m)∇f$ with $θ ← θ + v$ "
    "approximates $mθ'' + cθ' + ∇f/Δt = 0$ (the derived force coefficient is $1/Δt$, not 1), "
    "so it is not a consistent discretisation of the heavy-ball ODE.",
    "The effective step $η_p/(1 − μ) = Δt/c$ is the gradient-flow step of the overdamped limit, "
    "and the fixed point of the velocity update, $−η∇f/(1 − μ) = −∇f/c$, is the ODE's terminal velocity.",
)


def _force_coefficient(theta: Any, g: Any, mu: Any, *, m: Any, c: Any, dt: Any) -> tuple[Any, Any, Any, Any]:
    """Which ODE does ``v ← μv − κg``, ``θ ← θ + v`` approximate?

    Eliminating ``v`` with the second difference gives
    ``m(θ_{k+1} − 2θ_k + θ_{k−1})/Δt² + c(θ_k − θ_{k−1})/Δt = −(mκ/Δt²) g_k``: the coefficient
    of ``∇f`` in ``mθ'' + cθ' + force·∇f = 0``. Returns ``(θ_{k−1}, κ, residual, force)``.
    """
    theta_prev = real("theta_km1")
    kappa = sp.Symbol("kappa", positive=True)  # a generic gradient coefficient
    theta_next = theta + mu * (theta - theta_prev) - kappa * g
    residual = sp.expand(m * (theta_next - 2 * theta + theta_prev) / dt**2 + c * (theta - theta_prev) / dt)
    return theta_prev, kappa, residual, sp.factor(-residual.coeff(g))


def _signatures(m: Any, c: Any, dt: Any, mu: Any, eta: Any, lr: Any) -> dict[str, tuple[Any, ...]]:
    """The argument order of each numeric result."""
    sig_mcd = (m, c, dt)
    return {
        "mu": sig_mcd,
        "eta": sig_mcd,
        "eta_displacement": sig_mcd,
        "lr": sig_mcd,
        "momentum": sig_mcd,
        "effective_step": sig_mcd,
        "m_from_velocity": (mu, eta, dt),
        "c_from_velocity": (mu, eta, dt),
        "m_from_torch": (lr, mu, dt),
        "c_from_torch": (lr, mu, dt),
    }


def _inverse_map(pairs: tuple[tuple[Any, Any], tuple[Any, Any]], *, m: Any, c: Any) -> tuple[Any, Any]:
    """Mass and friction from two hyperparameters: solve ``symbol = expression(m, c)`` for the
    two ``(symbol, expression)`` pairs."""
    M, C = sp.symbols("M C")  # the unknown mass and friction
    to_mc = {m: M, c: C}
    sol = sp.solve([sp.Eq(sym, expr.subs(to_mc)) for sym, expr in pairs], [M, C], dict=True)[0]
    return sol[M], sol[C]


@functools.cache
def discretization(*, m: Any = None, c: Any = None, dt: Any = None) -> Derivation:
    r"""Semi-implicit Euler on the heavy-ball ODE, its two position forms, and the map to SGD.

    From ``m·v' = −∇f − c·v``, ``θ' = v`` with step Δt (velocity first, then position):
    ``v_{k+1} = μ v_k − η ∇f(θ_k)``, ``θ_{k+1} = θ_k + Δt·v_{k+1}`` with ``μ = 1 − cΔt/m``,
    ``η = Δt/m`` (velocity form). With the displacement ``p = Δt·v`` the position update is
    ``θ_{k+1} = θ_k + p_{k+1}`` and the gradient coefficient is ``Δt²/m``; that is
    ``torch.optim.SGD(lr=Δt²/m, momentum=1 − cΔt/m)`` with ``b = −p/lr``. Inverse maps
    ``m = Δt/η, c = (1−μ)/η`` (velocity) and ``m = Δt²/γ, c = (1−μ)Δt/γ`` (torch).

    Examples
    --------
    >>> d = discretization()
    >>> d.result["lr"], d.result["m_from_velocity"]
    (dt**2/m, dt/eta)
    """
    m, c, dt = given_positive(m=m, c=c, dt=dt)
    theta, v, g, p, b = (real(n) for n in ("theta_k", "v_k", "g_k", "p_k", "b_k"))
    mu_s, eta_s, lr = pos("mu"), pos("eta"), pos("lr")

    theta1, v1 = semi_implicit_euler(theta, v, g, m=m, c=c, dt=dt)
    v1e = sp.expand(v1)
    mu = sp.expand(v1e.coeff(v))
    eta = sp.factor(-v1e.coeff(g))
    # displacement form p = Δt·v
    p1 = sp.expand(dt * v1.subs(v, p / dt))
    mu_p, eta_p = sp.expand(p1.coeff(p)), sp.factor(-p1.coeff(g))
    # torch: b ← μb + g, θ ← θ − γb, read as a displacement p = −γb
    theta_t, _ = torch_sgd_step(theta, b, g, lr=lr, momentum=mu_s)
    p_torch = sp.expand((theta_t - theta).subs(b, -p / lr))
    lr_map = sp.solve(sp.Eq(p_torch.coeff(g), p1.coeff(g)), lr)[0]
    momentum_map = sp.expand(sp.solve(sp.Eq(p_torch.coeff(p), mu_p), mu_s)[0])
    m_v, c_v = _inverse_map(((mu_s, mu), (eta_s, eta)), m=m, c=c)  # from the velocity form
    m_t, c_t = _inverse_map(((mu_s, momentum_map), (lr, lr_map)), m=m, c=c)  # from torch's
    effective = sp.cancel(eta_p / (1 - mu))
    vinf = sp.Symbol("v_inf")
    terminal_discrete = sp.solve(sp.Eq(vinf, mu * vinf - eta * g), vinf)[0]
    terminal_ode = sp.solve(sp.Eq(0, -g - c * vinf), vinf)[0]
    theta_prev, kappa, residual, force = _force_coefficient(theta, g, mu, m=m, c=c, dt=dt)
    force_disp, force_lecture = sp.factor(force.subs(kappa, eta_p)), sp.factor(force.subs(kappa, eta))

    box = box_of(m=m, c=c, dt=dt, value=[theta, v, g, p, b, theta_prev], mu=mu_s, eta=[eta_s, kappa], lr=lr)
    claims = (
        claim("mu", mu, 1 - c * dt / m, box, note="momentum of the semi-implicit step"),
        claim("eta", eta, dt / m, box, note="gradient coefficient of the velocity form"),
        claim("velocity_update_form", v1e, mu * v - eta * g, box, note="the velocity update is exactly μv − η∇f"),
        claim("position_update_velocity_form", theta1, theta + dt * v1, box),
        claim("mu_displacement", mu_p, mu, box, note="the displacement form has the same momentum"),
        claim("eta_displacement", eta_p, dt**2 / m, box, note="gradient coefficient once θ ← θ + p"),
        claim("lr", lr_map, dt**2 / m, box, note="torch's learning rate"),
        claim("momentum", momentum_map, 1 - c * dt / m, box, note="torch's momentum"),
        claim("m_from_velocity", m_v, dt / eta_s, box),
        claim("c_from_velocity", c_v, (1 - mu_s) / eta_s, box),
        claim("m_from_torch", m_t, dt**2 / lr, box),
        claim("c_from_torch", c_t, (1 - mu_s) * dt / lr, box),
        claim("effective_step", effective, dt / c, box, note="η_p/(1−μ) = Δt/c"),
        claim(
            "terminal_velocity", terminal_discrete, terminal_ode, box, note="fixed point of the velocity update = −∇f/c"
        ),
        claim(
            "force_coefficient_displacement",
            force_disp,
            sp.Integer(1),
            box,
            note="θ ← θ + p with Δt²/m: m θ'' + cθ' + ∇f = 0",
        ),
        claim(
            "force_coefficient_lecture",
            force_lecture,
            1 / dt,
            box,
            note="θ ← θ + v with Δt/m: the force is scaled by 1/Δt",
        ),
    )
    # every derivation module ends with its results, its steps and the keyword constructor, the
    # registry's interface: their shape repeats from module to module by design (the contents differ)
    result = {
        "mu": mu,
        "eta": eta,
        "eta_displacement": eta_p,
        "lr": lr_map,
        "momentum": momentum_map,
        "m_from_velocity": m_v,
        "c_from_velocity": c_v,
        "m_from_torch": m_t,
        "c_from_torch": c_t,
        "effective_step": effective,
        "terminal_velocity": terminal_discrete,
        "force_coefficient_lecture": force_lecture,
    }
    steps = (
        ("semi-implicit Euler, velocity", sp.Eq(sp.Symbol("v_{k+1}"), v1)),
        ("semi-implicit Euler, position", sp.Eq(sp.Symbol("theta_{k+1}"), theta + dt * sp.Symbol("v_{k+1}"))),
        ("collected", sp.Eq(sp.Symbol("v_{k+1}"), mu * v - eta * g)),
        ("displacement $p = Δt·v$", sp.Eq(sp.Symbol("p_{k+1}"), p1)),
        ("torch's step as a displacement $p = −γb$", sp.Eq(sp.Symbol("p_{k+1}"), p_torch)),
        (
            "$θ ← θ + v$, $v ← μv − κg$ in difference quotients ($D_2$ the second, $D_1$ the first)",
            sp.Eq(m * sp.Symbol("D2") + c * sp.Symbol("D1"), residual),
        ),
        ("force coefficient", force),
    )
    signatures = _signatures(m, c, dt, mu_s, eta_s, lr)
    return Derivation(
        name="discretization",
        title="Semi-implicit Euler on the heavy-ball ODE and the map to SGD",
        assumptions=assumption_texts(
            (m, c, dt, mu_s, eta_s, lr, theta, v, g),
            "$mv' = −∇f(θ) − cv$, $θ' = v$; one step of length $Δt$, velocity first (semi-implicit Euler)",
            "$g_k = ∇f(θ_k)$ is a number per coordinate (the update is coordinatewise)",
        ),
        symbols={"m": m, "c": c, "dt": dt, "mu": mu_s, "eta": eta_s, "lr": lr, "g": g, "v": v, "p": p, "theta": theta},
        result=result,
        steps=steps,
        claims=claims,
        findings=FINDINGS,
        signatures=signatures,
        references=("Qian (1999)", "the lecture, slide 'Momento y amortiguamiento: modelo fisico'"),
    )
