r"""Discrete iterates next to the continuous solution: :class:`Comparison` and :func:`compare`.

:func:`compare` runs a discretisation of the heavy-ball ODE (:mod:`.schemes`) with
:func:`~heavyball.iterate` and puts its iterates next to the continuous solution at the same
times ``t_k = k·Δt``: the closed form on quadratics, :func:`~heavyball.simulate` otherwise.
The helpers here (time grid, errors, energies, the verdict) are shared by the other
comparisons of the package (the scaling limits).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from .._validation import as_choice, as_real, check_point, describe
from ..adam_ode import AdamODE
from ..dynamics import METHODS as SOLVERS
from ..dynamics import GradientFlowODE, HeavyBallODE, exact, simulate
from ..iterate import MEMORY_BUDGET, iterate
from ..optimizers import HeavyBall
from ..problems import Quadratic, check_problem
from ..rates import spectral_radius
from ..status import Status
from .schemes import SCHEMES, discretize

__all__ = ["Comparison", "compare"]


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


def _check_times(t_final: Any, dt: Any, d: int, *, dt_name: Any = "dt") -> tuple[float, float, int]:
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


def _discrete_energy(problem: Any, theta: np.ndarray, v: np.ndarray | None, m: float) -> np.ndarray:
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


def _continuous(ode: Any, problem: Any, theta0: Any, t: Any, *, v0: Any, method: Any) -> Any:
    """The continuous solution at the times ``t``: closed form on quadratics, else ``simulate``."""
    if isinstance(problem, Quadratic) and isinstance(ode, (HeavyBallODE, GradientFlowODE)):
        return exact(ode, problem, theta0, t, v0=v0)
    return simulate(ode, problem, theta0, (0.0, float(t[-1])), v0=v0, t_eval=t, method=method, throw=False)


def _assemble(
    *,
    t: Any,
    theta_d: Any,
    sol: Any,
    energy_d: Any,
    mu: Any,
    eta: Any,
    dt: Any,
    scheme: Any,
    steps: Any,
    what: Any,
    hint: Any = "",
    radius: Any = None,
) -> Comparison:
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


def _diverged_at(theta_d: np.ndarray) -> Any:
    """The first step whose iterate is not finite (``iterate`` records NaN from its
    ``diverged_at`` on), or ``None``."""
    bad = ~np.all(np.isfinite(theta_d), axis=-1)
    return int(np.argmax(bad)) if np.any(bad) else None


def _stability_hint(problem: Any, mu: float, lr: float) -> str:
    """On a quadratic: the per-curvature stability condition ``|μ| < 1``, ``0 < lr·h < 2(1+μ)``."""
    if not isinstance(problem, Quadratic):
        return ""
    h_max = problem.h_max
    return (
        f" (on this quadratic stability needs |mu| < 1 and lr·h_max < 2(1 + mu); here lr = dt·eta = {lr:.4g}, "
        f"h_max = {h_max:.4g}: lr·h_max = {lr * h_max:.4g} against 2(1 + mu) = {2 * (1 + mu):.4g})"
    )


def _compare_iterates(
    ode: Any, opt: Any, problem: Any, theta0: Any, *, dt: Any, t_final: Any, method: Any, mu: Any, eta: Any, what: Any
) -> Comparison:
    """The iterates of the optimiser ``opt`` (time ``dt`` per step) against ``simulate(ode)``
    at ``t_k = k·dt``, with the energy ``f(θ)`` on both sides (first-order flows)."""
    d = check_problem(problem)
    method = as_choice("method", method, SOLVERS)
    t_final, dt, steps = _check_times(t_final, dt, d)
    theta0 = check_point("theta0", theta0, d)
    t = np.arange(steps + 1) * dt
    theta_d = np.asarray(iterate(opt, problem, theta0, steps, record="all").theta, dtype=np.float64)
    sol = simulate(ode, problem, theta0, (0.0, float(t[-1])), t_eval=t, method=method, throw=False)
    return _assemble(t=t, theta_d=theta_d, sol=sol, energy_d=_discrete_energy(problem, theta_d, None, 0.0), mu=mu,
                     eta=eta, dt=dt, scheme=what, steps=steps, what=what)  # fmt: skip


def compare(
    ode: Any,
    problem: Any,
    theta0: Any,
    *,
    dt: Any,
    t_final: Any,
    v0: Any = None,
    scheme: Any = "semi-implicit",
    method: Any = "DOP853",
) -> Comparison:
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
        adam = ode.to_adam(as_real("dt", dt, lower=0.0, lower_inclusive=False))
        beta1 = float(adam.betas[0])
        name = "adamw" if ode.decoupled else "adam"
        return _compare_iterates(ode, adam, problem, theta0, dt=dt, t_final=t_final, method=method, mu=beta1,
                                 eta=1.0 - beta1, what=name)  # fmt: skip
    if not isinstance(ode, HeavyBallODE):
        raise TypeError(
            f"`ode` must be a HeavyBallODE (its m and c are discretised) or an AdamODE, got {describe(ode)}"
        )
    d = check_problem(problem)
    scheme = as_choice("scheme", scheme, SCHEMES)
    method = as_choice("method", method, SOLVERS)
    t_final, dt, steps = _check_times(t_final, dt, d)
    theta0 = check_point("theta0", theta0, d)
    v0 = np.zeros_like(theta0) if v0 is None else check_point("v0", v0, d)
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
        radius = float(spectral_radius(problem.eigenvalues, lr=dt * eta, momentum=mu, family="heavyball"))
    return _assemble(t=t, theta_d=theta_d, sol=sol, energy_d=energy_d, mu=mu, eta=eta, dt=dt, scheme=scheme,
                     steps=steps, what=what, hint=_stability_hint(problem, mu, dt * eta), radius=radius)  # fmt: skip
