r"""Discrete iterates against the continuous solution.

The heavy-ball ODE ``m·θ'' + c·θ' + ∇f(θ) = 0`` is discretised, in the velocity form that all
schemes here share,

.. math::

    v_{k+1} = \mu\, v_k - \eta\, \nabla f(\theta_k), \qquad
    \theta_{k+1} = \theta_k + \Delta t\, v_{k+1},

and the schemes differ only in how ``(μ, η)`` depend on ``(m, c, Δt)``:

================== ======================== ======================= ===== ===========================
scheme             μ                        η                       order source
================== ======================== ======================= ===== ===========================
semi-implicit      1 − cΔt/m                Δt/m                    1     symplectic Euler
implicit-friction  m/(m + cΔt)              Δt/(m + cΔt)            1     Qian (1999)
exponential        exp(−cΔt/m)              Δt/m                    1     França et al. (2020)
================== ======================== ======================= ===== ===========================

**The Δt subtlety.** The position update uses ``Δt·v``. Writing it as
``θ_{k+1} = θ_k + p_{k+1}`` (PyTorch's and the lecture's form) needs ``p = Δt·v``, so the
gradient coefficient becomes ``Δt·η`` (``Δt²/m`` for the default scheme):
``SGD(lr=Δt²/m, momentum=1 − cΔt/m)`` is the semi-implicit scheme, and :func:`to_torch`
returns exactly that. Pairing ``θ_{k+1} = θ_k + v_{k+1}`` with ``η = Δt/m`` (the lecture's
slide) is a different reading: it is the same scheme with a unit time step for the mass
``m/Δt`` and friction ``c``, so it agrees with the ODE of mass ``m`` only when ``Δt = 1``.

This module also holds the comparisons that put iterates next to continuous solutions
(:func:`compare`, :func:`convergence_order`), the fixed-momentum scaling limit of Kovachki &
Stuart (2021) (:func:`gradient_flow_limit`, :func:`modified_equation`,
:func:`compare_momentum`) and the Nesterov limit of Su, Boyd & Candès (2016)
(:func:`nesterov_iterates`, :func:`nesterov_limit`).

References
----------
Qian, N. (1999). On the momentum term in gradient descent learning algorithms. Neural Networks 12.
França, G., Sulam, J., Robinson, D. P. & Vidal, R. (2020). Conformal symplectic and relativistic
optimization. NeurIPS 2020.
Kovachki, N. B. & Stuart, A. M. (2021). Continuous time analysis of momentum methods. JMLR 22(17).
Su, W., Boyd, S. & Candès, E. J. (2016). A differential equation for modeling Nesterov's
accelerated gradient method: theory and insights. JMLR 17(153).
"""

from __future__ import annotations

import dataclasses
import math
from typing import NamedTuple

import numpy as np

from ._validation import (
    as_bool,
    as_choice,
    as_float_array,
    as_int,
    as_real,
    broadcast_shapes,
    check_momentum,
    check_theta,
    describe,
)
from .adam_ode import AdamODE
from .dynamics import METHODS as SOLVERS
from .dynamics import GradientFlowODE, HeavyBallODE, NesterovODE, _check_problem, _point, exact, simulate
from .iterate import MEMORY_BUDGET, iterate
from .optimizers import SGD, HeavyBall
from .problems import Quadratic
from .status import Status

__all__ = [
    "SCHEMES",
    "SCHEME_ORDER",
    "Comparison",
    "OrderFit",
    "compare",
    "compare_momentum",
    "continuum",
    "convergence_order",
    "discretize",
    "fit_order",
    "gradient_flow_limit",
    "modified_coefficient",
    "modified_equation",
    "nesterov_iterates",
    "nesterov_limit",
    "slow_manifold_shift",
    "to_torch",
]

#: the discretisations of the heavy-ball ODE, in the order they are documented
SCHEMES = ("semi-implicit", "implicit-friction", "exponential")

#: global order of accuracy of each scheme (error in θ on a fixed interval [0, T] is O(Δt^order))
SCHEME_ORDER = {"semi-implicit": 1, "implicit-friction": 1, "exponential": 1}

#: the momentum methods whose fixed-momentum limits are known here
METHODS = ("heavyball", "nesterov")


def _scalar_or_array(x: np.ndarray):
    return float(x) if x.ndim == 0 else x


# --------------------------------------------------------------------------------------
# (m, c, Δt) <-> (μ, η)
# --------------------------------------------------------------------------------------
def discretize(m, c, dt, *, scheme="semi-implicit"):
    r"""The velocity-form coefficients ``(mu, eta)`` of a discretisation of the heavy-ball ODE.

    The ODE ``m·θ'' + c·θ' + ∇f(θ) = 0`` is written as ``θ' = v``, ``m·v' = −c·v − ∇f(θ)`` and
    every scheme advances it as

    .. math::

        v_{k+1} = \mu v_k - \eta \nabla f(\theta_k), \qquad \theta_{k+1} = \theta_k + \Delta t\, v_{k+1}.

    ``scheme="semi-implicit"`` (symplectic Euler: explicit in the force, the new velocity in
    the position update)
        ``μ = 1 − cΔt/m``, ``η = Δt/m``. Global order 1.
    ``scheme="implicit-friction"`` (Qian 1999: the friction ``−c·v_{k+1}`` taken at the new
    time, a backward difference)
        ``μ = m/(m + cΔt)``, ``η = Δt/(m + cΔt)``. Global order 1. In the displacement form
        ``θ_{k+1} = θ_k + p_{k+1}`` the gradient coefficient is Qian's ``Δt²/(m + cΔt)``.
    ``scheme="exponential"`` (conformal symplectic Euler, França, Sulam, Robinson & Vidal 2020)
        ``μ = exp(−cΔt/m)``, ``η = Δt/m``: the exact flow of the dissipative part
        ``m·v' = −c·v`` over ``Δt`` followed by one symplectic-Euler step of the conservative
        part (their "classical momentum" update, a Lie–Trotter splitting). Global order 1.
        Every scheme of this form maps the symplectic form ``dθ∧dv`` to ``μ·dθ∧dv``
        whatever ``η`` is, and the exact flow contracts it by ``exp(−cΔt/m)``;
        only this scheme has the exact conformal factor, so phase-space volume shrinks at
        the ODE's rate at every step (the other two schemes get it to ``O(Δt²)`` per step).
        The alternative ``η = (1 − e^{−cΔt/m})/c`` (exponential Euler, the force frozen over
        the step) is also first order and conformal symplectic; it is not used because it is
        not the composition of the exact dissipative flow with a symplectic step that França
        et al. analyse, and it differs from ``Δt/m`` only at ``O(Δt²)``. The order stays 1:
        a Lie–Trotter splitting is first order.

    Parameters
    ----------
    m : float or array_like, > 0
        Mass.
    c : float or array_like, >= 0
        Friction.
    dt : float or array_like, > 0
        Time step.
    scheme : {"semi-implicit", "implicit-friction", "exponential"}

    Returns
    -------
    mu, eta : float or ndarray
        Broadcast over ``m``, ``c`` and ``dt`` (floats when all three are scalars).

    Examples
    --------
    >>> import heavyball as hb
    >>> hb.discretize(1.0, 0.5, 0.1)
    (0.95, 0.1)
    >>> mu, eta = hb.discretize(1.0, 0.5, [0.1, 0.2], scheme="implicit-friction")
    >>> mu.round(6).tolist(), eta.round(6).tolist()
    ([0.952381, 0.909091], [0.095238, 0.181818])
    """
    scheme = as_choice("scheme", scheme, SCHEMES)
    m = as_real("m", m, lower=0.0, lower_inclusive=False, array=True)
    c = as_real("c", c, lower=0.0, array=True)
    dt = as_real("dt", dt, lower=0.0, lower_inclusive=False, array=True)
    broadcast_shapes(m=m.shape, c=c.shape, dt=dt.shape)
    with np.errstate(over="ignore", under="ignore"):  # extreme finite inputs give ±inf/0, silently
        x = c * dt / m
        if scheme == "semi-implicit":
            mu, eta = 1.0 - x, dt / m
        elif scheme == "implicit-friction":
            mu, eta = m / (m + c * dt), dt / (m + c * dt)
        else:  # exponential
            mu, eta = np.exp(-x), dt / m
    mu, eta = np.broadcast_arrays(mu, eta)
    return _scalar_or_array(np.array(mu)), _scalar_or_array(np.array(eta))


