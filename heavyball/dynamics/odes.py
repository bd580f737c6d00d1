r"""The ODEs of the continuous-time view, and the protocol :func:`simulate` integrates.

- :class:`HeavyBallODE` (order 2): ``m·θ'' + c·θ' + ∇f(θ) = 0`` (Polyak 1964; Qian 1999);
- :class:`NesterovODE` (order 2): ``θ'' + (r/t)·θ' + ∇f(θ) = 0`` (Su, Boyd & Candès 2016);
- :class:`HighResolutionODE` (order 2):
  ``θ'' + 2√h_min·θ' [+ √s·∇²f(θ)·θ'] + (1 + √(h_min·s))·∇f(θ) = 0`` (Shi, Du, Jordan & Su 2022);
- :class:`GradientFlowODE` (order 1): ``θ' = −scale·∇f(θ) − correction·∇²f(θ)·∇f(θ)``
  (the rescaled gradient flow and modified equation of Kovachki & Stuart 2021).

The ODE protocol
----------------
:func:`~heavyball.dynamics.simulate` integrates any :class:`ODE`: an object with these members
(all four classes follow it; a new ODE plugs in without any change to ``simulate``). The
state ``y`` is a flat float64 vector whose first ``d`` components are ``θ``; what follows is
the ODE's own (``v`` for the second-order ODEs, nothing for a gradient flow, moment
estimates for an adaptive method's flow).

``autonomous`` : bool
    ``False`` when the right-hand side depends on ``t`` explicitly (:class:`NesterovODE`);
    an autonomous ODE on a problem with a constant Hessian gets its Jacobian formed once.
``initial_state(problem, theta0, v0, t0) -> (t_start, y0)``
    Validates what the ODE needs from the problem and the initial condition and returns the
    flat initial state. ``t_start`` may differ from ``t0`` (Nesterov's ODE is singular at
    ``t = 0`` and starts at a small ``t₀ > 0``); the states on ``[t0, t_start)`` then come
    from an optional ``prefix(problem, theta0, t) -> Y`` (shape ``(len(t), n_state)``).
``rhs(t, y, problem) -> y'``
    The right-hand side on the flat state.
``jacobian(t, y, problem) -> ndarray or None``
    ``∂rhs/∂y``, shape ``(n_state, n_state)``, from ``problem.hessian``; ``None`` when it
    cannot be formed exactly (no Hessian, or a third derivative would be needed). Implicit
    methods (``Radau``, ``BDF``, ``LSODA``) receive it; when it is ``None`` they fall back to
    scipy's finite differences, and the result's ``message`` says so.
``split_state(problem, t, Y) -> dict``
    The named fields of the states ``Y`` (shape ``(n, n_state)``) at times ``t`` (shape
    ``(n,)``): ``"theta"`` ``(n, d)``, ``"v"`` ``(n, d)`` (the velocity ``θ'``), ``"energy"``
    ``(n,)``, and any further fields of the ODE (e.g. moment estimates), which the
    :class:`~heavyball.dynamics.ContinuousTrajectory` carries under their names.

Energy
------
``E = ½m‖v‖² + f(θ)`` for :class:`HeavyBallODE`, with ``dE/dt = −c‖v‖²`` along solutions;
``E = ½‖v‖² + f(θ)`` (unit mass) for :class:`NesterovODE` and :class:`HighResolutionODE`
(the mechanical energy, not the papers' Lyapunov functions); ``E = f(θ)`` for
:class:`GradientFlowODE`, which has no velocity of its own (``v`` reports ``θ'``).

The conventions (``θ``, ``v``, ``m``, ``c``, the time ``t = k·Δt``) are those of the
glossary, ``docs/glossary.md``.
"""

from __future__ import annotations

import abc
import math
from dataclasses import KW_ONLY, dataclass
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np

from .._validation import as_bool, as_choice, as_real, describe
from ..problems import Quadratic

__all__ = ["ODE", "GradientFlowODE", "HeavyBallODE", "HighResolutionODE", "NesterovODE"]


