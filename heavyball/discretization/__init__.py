r"""Discrete iterates against the continuous solution.

The heavy-ball ODE ``m·θ'' + c·θ' + ∇f(θ) = 0`` is discretised, in the velocity form that all
schemes here share,

.. math::

    v_{k+1} = \mu\, v_k - \eta\, \nabla f(\theta_k), \qquad
    \theta_{k+1} = \theta_k + \Delta t\, v_{k+1},

and the schemes differ only in how ``(μ, η)`` depend on ``(m, c, Δt)`` (see
:mod:`heavyball.dynamics` for the ODE and ``docs/glossary.md`` for the notation).

The package holds one concept per module:

- :mod:`heavyball.discretization.schemes` — the schemes: :func:`discretize`,
  :func:`continuum`, :func:`to_torch`;
- :mod:`heavyball.discretization.comparison` — iterates next to the continuous solution:
  :func:`compare`, :class:`Comparison`;
- :mod:`heavyball.discretization.order` — observed orders: :func:`convergence_order`,
  :func:`fit_order`, :class:`OrderFit`;
- :mod:`heavyball.discretization.limits` — the fixed-momentum scaling limit of Kovachki &
  Stuart (2021): :func:`gradient_flow_limit`, :func:`modified_equation`,
  :func:`modified_coefficient`, :func:`slow_manifold_shift`, :func:`compare_momentum`;
- :mod:`heavyball.discretization.nesterov` — the Nesterov limit of Su, Boyd & Candès (2016):
  :func:`nesterov_iterates`, :func:`nesterov_limit`.
"""

from __future__ import annotations

from .comparison import Comparison, compare
from .limits import (
    FAMILIES,
    compare_momentum,
    gradient_flow_limit,
    modified_coefficient,
    modified_equation,
    slow_manifold_shift,
)
from .nesterov import nesterov_iterates, nesterov_limit
from .order import OrderFit, convergence_order, fit_order
from .schemes import SCHEME_ORDER, SCHEMES, continuum, discretize, to_torch

__all__ = [
    "FAMILIES",
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