def continuum(mu, eta, dt, *, scheme="semi-implicit"):
    r"""Invert :func:`discretize`: the mass and friction ``(m, c)`` behind ``(mu, eta, dt)``.

    ``scheme="semi-implicit"``: ``m = Δt/η``, ``c = (1 − μ)/η``.
    ``scheme="implicit-friction"``: ``m = μΔt/η``, ``c = (1 − μ)/η``.
    ``scheme="exponential"``: ``m = Δt/η``, ``c = −ln(μ)/η``.

    Parameters
    ----------
    mu : float or array_like
        Momentum; ``mu <= 1`` (``c >= 0``); the implicit-friction and exponential schemes
        need ``0 < mu <= 1``.
    eta : float or array_like, > 0
    dt : float or array_like, > 0
    scheme : {"semi-implicit", "implicit-friction", "exponential"}

    Returns
    -------
    m, c : float or ndarray

    Examples
    --------
    >>> import heavyball as hb
    >>> m, c = hb.continuum(0.95, 0.1, 0.1)
    >>> m, round(c, 12)
    (1.0, 0.5)
    """
    scheme = as_choice("scheme", scheme, SCHEMES)
    positive = scheme != "semi-implicit"
    mu = as_real("mu", mu, lower=0.0 if positive else None, lower_inclusive=False, upper=1.0, array=True)
    eta = as_real("eta", eta, lower=0.0, lower_inclusive=False, array=True)
    dt = as_real("dt", dt, lower=0.0, lower_inclusive=False, array=True)
    broadcast_shapes(mu=mu.shape, eta=eta.shape, dt=dt.shape)
    with np.errstate(over="ignore", under="ignore"):  # a tiny `eta` gives inf, silently
        m = (mu * dt if scheme == "implicit-friction" else dt) / eta
        c = (-np.log(mu) if scheme == "exponential" else 1.0 - mu) / eta
    m, c = np.broadcast_arrays(m, c)
    return _scalar_or_array(np.array(m)), _scalar_or_array(np.array(c) + 0.0)


def to_torch(m, c, dt, *, scheme="semi-implicit"):
    r"""``torch.optim.SGD`` hyperparameters that run a discretisation of the heavy-ball ODE.

    With ``p = Δt·v`` the velocity form becomes PyTorch's ``b ← μb + ∇f``, ``θ ← θ − lr·b``
    with ``b = −p/lr`` and ``lr = Δt·η``; starting from ``v₀ = 0`` (PyTorch's first step
    ``b = g``) the two produce the same iterates. For the default scheme
    ``lr = Δt²/m`` and ``momentum = 1 − cΔt/m`` (see DESIGN.md, "The Δt subtlety"): the
    learning rate is ``Δt·η``, not ``η = Δt/m``, because PyTorch's position update adds the
    displacement ``p = Δt·v`` rather than the velocity. One PyTorch step advances the ODE
    time by ``Δt = √(lr·m)`` for the semi-implicit and exponential schemes. For the
    implicit-friction scheme ``lr`` is Qian's (1999) ``Δt²/(m + cΔt)``.

    Parameters
    ----------
    m, c, dt, scheme
        As in :func:`discretize`.

    Returns
    -------
    dict
        ``{"lr": dt*eta, "momentum": mu}`` (floats, or arrays when the inputs are arrays).

    Examples
    --------
    >>> import heavyball as hb
    >>> hb.to_torch(1.0, 0.5, 0.1)
    {'lr': 0.010000000000000002, 'momentum': 0.95}
    """
    mu, eta = discretize(m, c, dt, scheme=scheme)  # validates m, c, dt
    with np.errstate(over="ignore", under="ignore"):
        lr = np.asarray(dt, dtype=np.float64) * eta
    return {"lr": _scalar_or_array(np.asarray(lr)), "momentum": mu}


