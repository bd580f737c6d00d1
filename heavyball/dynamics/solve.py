r"""Numerical solution of any ODE on any problem: :func:`simulate`.

:func:`simulate` wraps :func:`scipy.integrate.solve_ivp` around an object of the ODE protocol
(:class:`~heavyball.dynamics.odes.ODE`): it validates the arguments once, adds the stopping
events (``gtol``, ``xtol``, blow-up past ``max_norm``), enforces a work budget, hands the
exact Jacobian to the implicit methods, turns the solver's outcome into a
:class:`~heavyball.Status` with a message, and splits the states into named fields with the
ODE's ``split_state``. ``import heavyball`` does not import :mod:`scipy.integrate`:
:func:`simulate` imports it when called.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np

from .._validation import as_bool, as_choice, as_float_array, as_int, as_real, check_point, describe
from ..problems import check_problem
from ..status import SIMULATE_STATUSES, Status
from .odes import ODE, _constant_hessian, _has_hessian
from .trajectory import ContinuousTrajectory

__all__ = [
    "EXPLICIT_METHODS",
    "IMPLICIT_METHODS",
    "MAX_NFEV",
    "MAX_NORM",
    "METHODS",
    "STATUSES",
    "STIFF_NFEV",
    "simulate",
]


#: the integrators of :func:`scipy.integrate.solve_ivp` (its ``METHODS`` registry)
METHODS = ("RK45", "RK23", "DOP853", "Radau", "BDF", "LSODA")
#: explicit Runge–Kutta methods: no Jacobian, unsuited to stiff problems
EXPLICIT_METHODS = ("RK45", "RK23", "DOP853")
#: implicit (or stiffness-switching) methods that use the Jacobian
IMPLICIT_METHODS = ("Radau", "BDF", "LSODA")
#: the values of :attr:`ContinuousTrajectory.status`
STATUSES = tuple(s.value for s in SIMULATE_STATUSES)
#: an explicit method that spends more right-hand-side evaluations than this is checked for stiffness
STIFF_NFEV = 10_000
#: the default ``max_norm`` of :func:`simulate`: a state norm above it counts as blow-up
MAX_NORM = 1e12
#: the default ``max_nfev`` of :func:`simulate`: the work budget in right-hand-side evaluations
MAX_NFEV = 1_000_000

_EPS = np.finfo(np.float64).eps


# ---------------------------------------------------------------------------------------------
# validation at the boundary
# ---------------------------------------------------------------------------------------------
def _check_ode(ode: Any) -> None:
    if not isinstance(ode, ODE) or not all(callable(getattr(ode, k)) for k in _ODE_MEMBERS):
        raise TypeError(
            "`ode` must follow the ODE protocol (HeavyBallODE, NesterovODE, HighResolutionODE, "
            "GradientFlowODE, or an object with `autonomous`, `initial_state`, `rhs`, `jacobian` and "
            f"`split_state`), got {describe(ode)}"
        )


_ODE_MEMBERS = ("initial_state", "rhs", "jacobian", "split_state")


def _optional_positive(name: str, value: Any) -> float | None:
    return None if value is None else as_real(name, value, lower=0.0, lower_inclusive=False)


def _user_events(events: Any) -> list:
    if events is None:
        return []
    if callable(events):
        return [events]
    try:
        events = list(events)
    except TypeError:
        raise TypeError(f"`events` must be a callable or a sequence of callables, got {describe(events)}") from None
    for i, ev in enumerate(events):
        if not callable(ev):
            raise TypeError(f"`events` must be a callable or a sequence of callables; `events[{i}]` is {describe(ev)}")
    return events


class _OutOfBudget(Exception):
    """Raised inside the right-hand side when :func:`simulate`'s ``max_nfev`` is spent."""


def _terminal(fun: Any, terminal: bool = True, direction: float = 0.0) -> Any:
    fun.terminal = terminal
    fun.direction = direction
    return fun


