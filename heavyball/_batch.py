"""An optimiser restricted to the rows of a flat batch, and the work arrays of its update.

:func:`heavyball.iterate` runs a batch shaped ``(*batch, d)`` as ``(B, d)`` rows:
:func:`restrict_batch` flattens the array hyperparameters (and wraps schedules) to those rows,
or to a subset of them once configurations diverge; :class:`Scratch` holds the temporaries of
an in-place update.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

__all__ = ["Scratch", "restrict_batch"]


class Scratch:
    """Work arrays of one shape and dtype, allocated on first use and reused."""

    __slots__ = ("_arrays", "dtype", "shape")

    def __init__(self, shape: Any, dtype: Any) -> None:
        self.shape, self.dtype = tuple(shape), np.dtype(dtype)
        self._arrays: dict[int, np.ndarray] = {}

    def __getitem__(self, i: int) -> np.ndarray:
        arr = self._arrays.get(i)
        if arr is None:
            arr = self._arrays[i] = np.empty(self.shape, self.dtype)
        return arr


class _FlatSchedule:
    checked_schedule = True  # the schedule was checked when the optimiser was built

    """A schedule's values flattened to ``(B, last)`` rows and restricted to ``rows``.

    Wraps a user schedule ``k -> value`` for a run whose batch ``batch`` has been flattened to
    ``B`` rows (of which ``rows`` are still being stepped); scalar values pass through.
    """

    def __init__(self, fn: Any, name: Any, batch: Any, rows: Any) -> None:
        self.fn, self.name, self.batch, self.rows = fn, name, tuple(batch), rows
        self.__name__ = getattr(fn, "__name__", type(fn).__name__)

    def __call__(self, k: Any) -> Any:
        value = self.fn(k)
        arr = np.asarray(value) if isinstance(value, (np.ndarray, list, tuple)) else None
        if arr is None or arr.ndim == 0:
            return value
        try:
            flat = _flatten(arr, self.batch)
        except ValueError:
            raise ValueError(
                f"`{self.name}` schedule returned shape {arr.shape} at k={k}, which does not broadcast "
                f"into the batch shape {self.batch} + (d,)"
            ) from None
        return flat if self.rows is None else flat[self.rows]


def _flatten(arr: np.ndarray, batch: tuple) -> np.ndarray:
    """Broadcast an array hyperparameter against ``(*batch, last)`` and reshape to ``(B, last)``."""
    nb = len(batch)
    if arr.ndim > nb + 1:
        raise ValueError("too many axes")
    shape = (1,) * (nb + 1 - arr.ndim) + arr.shape
    last = shape[-1]
    full = np.broadcast_to(arr.reshape(shape), batch + (last,))
    return full.reshape(-1, last)


def restrict_batch(method: Any, batch: tuple, rows: Any = None) -> Any:
    """(Package-internal.) ``method`` with its array hyperparameters (and schedules) flattened to the rows of a
    ``(B, d)`` working array; ``rows`` (an index array, or ``None`` for all) selects a subset.

    A method that is already flat (``batch`` = its own flat length) is restricted again by
    passing the flat ``batch=(B,)``. Used by ``iterate`` to drop diverged configurations.
    """

    def one(name: Any, v: Any) -> Any:
        if isinstance(v, np.ndarray):
            flat = _flatten(v, batch)
            return flat if rows is None else flat[rows]
        if callable(v):
            if isinstance(v, _FlatSchedule):
                inner_rows = v.rows
                if rows is not None:
                    inner_rows = rows if inner_rows is None else inner_rows[rows]
                return _FlatSchedule(v.fn, v.name, v.batch, inner_rows)
            return _FlatSchedule(v, name, batch, rows)
        return v

    changes = {}
    for f in dataclasses.fields(method):
        v = getattr(method, f.name)
        if isinstance(v, tuple):
            new = tuple(one(f"{f.name}[{i}]", vi) for i, vi in enumerate(v))
            if any(a is not b for a, b in zip(new, v, strict=False)):
                changes[f.name] = new
        else:
            new = one(f.name, v)
            if new is not v:
                changes[f.name] = new
    return dataclasses.replace(method, **changes) if changes else method