@runtime_checkable
class ODE(Protocol):
    """What :func:`~heavyball.dynamics.simulate` needs of an ODE (see the module notes)."""

    autonomous: bool

    def initial_state(
        self, problem: Any, theta0: np.ndarray, v0: np.ndarray | None, t0: float
    ) -> tuple[float, np.ndarray]:
        """``(t_start, y0)``: the start time and the flat initial state."""
        ...

    def rhs(self, t: float, y: np.ndarray, problem: Any) -> np.ndarray:
        """``y'`` at ``(t, y)``."""
        ...

    def jacobian(self, t: float, y: np.ndarray, problem: Any) -> np.ndarray | None:
        """``∂rhs/∂y`` at ``(t, y)``, or ``None`` when it cannot be formed exactly."""
        ...

    def split_state(self, problem: Any, t: np.ndarray, Y: np.ndarray) -> dict[str, np.ndarray]:
        """The named fields (``theta``, ``v``, ``energy``, ...) of the states ``Y`` at times ``t``."""
        ...


# ---------------------------------------------------------------------------------------------
# helpers on problems
# ---------------------------------------------------------------------------------------------
def _has_hessian(problem: Any) -> bool:
    """Whether ``problem.hessian`` can be called (``Objective`` built without one cannot)."""
    flag = getattr(problem, "has_hessian", None)
    if flag is not None:
        return bool(flag)
    return callable(getattr(problem, "hessian", None))


def _hessian(problem: Any, theta: Any) -> np.ndarray | None:
    """``∇²f(θ)`` at one point, shape ``(d, d)``, or ``None`` when the problem has none."""
    if not _has_hessian(problem):
        return None
    return np.asarray(problem.hessian(theta), dtype=np.float64)


def _hvp(problem: Any, theta: Any, vec: Any) -> np.ndarray:
    """``∇²f(θ)·vec`` for ``theta``, ``vec`` shaped ``(..., d)`` (batches broadcast)."""
    H = np.asarray(problem.hessian(theta), dtype=np.float64)
    return np.matmul(H, vec[..., None])[..., 0]


def _require_hessian(problem: Any, who: str) -> None:
    if not _has_hessian(problem):
        raise ValueError(
            f"`problem` must provide `hessian(theta)`: {who} uses ∇²f(θ) in its right-hand side; "
            f"got {describe(problem)} without one"
        )


def _constant_hessian(problem: Any) -> bool:
    """Whether ``∇²f`` is constant (so derivatives of ``∇²f(θ)·w`` in θ vanish)."""
    return isinstance(problem, Quadratic)


def _second_order_jacobian(d: int, dv_dtheta: np.ndarray, dv_dv: np.ndarray) -> np.ndarray:
    """``[[0, I], [dv_dtheta, dv_dv]]`` for the state ``[θ, v]``."""
    J = np.zeros((2 * d, 2 * d))
    J[:d, d:] = np.eye(d)
    J[d:, :d] = dv_dtheta
    J[d:, d:] = dv_dv
    return J


def _check_order2_v0(v0: Any, d: int) -> np.ndarray:
    return np.zeros(d) if v0 is None else v0


def _mechanical_energy(problem: Any, theta: Any, v: Any, m: Any = 1.0) -> np.ndarray:
    """``½m‖v‖² + f(θ)`` along a trajectory (``theta``, ``v`` shaped ``(n, d)``)."""
    return 0.5 * m * np.sum(v * v, axis=-1) + problem.value(theta)


def _refuse_v0(v0: Any) -> None:
    """A first-order flow has no initial velocity of its own."""
    if v0 is not None:
        raise ValueError(
            f"`v0` must be None for GradientFlowODE (a first-order flow has no initial velocity), got {describe(v0)}"
        )