# ---------------------------------------------------------------------------------------------
# simulate
# ---------------------------------------------------------------------------------------------
def _stiffness_note(ode: ODE, problem: Any, t_start: float, y0: np.ndarray, t_end: float) -> str:
    """A hint to use an implicit method when the linearisation at the start is stiff.

    Stiff here: the fastest decay rate ``λ_fast = max(−Re λ)`` of the Jacobian at the start
    is large on the interval (``λ_fast·T >= 1e3``: an explicit method needs thousands of
    steps for stability alone) and far from the slowest time scale (ratio ``>= 100``).
    """
    J = ode.jacobian(t_start, y0, problem)
    generic = "If the problem is stiff (e.g. a tiny mass m), try an implicit method: method='Radau', 'BDF' or 'LSODA'."
    if J is None or J.shape[0] > 400 or not np.all(np.isfinite(J)):
        return generic
    lam = np.linalg.eigvals(J)
    T = t_end - t_start
    fast = float(np.max(-lam.real, initial=0.0))
    mags = np.abs(lam)
    slow = max(float(np.min(mags[mags > 0], initial=np.inf)), 1.0 / T)
    if fast * T >= 1e3 and fast / slow >= 100.0:
        return (
            f"The problem looks stiff: the Jacobian at the start has a decay rate {fast:.3g} against a "
            f"slowest rate {slow:.3g} (stiffness ratio {fast / slow:.3g}), so an explicit method "
            f"needs steps below about {3.0 / fast:.3g} for stability alone; use an implicit method: "
            f"method='Radau', 'BDF' or 'LSODA'."
        )
    return ""