# --------------------------------------------------------------------------------------
# comparisons
# --------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True, eq=False)
class Comparison:
    r"""Discrete iterates next to the continuous solution at the same times.

    Attributes
    ----------
    t : ndarray, shape (n,)
        The times ``t_k = k·dt`` (``k = 0 … steps``) at which both are compared.
    theta_discrete : ndarray, shape (n, d)
        The iterates ``θ_k``.
    theta_continuous : ndarray, shape (n, d)
        The continuous solution ``θ(t_k)``.
    error : ndarray, shape (n,)
        ``‖θ_k − θ(t_k)‖`` (Euclidean norm); ``inf`` where the iterates are not finite.
    max_error, final_error : float
        ``max_k error[k]`` and ``error[-1]``.
    energy_discrete, energy_continuous : ndarray, shape (n,)
        The energy along both. For the heavy-ball ODE ``E = ½m‖v‖² + f(θ)`` with the
        discrete velocity ``v_k = (θ_k − θ_{k−1})/dt`` (exact for every scheme here, whose
        position update is ``θ_{k+1} = θ_k + dt·v_{k+1}``) and ``v_0 = v0``; for first-order
        flows ``E = f(θ)``; for the Nesterov ODE ``E = ½‖v‖² + f(θ)``.
    mu, eta : float
        The velocity-form coefficients used (``mu`` is NaN for Nesterov's ``(k−1)/(k+2)``,
        which changes every step).
    dt : float
        Time per step.
    scheme : str
        The scheme or method that produced the iterates.
    steps : int
    success : bool
        ``status.success``: ``True`` when both trajectories were computed to the end and the
        iterates stayed finite.
    status : Status
        ``"completed"``, ``"diverged"`` (the iterates blew up: ``dt`` is beyond the
        scheme's stability limit) or ``"failed"`` (the ODE solver failed).
    message : str
        What happened, in words.
    """

    t: np.ndarray
    theta_discrete: np.ndarray
    theta_continuous: np.ndarray
    error: np.ndarray
    max_error: float
    final_error: float
    energy_discrete: np.ndarray
    energy_continuous: np.ndarray
    mu: float
    eta: float
    dt: float
    scheme: str
    steps: int
    success: bool
    status: Status
    message: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", Status(self.status))  # a word becomes its Status
        for field in ("t", "theta_discrete", "theta_continuous", "error", "energy_discrete", "energy_continuous"):
            value = np.array(getattr(self, field))
            value.flags.writeable = False
            object.__setattr__(self, field, value)

    def __repr__(self) -> str:
        return (
            f"Comparison(scheme={self.scheme!r}, dt={self.dt:g}, steps={self.steps}, "
            f"max_error={self.max_error:.3g}, final_error={self.final_error:.3g}, status={str(self.status)!r})"
        )


def _steps(t_final: float, dt: float) -> int:
    """The number of whole steps of size ``dt`` in ``[0, t_final]`` (tolerant to rounding)."""
    ratio = t_final / dt
    n = round(ratio)
    if abs(n - ratio) <= 1e-9 * max(1.0, ratio):
        return int(n)
    return math.floor(ratio)


def _check_times(t_final, dt, d: int, *, dt_name="dt") -> tuple[float, float, int]:
    """``(t_final, dt, steps)``; the iterates of ``d`` coordinates must fit ``MEMORY_BUDGET``
    (the budget of :func:`~heavyball.iterate`, which records them)."""
    dt = as_real(dt_name, dt, lower=0.0, lower_inclusive=False)
    t_final = as_real("t_final", t_final, lower=0.0, lower_inclusive=False)
    if t_final < dt * (1 - 1e-12):
        raise ValueError(
            f"`t_final` must be >= `{dt_name}` (at least one step), got t_final={t_final:g} and {dt_name}={dt:g}"
        )
    max_steps = MEMORY_BUDGET // (8 * d) - 1
    with np.errstate(over="ignore"):
        ratio = t_final / dt
    if not ratio <= max_steps:  # also inf
        raise ValueError(
            f"`t_final` / `{dt_name}` = {ratio:.3g} steps is too many: the comparison records every iterate "
            f"({d} float64 coordinates), at most {max_steps} steps within MEMORY_BUDGET = {MEMORY_BUDGET} bytes; "
            f"use a shorter `t_final` or a larger `{dt_name}`"
        )
    return t_final, dt, max(_steps(t_final, dt), 1)