# ---------------------------------------------------------------------------------------------
# the ODEs
# ---------------------------------------------------------------------------------------------
class _SecondOrder(abc.ABC):
    """The state ``y = [θ, v]`` of a second-order ODE, split into its fields."""

    order: ClassVar[int] = 2

    @abc.abstractmethod
    def energy(self, problem: Any, theta: np.ndarray, v: np.ndarray) -> np.ndarray:
        """The ODE's energy at the states ``(theta, v)`` (each ``(n, d)``); shape ``(n,)``."""

    def split_state(self, problem: Any, t: np.ndarray, Y: np.ndarray) -> dict[str, np.ndarray]:
        """``theta = Y[:, :d]``, ``v = Y[:, d:]`` and the energy along them.

        Parameters
        ----------
        problem : Problem
        t : ndarray, shape (n,)
            The times (unused: the energy of these ODEs does not depend on ``t``).
        Y : ndarray, shape (n, 2d)
            The states.

        Returns
        -------
        dict
            ``"theta"``, ``"v"`` (each ``(n, d)``) and ``"energy"`` (``(n,)``).
        """
        d = Y.shape[1] // 2
        theta, v = Y[:, :d], Y[:, d:]
        return {"theta": theta, "v": v, "energy": self.energy(problem, theta, v)}


@dataclass(frozen=True)
class HeavyBallODE(_SecondOrder):
    r"""The heavy-ball ODE ``m·θ'' + c·θ' + ∇f(θ) = 0``: a ball of mass ``m`` with friction ``c``.

    As a first-order system on the state ``y = [θ, v]``::

        θ' = v,    v' = −(∇f(θ) + c·v)/m.

    Its energy ``E = ½m‖v‖² + f(θ)`` obeys ``dE/dt = −c‖v‖²``: friction dissipates it.
    On a quadratic every eigenmode of curvature ``h`` is a damped oscillator
    ``m·x'' + c·x' + h·x = 0`` — underdamped if ``c² < 4mh``, critical if ``c² = 4mh``,
    overdamped otherwise (:func:`damping_regime`). The model goes back to Polyak (1964),
    "Some methods of speeding up the convergence of iteration methods", and is worked out as
    a particle in a viscous medium by Qian (1999), "On the momentum term in gradient descent
    learning algorithms", Neural Networks 12.

    Parameters
    ----------
    m : float, > 0
        Mass.
    c : float, >= 0
        Friction. ``c < 0`` pumps energy in (the ball accelerates) and is refused unless
        ``allow_negative_friction=True``.
    allow_negative_friction : bool, keyword-only
        Accept ``c < 0`` (for demonstrations of blow-up).

    Examples
    --------
    >>> import heavyball as hb
    >>> ode = hb.HeavyBallODE(m=1.0, c=0.5)
    >>> sol = hb.exact(ode, hb.Quadratic([[4.0]]), [1.0], [0.0, 1.0])
    >>> sol.theta[:, 0].round(6)
    array([ 1.      , -0.223098])
    """

    m: float = 1.0
    c: float = 1.0
    _: KW_ONLY
    allow_negative_friction: bool = False

    autonomous: ClassVar[bool] = True

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "allow_negative_friction", as_bool("allow_negative_friction", self.allow_negative_friction)
        )
        object.__setattr__(self, "m", as_real("m", self.m, lower=0.0, lower_inclusive=False))
        if self.allow_negative_friction:
            c = as_real("c", self.c)
        else:
            try:
                c = as_real("c", self.c, lower=0.0)
            except ValueError as exc:
                raise ValueError(
                    f"{exc} (negative friction injects energy: pass allow_negative_friction=True to allow it)"
                ) from None
        object.__setattr__(self, "c", c)

    def initial_state(self, problem: Any, theta0: Any, v0: Any, t0: Any) -> Any:
        """``(t0, [θ₀, v₀])``; ``v₀ = 0`` when omitted."""
        return float(t0), np.concatenate([theta0, _check_order2_v0(v0, theta0.shape[-1])])

    def rhs(self, t: Any, y: Any, problem: Any) -> Any:
        """``[v, −(∇f(θ) + c·v)/m]``."""
        d = y.shape[0] // 2
        theta, v = y[:d], y[d:]
        return np.concatenate([v, -(problem.grad(theta) + self.c * v) / self.m])

    def jacobian(self, t: Any, y: Any, problem: Any) -> Any:
        """``[[0, I], [−∇²f(θ)/m, −(c/m)·I]]``, or ``None`` without a Hessian."""
        d = y.shape[0] // 2
        H = _hessian(problem, y[:d])
        if H is None:
            return None
        return _second_order_jacobian(d, -H / self.m, -(self.c / self.m) * np.eye(d))

    def energy(self, problem: Any, theta: Any, v: Any) -> Any:
        """``E = ½m‖v‖² + f(θ)``."""
        return _mechanical_energy(problem, theta, v, self.m)