def simulate(
    ode: ODE,
    problem: Any,
    theta0: Any,
    t_span: Any,
    *,
    v0: Any = None,
    t_eval: Any = None,
    method: str = "DOP853",
    rtol: float = 1e-10,
    atol: Any = 1e-12,
    events: Any = None,
    throw: bool = True,
    dense_output: bool = False,
    gtol: float | None = None,
    xtol: float | None = None,
    max_norm: float = MAX_NORM,
    max_nfev: int = MAX_NFEV,
) -> ContinuousTrajectory:
    r"""Integrate an ODE on a problem with :func:`scipy.integrate.solve_ivp`.

    Solves ``y' = ode.rhs(t, y)`` for the ODE's flat state ``y`` (``[θ, v]`` for the
    second-order ODEs, ``θ`` for a gradient flow) from ``θ(t_span[0]) = theta0`` on ``[t_span[0], t_span[1]]``.

    Parameters
    ----------
    ode : ODE
        :class:`HeavyBallODE`, :class:`NesterovODE`, :class:`HighResolutionODE`,
        :class:`GradientFlowODE`, or any object of the ODE protocol
        (:class:`~heavyball.dynamics.odes.ODE`).
    problem : Problem
        ``value``, ``grad`` (``hessian`` for implicit methods' Jacobian, for
        ``HighResolutionODE(kind="nesterov")`` and for ``GradientFlowODE(correction≠0)``).
    theta0 : array_like, shape (d,)
    t_span : (float, float)
        Start and end, with ``t_span[1] > t_span[0]`` (forward integration only).
    v0 : array_like, shape (d,), optional
        Initial velocity: zero by default; :class:`HighResolutionODE` uses the paper's
        ``−2√s∇f(θ₀)/(1+√(h_min s))``; must be omitted for :class:`GradientFlowODE`, and
        omitted or zero for :class:`NesterovODE` starting at ``t = 0`` (series start, see there).
    t_eval : array_like, optional
        Strictly increasing times inside ``t_span`` at which to report the solution; by
        default the solver's own steps.
    method : {"DOP853", "RK45", "RK23", "Radau", "BDF", "LSODA"}
        The integrator. The implicit ones receive the exact Jacobian ``ode.jacobian`` when
        the problem has a Hessian (a constant matrix on quadratics); otherwise scipy
        approximates it by finite differences and ``message`` says so.
    rtol, atol : float
        Tolerances, as in ``solve_ivp`` (``rtol >= 100·eps``; ``atol > 0``, a scalar or one
        value per state component: with ``atol = 0`` a component that is exactly 0 would make
        every error estimate 0/0).
    events : callable or sequence of callables, optional
        Passed on to ``solve_ivp``: each is called as ``event(t, y)`` on the flat state
        ``y = [θ, v]`` (``y = θ`` for first-order flows) and may carry ``terminal`` and
        ``direction`` attributes. Their times are in ``t_events["events[i]"]``.
    throw : bool
        Raise ``RuntimeError`` when the solver fails (status ``"failed"``). A blow-up past
        ``max_norm`` (status ``"diverged"``) is an outcome, not an error: it never raises.
    dense_output : bool
        Keep scipy's dense solution in ``sol`` (on the flat state).
    gtol : float, optional
        Stop when ``‖∇f(θ)‖`` falls below ``gtol`` (status ``"event"``).
    xtol : float, optional
        Stop when ``‖θ − θ*‖`` falls below ``xtol`` (needs ``problem.minimizer``).
    max_norm : float
        Stop when the state's norm ``‖y‖`` exceeds it (status ``"diverged"``, ``success=False``);
        ``np.inf`` disables the check. Must exceed the initial state's norm.
    max_nfev : int
        The work budget: give up after this many right-hand-side evaluations (status
        ``"failed"``, "too many steps"; ``RuntimeError`` when ``throw=True``). The result then
        holds only the start (nothing when ``t_eval`` is given). scipy's ``solve_ivp`` has no
        such limit: an explicit method on a stiff problem (e.g. ``m = 1e-8``) would otherwise
        take ~1e9 evaluations.

    Returns
    -------
    ContinuousTrajectory
        ``t`` starts at ``t_span[0]`` (also for :class:`NesterovODE`'s series start). If
        ``gtol``/``xtol`` already hold at the start, the trajectory is that single point
        with status ``"event"``.

    Notes
    -----
    When an explicit method fails, or spends more than ``STIFF_NFEV`` right-hand-side
    evaluations, on a problem whose linearisation at the start is stiff (e.g. a tiny mass
    ``m``: decay rates ``c/m`` and ``h/c`` far apart), the message recommends an implicit
    method. Even below that count, an explicit method working at its stability limit on a
    stiff problem can miss the requested tolerance, most visibly at interpolated ``t_eval``
    points (measured: DOP853 on a gradient flow with decay rates 1…30 over ``t = 6`` errs by
    1e-6 at ``rtol = 1e-10``): prefer ``Radau``/``BDF``/``LSODA`` there. Overflow inside the
    integration is not reported as a warning: it shows as status ``"diverged"`` or
    ``"failed"``. ``problem.value`` (and ``grad``, ``hessian`` for first-order flows) must
    accept a batch of points ``(n, d)``, as the ``Problem`` protocol requires: the energy
    (and ``v`` of a first-order flow) is evaluated on the whole trajectory at once.

    Examples
    --------
    >>> import numpy as np, heavyball as hb
    >>> q = hb.Quadratic.valley(kappa=10)
    >>> ode = hb.HeavyBallODE(m=1.0, c=0.5)
    >>> sol = hb.simulate(ode, q, [1.0, 1.0], (0.0, 20.0), t_eval=np.linspace(0, 20, 5))
    >>> ref = hb.exact(ode, q, [1.0, 1.0], sol.t)
    >>> bool(np.max(np.abs(sol.theta - ref.theta)) < 1e-8)
    True
    >>> hb.simulate(ode, q, [1.0, 1.0], (0.0, 1e3), gtol=1e-6).status
    <Status.EVENT: 'event'>
    """
    _check_ode(ode)
    d = check_problem(problem)
    theta0 = check_point("theta0", theta0, d)
    if v0 is not None:
        v0 = check_point("v0", v0, d)
    t_lo, t_hi = _check_span(t_span)
    t_eval = _check_t_eval(t_eval, t_lo, t_hi)
    method = as_choice("method", method, METHODS)
    rtol = as_real("rtol", rtol, lower=100 * _EPS, upper=1.0)
    throw = as_bool("throw", throw)
    dense_output = as_bool("dense_output", dense_output)
    gtol = _optional_positive("gtol", gtol)
    xtol = _optional_positive("xtol", xtol)
    max_norm = as_real("max_norm", max_norm, lower=0.0, lower_inclusive=False, allow_inf=True)
    max_nfev = as_int("max_nfev", max_nfev, minimum=1)
    user_events = _user_events(events)
    minimizer = _minimizer_for_xtol(problem, xtol)
    t_start, y0 = ode.initial_state(problem, theta0, v0, t_lo)
    y0 = np.asarray(y0, dtype=np.float64)
    atol = _check_atol(atol, y0.shape[0])
    if not t_start < t_hi:
        raise ValueError(
            f"`t_span` must end after the ODE's start t = {t_start:g} (NesterovODE starts at its t0), got {describe(t_span)}"
        )
    if not np.linalg.norm(y0) < max_norm:
        raise ValueError(f"`max_norm` must exceed the initial state's norm {np.linalg.norm(y0):.3g}, got {max_norm!r}")

    def finish(
        ts: np.ndarray, Y: np.ndarray, status: Status, message: str, nfev: int, **more: Any
    ) -> ContinuousTrajectory:
        return _trajectory(ode, problem, ts, Y, status=status, message=message, nfev=nfev, method=method, **more)

    met = _met_at_start(problem, theta0, gtol, xtol, minimizer)
    if met:  # the state at t_span[0]: y0 itself, or the ODE's own start before t_start
        Y = y0[None, :] if t_start == t_lo else np.asarray(ode.prefix(problem, theta0, np.array([t_lo])))  # type: ignore[attr-defined]
        message = f"the stopping criterion already holds at the start ({'; '.join(met)})"
        return finish(np.array([t_lo]), Y, Status.EVENT, message, 0)

    all_events, names = _stop_events(
        problem, d, user_events, gtol=gtol, xtol=xtol, minimizer=minimizer, max_norm=max_norm
    )
    jac, notes = _jacobian_option(ode, problem, method, t_start, y0)
    run_eval = None if t_eval is None else t_eval[t_eval >= t_start]
    sol = _solve_ivp(ode, problem, (t_start, t_hi), y0, method=method, t_eval=run_eval, dense_output=dense_output,
                     events=all_events, rtol=rtol, atol=atol, jac=jac, max_nfev=max_nfev)  # fmt: skip
    t_events = {name: np.asarray(te) for name, te in zip(names, sol.t_events or [], strict=False)}
    ts = np.asarray(sol.t, dtype=np.float64)
    Y = np.asarray(sol.y, dtype=np.float64).reshape(y0.shape[0], ts.size).T  # (0, n) when t_eval selects nothing
    status, message = _outcome(sol, Y, t_events, all_events, names, gtol=gtol, xtol=xtol, max_norm=max_norm)
    if method in EXPLICIT_METHODS and (status is Status.FAILED or sol.nfev > STIFF_NFEV):
        hint = _stiffness_note(ode, problem, t_start, y0, t_hi)
        if hint:
            notes.append(hint)
    if notes:
        message = " ".join([message, *notes])
    if t_start > t_lo:  # the ODE's own start on [t_span[0], t_start) (NesterovODE's series)
        prefix_t = np.array([t_lo]) if t_eval is None else t_eval[t_eval < t_start]
        if prefix_t.size:
            ts = np.concatenate([prefix_t, ts])
            Y = np.concatenate([np.asarray(ode.prefix(problem, theta0, prefix_t)), Y], axis=0)  # type: ignore[attr-defined]
    if status is Status.FAILED and throw:
        raise RuntimeError(f"simulate: the integration failed ({method}): {message}")
    return finish(ts, Y, status, message, sol.nfev, sol=sol.sol if dense_output else None, t_events=t_events)


