"""Hyperparameters of the optimisers: a real number, a read-only float64 array, or a schedule.

:func:`hyperparameter` validates one (``ValueError``/``TypeError`` naming it); a schedule
``k -> value`` is checked once at construction (:func:`_schedule`) and read at every step by
the optimiser.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from ._validation import as_real, describe

__all__ = ["Hyper", "hyperparameter"]

Hyper = float | np.ndarray


def hyperparameter(name: str, value: Any, *, callable_ok: bool = False, **bounds: Any) -> Hyper | Callable:
    """Validate a real hyperparameter: a Python float, a read-only float64 array, or (where
    allowed) a callable schedule."""
    if callable_ok and callable(value) and not isinstance(value, np.ndarray):
        return _schedule(name, value, bounds)
    arr = as_real(name, value, array=True, **bounds)
    if arr.ndim == 0:
        return float(arr)
    arr = np.array(arr, dtype=np.float64, copy=True)
    arr.flags.writeable = False
    return arr


def _schedule(name: str, fn: Callable, bounds: dict) -> Callable:
    """Check a schedule at construction: it must take the step count ``k`` and return a
    number (or an array of numbers) within ``bounds``; it is called once, at ``k = 0``.

    A class is refused although it is callable (``SGD(lr=object)``): calling it with the step
    count does not give a rate. Raises ``TypeError``/``ValueError`` naming the argument.
    """
    if getattr(fn, "checked_schedule", False):  # already checked (a schedule restricted to a batch's rows)
        return fn
    allowed = f"a number, an array or a schedule `k -> {name}_k` (a function of the step count)"
    if isinstance(fn, type):
        raise TypeError(f"`{name}` must be {allowed}, got the class {fn.__name__!r}")
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):  # no signature to read (some builtins): the call decides
        signature = None
    if signature is not None:
        try:
            signature.bind(0)
        except TypeError:
            raise TypeError(
                f"`{name}` must be {allowed}; the callable {describe(fn)} cannot take the step count as "
                f"its one argument (signature {signature})"
            ) from None
    try:
        raw = fn(0)
    except Exception as exc:
        raise TypeError(
            f"`{name}` must be {allowed}; calling {describe(fn)} with the step count 0 raised "
            f"{type(exc).__name__}: {exc}"
        ) from None
    try:
        as_real(name, raw, array=True, **bounds)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{exc} (returned by the `{name}` schedule at k=0)") from None
    return fn
