"""Validation at the public boundary.

Every public callable of heavyball checks its arguments with these helpers, so that bad
input raises a ``ValueError`` or ``TypeError`` whose message names the argument in
backticks, shows the value received and says what is allowed (scipy's style), instead of
a numpy traceback from deep inside a computation. Internal code trusts what was validated.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable

import numpy as np

__all__ = [
    "as_bool",
    "as_choice",
    "as_float_array",
    "as_int",
    "as_real",
    "broadcast_shapes",
    "check_theta",
    "describe",
]


def describe(value, limit: int = 60) -> str:
    """A short ``repr`` of ``value`` for error messages (arrays by shape and dtype)."""
    if isinstance(value, np.ndarray):
        if value.size <= 6:
            text = np.array2string(value, separator=", ", threshold=6)
            return f"array({text}, dtype={value.dtype})"
        return f"array of shape {value.shape} and dtype {value.dtype}"
    try:
        text = repr(value)
    except Exception:  # pragma: no cover - a repr that fails is the caller's problem
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _numeric_array(name: str, value) -> np.ndarray:
    """``np.asarray(value)`` that refuses anything that is not real numbers."""
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"`{name}` must be a real number or array of real numbers, got {describe(value)}")
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError) as exc:  # ragged nested sequences
        raise TypeError(f"`{name}` must be a real number or array of real numbers, got {describe(value)}") from exc
    if arr.dtype.kind not in "biuf":
        raise TypeError(
            f"`{name}` must be a real number or array of real numbers, got {describe(value)} (dtype {arr.dtype})"
        )
    return arr


def as_float_array(
    name: str,
    value,
    *,
    dtype=None,
    ndim: int | None = None,
    finite: bool = True,
    copy: bool = False,
    readonly: bool = False,
) -> np.ndarray:
    """Convert ``value`` to a floating array, validating it.

    Parameters
    ----------
    name : str
        The argument's name, used in error messages.
    dtype : numpy dtype, optional
        ``None`` keeps float32 and float64 as they are and converts integers and
        booleans to float64; otherwise the array is cast to ``dtype`` (values beyond its
        range become ±inf without a warning, and are then refused when ``finite``).
    ndim : int, optional
        Required number of dimensions.
    finite : bool
        Reject NaN and infinities.
    copy, readonly : bool
        Return a fresh copy, optionally marked read-only.
    """
    arr = _numeric_array(name, value)
    if dtype is None:
        dtype = arr.dtype if arr.dtype in (np.float32, np.float64) else np.float64
    with np.errstate(over="ignore"):  # values beyond the target dtype's range become ±inf (IEEE)
        arr = np.array(arr, dtype=dtype, copy=True) if copy else np.asarray(arr, dtype=dtype)
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"`{name}` must be a {ndim}-D array, got shape {arr.shape}")
    if finite and not np.all(np.isfinite(arr)):
        raise ValueError(f"`{name}` must be finite (no NaN or inf), got {describe(value)}")
    if readonly:
        if not copy:
            arr = arr.copy()
        arr.flags.writeable = False
    return arr


def _bound_text(lower, upper, lower_inclusive, upper_inclusive) -> str:
    parts = []
    if lower is not None:
        parts.append(f"{'>=' if lower_inclusive else '>'} {lower:g}")
    if upper is not None:
        parts.append(f"{'<=' if upper_inclusive else '<'} {upper:g}")
    return " and ".join(parts)


def as_real(
    name: str,
    value,
    *,
    lower: float | None = None,
    upper: float | None = None,
    lower_inclusive: bool = True,
    upper_inclusive: bool = True,
    allow_inf: bool = False,
    array: bool = False,
    dtype=np.float64,
):
    """Validate a real hyperparameter: a scalar (``float``) or, with ``array=True``, an array.

    Raises ``TypeError`` for non-numeric input and ``ValueError`` for NaN, infinities
    (unless ``allow_inf``) or values outside the bounds, naming ``name``, the value
    received and the allowed range.
    """
    arr = _numeric_array(name, value)
    if not array and arr.ndim != 0:
        raise TypeError(f"`{name}` must be a real scalar, got {describe(value)}")
    arr = arr.astype(dtype, copy=False)
    what = "a real number" if not array else "real numbers"
    bound = _bound_text(lower, upper, lower_inclusive, upper_inclusive)
    allowed = f"{what}{' ' + bound if bound else ''}"
    if np.any(np.isnan(arr)) or (not allow_inf and not np.all(np.isfinite(arr))):
        raise ValueError(f"`{name}` must be finite {allowed}, got {describe(value)}")
    if lower is not None:
        bad = arr < lower if lower_inclusive else arr <= lower
        if np.any(bad):
            raise ValueError(f"`{name}` must be {allowed}, got {describe(value)}")
    if upper is not None:
        bad = arr > upper if upper_inclusive else arr >= upper
        if np.any(bad):
            raise ValueError(f"`{name}` must be {allowed}, got {describe(value)}")
    if array:
        return arr
    return float(arr)


def as_int(name: str, value, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """Validate an integer argument (``bool`` is refused; integral floats are not accepted)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral, np.integer)):
        raise TypeError(f"`{name}` must be an integer, got {describe(value)}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"`{name}` must be an integer >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"`{name}` must be an integer <= {maximum}, got {value}")
    return value


def as_bool(name: str, value) -> bool:
    """Validate a flag: ``True``/``False`` (numpy booleans accepted)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise TypeError(f"`{name}` must be True or False, got {describe(value)}")


def as_choice(name: str, value, choices: Iterable[str]) -> str:
    """Validate a string option against a fixed set of choices."""
    choices = tuple(choices)
    if not isinstance(value, str):
        raise TypeError(f"`{name}` must be one of {', '.join(map(repr, choices))}; got {describe(value)}")
    if value not in choices:
        raise ValueError(f"`{name}` must be one of {', '.join(map(repr, choices))}; got {describe(value)}")
    return value


def check_theta(name: str, theta, dim: int, *, finite: bool = False) -> np.ndarray:
    """Validate a point or batch of points ``theta`` shaped ``(..., dim)``.

    float32 input stays float32; integers become float64.
    """
    arr = as_float_array(name, theta, finite=finite)
    if arr.ndim == 0 or arr.shape[-1] != dim:
        raise ValueError(
            f"`{name}` must have shape (..., {dim}) (last axis = the problem's dimension), got shape {arr.shape}"
        )
    return arr


def broadcast_shapes(**named_shapes) -> tuple:
    """``np.broadcast_shapes`` that names the arguments that do not broadcast."""
    try:
        return np.broadcast_shapes(*named_shapes.values())
    except ValueError:
        listing = ", ".join(f"`{k}` {tuple(v)}" for k, v in named_shapes.items())
        raise ValueError(f"shapes do not broadcast: {listing}") from None