def _check_span(t_span: Any) -> tuple[float, float]:
    span = as_float_array("t_span", t_span, dtype=np.float64)
    if span.shape != (2,):
        raise ValueError(f"`t_span` must be a pair (t_start, t_end), got {describe(t_span)}")
    t_lo, t_hi = float(span[0]), float(span[1])
    if not t_hi > t_lo:
        raise ValueError(f"`t_span` must be increasing and non-empty (t_span[1] > t_span[0]), got {describe(t_span)}")
    return t_lo, t_hi


def _check_t_eval(t_eval: Any, t_lo: float, t_hi: float) -> np.ndarray | None:
    if t_eval is None:
        return None
    t_eval = as_float_array("t_eval", t_eval, dtype=np.float64)
    if t_eval.ndim == 0:
        t_eval = t_eval.reshape(1)
    if t_eval.ndim != 1 or t_eval.size == 0:
        raise ValueError(f"`t_eval` must be a non-empty 1-D array of times, got shape {t_eval.shape}")
    if np.any(np.diff(t_eval) <= 0):
        raise ValueError(f"`t_eval` must be strictly increasing, got {describe(t_eval)}")
    if t_eval[0] < t_lo or t_eval[-1] > t_hi:
        raise ValueError(
            f"`t_eval` must lie inside `t_span` [{t_lo:g}, {t_hi:g}], got values from {t_eval[0]:g} to {t_eval[-1]:g}"
        )
    return t_eval