@dataclass(frozen=True)
class NesterovODE(_SecondOrder):
    r"""Su, Boyd & Candès's ODE for Nesterov's method: ``θ'' + (r/t)·θ' + ∇f(θ) = 0``.

    W. Su, S. Boyd, E. J. Candès (2016), "A differential equation for modeling Nesterov's
    accelerated gradient method: theory and insights", JMLR 17(153). With ``r = 3`` it is the
    limit of Nesterov's method with step ``s`` and momentum ``(k−1)/(k+2)`` in the time
    ``t ≈ k√s``, with ``θ(0) = θ₀``, ``θ'(0) = 0``; Section 5 of the paper studies general
    ``r`` (``r >= 3`` keeps the ``O(1/t²)`` rate). For ``f = ½x²``, ``x₀ = 1`` the solution is
    ``2^ν Γ(ν+1) J_ν(t)/t^ν`` with ``ν = (r−1)/2``: ``2·J₁(t)/t`` for ``r = 3``, whose first
    zero is ``t = 3.8317…``.

    **The singular start.** The friction ``r/t`` is infinite at ``t = 0``. When the
    integration starts at ``t = 0``, :func:`simulate` starts the solver at ``t₀ = self.t0``
    from the series of the solution,

        θ(t) ≈ θ₀ − t²/(2(r+1))·∇f(θ₀),    v(t) ≈ −t/(r+1)·∇f(θ₀),

    whose errors are ``O(t₀⁴·‖∇²f‖·‖∇f‖)`` in ``θ`` and ``O(t₀³·‖∇²f‖·‖∇f‖)`` in ``v``
    (the next terms are ``t⁴/(8(r+1)(r+3))·∇²f·∇f`` and its derivative); points of
    ``t_eval`` in ``[0, t₀)`` are given by the same series. Choose ``t0 ≪ 1/√‖∇²f‖``. The
    initial velocity at ``t = 0`` is forced to be 0 by the ODE itself: a non-zero ``v0`` is
    refused there. Starting at ``t_span[0] > 0`` is an ordinary initial-value problem.

    Energy: ``E = ½‖v‖² + f(θ)`` (unit mass), with ``dE/dt = −(r/t)‖v‖²``.

    Parameters
    ----------
    r : float, > 0
        Friction coefficient (3 for Nesterov's method).
    t0 : float, > 0, keyword-only
        Where the solver starts when the integration starts at ``t = 0`` (default 1e-3).

    Examples
    --------
    >>> import numpy as np, heavyball as hb
    >>> from scipy.special import j1
    >>> sol = hb.simulate(hb.NesterovODE(r=3), hb.Quadratic([[1.0]]), [1.0], (0.0, 10.0), t_eval=[2.0, 5.0])
    >>> bool(np.allclose(sol.theta[:, 0], 2 * j1(sol.t) / sol.t, rtol=0, atol=1e-9))
    True
    """

    r: float = 3.0
    _: KW_ONLY
    t0: float = 1e-3

    autonomous: ClassVar[bool] = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "r", as_real("r", self.r, lower=0.0, lower_inclusive=False))
        object.__setattr__(self, "t0", as_real("t0", self.t0, lower=0.0, lower_inclusive=False))

    def initial_state(self, problem: Any, theta0: Any, v0: Any, t0: Any) -> Any:
        """At ``t0 = 0``: ``(self.t0, series state)``; otherwise ``(t0, [θ₀, v₀])``."""
        if t0 < 0:
            raise ValueError(
                f"`t_span` must start at t >= 0 for NesterovODE (singular at t = 0), got t_span[0] = {t0!r}"
            )
        if t0 > 0:
            return float(t0), np.concatenate([theta0, _check_order2_v0(v0, theta0.shape[-1])])
        if v0 is not None and np.any(v0 != 0):
            raise ValueError(
                f"`v0` must be None or zero when NesterovODE starts at t = 0 (the friction r/t forces "
                f"θ'(0) = 0), got {describe(v0)}"
            )
        return self.t0, self.prefix(problem, theta0, np.array([self.t0]))[0]

    def prefix(self, problem: Any, theta0: np.ndarray, t: np.ndarray) -> np.ndarray:
        """The series start at times ``t``: states ``[θ₀ − t²/(2(r+1))·∇f(θ₀), −t/(r+1)·∇f(θ₀)]``.

        Parameters
        ----------
        problem : Problem
        theta0 : ndarray, shape (d,)
        t : ndarray, shape (n,)
            Times in ``[0, t0]``.

        Returns
        -------
        ndarray, shape (n, 2d)
        """
        g = problem.grad(theta0)
        t = np.asarray(t, dtype=np.float64)[:, None]
        return np.concatenate([theta0 - t * t / (2 * (self.r + 1)) * g, -t / (self.r + 1) * g], axis=1)

    def rhs(self, t: Any, y: Any, problem: Any) -> Any:
        """``[v, −(r/t)·v − ∇f(θ)]``."""
        d = y.shape[0] // 2
        theta, v = y[:d], y[d:]
        return np.concatenate([v, -(self.r / t) * v - problem.grad(theta)])

    def jacobian(self, t: Any, y: Any, problem: Any) -> Any:
        """``[[0, I], [−∇²f(θ), −(r/t)·I]]``, or ``None`` without a Hessian."""
        d = y.shape[0] // 2
        H = _hessian(problem, y[:d])
        if H is None:
            return None
        return _second_order_jacobian(d, -H, -(self.r / t) * np.eye(d))

    def energy(self, problem: Any, theta: Any, v: Any) -> Any:
        """``E = ½‖v‖² + f(θ)``."""
        return _mechanical_energy(problem, theta, v)


@dataclass(frozen=True)
class HighResolutionODE(_SecondOrder):
    r"""Shi, Du, Jordan & Su's high-resolution ODEs of heavy ball and Nesterov (NAG-SC).

    B. Shi, S. S. Du, M. I. Jordan, W. J. Su (2022), "Understanding the acceleration
    phenomenon via high-resolution differential equations", Mathematical Programming 195,
    79–148 (arXiv:1810.08907), Section 1.1 / 2. Keeping the ``O(√s)`` terms of the limit
    ``s → 0`` (time ``t = k√s``), with ``h_min`` the strong-convexity constant (their ``μ``)::

        heavy ball:  θ'' + 2√h_min·θ' + (1 + √(h_min·s))·∇f(θ) = 0
        NAG-SC:      θ'' + 2√h_min·θ' + √s·∇²f(θ)·θ' + (1 + √(h_min·s))·∇f(θ) = 0

    both from ``θ(0) = θ₀`` and ``θ'(0) = −2√s·∇f(θ₀)/(1 + √(h_min·s))`` (the default when
    ``v0`` is omitted). The Hessian term ("gradient correction") is what separates NAG-SC from
    heavy ball. The equations agree with a direct expansion: heavy ball
    ``x_{k+1} = x_k + α(x_k − x_{k−1}) − s∇f(x_k)`` with ``α = (1−√(h_min s))/(1+√(h_min s))``
    and ``x_k = θ(k√s)`` gives ``(1+α)s/2·θ'' + (1−α)√s·θ' + s∇f = O(s^{3/2})``, i.e. the line
    above after division by ``s/(1+√(h_min s))``; NAG-SC adds ``α·s(∇f(x_k) − ∇f(x_{k−1}))
    ≈ α·s√s·∇²f·θ'``, and ``α(1 + √(h_min s)) = 1 + O(√s)``.

    Energy: ``E = ½‖v‖² + f(θ)`` (unit mass; the paper's Lyapunov functions differ).

    Parameters
    ----------
    s : float, > 0
        The step size of the discrete method.
    h_min : float, >= 0
        Strong-convexity constant (the paper's ``μ``; heavyball reserves ``μ`` for momentum).
    kind : {"heavyball", "nesterov"}
        Without or with the gradient-correction term (which needs ``problem.hessian``).

    Examples
    --------
    >>> import heavyball as hb
    >>> ode = hb.HighResolutionODE(s=0.01, h_min=0.1, kind="nesterov")
    >>> sol = hb.simulate(ode, hb.Quadratic.valley(kappa=10), [1.0, 1.0], (0.0, 5.0))
    >>> sol.status
    <Status.SUCCESS: 'success'>
    """

    s: float
    h_min: float
    kind: str = "heavyball"

    autonomous: ClassVar[bool] = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "s", as_real("s", self.s, lower=0.0, lower_inclusive=False))
        object.__setattr__(self, "h_min", as_real("h_min", self.h_min, lower=0.0))
        object.__setattr__(self, "kind", as_choice("kind", self.kind, ("heavyball", "nesterov")))

    @property
    def damping(self) -> float:
        """The friction ``2√h_min``."""
        return 2.0 * math.sqrt(self.h_min)

    @property
    def gradient_factor(self) -> float:
        """The factor ``1 + √(h_min·s)`` of ``∇f``."""
        return 1.0 + math.sqrt(self.h_min * self.s)

    def initial_velocity(self, problem: Any, theta0: Any) -> np.ndarray:
        """``−2√s·∇f(θ₀)/(1 + √(h_min·s))``."""
        return -2.0 * math.sqrt(self.s) * np.asarray(problem.grad(theta0), dtype=np.float64) / self.gradient_factor

    def initial_state(self, problem: Any, theta0: Any, v0: Any, t0: Any) -> Any:
        """``(t0, [θ₀, v₀])`` with the paper's ``v₀`` when omitted."""
        if self.kind == "nesterov":
            _require_hessian(problem, "HighResolutionODE(kind='nesterov')")
        v0 = self.initial_velocity(problem, theta0) if v0 is None else v0
        return float(t0), np.concatenate([theta0, v0])

    def rhs(self, t: Any, y: Any, problem: Any) -> Any:
        """``[v, −2√h_min·v − [√s·∇²f(θ)·v] − (1 + √(h_min·s))·∇f(θ)]``."""
        d = y.shape[0] // 2
        theta, v = y[:d], y[d:]
        dv = -self.damping * v - self.gradient_factor * problem.grad(theta)
        if self.kind == "nesterov":
            dv = dv - math.sqrt(self.s) * _hvp(problem, theta, v)
        return np.concatenate([v, dv])

    def jacobian(self, t: Any, y: Any, problem: Any) -> Any:
        """The exact Jacobian; ``None`` without a Hessian, or for ``kind="nesterov"`` when
        ``∇²f`` is not constant (``∂(∇²f(θ)·v)/∂θ`` needs third derivatives)."""
        d = y.shape[0] // 2
        H = _hessian(problem, y[:d])
        if H is None or (self.kind == "nesterov" and not _constant_hessian(problem)):
            return None
        dv_dv = -self.damping * np.eye(d)
        if self.kind == "nesterov":
            dv_dv = dv_dv - math.sqrt(self.s) * H
        return _second_order_jacobian(d, -self.gradient_factor * H, dv_dv)

    def energy(self, problem: Any, theta: Any, v: Any) -> Any:
        """``E = ½‖v‖² + f(θ)``."""
        return _mechanical_energy(problem, theta, v)


@dataclass(frozen=True)
class GradientFlowODE:
    r"""The first-order flow ``θ' = −scale·∇f(θ) − correction·∇²f(θ)·∇f(θ)``.

    With ``correction = 0`` it is gradient flow with time rescaled by ``scale``; Kovachki &
    Stuart (2021), "Continuous time analysis of momentum methods", JMLR 22(17), show that
    momentum methods with fixed momentum ``μ`` and step ``h → 0`` follow
    ``θ' = −∇f/(1−μ)`` (``scale = 1/(1−μ)``, time ``t = k·h``), and that the next order is a
    modified equation with a ``∇²f·∇f`` term (``correction``); see
    :mod:`heavyball.discretization` for the coefficients. The state is ``θ`` alone: there
    is no velocity, so trajectories report ``v = θ'`` and ``energy = f(θ)``, which decreases
    (``df/dt = −scale‖∇f‖² − correction·∇fᵀ∇²f∇f``).

    On a quadratic every mode obeys ``x' = −k·(h·x − β)`` with ``k = scale + correction·h``,
    solved exactly by :func:`exact`.

    Parameters
    ----------
    scale : float, > 0
    correction : float

    Examples
    --------
    >>> import heavyball as hb
    >>> sol = hb.exact(hb.GradientFlowODE(scale=10.0), hb.Quadratic([[1.0]]), [1.0], [0.0, 0.1])
    >>> sol.theta[:, 0].round(6)   # e^{-10·0.1}
    array([1.      , 0.367879])
    """

    scale: float = 1.0
    correction: float = 0.0

    order: ClassVar[int] = 1
    autonomous: ClassVar[bool] = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "scale", as_real("scale", self.scale, lower=0.0, lower_inclusive=False))
        object.__setattr__(self, "correction", as_real("correction", self.correction))

    def initial_state(self, problem: Any, theta0: Any, v0: Any, t0: Any) -> Any:
        """``(t0, θ₀)``; a first-order flow takes no ``v0``."""
        _refuse_v0(v0)
        if self.correction != 0.0:
            _require_hessian(problem, "GradientFlowODE(correction != 0)")
        return float(t0), np.array(theta0, dtype=np.float64)

    def flow(self, problem: Any, theta: Any) -> Any:
        """``θ' = −scale·∇f(θ) − correction·∇²f(θ)·∇f(θ)`` for ``theta`` shaped ``(..., d)``."""
        g = np.asarray(problem.grad(theta), dtype=np.float64)
        out = -self.scale * g
        if self.correction != 0.0:
            out = out - self.correction * _hvp(problem, theta, g)
        return out

    def rhs(self, t: Any, y: Any, problem: Any) -> Any:
        """The flow on the state ``y = θ``."""
        return self.flow(problem, y)

    def jacobian(self, t: Any, y: Any, problem: Any) -> Any:
        """``−scale·∇²f`` (and ``−correction·(∇²f)²`` when ``∇²f`` is constant); ``None``
        without a Hessian or when third derivatives would be needed."""
        H = _hessian(problem, y)
        if H is None or (self.correction != 0.0 and not _constant_hessian(problem)):
            return None
        return -self.scale * H - self.correction * (H @ H)

    def energy(self, problem: Any, theta: np.ndarray, v: np.ndarray | None = None) -> np.ndarray:
        """``E = f(θ)``."""
        return np.asarray(problem.value(theta), dtype=np.float64)

    def split_state(self, problem: Any, t: np.ndarray, Y: np.ndarray) -> dict[str, np.ndarray]:
        """``theta = Y``, ``v = θ'`` (the flow at each point) and the energy ``f(θ)``.

        Parameters
        ----------
        problem : Problem
        t : ndarray, shape (n,)
        Y : ndarray, shape (n, d)

        Returns
        -------
        dict
            ``"theta"``, ``"v"`` (each ``(n, d)``) and ``"energy"`` (``(n,)``).
        """
        v = np.asarray(self.flow(problem, Y), dtype=np.float64).reshape(Y.shape)
        return {"theta": Y, "v": v, "energy": self.energy(problem, Y, v)}