def _errors(theta_d: np.ndarray, theta_c: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore", invalid="ignore"):
        err = np.linalg.norm(theta_d - theta_c, axis=-1)
    return np.where(np.isfinite(err), err, np.inf)


def _discrete_energy(problem, theta: np.ndarray, v: np.ndarray | None, m: float) -> np.ndarray:
    """``½m‖v‖² + f(θ)`` along iterates (``m = 0``: ``f(θ)``); inf where not finite."""
    finite = np.all(np.isfinite(theta), axis=-1)
    safe = np.where(finite[:, None], theta, 0.0)
    with np.errstate(over="ignore", invalid="ignore"):
        energy = np.asarray(problem.value(safe), dtype=np.float64)
        if v is not None and m:
            energy = energy + 0.5 * m * np.sum(np.where(finite[:, None], v, 0.0) ** 2, axis=-1)
    return np.where(finite & np.isfinite(energy), energy, np.inf)


def _finite_differences(theta: np.ndarray, v0: np.ndarray, dt: float) -> np.ndarray:
    """``v_k = (θ_k − θ_{k−1})/dt`` for ``k ≥ 1`` and ``v_0 = v0``."""
    with np.errstate(over="ignore", invalid="ignore"):
        return np.concatenate([v0[None, :], np.diff(theta, axis=0) / dt], axis=0)


def _continuous(ode, problem, theta0, t, *, v0, method):
    """The continuous solution at the times ``t``: closed form on quadratics, else ``simulate``."""
    if isinstance(problem, Quadratic) and isinstance(ode, (HeavyBallODE, GradientFlowODE)):
        return exact(ode, problem, theta0, t, v0=v0)
    return simulate(ode, problem, theta0, (0.0, float(t[-1])), v0=v0, t_eval=t, method=method, throw=False)


def _assemble(*, t, theta_d, sol, energy_d, mu, eta, dt, scheme, steps, what, hint="", radius=None) -> Comparison:
    diverged_at = _diverged_at(theta_d)
    theta_c = np.asarray(sol.theta, dtype=np.float64)
    energy_c = np.asarray(sol.energy, dtype=np.float64)
    complete = theta_c.shape == theta_d.shape
    if not complete:  # the solver stopped early: no continuous values past that point
        theta_c, energy_c = np.full_like(theta_d, np.nan), np.full(len(t), np.nan)
    error = _errors(theta_d, theta_c)
    if not sol.success or not complete:
        status = Status.FAILED
        message = f"the continuous solution could not be computed on [0, {t[-1]:g}]: {sol.message}"
    elif diverged_at is not None:
        status = Status.DIVERGED
        message = (
            f"the discrete iterates diverged at step {diverged_at} (t = {diverged_at * dt:g}): "
            f"{what} is unstable{hint}; the error is inf from there on"
        )
    elif radius is not None and radius > 1.0 + 1e-9:
        # unstable although the iterates have not yet passed the divergence bound by t_final
        status = Status.DIVERGED
        message = (
            f"{what} is unstable: its spectral radius on this quadratic is {radius:.4g} > 1, so the "
            f"iterates grow like {radius:.4g}^k (max error {float(np.max(error)):.3g} by t = {t[-1]:g}){hint}"
        )
    else:
        status = Status.COMPLETED
        message = (
            f"compared {steps} steps of dt = {dt:g} on [0, {t[-1]:g}]: "
            f"max error {float(np.max(error)):.3g}, final error {float(error[-1]):.3g}"
        )
    return Comparison(
        t=t,
        theta_discrete=theta_d,
        theta_continuous=theta_c,
        error=error,
        max_error=float(np.max(error)),
        final_error=float(error[-1]),
        energy_discrete=energy_d,
        energy_continuous=energy_c,
        mu=float(mu),
        eta=float(eta),
        dt=float(dt),
        scheme=scheme,
        steps=int(steps),
        success=status.success,
        status=status,
        message=message,
    )


def _diverged_at(theta_d: np.ndarray):
    """The first step whose iterate is not finite (``iterate`` records NaN from its
    ``diverged_at`` on), or ``None``."""
    bad = ~np.all(np.isfinite(theta_d), axis=-1)
    return int(np.argmax(bad)) if np.any(bad) else None


def _stability_hint(problem, mu: float, lr: float) -> str:
    """On a quadratic: the per-curvature stability condition ``|μ| < 1``, ``0 < lr·h < 2(1+μ)``."""
    if not isinstance(problem, Quadratic):
        return ""
    h_max = problem.h_max
    return (
        f" (on this quadratic stability needs |mu| < 1 and lr·h_max < 2(1 + mu); here lr = dt·eta = {lr:.4g}, "
        f"h_max = {h_max:.4g}: lr·h_max = {lr * h_max:.4g} against 2(1 + mu) = {2 * (1 + mu):.4g})"
    )


def _compare_iterates(ode, opt, problem, theta0, *, dt, t_final, method, mu, eta, what) -> Comparison:
    """The iterates of the optimiser ``opt`` (time ``dt`` per step) against ``simulate(ode)``
    at ``t_k = k·dt``, with the energy ``f(θ)`` on both sides (first-order flows)."""
    d = _check_problem(problem)
    method = as_choice("method", method, SOLVERS)
    t_final, dt, steps = _check_times(t_final, dt, d)
    theta0 = _point("theta0", theta0, d)
    t = np.arange(steps + 1) * dt
    theta_d = np.asarray(iterate(opt, problem, theta0, steps, record="all").theta, dtype=np.float64)
    sol = simulate(ode, problem, theta0, (0.0, float(t[-1])), t_eval=t, method=method, throw=False)
    return _assemble(t=t, theta_d=theta_d, sol=sol, energy_d=_discrete_energy(problem, theta_d, None, 0.0), mu=mu,
                     eta=eta, dt=dt, scheme=what, steps=steps, what=what)  # fmt: skip


def compare(ode, problem, theta0, *, dt, t_final, v0=None, scheme="semi-implicit", method="DOP853") -> Comparison:
    r"""Run a discretisation of the heavy-ball ODE (or Adam) and put it next to the ODE's solution.

    The iterates ``θ_k`` of :class:`~heavyball.HeavyBall` with ``(mu, eta) =
    discretize(ode.m, ode.c, dt, scheme=scheme)`` (run by :func:`~heavyball.iterate`) are
    compared with the solution ``θ(t)`` of ``m·θ'' + c·θ' + ∇f(θ) = 0`` from the same
    ``(θ₀, v₀)`` at ``t_k = k·dt``, ``k = 0 … ⌊t_final/dt⌋``: the closed form
    (:func:`~heavyball.exact`) on a :class:`~heavyball.Quadratic`, :func:`~heavyball.simulate`
    (``rtol=1e-10``, ``atol=1e-12``) otherwise. The global error ``max_k ‖θ_k − θ(t_k)‖`` is
    ``O(dt)`` for every scheme (``SCHEME_ORDER``).

    A ``dt`` beyond the scheme's stability limit does not raise: the result has
    ``status="diverged"``, ``success=False`` and a message saying at which step the iterates
    blew up (and, on a quadratic, the violated condition ``lr·h_max < 2(1 + mu)``).

    **Adam.** For an :class:`~heavyball.AdamODE` the iterates are torch's Adam with step
    ``lr = dt``, ``β₁ = 1 − a·dt``, ``β₂ = 1 − b·dt`` (:meth:`~heavyball.AdamODE.to_adam`),
    against :func:`~heavyball.simulate` of the ODE from ``t = 0``; the error is ``O(dt)``.
    ``scheme`` is then ``"adam"`` (or ``"adamw"``), ``mu = β₁`` and ``eta = 1 − β₁``: Adam's
    first moment is the velocity form ``v ← β₁v − (1 − β₁)P∇f``, ``θ ← θ + dt·v`` (with
    ``v = −P m``, ``P = 1/(√v̂ + ε)``) of the heavy ball of mass ``dt/(1 − β₁)`` and unit
    friction, see :func:`~heavyball.adam_heavy_ball`; ``energy`` is ``f(θ)``; ``v0`` and
    ``scheme`` do not apply.

    Parameters
    ----------
    ode : HeavyBallODE or AdamODE
        The ODE (its ``m`` and ``c``; or its ``a``, ``b``, ``ε`` and weight decay).
    problem : Problem
    theta0 : array_like, shape (d,)
    dt : float, > 0
    t_final : float, >= dt
    v0 : array_like, shape (d,), optional
        Initial velocity (zeros when omitted) of both the ODE and the iterates.
    scheme : {"semi-implicit", "implicit-friction", "exponential"}
    method : str
        Integrator passed to :func:`~heavyball.simulate` when there is no closed form.

    Returns
    -------
    Comparison

    Examples
    --------
    >>> import heavyball as hb
    >>> q = hb.Quadratic([[4.0]])
    >>> cmp = hb.compare(hb.HeavyBallODE(m=1.0, c=0.5), q, [1.0], dt=0.01, t_final=10.0)
    >>> str(cmp.status), round(cmp.max_error, 4)
    ('completed', 0.0098)
    """
    if isinstance(ode, AdamODE):
        if v0 is not None:
            raise ValueError(f"`v0` must be None for AdamODE (Adam starts from zero moments), got {describe(v0)}")
        opt = ode.to_adam(as_real("dt", dt, lower=0.0, lower_inclusive=False))
        beta1 = float(opt.betas[0])
        name = "adamw" if ode.decoupled else "adam"
        return _compare_iterates(ode, opt, problem, theta0, dt=dt, t_final=t_final, method=method, mu=beta1,
                                 eta=1.0 - beta1, what=name)  # fmt: skip
    if not isinstance(ode, HeavyBallODE):
        raise TypeError(
            f"`ode` must be a HeavyBallODE (its m and c are discretised) or an AdamODE, got {describe(ode)}"
        )
    d = _check_problem(problem)
    scheme = as_choice("scheme", scheme, SCHEMES)
    method = as_choice("method", method, SOLVERS)
    t_final, dt, steps = _check_times(t_final, dt, d)
    theta0 = _point("theta0", theta0, d)
    v0 = np.zeros_like(theta0) if v0 is None else _point("v0", v0, d)
    mu, eta = discretize(ode.m, ode.c, dt, scheme=scheme)
    t = np.arange(steps + 1) * dt

    opt = HeavyBall(eta, mu, dt)
    state = opt.init(theta0)._replace(v=v0) if np.any(v0 != 0) else None  # None: from rest, fast path
    theta_d = np.asarray(iterate(opt, problem, theta0, steps, record="all", state=state).theta, dtype=np.float64)
    v_d = _finite_differences(theta_d, v0, dt)
    energy_d = _discrete_energy(problem, theta_d, v_d, float(ode.m))
    sol = _continuous(ode, problem, theta0, t, v0=v0, method=method)
    what = f"dt = {dt:g} is beyond the stability limit: the {scheme} scheme (mu = {mu:.6g}, eta = {eta:.6g})"
    radius = None
    if isinstance(problem, Quadratic):  # the eigenvalue test of stability, exact on quadratics
        from .rates import spectral_radius

        radius = float(spectral_radius(problem.eigenvalues, lr=dt * eta, momentum=mu, family="heavyball"))
    return _assemble(t=t, theta_d=theta_d, sol=sol, energy_d=energy_d, mu=mu, eta=eta, dt=dt, scheme=scheme,
                     steps=steps, what=what, hint=_stability_hint(problem, mu, dt * eta), radius=radius)  # fmt: skip


class OrderFit(NamedTuple):
    """A least-squares fit ``log(error) = order·log(dt) + log(constant)``.

    Attributes
    ----------
    order : float
        The fitted slope: the observed order of convergence.
    errors : ndarray
        The errors that were fitted, one per step size.
    residual : float
        Root-mean-square residual of the fit in natural-log units (0 for an exact power law;
        0.01 means the points scatter about 1 % around the line).
    ratios : ndarray
        Successive ratios ``errors[i]/errors[i+1]`` (→ 2^order when the step halves).
    constant : float
        The fitted constant: ``error ≈ constant·dt^order``.
    dts : ndarray
        The step sizes.
    """

    order: float
    errors: np.ndarray
    residual: float
    ratios: np.ndarray
    constant: float
    dts: np.ndarray


def _check_dts(dts) -> np.ndarray:
    dts = as_float_array("dts", dts, dtype=np.float64)
    if dts.ndim != 1 or dts.size < 3:
        raise ValueError(f"`dts` must be a 1-D sequence of at least 3 step sizes, got {describe(dts)}")
    if np.any(dts <= 0):
        raise ValueError(f"`dts` must be positive, got {describe(dts)}")
    if np.any(np.diff(dts) >= 0):
        raise ValueError(f"`dts` must be strictly decreasing, got {describe(dts)}")
    return dts


def fit_order(dts, errors) -> OrderFit:
    r"""Fit ``error ≈ constant·dt^order`` by least squares on ``log(error)`` against ``log(dt)``.

    Parameters
    ----------
    dts : array_like, shape (n,), n >= 3
        Strictly decreasing positive step sizes.
    errors : array_like, shape (n,)
        Positive finite errors.

    Returns
    -------
    OrderFit

    Examples
    --------
    >>> from heavyball.discretization import fit_order
    >>> fit = fit_order([0.4, 0.2, 0.1], [0.16, 0.04, 0.01])
    >>> round(fit.order, 12), round(fit.residual, 12)
    (2.0, 0.0)
    """
    dts = _check_dts(dts)
    errors = as_float_array("errors", errors, dtype=np.float64)
    if errors.shape != dts.shape:
        raise ValueError(f"`errors` must have the shape of `dts` {dts.shape}, got shape {errors.shape}")
    if np.any(errors <= 0):
        raise ValueError(f"`errors` must be positive to be fitted on a log scale, got {describe(errors)}")
    x, y = np.log(dts), np.log(errors)
    design = np.stack([x, np.ones_like(x)], axis=1)
    (order, intercept), *_ = np.linalg.lstsq(design, y, rcond=None)
    residual = float(np.sqrt(np.mean((y - design @ np.array([order, intercept])) ** 2)))
    return OrderFit(
        order=float(order),
        errors=errors,
        residual=residual,
        ratios=errors[:-1] / errors[1:],
        constant=float(np.exp(intercept)),
        dts=dts,
    )


def convergence_order(ode, problem, theta0, t_final, dts, *, scheme="semi-implicit", method="DOP853",
                      measure="max", full_output=False):  # fmt: skip
    r"""The observed global order of a scheme: errors on ``[0, t_final]`` fitted on log–log.

    For each step size ``dt_i`` the iterates start from ``theta0`` with ``v0 = 0`` and

    .. math::

        \mathrm{errors}[i] = \max_{k:\,k\,dt_i \le T} \lVert \theta_k - \theta(k\,dt_i) \rVert

    (``measure="max"``), or the error at the last step (``measure="final"``); the order is
    the slope of the least-squares line through ``(log dt_i, log errors[i])``
    (:func:`fit_order`). Every scheme here has order 1 (``SCHEME_ORDER``): halving ``dt``
    halves the error. For ``m = 1, c = 0.5, h = 4, T = 10``, ``θ₀ = 1`` and
    ``dt = 0.1 … 0.003125`` the semi-implicit ratios are 2.03, 2.01, 2.01, 2.00, 2.00 for the
    max-error and 2.14, 2.07, 2.04, 2.02, 2.01 for the error at ``t = T`` (the figures quoted
    in the literature notes are the latter).

    For an :class:`~heavyball.AdamODE` the iterates are torch's Adam with ``lr = dt``,
    ``β₁ = 1 − a·dt``, ``β₂ = 1 − b·dt`` (see :func:`compare`); its order is 1 as well.

    Parameters
    ----------
    ode : HeavyBallODE or AdamODE
    problem : Problem
    theta0 : array_like, shape (d,)
    t_final : float
        The interval's end ``T``; must be >= ``max(dts)``.
    dts : array_like
        At least 3 strictly decreasing step sizes.
    scheme : {"semi-implicit", "implicit-friction", "exponential"}
    method : str
        Integrator for :func:`~heavyball.simulate` (non-quadratic problems).
    measure : {"max", "final"}
    full_output : bool
        ``False`` (default): return ``(order, errors)``. ``True``: return the
        :class:`OrderFit`, which also carries the fit's residual and the successive ratios.

    Returns
    -------
    order : float
    errors : ndarray
        Or an :class:`OrderFit` when ``full_output=True``.

    Raises
    ------
    ValueError
        ``dts`` not strictly decreasing, fewer than 3 of them, ``t_final < max(dts)``, a
        step size at which the scheme diverges (the error message names it), or an error of
        exactly 0 (``theta0`` a stationary point: nothing to fit).

    Examples
    --------
    >>> import heavyball as hb
    >>> q = hb.Quadratic([[4.0]])
    >>> order, errors = hb.convergence_order(hb.HeavyBallODE(1.0, 0.5), q, [1.0], 10.0, [0.1, 0.05, 0.025])
    >>> round(order, 2)
    1.02
    """
    scheme = as_choice("scheme", scheme, SCHEMES)
    method = as_choice("method", method, SOLVERS)
    measure = as_choice("measure", measure, ("max", "final"))
    full_output = as_bool("full_output", full_output)
    dts = _check_dts(dts)
    t_final = as_real("t_final", t_final, lower=0.0, lower_inclusive=False)
    if t_final < dts[0] * (1 - 1e-12):
        raise ValueError(f"`t_final` must be >= max(`dts`) = {dts[0]:g} (at least one step), got {t_final:g}")
    _check_times(t_final, dts[-1], _check_problem(problem), dt_name="dts")  # the finest step fits, before any work
    errors = np.empty(dts.size)
    for i, dt in enumerate(dts):
        cmp = compare(ode, problem, theta0, dt=dt, t_final=t_final, scheme=scheme, method=method)
        if not cmp.success:
            raise ValueError(f"`dts` contains a step size at which the comparison failed: dt = {dt:g}: {cmp.message}")
        errors[i] = cmp.max_error if measure == "max" else cmp.final_error
    if np.any(errors == 0):
        raise ValueError(
            f"`theta0` leaves nothing to fit: the error is 0 at dt = {dts[np.argmax(errors == 0)]:g} (the iterates "
            f"and the ODE agree exactly, e.g. from a stationary point); no order can be fitted for these `dts`"
        )
    fit = fit_order(dts, errors)
    return fit if full_output else (fit.order, fit.errors)


# --------------------------------------------------------------------------------------
# the fixed-momentum scaling limit (Kovachki & Stuart 2021)
# --------------------------------------------------------------------------------------
def modified_coefficient(momentum, *, method="heavyball"):
    r"""The coefficient ``C(μ)`` of the modified equation of a fixed-momentum method.

    With ``momentum = μ`` fixed, learning rate ``lr`` and time ``t = k·lr``, PyTorch's
    heavy ball (``b ← μb + ∇f``, ``θ ← θ − lr·b``) and Nesterov (``θ ← θ − lr(∇f + μb)``)
    iterates follow, to second order in ``lr``,

    .. math::

        \theta' = -\frac{\nabla f(\theta)}{1-\mu} - \mathrm{lr}\, C(\mu)\, \nabla^2 f(\theta)\,\nabla f(\theta),
        \qquad C_{\rm HB} = \frac{1+\mu}{2(1-\mu)^3}, \quad
        C_{\rm NAG} = \frac{1-\mu+2\mu^2}{2(1-\mu)^3}.

    Derivation (checked in ``symbolic.DERIVATIONS["modified_equation"]``): insert
    ``θ(t ± lr)`` Taylor-expanded into ``θ_{k+1} − θ_k − μ(θ_k − θ_{k−1}) = −lr∇f(θ_k)
    − a·μ·lr(∇f(θ_k) − ∇f(θ_{k−1}))`` (``a = 0`` heavy ball, ``a = 1`` Nesterov) and match
    powers of ``lr``: ``lr(1−μ)θ' + lr²(1+μ)θ''/2 = −lr∇f − a·μ·lr²∇²f θ' + O(lr³)``, with
    ``θ'' = ∇²f∇f/(1−μ)²`` at leading order. This is the modified equation of Kovachki &
    Stuart (2021, JMLR 22(17)) in PyTorch's parametrisation. Nesterov's ``C`` is the same
    for the look-ahead sequence PyTorch returns and for textbook NAG's ``x_k``: the two differ
    by a time shift of one solution of the same flow.

    Parameters
    ----------
    momentum : float or array_like, in [0, 1)
    method : {"heavyball", "nesterov"}

    Returns
    -------
    float or ndarray

    Examples
    --------
    >>> from heavyball.discretization import modified_coefficient
    >>> round(modified_coefficient(0.9), 6), round(modified_coefficient(0.9, method="nesterov"), 6)
    (950.0, 860.0)
    """
    method = as_choice("method", method, METHODS)
    mu = as_real("momentum", momentum, lower=0.0, upper=1.0, upper_inclusive=False, array=True)
    if method == "heavyball":
        coef = (1.0 + mu) / (2.0 * (1.0 - mu) ** 3)
    else:
        coef = (1.0 - mu + 2.0 * mu**2) / (2.0 * (1.0 - mu) ** 3)
    return _scalar_or_array(np.array(coef))


def gradient_flow_limit(momentum, *, method="heavyball"):
    r"""The rescaled gradient flow that fixed-momentum iterates follow as ``lr → 0``.

    With ``momentum = μ`` fixed and time ``t = k·lr``, heavy-ball and Nesterov iterates
    (PyTorch's ``SGD(lr, momentum, nesterov=...)``) converge, with error ``O(lr)`` on bounded
    intervals, to

    .. math:: \theta' = -\frac{\nabla f(\theta)}{1-\mu}

    — the same limit as gradient descent with step ``lr/(1−μ)``; the momentum does not
    survive as inertia (Kovachki & Stuart 2021, JMLR 22(17)). The heavy-ball ODE
    appears only when ``μ → 1`` with ``lr``: ``μ = 1 − c√(lr/m)`` (:func:`to_torch`).

    Parameters
    ----------
    momentum : float, in [0, 1)
    method : {"heavyball", "nesterov"}
        Both have the same limit; the argument is accepted for symmetry with
        :func:`modified_equation`.

    Returns
    -------
    GradientFlowODE
        ``GradientFlowODE(scale=1/(1−μ))``.

    Examples
    --------
    >>> import heavyball as hb
    >>> hb.gradient_flow_limit(0.9).scale
    10.000000000000002
    """
    as_choice("method", method, METHODS)
    mu = check_momentum(momentum, limit=True)
    return GradientFlowODE(scale=1.0 / (1.0 - mu))


def modified_equation(momentum, lr, *, method="heavyball"):
    r"""The modified equation: the fixed-momentum limit to second order in ``lr``.

    .. math::

        \theta' = -\frac{\nabla f(\theta)}{1-\mu} - \mathrm{lr}\,C(\mu)\,\nabla^2 f(\theta)\nabla f(\theta)

    in the time ``t = k·lr``, with ``C`` from :func:`modified_coefficient`. Started from the
    slow-manifold point :func:`slow_manifold_shift` (not from ``θ₀`` itself: PyTorch's first
    step ``b = ∇f`` leaves the iterates ``O(lr)`` behind the flow), it agrees with the
    iterates to ``O(lr²)`` after an initial layer of a few steps (Kovachki & Stuart 2021).

    Parameters
    ----------
    momentum : float, in [0, 1)
    lr : float, > 0
    method : {"heavyball", "nesterov"}

    Returns
    -------
    GradientFlowODE
        ``GradientFlowODE(scale=1/(1−μ), correction=lr·C(μ))``.

    Examples
    --------
    >>> import heavyball as hb
    >>> ode = hb.modified_equation(0.9, 1e-3)
    >>> round(ode.scale, 9), round(ode.correction, 9)
    (10.0, 0.95)
    """
    method = as_choice("method", method, METHODS)
    mu = check_momentum(momentum, limit=True)
    lr = as_real("lr", lr, lower=0.0, lower_inclusive=False)
    return GradientFlowODE(scale=1.0 / (1.0 - mu), correction=lr * modified_coefficient(mu, method=method))


def slow_manifold_shift(problem, theta0, *, lr, momentum, method="heavyball") -> np.ndarray:
    r"""The initial value of the limiting flow that PyTorch's iterates from ``theta0`` track.

    PyTorch's first momentum step sets ``b = ∇f`` (``v₀ = 0``), so the iterates start below
    the flow's speed and settle, within a few steps, ``O(lr)`` behind the flow from
    ``theta0``. Summing the geometric deficit of the first steps gives the flow's effective
    initial value

    .. math::

        \theta(0) = \theta_0 + \mathrm{lr}\,\frac{\mu^{p}}{(1-\mu)^2}\nabla f(\theta_0),
        \qquad p = 1 \text{ (heavy ball)},\; p = 2 \text{ (Nesterov, PyTorch's parameters)},

    accurate to ``O(lr²)``: on ``f = ½hx²`` it is the coefficient of the slow root in the
    exact solution of the two-step recurrence.

    Parameters
    ----------
    problem : Problem
    theta0 : array_like, shape (..., d)
    lr : float, > 0
    momentum : float, in [0, 1)
    method : {"heavyball", "nesterov"}

    Returns
    -------
    ndarray, shape of ``theta0``

    Examples
    --------
    >>> import heavyball as hb
    >>> from heavyball.discretization import slow_manifold_shift
    >>> slow_manifold_shift(hb.Quadratic([[1.0]]), [1.0], lr=1e-3, momentum=0.5).round(6)  # 1 + 1e-3·0.5/0.25
    array([1.002])
    """
    d = _check_problem(problem)
    method = as_choice("method", method, METHODS)
    mu = check_momentum(momentum, limit=True)
    lr = as_real("lr", lr, lower=0.0, lower_inclusive=False)
    theta0 = np.asarray(check_theta("theta0", theta0, d, finite=True), dtype=np.float64)
    power = 1 if method == "heavyball" else 2
    return theta0 + lr * mu**power / (1.0 - mu) ** 2 * np.asarray(problem.grad(theta0), dtype=np.float64)


def compare_momentum(ode, problem, theta0, *, lr, momentum, t_final, nesterov=False, initial="auto",
                     method="DOP853") -> Comparison:  # fmt: skip
    r"""PyTorch's ``SGD(lr, momentum, nesterov)`` iterates against a continuous model.

    The iterates (run by :func:`~heavyball.iterate` with :class:`~heavyball.SGD`, ``v₀ = 0``)
    are compared with the solution of ``ode`` at the times the model assigns to them:

    - a ``GradientFlowODE`` (:func:`gradient_flow_limit`, :func:`modified_equation`): the
      fixed-momentum scaling, ``t_k = k·lr``. The flow starts at ``theta0``
      (``initial="same"``) or at :func:`slow_manifold_shift` (``initial="slow-manifold"``);
      ``initial="auto"`` picks the shift when the flow has a second-order ``correction``
      (without it the modified equation is only first-order accurate) and ``theta0``
      otherwise.
    - a ``HeavyBallODE(m, c)``: the ODE scaling of :func:`to_torch`, one step is
      ``dt = √(lr·m)`` and ``t_k = k·dt``, from ``v₀ = 0``. With ``momentum = 1 − c·dt/m``
      these are the semi-implicit iterates of :func:`compare` and the error is ``O(dt)``.

    Parameters
    ----------
    ode : GradientFlowODE or HeavyBallODE
    problem : Problem
    theta0 : array_like, shape (d,)
    lr : float, > 0
    momentum : float, in [0, 1)
    t_final : float
        End of the compared interval in the ODE's time (>= one step).
    nesterov : bool
        PyTorch's Nesterov variant.
    initial : {"auto", "same", "slow-manifold"}
    method : str
        Integrator for :func:`~heavyball.simulate` when there is no closed form.

    Returns
    -------
    Comparison
        ``mu = momentum`` and ``eta = lr/dt`` (the velocity form with ``v = Δθ/dt``).

    Examples
    --------
    >>> import heavyball as hb
    >>> from heavyball.discretization import compare_momentum
    >>> q = hb.Quadratic.valley(kappa=5)
    >>> errors = [compare_momentum(hb.modified_equation(0.9, lr), q, [1.0, 1.0], lr=lr, momentum=0.9,
    ...                            t_final=1.0).final_error for lr in (1e-3, 5e-4)]
    >>> round(errors[0] / errors[1], 1)          # second order: halving lr quarters the error
    4.1
    """
    d = _check_problem(problem)
    nesterov = as_bool("nesterov", nesterov)
    initial = as_choice("initial", initial, ("auto", "same", "slow-manifold"))
    method = as_choice("method", method, SOLVERS)
    mu = check_momentum(momentum, limit=True)
    lr = as_real("lr", lr, lower=0.0, lower_inclusive=False)
    theta0 = _point("theta0", theta0, d)
    kind = "nesterov" if nesterov else "heavyball"
    if isinstance(ode, GradientFlowODE):
        dt, mass, v0 = lr, 0.0, None
        if initial == "auto":
            initial = "slow-manifold" if float(ode.correction) != 0.0 else "same"
        start = theta0 if initial == "same" else slow_manifold_shift(problem, theta0, lr=lr, momentum=mu, method=kind)
    elif isinstance(ode, HeavyBallODE):
        if initial == "slow-manifold":
            raise ValueError(
                f"`initial` must be 'auto' or 'same' for a HeavyBallODE (it starts at theta0 with v0 = 0), got {initial!r}"
            )
        dt, mass, start = math.sqrt(lr * float(ode.m)), float(ode.m), theta0
        v0 = np.zeros_like(theta0)
    else:
        raise TypeError(f"`ode` must be a GradientFlowODE or a HeavyBallODE, got {describe(ode)}")
    t_final, dt, steps = _check_times(t_final, dt, d, dt_name="lr" if mass == 0.0 else "sqrt(lr*m)")
    t = np.arange(steps + 1) * dt
    with np.errstate(over="ignore", invalid="ignore"):
        trajectory = iterate(SGD(lr, momentum=mu, nesterov=nesterov), problem, theta0, steps, record="all")
    theta_d = np.asarray(trajectory.theta, dtype=np.float64)  # NaN after a divergence
    v_d = _finite_differences(theta_d, np.zeros_like(theta0), dt) if mass else None
    energy_d = _discrete_energy(problem, theta_d, v_d, mass)
    sol = _continuous(ode, problem, start, t, v0=v0, method=method)
    what = f"SGD(lr={lr:g}, momentum={mu:g}, nesterov={nesterov})"
    hint = "" if nesterov else _stability_hint(problem, mu, lr)
    return _assemble(t=t, theta_d=theta_d, sol=sol, energy_d=energy_d, mu=mu, eta=lr / dt, dt=dt,
                     scheme=f"{kind} (torch)", steps=steps, what=what, hint=hint)  # fmt: skip


# --------------------------------------------------------------------------------------
# the Nesterov limit (Su, Boyd & Candès 2016)
# --------------------------------------------------------------------------------------
def nesterov_iterates(problem, theta0, *, s, steps, r=3.0) -> np.ndarray:
    r"""Nesterov's method for convex problems, with momentum ``(k−1)/(k+r−1)``.

    .. math::

        x_k = y_{k-1} - s\,\nabla f(y_{k-1}), \qquad
        y_k = x_k + \frac{k-1}{k+r-1}(x_k - x_{k-1}), \qquad y_0 = x_0,

    ``r = 3`` being Nesterov's ``(k−1)/(k+2)`` (Su, Boyd & Candès 2016; their Section 5
    generalises ``r``). The momentum changes every step, which the optimisers of
    :mod:`heavyball.optimizers` (constant ``momentum``) do not express, hence this recurrence.
    Vectorised over a batch of starting points.

    Parameters
    ----------
    problem : Problem
    theta0 : array_like, shape (..., d)
    s : float, > 0
        Step size.
    steps : int, >= 0
    r : float, >= 0

    Returns
    -------
    ndarray, shape (steps + 1, ..., d)
        ``x_0 … x_steps``. Non-finite values are left as they come (divergence).

    Examples
    --------
    >>> import heavyball as hb
    >>> from heavyball.discretization import nesterov_iterates
    >>> x = nesterov_iterates(hb.Quadratic([[1.0]]), [1.0], s=0.01, steps=3)
    >>> x[:, 0].round(6).tolist()
    [1.0, 0.99, 0.9801, 0.967849]
    """
    d = _check_problem(problem)
    s = as_real("s", s, lower=0.0, lower_inclusive=False)
    r = as_real("r", r, lower=0.0)
    steps = as_int("steps", steps, minimum=0)
    x = np.array(check_theta("theta0", theta0, d, finite=True), dtype=np.float64)
    out = np.empty((steps + 1,) + x.shape)
    out[0] = x
    y = x.copy()
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(1, steps + 1):
            x_new = y - s * problem.grad(y)
            y = x_new + ((k - 1) / (k + r - 1)) * (x_new - x)
            x = x_new
            out[k] = x
    return out


def nesterov_limit(problem, theta0, *, s, t_final, r=3.0, method="DOP853") -> Comparison:
    r"""Nesterov's iterates against ``X'' + (r/t)X' + ∇f(X) = 0`` at ``t_k = k√s``.

    Su, Boyd & Candès (2016) show that :func:`nesterov_iterates` with step ``s``
    converge to the solution of the ODE with ``X(0) = x₀``, ``X'(0) = 0`` as ``s → 0``, in the
    time ``t = k√s``; the error on a bounded interval is ``O(√s)``. On ``f = ½x²`` with
    ``x₀ = 1`` and ``r = 3``, ``X(t) = 2J₁(t)/t``, and the maximal error on ``[0, 20]`` is about
    7e-2, 7e-3 and 7e-4 for ``s = 1e-2, 1e-4, 1e-6``.

    Parameters
    ----------
    problem : Problem
    theta0 : array_like, shape (d,)
    s : float, > 0
    t_final : float, >= √s
    r : float, >= 0
        The ODE's damping ``r/t`` and the momentum ``(k−1)/(k+r−1)``.
    method : str
        Integrator for :func:`~heavyball.simulate` when there is no closed form.

    Returns
    -------
    Comparison
        ``dt = √s``, ``eta = √s`` (``x_{k+1} = y_k − √s·(√s∇f(y_k))``), ``mu = NaN`` (the
        momentum ``(k−1)/(k+r−1)`` changes every step).

    Examples
    --------
    >>> import heavyball as hb
    >>> from heavyball.discretization import nesterov_limit
    >>> cmp = nesterov_limit(hb.Quadratic([[1.0]]), [1.0], s=1e-4, t_final=20.0)
    >>> cmp.steps, round(cmp.max_error, 4)
    (2000, 0.0075)
    """
    d = _check_problem(problem)
    s = as_real("s", s, lower=0.0, lower_inclusive=False)
    r = as_real("r", r, lower=0.0)
    method = as_choice("method", method, SOLVERS)
    theta0 = _point("theta0", theta0, d)
    t_final, dt, steps = _check_times(t_final, math.sqrt(s), d, dt_name="sqrt(s)")
    t = np.arange(steps + 1) * dt
    theta_d = nesterov_iterates(problem, theta0, s=s, steps=steps, r=r)
    v_d = _finite_differences(theta_d, np.zeros_like(theta0), dt)
    energy_d = _discrete_energy(problem, theta_d, v_d, 1.0)
    sol = _continuous(NesterovODE(r=r), problem, theta0, t, v0=None, method=method)
    what = f"Nesterov's method with s = {s:g}"
    return _assemble(t=t, theta_d=theta_d, sol=sol, energy_d=energy_d, mu=float("nan"), eta=dt, dt=dt,
                     scheme=f"nesterov (k-1)/(k+{r:g}-1)", steps=steps, what=what)  # fmt: skip