def _check_atol(atol: Any, n_state: int) -> np.ndarray:
    # atol = 0 is refused: a state component that is exactly 0 (a start at the minimiser, a
    # resting velocity) then makes every error estimate 0/0 and the solver stalls or fails
    atol = as_real("atol", atol, lower=0.0, lower_inclusive=False, array=True)
    if atol.shape not in ((), (n_state,)):
        raise ValueError(
            f"`atol` must be a scalar or have shape ({n_state},) (one per state component), got shape {atol.shape}"
        )
    return atol


def _minimizer_for_xtol(problem: Any, xtol: float | None) -> np.ndarray | None:
    if xtol is None:
        return None
    minimizer = getattr(problem, "minimizer", None)
    if minimizer is None:
        raise ValueError(f"`xtol` needs a problem with a known `minimizer`; {describe(problem)} has none")
    return np.asarray(minimizer, dtype=np.float64)


def _met_at_start(problem: Any, theta0: np.ndarray, gtol: float | None, xtol: float | None,
                  minimizer: np.ndarray | None) -> list[str]:  # fmt: skip
    """The stopping criteria that already hold at ``θ₀``, in words."""
    met = []
    if gtol is not None and np.linalg.norm(problem.grad(theta0)) < gtol:
        met.append(f"‖∇f(θ₀)‖ < gtol = {gtol:g}")
    if xtol is not None and minimizer is not None and np.linalg.norm(theta0 - minimizer) < xtol:
        met.append(f"‖θ₀ − θ*‖ < xtol = {xtol:g}")
    return met


def _stop_events(problem: Any, d: int, user_events: list, *, gtol: float | None, xtol: float | None,
                 minimizer: np.ndarray | None, max_norm: float) -> tuple[list, list[str]]:  # fmt: skip
    """The user's events and the built-in terminal ones, with their names (θ is ``y[:d]``)."""
    names = [f"events[{i}]" for i in range(len(user_events))]
    all_events = list(user_events)
    if gtol is not None:
        all_events.append(_terminal(lambda t, y: np.linalg.norm(problem.grad(y[:d])) - gtol, direction=-1.0))
        names.append("gtol")
    if xtol is not None:
        all_events.append(_terminal(lambda t, y: np.linalg.norm(y[:d] - minimizer) - xtol, direction=-1.0))
        names.append("xtol")
    if np.isfinite(max_norm):
        all_events.append(_terminal(lambda t, y: np.linalg.norm(y) - max_norm, direction=1.0))
        names.append("max_norm")
    return all_events, names


def _jacobian_option(ode: ODE, problem: Any, method: str, t_start: float, y0: np.ndarray) -> tuple[Any, list[str]]:
    """``solve_ivp``'s ``jac`` for an implicit method (``None`` otherwise), and notes for the message."""
    if method not in IMPLICIT_METHODS:
        return None, []
    J0 = ode.jacobian(t_start, y0, problem)
    if J0 is None:
        why = "the problem has no Hessian" if not _has_hessian(problem) else "it would need third derivatives of f"
        return None, [f"The Jacobian was approximated by scipy's finite differences ({why})."]
    if ode.autonomous and _constant_hessian(problem):
        # a constant matrix: factorised once; scipy's LSODA fails on a matrix, so it gets a
        # callable that returns the same one
        return (J0 if method != "LSODA" else (lambda t, y: J0)), []
    return (lambda t, y: ode.jacobian(t, y, problem)), []


