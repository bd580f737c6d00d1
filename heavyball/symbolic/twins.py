"""Numeric twins: derived results as numeric functions, and their comparison with the library.

:func:`lambdify_result` turns ``derivation.result[key]`` into a function of the symbols in
``derivation.signatures[key]`` (the right-hand side of an ``Eq``). A :class:`Twin` declares
that a function of the numeric library (``heavyball.rates``, ``heavyball.dynamics``, ...)
computes the same quantity; :func:`check_twin` evaluates both at random points of the
twin's box (float64) and compares them: relative error at most ``rtol`` for numbers,
equality for booleans (a stability region, say). :meth:`Derivation.check` runs every twin of
a derivation beside its claims, so a derived formula that drifts from the library (or the
library from the formula) fails the check.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import sympy as sp

if TYPE_CHECKING:  # typing only: the claim engine imports this module
    from .claims import Derivation

__all__ = ["TWIN_POINTS", "TWIN_RTOL", "Twin", "TwinResult", "check_twin", "lambdify_result", "resolve"]

#: default relative tolerance of a twin comparison (float64 on both sides)
TWIN_RTOL = 1e-12
#: the fewest random points of a twin comparison (vectorised: cheap)
TWIN_POINTS = 1000


@dataclass(frozen=True)
class Twin:
    """A numeric function of the library that computes ``result[key]`` of a derivation.

    Attributes
    ----------
    function : str
        Dotted name of the library function, e.g. ``"heavyball.rates.is_stable"``; it must
        live in ``heavyball`` outside ``heavyball.symbolic`` (an independent implementation).
    call : callable
        ``call(function, *args)`` evaluates the library function at the arguments of
        ``signatures[key]`` (in that order, float64 arrays) and returns what the lambdified
        result returns there.
    domain : tuple of (low, high)
        The sampling box of each argument, in the order of ``signatures[key]``.
    rtol : float
        Largest admissible relative error (numbers); booleans must agree exactly.
    note : str
        What the twin compares, in words.
    """

    function: str
    call: Callable[..., Any]
    domain: tuple[tuple[float, float], ...]
    rtol: float = TWIN_RTOL
    note: str = ""


@dataclass(frozen=True)
class TwinResult:
    """How one twin fared: ``held``, the largest relative error (or the fraction of points
    where booleans disagree), the number of ``points`` and a ``detail`` when it failed."""

    name: str
    function: str
    held: bool
    max_rel_error: float
    points: int
    detail: str = ""


def resolve(dotted: str) -> Callable[..., Any]:
    """The function named ``dotted`` (``"package.module.function"``)."""
    module, _, attr = dotted.rpartition(".")
    if not module.startswith("heavyball.") or module.startswith("heavyball.symbolic"):
        raise ValueError(f"`function` must name a function of heavyball outside heavyball.symbolic, got {dotted!r}")
    return getattr(importlib.import_module(module), attr)


def lambdify_result(d: Derivation, key: str, modules: str = "numpy") -> Callable[..., Any]:
    """``d.result[key]`` (an ``Eq``'s right-hand side) as a function of ``d.signatures[key]``."""
    if key not in d.signatures:
        what = "has no numeric signature" if key in d.result else "is not a result"
        raise ValueError(f"`key` must be one of {', '.join(map(repr, d.signatures))} for `{d.name}`; {key!r} {what}")
    value = d.result[key]
    if isinstance(value, sp.Eq):
        value = value.rhs
    fn = sp.lambdify(d.signatures[key], value, modules=modules)
    args = ", ".join(str(s) for s in d.signatures[key])
    fn.__doc__ = f"{d.name}.result[{key!r}] as a function of ({args}):\n\n    {value}\n"
    return fn


def check_twin(d: Derivation, key: str, twin: Twin, rng: np.random.Generator, n: int) -> TwinResult:
    """Compare ``d.result[key]`` with ``twin.function`` at ``n`` random points of its box."""
    name = f"{key} ~ {twin.function}"
    arity = len(d.signatures.get(key, ()))
    if len(twin.domain) != arity:
        detail = f"the twin's box has {len(twin.domain)} ranges for {arity} arguments"
        return TwinResult(name, twin.function, False, float("inf"), 0, detail)
    args = [rng.uniform(low, high, n) for low, high in twin.domain]
    with np.errstate(all="ignore"):
        derived = np.broadcast_to(np.asarray(lambdify_result(d, key)(*args)), (n,))
        library = np.broadcast_to(np.asarray(twin.call(resolve(twin.function), *args)), (n,))
    if derived.dtype == bool or library.dtype == bool:
        wrong = derived.astype(bool) != library.astype(bool)
        error = float(np.mean(wrong))
        held = not wrong.any()
        detail = (
            "" if held else f"disagree at {int(wrong.sum())} of {n} points, e.g. {[float(a[wrong][0]) for a in args]}"
        )
        return TwinResult(name, twin.function, held, error, n, detail)
    derived, library = derived.astype(complex), library.astype(complex)
    finite = np.isfinite(derived) & np.isfinite(library)
    if not finite.all():
        return TwinResult(name, twin.function, False, float("inf"), n, "non-finite values")
    scale = np.maximum(np.abs(derived), np.abs(library))
    gap = np.abs(derived - library)
    rel = np.where(scale > 0, gap / np.where(scale > 0, scale, 1.0), 0.0)
    error = float(rel.max())
    held = error <= twin.rtol
    detail = "" if held else f"max relative error {error:.3e} > rtol {twin.rtol:.0e} at {n} random points"
    return TwinResult(name, twin.function, held, error, n, detail)
