r"""Closed-form tunings of the linear momentum methods on a quadratic with curvatures in
``[h_min, h_max]``: :func:`optimal_parameters` (Polyak, gradient descent, Nesterov, Lessard,
Recht & Packard) and the critical momentum of one curvature (Goh 2017).

:mod:`heavyball.rates` exports every name here; its :func:`~heavyball.rates.spectral_radius`
checks that each tuning achieves its rate.

References: Polyak (1964); Nesterov (1983); Lessard, Recht & Packard (2016), SIAM J. Optim.;
Goh (2017), "Why Momentum Really Works", Distill.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ._validation import MAX_MOMENTUM, as_choice, as_real, broadcast_shapes, describe, renamed_keyword
from .ratefit import _out, _quiet

#: an array_like of reals (validated into a float64 array at the boundary)
RealLike = Any

__all__ = ["MIN_CURVATURE", "TUNINGS", "Tuned", "critical_momentum", "critical_rate", "optimal_parameters"]

#: the closed-form tunings of :func:`optimal_parameters` -> the family each one tunes
TUNINGS = {"gd": "gd", "heavyball": "heavyball", "nesterov": "nesterov", "nesterov-quadratic": "nesterov"}
#: smallest curvature :func:`optimal_parameters` accepts (its learning rates are about 1/h)
MIN_CURVATURE = 1e-300
#: largest magnitude of a curvature or learning rate (as in :mod:`heavyball.rates`)
MAX_MAGNITUDE = MAX_MOMENTUM


def _check_lr_h(h: RealLike, lr: RealLike) -> np.ndarray:
    """The product ``γh`` of a validated curvature ``h >= 0`` and learning rate (Goh's ``αλ``)."""
    h = as_real("h", h, lower=0.0, upper=MAX_MAGNITUDE, array=True)
    lr = as_real("lr", lr, lower=0.0, upper=MAX_MAGNITUDE, array=True)
    broadcast_shapes(h=h.shape, lr=lr.shape)
    return lr * h


class Tuned(NamedTuple):
    """Closed-form tuned parameters and the spectral radius they achieve.

    Plain Python floats for scalar ``h_min``, ``h_max``; arrays of their broadcast shape
    otherwise.
    """

    lr: float | np.ndarray
    momentum: float | np.ndarray
    rate: float | np.ndarray


@renamed_keyword("method", "tuning")
@_quiet
def optimal_parameters(h_min: RealLike, h_max: RealLike, tuning: str = "heavyball") -> Tuned:
    r"""Closed-form tunings for a spectrum in ``[h_min, h_max]``, ``κ = h_max/h_min``.

    =================================  ========================  ===========================  =================
    ``tuning``                         ``lr``                    ``momentum``                 ``rate``
    =================================  ========================  ===========================  =================
    ``"gd"`` (optimal)                 ``2/(h_min + h_max)``     ``0``                        ``(κ−1)/(κ+1)``
    ``"heavyball"`` (Polyak 1964,      ``4/(√h_max + √h_min)²``  ``((√κ−1)/(√κ+1))²``         ``(√κ−1)/(√κ+1)``
    optimal on quadratics)
    ``"nesterov"`` (standard strongly  ``1/h_max``               ``(√κ−1)/(√κ+1)``            ``1 − 1/√κ``
    convex tuning, Nesterov 1983)
    ``"nesterov-quadratic"``           ``4/(3h_max + h_min)``    ``(√(3κ+1)−2)/(√(3κ+1)+2)``  ``1 − 2/√(3κ+1)``
    (Lessard, Recht & Packard 2016)
    =================================  ========================  ===========================  =================

    ``rate`` is the spectral radius at those parameters (``"nesterov-quadratic"`` is the
    best Nesterov tuning on quadratics; ``"nesterov"`` is the textbook one, whose radius on
    quadratics is ``1 − 1/√κ``: the roots are repeated at ``h_min`` and zero at ``h_max``).
    Polyak's and both Nesterov tunings place a repeated root at ``h_min`` (Polyak also at
    ``h_max``), where the error decays like ``k·ρᵏ``, not ``ρᵏ`` (see :func:`fit_rate`).
    ``"nesterov"`` and ``"nesterov-quadratic"`` are run as ``family="nesterov"``
    (:data:`TUNINGS`).

    Parameters
    ----------
    h_min, h_max : float or array_like
        ``0 < h_min ≤ h_max``, both in ``[1e-300, 1e50]`` (:data:`MIN_CURVATURE`,
        :data:`MAX_MAGNITUDE`: the tuned ``lr ≈ 1/h`` stays finite); broadcast with each other.
    tuning : {"heavyball", "gd", "nesterov", "nesterov-quadratic"}
        Which tuning (``method=`` is its deprecated spelling).

    Returns
    -------
    Tuned(lr, momentum, rate)

    Examples
    --------
    >>> from heavyball import rates
    >>> rates.optimal_parameters(0.01, 1.0, "gd")         # 2/1.01 and 99/101
    Tuned(lr=1.9801980198019802, momentum=0.0, rate=0.9801980198019802)
    >>> t = rates.optimal_parameters(0.01, 1.0, "heavyball")
    >>> [round(x, 12) for x in (t.lr * 121, t.momentum * 121, t.rate * 11)]   # Polyak
    [400.0, 81.0, 9.0]
    """
    tuning = as_choice("tuning", tuning, tuple(TUNINGS))
    # h >= 1e-300: the tuned lr (about 1/h) stays finite
    h_min = as_real("h_min", h_min, lower=MIN_CURVATURE, upper=MAX_MAGNITUDE, array=True)
    h_max = as_real("h_max", h_max, lower=MIN_CURVATURE, upper=MAX_MAGNITUDE, array=True)
    broadcast_shapes(h_min=h_min.shape, h_max=h_max.shape)
    if np.any(h_max < h_min):
        raise ValueError(
            f"`h_max` must be >= `h_min`, got h_max={describe(_out(h_max))} and h_min={describe(_out(h_min))}"
        )
    s_min, s_max = np.sqrt(h_min), np.sqrt(h_max)
    if tuning == "gd":
        lr = 2.0 / (h_min + h_max)
        momentum = np.zeros_like(lr)
        rate = (h_max - h_min) / (h_max + h_min)
    elif tuning == "heavyball":
        lr = 4.0 / (s_max + s_min) ** 2
        rate = (s_max - s_min) / (s_max + s_min)
        momentum = rate * rate
    elif tuning == "nesterov":
        lr = 1.0 / h_max + 0.0 * h_min
        momentum = (s_max - s_min) / (s_max + s_min)
        rate = 1.0 - s_min / s_max
    else:  # nesterov-quadratic
        lr = 4.0 / (3.0 * h_max + h_min)
        s = np.sqrt((3.0 * h_max + h_min) / h_min)  # √(3κ + 1)
        momentum = 1.0 - 4.0 / (s + 2.0)  # (s − 2)/(s + 2), also for s = inf (κ beyond float64)
        rate = 1.0 - 2.0 / s
    return Tuned(_out(lr), _out(momentum), _out(rate))


# critical_momentum and critical_rate (like rates.optimal_damping) end their docstrings with the
# same Returns/Examples layout and start with one validation call; each closed form is its own:
# the layout is numpydoc's (a function's help stands alone), the shared logic is _check_lr_h.
@_quiet
def critical_momentum(h: RealLike, lr: RealLike) -> float | np.ndarray:
    r"""The momentum that puts a repeated root at curvature ``h``: ``μ = (1 − √(γh))²``.

    It is the smallest momentum at which the heavy-ball roots of ``h`` turn complex, and it
    minimises the per-curvature radius over ``μ`` (for ``0 < γh < 4``); the rate there is
    :func:`critical_rate` ``= |1 − √(γh)| = √μ``. Goh (2017), "Why Momentum Really Works".

    Parameters
    ----------
    h : array_like, >= 0
        Curvature.
    lr : array_like, >= 0
        Learning rate ``γ``; broadcast with ``h``.

    Returns
    -------
    float or ndarray, shape ``broadcast(h, lr)``

    Examples
    --------
    >>> from heavyball import rates
    >>> rates.critical_momentum(0.01, 1.0)
    0.81
    """
    gh = _check_lr_h(h, lr)
    return _out((1.0 - np.sqrt(gh)) ** 2)


@_quiet
def critical_rate(h: RealLike, lr: RealLike) -> float | np.ndarray:
    r"""The heavy-ball rate at :func:`critical_momentum`: ``|1 − √(γh)|`` (Goh 2017).

    Parameters and result shape as in :func:`critical_momentum`.

    Examples
    --------
    >>> from heavyball import rates
    >>> rates.critical_rate(0.01, 1.0)
    0.9
    """
    gh = _check_lr_h(h, lr)
    return _out(np.abs(1.0 - np.sqrt(gh)))