def _solve_ivp(ode: ODE, problem: Any, span: tuple[float, float], y0: np.ndarray, *, method: str,
               t_eval: np.ndarray | None, dense_output: bool, events: list, rtol: float, atol: np.ndarray,
               jac: Any, max_nfev: int) -> Any:  # fmt: skip
    """``solve_ivp`` within the work budget; its result, or a failed one when the budget is spent."""
    from scipy.integrate import solve_ivp  # imported here: `import heavyball` stays light

    nfev = 0

    def rhs(t: float, y: np.ndarray) -> np.ndarray:
        nonlocal nfev
        nfev += 1
        if nfev > max_nfev:
            raise _OutOfBudget
        return ode.rhs(t, y, problem)

    kwargs = {} if jac is None else {"jac": jac}
    try:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return solve_ivp(rhs, span, y0, method=method, t_eval=t_eval, dense_output=dense_output,
                             events=events or None, rtol=rtol, atol=atol, **kwargs)  # fmt: skip
    except _OutOfBudget:  # what solve_ivp would return for a failure before the first output
        start = np.empty((y0.shape[0], 0)) if t_eval is not None else y0[:, None]
        return SimpleNamespace(t=np.full(start.shape[1], span[0]), y=start, status=-1, nfev=max_nfev, sol=None,
                               t_events=[np.empty(0)] * len(events),
                               message=f"Too many steps: the work budget max_nfev = {max_nfev} right-hand-side "
                                       f"evaluations was spent before reaching t = {span[1]:g}.")  # fmt: skip


def _outcome(sol: Any, Y: np.ndarray, t_events: dict[str, np.ndarray], all_events: list, names: list[str], *,
             gtol: float | None, xtol: float | None, max_norm: float) -> tuple[Status, str]:  # fmt: skip
    """The :class:`Status` of a solve and its message."""
    if sol.status == -1:
        return Status.FAILED, str(sol.message)
    if sol.status == 1:
        fired = [n for n, te in t_events.items() if te.size and getattr(all_events[names.index(n)], "terminal", False)]
        if "max_norm" in fired:
            t_blow = t_events["max_norm"][0]
            return Status.DIVERGED, f"the state's norm exceeded max_norm = {max_norm:g} at t = {t_blow:.6g} (blow-up)"
        # solve_ivp stops only for terminal events: `fired` names the one that stopped it
        name = fired[0] if fired else "a terminal event"
        t_stop = float(t_events[name][-1]) if fired else float(sol.t[-1])
        what = {"gtol": f" (‖∇f‖ < gtol = {gtol})", "xtol": f" (‖θ − θ*‖ < xtol = {xtol})"}.get(name, "")
        return Status.EVENT, f"stopped by the `{name}` event{what} at t = {t_stop:.6g}"
    if not np.all(np.isfinite(Y)):
        return Status.DIVERGED, "the solution overflowed float64 (blow-up)"
    return Status.SUCCESS, str(sol.message)


def _trajectory(ode: ODE, problem: Any, ts: np.ndarray, Y: np.ndarray, *, status: Status, message: str, nfev: int,
                method: str, sol: Any = None, t_events: dict | None = None) -> ContinuousTrajectory:  # fmt: skip
    """The result: the states split into the ODE's named fields."""
    with np.errstate(over="ignore", invalid="ignore"):
        fields = {k: np.asarray(x, dtype=np.float64) for k, x in ode.split_state(problem, ts, Y).items()}
    theta = np.asarray(fields.pop("theta"), dtype=np.float64)
    v = np.asarray(fields.pop("v"), dtype=np.float64).reshape(theta.shape)
    energy = np.asarray(fields.pop("energy"), dtype=np.float64).reshape(ts.shape)
    return ContinuousTrajectory(t=ts, theta=theta, v=v, energy=energy, success=status.success, status=status,
                                message=message, nfev=int(nfev), sol=sol, t_events=t_events or {}, method=method,
                                fields=fields)  # fmt: skip
