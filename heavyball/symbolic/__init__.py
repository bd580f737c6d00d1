r"""Sympy derivations of the relations the lecture states, each checked twice and printable.

Every relation between the heavy-ball ODE, its discretisations and the optimisers that
``torch.optim`` runs is *derived* here: sympy does the algebra from the update rules or the
ODE, and the closed forms that the lecture (or a paper) states are then checked against
what was derived. Each derivation is a frozen :class:`Derivation` with its assumptions,
intermediate ``steps``, a ``result`` dictionary, the ``claims`` to verify, numeric ``twins``
and plain-language ``findings`` (where the lecture's formulas are loose or mix conventions,
the finding says so).

``Derivation.check()`` verifies every claim ``lhs == rhs`` exactly (the difference reduces
to 0) and numerically (mpmath at random admissible points; see
:mod:`heavyball.symbolic.claims`), and compares every numeric twin with the library function
that computes the same quantity (:mod:`heavyball.symbolic.twins`). A claim or twin that fails
makes ``check()`` raise :class:`DerivationError` (a ``ValueError``) naming it; with
``strict=False`` the :class:`CheckReport` is returned with ``success=False`` instead.

``DERIVATIONS`` maps each name to a factory (a zero-argument callable, cached, returning the
:class:`Derivation`); the factory also forwards attribute access, so
``DERIVATIONS["discretization"]().check()`` and ``DERIVATIONS["discretization"].check()`` are
the same. Each derivation's function is also ``heavyball.symbolic.NAME`` and accepts the
symbols to use as keyword arguments (``discretization(m=..., c=..., dt=...)``).
``numeric(name, key)`` lambdifies ``result[key]`` with the argument order
``Derivation.signatures[key]`` (the function's docstring names them), so numeric code can be
tested against its symbolic twin. ``latex_document()`` renders the whole catalogue.

The package
-----------
- :mod:`~heavyball.symbolic.claims` -- the claim engine (:class:`Claim`, :func:`claim`,
  :class:`Derivation`, checking, :class:`DerivationError`);
- :mod:`~heavyball.symbolic.twins` -- numeric twins (lambdify, comparison with the library);
- :mod:`~heavyball.symbolic.latex` -- LaTeX rendering;
- :mod:`~heavyball.symbolic.rules` -- the update rules, written once as sympy expressions;
- :mod:`~heavyball.symbolic.algebra` -- symbols, sampling boxes, series helpers;
- :mod:`~heavyball.symbolic.derivations` -- one module per derivation;
- :mod:`~heavyball.symbolic.registry` -- the registry built from those modules.

Adding a derivation
-------------------
Create ``heavyball/symbolic/derivations/NAME.py`` with an ``int`` ``ORDER`` (its place in the
catalogue) and a ``functools.cache``-d function ``NAME(**symbols) -> Derivation`` (keyword
arguments: the symbols it uses, default ``None`` for fresh ones) returning a
:class:`Derivation` named ``NAME``. Tie every entry of its ``result`` to a claim (the entry,
or an ``Eq``'s right-hand side, is the ``lhs`` or ``rhs`` of a claim) or declare a numeric
twin for it (``twins={key: Twin(...)}`` with ``signatures[key]``). Nothing else: the registry,
``heavyball.symbolic.NAME``, ``heavyball derive``, the LaTeX document and the test suite
(which checks the derivation, its ties, its LaTeX, and that a mutated claim is caught) pick
the module up.

Examples
--------
>>> from heavyball import symbolic
>>> d = symbolic.DERIVATIONS["discretization"]()
>>> d.result["mu"]
-c*dt/m + 1
>>> d.check().success
True
>>> symbolic.numeric("discretization", "lr")(1.0, 0.5, 0.1)  # (m, c, dt) -> dt**2/m
0.010000000000000002

References
----------
Polyak (1964); Qian (1999); Sutskever, Martens, Dahl & Hinton (2013); Kingma & Ba (2015);
Goh (2017), "Why Momentum Really Works", Distill; Kovachki & Stuart (2021), "Continuous time
analysis of momentum methods", JMLR 22; Ghosh, Lyu, Zhang & Wang (2023), "Implicit
regularization in heavy-ball momentum accelerated stochastic gradient descent", ICLR.
The lecture: "Variantes de Gradient Descent: Momento, Friccion y ADAM" (ORT Uruguay, 2025).
"""

from __future__ import annotations

from .claims import (
    MIN_POINTS,
    MP_DPS,
    MP_ZERO,
    RTOL,
    CheckReport,
    Claim,
    ClaimResult,
    Derivation,
    DerivationError,
    claim,
)
from .registry import DERIVATIONS, FUNCTIONS, DerivationFactory, check_all, latex_document, numeric
from .twins import Twin, TwinResult

globals().update(FUNCTIONS)  # each derivation as heavyball.symbolic.NAME

# the package re-exports the public names of claims.py (its __all__ but EXACT_METHODS, which
# stays in claims), of registry.py and twins.py, and each derivation by name: a literal list
# so that linters, type checkers and the documentation read it without importing
__all__ = [
    "DERIVATIONS",
    "MIN_POINTS",
    "MP_DPS",
    "MP_ZERO",
    "RTOL",
    "CheckReport",
    "Claim",
    "ClaimResult",
    "Derivation",
    "DerivationError",
    "DerivationFactory",
    "Twin",
    "TwinResult",
    "check_all",
    "claim",
    "latex_document",
    "numeric",
    *FUNCTIONS,
]
