"""Validation at the public boundary.

Every public callable of heavyball checks its arguments with these helpers, so that bad
input raises a ``ValueError`` or ``TypeError`` whose message names the argument in
backticks, shows the value received and says what is allowed (scipy's style), instead of
a numpy traceback from deep inside a computation. Internal code trusts what was validated.
"""

from __future__ import annotations

import functools
import numbers
import warnings
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import numpy as np

__all__ = [
    "as_bool",
    "as_choice",
    "as_float_array",
    "as_int",
    "as_real",
    "broadcast_shapes",
    "check_momentum",
    "check_point",
    "check_theta",
    "describe",
    "renamed_keyword",
]

_F = TypeVar("_F", bound=Callable[..., Any])

#: the largest magnitude a momentum may have where any real momentum is allowed (beyond it,
#: products with other hyperparameters leave float64's range)
MAX_MOMENTUM = 1e50


def describe(value: Any, limit: int = 60) -> str:
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


def _numeric_array(name: str, value: Any) -> np.ndarray:
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
    value: Any,
    *,
    dtype: Any = None,
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


def _bound_text(lower: float | None, upper: float | None, lower_inclusive: bool, upper_inclusive: bool) -> str:
    parts = []
    if lower is not None:
        parts.append(f"{'>=' if lower_inclusive else '>'} {lower:g}")
    if upper is not None:
        parts.append(f"{'<=' if upper_inclusive else '<'} {upper:g}")
    return " and ".join(parts)


def as_real(
    name: str,
    value: Any,
    *,
    lower: float | None = None,
    upper: float | None = None,
    lower_inclusive: bool = True,
    upper_inclusive: bool = True,
    allow_inf: bool = False,
    array: bool = False,
    dtype: Any = np.float64,
) -> Any:
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


