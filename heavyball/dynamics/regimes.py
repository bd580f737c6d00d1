"""The damping regime of one eigenmode of the heavy-ball ODE: :func:`damping_regime`."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import as_real, broadcast_shapes

__all__ = ["CRITICAL_RTOL", "damping_regime"]

#: relative tolerance of :func:`damping_regime` for "critical": ``|c² − 4mh| <= rtol·(c² + 4m|h|)``
CRITICAL_RTOL = 1e-12


def damping_regime(m: Any, c: Any, h: Any, *, rtol: Any = CRITICAL_RTOL) -> Any:
    r"""The damping regime of the mode ``m·x'' + c·x' + h·x = 0``: sign of ``c² − 4mh``.

    ``"underdamped"`` if ``c² < 4mh`` (complex roots: the mode oscillates), ``"critical"`` if
    ``|c² − 4mh| <= rtol·(c² + 4m|h|)`` (a double root), ``"overdamped"`` otherwise (real
    roots; this includes saddles ``h < 0`` and flat modes ``h = 0`` with ``c ≠ 0``).

    Parameters
    ----------
    m : float or array_like, > 0
    c, h : float or array_like
        Broadcast together with ``m``.
    rtol : float, keyword-only
        Relative tolerance of "critical" (default ``CRITICAL_RTOL = 1e-12``).

    Returns
    -------
    str or ndarray of str
        A ``str`` when all inputs are scalars, else an array of the broadcast shape.

    Examples
    --------
    >>> import heavyball as hb
    >>> hb.damping_regime(1.0, 2.0, 1.0)
    'critical'
    >>> hb.damping_regime(1.0, 0.5, [0.01, 0.0625, 1.0])
    array(['overdamped', 'critical', 'underdamped'], dtype='<U11')
    """
    m = as_real("m", m, lower=0.0, lower_inclusive=False, array=True)
    c = as_real("c", c, array=True)
    h = as_real("h", h, array=True)
    rtol = as_real("rtol", rtol, lower=0.0)
    broadcast_shapes(m=m.shape, c=c.shape, h=h.shape)
    with np.errstate(over="ignore", invalid="ignore"):
        disc = c * c - 4.0 * m * h
        scale = c * c + 4.0 * m * np.abs(h)
        critical = np.abs(disc) <= rtol * scale
    out = np.where(critical, "critical", np.where(disc < 0, "underdamped", "overdamped"))
    return str(out) if out.ndim == 0 else out
