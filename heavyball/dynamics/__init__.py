r"""Continuous dynamics: the heavy-ball ODE and its relatives, solved numerically and exactly.

The lecture's physical model is a ball of mass ``m`` rolling on the landscape ``f`` with
friction ``c``::

    θ' = v,    m·v' = −∇f(θ) − c·v        (i.e. m·θ'' + c·θ' + ∇f(θ) = 0).

The package holds one concept per module:

- :mod:`heavyball.dynamics.odes` — the ODEs (:class:`HeavyBallODE`, :class:`NesterovODE`,
  :class:`HighResolutionODE`, :class:`GradientFlowODE`) and the protocol :class:`ODE` that
  :func:`simulate` integrates (a new ODE plugs in without changing :func:`simulate`);
- :mod:`heavyball.dynamics.trajectory` — the result, :class:`ContinuousTrajectory`;
- :mod:`heavyball.dynamics.solve` — :func:`simulate`, any ODE on any problem with
  :func:`scipy.integrate.solve_ivp`;
- :mod:`heavyball.dynamics.closed_form` — :func:`exact`, the closed form on quadratics, mode
  by mode in the eigenbasis of the Hessian, so that the numerical solution can be trusted
  and the discrete methods have an exact continuous reference;
- :mod:`heavyball.dynamics.regimes` — :func:`damping_regime` of one eigenmode.

All computations are in float64 (float32 input is promoted). ``import heavyball`` does not
import :mod:`scipy.integrate`: :func:`simulate` imports it when called. The notation is that
of the glossary, ``docs/glossary.md``.
"""

from __future__ import annotations

from .closed_form import exact
from .odes import ODE, GradientFlowODE, HeavyBallODE, HighResolutionODE, NesterovODE
from .regimes import CRITICAL_RTOL, damping_regime
from .solve import EXPLICIT_METHODS, IMPLICIT_METHODS, MAX_NFEV, MAX_NORM, METHODS, STATUSES, STIFF_NFEV, simulate
from .trajectory import ContinuousTrajectory

__all__ = [
    "CRITICAL_RTOL",
    "EXPLICIT_METHODS",
    "IMPLICIT_METHODS",
    "MAX_NFEV",
    "MAX_NORM",
    "METHODS",
    "ODE",
    "STATUSES",
    "STIFF_NFEV",
    "ContinuousTrajectory",
    "GradientFlowODE",
    "HeavyBallODE",
    "HighResolutionODE",
    "NesterovODE",
    "damping_regime",
    "exact",
    "simulate",
]
