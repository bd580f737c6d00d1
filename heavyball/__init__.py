"""heavyball: the continuous-time view of momentum methods.

The heavy-ball ODE ``m·θ'' + c·θ' + ∇f(θ) = 0``, solved numerically and exactly; its
discretisations; the optimisers ``torch.optim`` runs (SGD with momentum, dampening, weight
decay, Nesterov; Adam, AdamW, amsgrad) in numpy, batched; eigenvalue-based convergence rates
on quadratic valleys; sympy-checked derivations; and paper figures.

The public API is flat: ``hb.Quadratic``, ``hb.SGD``, ``hb.iterate``, ``hb.simulate``, ...
Submodules ``hb.rates`` and ``hb.symbolic`` are reached as attributes. Names are loaded on
first use, so ``import heavyball`` stays fast and never imports sympy, matplotlib or
scipy.integrate (the modules that need them import them when called).
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING

__version__ = "0.1.0"

# public name -> submodule that defines it (the curated, flat API)
_EXPORTS = {
    # problems
    "Problem": "problems",
    "Quadratic": "problems",
    "Rosenbrock": "problems",
    "Objective": "problems",
    # optimizers
    "SGD": "optimizers",
    "Adam": "optimizers",
    "AdamW": "optimizers",
    "HeavyBall": "optimizers",
    "NesterovLookahead": "optimizers",
    "SGDState": "optimizers",
    "AdamState": "optimizers",
    "HeavyBallState": "optimizers",
    # outcomes
    "Status": "status",
    # iterate
    "iterate": "iterate",
    "DiscreteTrajectory": "iterate",
    "closed_form_iterate": "eigenmodes",
    "sweep": "sweep",
    # dynamics
    "HeavyBallODE": "dynamics",
    "NesterovODE": "dynamics",
    "HighResolutionODE": "dynamics",
    "GradientFlowODE": "dynamics",
    "simulate": "dynamics",
    "exact": "dynamics",
    "damping_regime": "dynamics",
    "ContinuousTrajectory": "dynamics",
    # Adam in continuous time
    "AdamODE": "adam_ode",
    "SignGradientFlow": "adam_ode",
    "AdamHeavyBall": "adam_limits",
    "adam_heavy_ball": "adam_limits",
    "compare_heavy_ball": "adam_limits",
    "compare_sign_flow": "adam_limits",
    # discretization
    "discretize": "discretization",
    "continuum": "discretization",
    "to_torch": "discretization",
    "compare": "discretization",
    "Comparison": "discretization",
    "convergence_order": "discretization",
    "gradient_flow_limit": "discretization",
    "modified_equation": "discretization",
    "modified_coefficient": "discretization",
    "compare_momentum": "discretization",
    "nesterov_iterates": "discretization",
    "nesterov_limit": "discretization",
    "OrderFit": "discretization",
    # gradient noise, exact moments, the heavy-ball SDE
    "GradientNoise": "noise",
    "NoStationaryLawError": "noise",
    "moments": "exact_moments",
    "stationary": "exact_moments",
    "Moments": "exact_moments",
    "Stationary": "exact_moments",
    "HeavyBallSDE": "sde",
    "sample_paths": "sde",
    "SamplePaths": "sde",
    "SDEMoments": "sde",
    "SDEStationary": "sde",
}
_SUBMODULES = (
    "problems",
    "optimizers",
    "iterate",
    "dynamics",
    "discretization",
    "rates",
    "status",
    "symbolic",
    "plotting",
    "figures",
    "noise",
    "exact_moments",
    "sde",
)

__all__ = sorted(_EXPORTS) + ["rates", "symbolic", "__version__"]


# submodules named after their main function
_NAMESAKES = ("iterate", "sweep")


class _Package(types.ModuleType):
    """``iterate`` (and ``sweep``) is both a submodule and its main function. Importing the
    submodule makes Python set the package attribute ``heavyball.iterate`` to the *module*
    (after it is first loaded, by whoever imports it); this keeps the attribute the function,
    in every import order, without importing anything at ``import heavyball`` time."""

    def __setattr__(self, name: str, value: object) -> None:
        if name in _NAMESAKES and isinstance(value, types.ModuleType):
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is not None:
        value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
        globals()[name] = value  # cache: later lookups do not come back here
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'heavyball' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # for type checkers and IDEs; never executed at run time
    from . import rates, symbolic
    from .adam_limits import AdamHeavyBall, adam_heavy_ball, compare_heavy_ball, compare_sign_flow
    from .adam_ode import AdamODE, SignGradientFlow
    from .discretization import (
        Comparison,
        OrderFit,
        compare,
        compare_momentum,
        continuum,
        convergence_order,
        discretize,
        gradient_flow_limit,
        modified_coefficient,
        modified_equation,
        nesterov_iterates,
        nesterov_limit,
        to_torch,
    )
    from .dynamics import (
        ContinuousTrajectory,
        GradientFlowODE,
        HeavyBallODE,
        HighResolutionODE,
        NesterovODE,
        damping_regime,
        exact,
        simulate,
    )
    from .eigenmodes import closed_form_iterate
    from .exact_moments import Moments, Stationary, moments, stationary
    from .iterate import DiscreteTrajectory, iterate
    from .noise import GradientNoise, NoStationaryLawError
    from .optimizers import SGD, Adam, AdamState, AdamW, HeavyBall, HeavyBallState, NesterovLookahead, SGDState
    from .problems import Objective, Problem, Quadratic, Rosenbrock
    from .sde import HeavyBallSDE, SamplePaths, SDEMoments, SDEStationary, sample_paths
    from .status import Status
    from .sweep import sweep
