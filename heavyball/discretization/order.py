r"""Observed orders of convergence: :func:`convergence_order`, :func:`fit_order`, :class:`OrderFit`."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from .._validation import as_bool, as_choice, as_float_array, as_real, describe
from ..dynamics import METHODS as SOLVERS
from ..problems import check_problem
from .comparison import _check_times, compare
from .schemes import SCHEMES

__all__ = ["OrderFit", "convergence_order", "fit_order"]


class OrderFit(NamedTuple):
    """A least-squares fit ``log(error) = order·log(dt) + log(constant)``.

    Attributes
    ----------
    order : float
        The fitted slope: the observed order of convergence.
    errors : ndarray
        The errors that were fitted, one per step size.
    residual : float
        Root-mean-square residual of the fit in natural-log units (0 for an exact power law;
        0.01 means the points scatter about 1 % around the line).
    ratios : ndarray
        Successive ratios ``errors[i]/errors[i+1]`` (→ 2^order when the step halves).
    constant : float
        The fitted constant: ``error ≈ constant·dt^order``.
    dts : ndarray
        The step sizes.
    """

    order: float
    errors: np.ndarray
    residual: float
    ratios: np.ndarray
    constant: float
    dts: np.ndarray


def _check_dts(dts: Any) -> np.ndarray:
    dts = as_float_array("dts", dts, dtype=np.float64)
    if dts.ndim != 1 or dts.size < 3:
        raise ValueError(f"`dts` must be a 1-D sequence of at least 3 step sizes, got {describe(dts)}")
    if np.any(dts <= 0):
        raise ValueError(f"`dts` must be positive, got {describe(dts)}")
    if np.any(np.diff(dts) >= 0):
        raise ValueError(f"`dts` must be strictly decreasing, got {describe(dts)}")
    return dts


def fit_order(dts: Any, errors: Any) -> OrderFit:
    r"""Fit ``error ≈ constant·dt^order`` by least squares on ``log(error)`` against ``log(dt)``.

    Parameters
    ----------
    dts : array_like, shape (n,), n >= 3
        Strictly decreasing positive step sizes.
    errors : array_like, shape (n,)
        Positive finite errors.

    Returns
    -------
    OrderFit

    Examples
    --------
    >>> from heavyball.discretization import fit_order
    >>> fit = fit_order([0.4, 0.2, 0.1], [0.16, 0.04, 0.01])
    >>> round(fit.order, 12), round(fit.residual, 12)
    (2.0, 0.0)
    """
    dts = _check_dts(dts)
    errors = as_float_array("errors", errors, dtype=np.float64)
    if errors.shape != dts.shape:
        raise ValueError(f"`errors` must have the shape of `dts` {dts.shape}, got shape {errors.shape}")
    if np.any(errors <= 0):
        raise ValueError(f"`errors` must be positive to be fitted on a log scale, got {describe(errors)}")
    x, y = np.log(dts), np.log(errors)
    design = np.stack([x, np.ones_like(x)], axis=1)
    (order, intercept), *_ = np.linalg.lstsq(design, y, rcond=None)
    residual = float(np.sqrt(np.mean((y - design @ np.array([order, intercept])) ** 2)))
    return OrderFit(
        order=float(order),
        errors=errors,
        residual=residual,
        ratios=errors[:-1] / errors[1:],
        constant=float(np.exp(intercept)),
        dts=dts,
    )


def convergence_order(ode: Any, problem: Any, theta0: Any, t_final: Any, dts: Any, *, scheme: Any="semi-implicit", method: Any="DOP853",
                      measure: Any="max", full_output: Any=False) -> Any:  # fmt: skip
    r"""The observed global order of a scheme: errors on ``[0, t_final]`` fitted on log–log.

    For each step size ``dt_i`` the iterates start from ``theta0`` with ``v0 = 0`` and

    .. math::

        \mathrm{errors}[i] = \max_{k:\,k\,dt_i \le T} \lVert \theta_k - \theta(k\,dt_i) \rVert

    (``measure="max"``), or the error at the last step (``measure="final"``); the order is
    the slope of the least-squares line through ``(log dt_i, log errors[i])``
    (:func:`fit_order`). Every scheme here has order 1 (``SCHEME_ORDER``): halving ``dt``
    halves the error. For ``m = 1, c = 0.5, h = 4, T = 10``, ``θ₀ = 1`` and
    ``dt = 0.1 … 0.003125`` the semi-implicit ratios are 2.03, 2.01, 2.01, 2.00, 2.00 for the
    max-error and 2.14, 2.07, 2.04, 2.02, 2.01 for the error at ``t = T`` (the figures quoted
    in the literature notes are the latter).

    For an :class:`~heavyball.AdamODE` the iterates are torch's Adam with ``lr = dt``,
    ``β₁ = 1 − a·dt``, ``β₂ = 1 − b·dt`` (see :func:`compare`); its order is 1 as well.

    Parameters
    ----------
    ode : HeavyBallODE or AdamODE
    problem : Problem
    theta0 : array_like, shape (d,)
    t_final : float
        The interval's end ``T``; must be >= ``max(dts)``.
    dts : array_like
        At least 3 strictly decreasing step sizes.
    scheme : {"semi-implicit", "implicit-friction", "exponential"}
    method : str
        Integrator for :func:`~heavyball.simulate` (non-quadratic problems).
    measure : {"max", "final"}
    full_output : bool
        ``False`` (default): return ``(order, errors)``. ``True``: return the
        :class:`OrderFit`, which also carries the fit's residual and the successive ratios.

    Returns
    -------
    order : float
    errors : ndarray
        Or an :class:`OrderFit` when ``full_output=True``.

    Raises
    ------
    ValueError
        ``dts`` not strictly decreasing, fewer than 3 of them, ``t_final < max(dts)``, a
        step size at which the scheme diverges (the error message names it), or an error of
        exactly 0 (``theta0`` a stationary point: nothing to fit).

    Examples
    --------
    >>> import heavyball as hb
    >>> q = hb.Quadratic([[4.0]])
    >>> order, errors = hb.convergence_order(hb.HeavyBallODE(1.0, 0.5), q, [1.0], 10.0, [0.1, 0.05, 0.025])
    >>> round(order, 2)
    1.02
    """
    scheme = as_choice("scheme", scheme, SCHEMES)
    method = as_choice("method", method, SOLVERS)
    measure = as_choice("measure", measure, ("max", "final"))
    full_output = as_bool("full_output", full_output)
    dts = _check_dts(dts)
    t_final = as_real("t_final", t_final, lower=0.0, lower_inclusive=False)
    if t_final < dts[0] * (1 - 1e-12):
        raise ValueError(f"`t_final` must be >= max(`dts`) = {dts[0]:g} (at least one step), got {t_final:g}")
    _check_times(t_final, dts[-1], check_problem(problem), dt_name="dts")  # the finest step fits, before any work
    errors = np.empty(dts.size)
    for i, dt in enumerate(dts):
        cmp = compare(ode, problem, theta0, dt=dt, t_final=t_final, scheme=scheme, method=method)
        if not cmp.success:
            raise ValueError(f"`dts` contains a step size at which the comparison failed: dt = {dt:g}: {cmp.message}")
        errors[i] = cmp.max_error if measure == "max" else cmp.final_error
    if np.any(errors == 0):
        raise ValueError(
            f"`theta0` leaves nothing to fit: the error is 0 at dt = {dts[np.argmax(errors == 0)]:g} (the iterates "
            f"and the ODE agree exactly, e.g. from a stationary point); no order can be fitted for these `dts`"
        )
    fit = fit_order(dts, errors)
    return fit if full_output else (fit.order, fit.errors)