def as_int(name: str, value: Any, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """Validate an integer argument (``bool`` is refused; integral floats are not accepted)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral, np.integer)):
        raise TypeError(f"`{name}` must be an integer, got {describe(value)}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"`{name}` must be an integer >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"`{name}` must be an integer <= {maximum}, got {value}")
    return value


def as_bool(name: str, value: Any) -> bool:
    """Validate a flag: ``True``/``False`` (numpy booleans accepted)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise TypeError(f"`{name}` must be True or False, got {describe(value)}")


def as_choice(name: str, value: Any, choices: Iterable[str]) -> str:
    """Validate a string option against a fixed set of choices."""
    choices = tuple(choices)
    if not isinstance(value, str):
        raise TypeError(f"`{name}` must be one of {', '.join(map(repr, choices))}; got {describe(value)}")
    if value not in choices:
        raise ValueError(f"`{name}` must be one of {', '.join(map(repr, choices))}; got {describe(value)}")
    return value


def check_theta(name: str, theta: Any, dim: int, *, finite: bool = False) -> np.ndarray:
    """Validate a point or batch of points ``theta`` shaped ``(..., dim)``.

    float32 input stays float32; integers become float64.
    """
    arr = as_float_array(name, theta, finite=finite)
    if arr.ndim == 0 or arr.shape[-1] != dim:
        raise ValueError(
            f"`{name}` must have shape (..., {dim}) (last axis = the problem's dimension), got shape {arr.shape}"
        )
    return arr


def check_point(name: str, value: Any, dim: int) -> np.ndarray:
    """Validate one finite point of a problem's dimension: a float64 copy of shape ``(dim,)``."""
    arr = check_theta(name, value, dim, finite=True)
    if arr.shape != (dim,):
        raise ValueError(
            f"`{name}` must have shape ({dim},) (one point of the problem's dimension), got shape {arr.shape}"
        )
    return np.array(arr, dtype=np.float64)


def broadcast_shapes(**named_shapes: tuple[int, ...]) -> tuple[int, ...]:
    """``np.broadcast_shapes`` that names the arguments that do not broadcast."""
    try:
        return np.broadcast_shapes(*named_shapes.values())
    except ValueError:
        listing = ", ".join(f"`{k}` {tuple(v)}" for k, v in named_shapes.items())
        raise ValueError(f"shapes do not broadcast: {listing}") from None


def check_momentum(momentum: Any, *, family: str = "heavyball", limit: bool = False, scalar: bool = True) -> Any:
    """Validate a momentum ``μ``: the one momentum check of the library.

    Two rules, because two questions are asked of a momentum:

    * ``limit=False`` (eigenvalue rates: any real ``μ`` has a spectral radius, an unstable
      one included): real numbers, scalar or array, of magnitude at most
      :data:`MAX_MOMENTUM`; returned as a float64 array.
    * ``limit=True`` (the continuous limits of a fixed-momentum method: the time scale
      ``1/(1 − μ)`` exists only for ``0 <= μ < 1``): a real scalar in ``[0, 1)``, returned
      as a ``float`` (with ``scalar=False``: real numbers in ``[0, 1)``, returned as a
      float64 array).

    Gradient descent (``family="gd"``) has no momentum: a nonzero ``μ`` is refused whatever
    the rule.

    Parameters
    ----------
    momentum : float or array_like
        The momentum ``μ``.
    family : str
        The recurrence family the momentum belongs to (``"gd"``, ``"heavyball"``,
        ``"nesterov"``, ...).
    limit : bool
        Which rule applies (see above).
    scalar : bool
        With ``limit=True``: refuse arrays (the default) or accept them.

    Returns
    -------
    float or ndarray
        ``float`` with ``limit=True`` (and ``scalar=True``), a float64 array otherwise.

    Raises
    ------
    TypeError
        If ``momentum`` is not real (or, with ``limit=True`` and ``scalar=True``, not a scalar).
    ValueError
        If it is out of the rule's range, or nonzero for ``family="gd"``.
    """
    if limit:
        mu: Any = as_real("momentum", momentum, lower=0.0, upper=1.0, upper_inclusive=False, array=not scalar)
    else:
        mu = as_real("momentum", momentum, lower=-MAX_MOMENTUM, upper=MAX_MOMENTUM, array=True)
    if family == "gd" and np.any(np.asarray(mu) != 0):
        shown = mu.item() if isinstance(mu, np.ndarray) and mu.ndim == 0 else mu
        raise ValueError(
            "`momentum` must be 0 for family 'gd' (gradient descent has no momentum; use 'heavyball' or "
            f"'nesterov' for momentum methods), got {describe(shown)}"
        )
    return mu


def renamed_keyword(old: str, new: str) -> Callable[[_F], _F]:
    """Decorate a function whose keyword ``old`` was renamed ``new``.

    For one release the old spelling keeps working: a call with ``old=value`` runs as
    ``new=value`` and emits a ``DeprecationWarning`` that names the new keyword (attributed
    to the caller's line). Passing both spellings is a ``TypeError``. The decorated function
    keeps its signature and docstring.

    Parameters
    ----------
    old, new : str
        The keyword's old and new names.

    Returns
    -------
    callable
        The decorator.

    Examples
    --------
    >>> import warnings
    >>> @renamed_keyword("method", "family")
    ... def rate(h, *, family="heavyball"):
    ...     return family
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     rate(1.0, method="nesterov")
    'nesterov'
    >>> print(caught[0].message)
    rate: the keyword `method` is deprecated; use `family` (`method` will be removed in the next release)
    """

    def decorate(fn: _F) -> _F:
        name = fn.__name__

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if old in kwargs:
                if new in kwargs:
                    raise TypeError(f"{name}() got both `{new}` and its deprecated spelling `{old}`; pass only `{new}`")
                warnings.warn(
                    f"{name}: the keyword `{old}` is deprecated; use `{new}` "
                    f"(`{old}` will be removed in the next release)",
                    DeprecationWarning,
                    stacklevel=2,
                )
                kwargs[new] = kwargs.pop(old)
            return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate
