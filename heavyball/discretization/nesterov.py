r"""The Nesterov limit of Su, Boyd & Candès (2016): :func:`nesterov_iterates`, :func:`nesterov_limit`.

Nesterov's method with step ``s`` and momentum ``(k − 1)/(k + 2)`` follows, in the time
``t ≈ k·√s``, the ODE ``θ'' + (3/t)·θ' + ∇f(θ) = 0``
(:class:`~heavyball.dynamics.NesterovODE`).

References
----------
Su, W., Boyd, S. & Candès, E. J. (2016). A differential equation for modeling Nesterov's
accelerated gradient method: theory and insights. JMLR 17(153).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._validation import as_choice, as_int, as_real, check_point, check_theta
from ..dynamics import METHODS as SOLVERS
from ..dynamics import NesterovODE
from ..problems import check_problem
from .comparison import Comparison, _assemble, _check_times, _continuous, _discrete_energy, _finite_differences

__all__ = ["nesterov_iterates", "nesterov_limit"]


def nesterov_iterates(problem: Any, theta0: Any, *, s: Any, steps: Any, r: Any = 3.0) -> np.ndarray:
    r"""Nesterov's method for convex problems, with momentum ``(k−1)/(k+r−1)``.

    .. math::

        x_k = y_{k-1} - s\,\nabla f(y_{k-1}), \qquad
        y_k = x_k + \frac{k-1}{k+r-1}(x_k - x_{k-1}), \qquad y_0 = x_0,

    ``r = 3`` being Nesterov's ``(k−1)/(k+2)`` (Su, Boyd & Candès 2016; their Section 5
    generalises ``r``). The momentum changes every step, which the optimisers of
    :mod:`heavyball.optimizers` (constant ``momentum``) do not express, hence this recurrence.
    Vectorised over a batch of starting points.

    Parameters
    ----------
    problem : Problem
    theta0 : array_like, shape (..., d)
    s : float, > 0
        Step size.
    steps : int, >= 0
    r : float, >= 0

    Returns
    -------
    ndarray, shape (steps + 1, ..., d)
        ``x_0 … x_steps``. Non-finite values are left as they come (divergence).

    Examples
    --------
    >>> import heavyball as hb
    >>> from heavyball.discretization import nesterov_iterates
    >>> x = nesterov_iterates(hb.Quadratic([[1.0]]), [1.0], s=0.01, steps=3)
    >>> x[:, 0].round(6).tolist()
    [1.0, 0.99, 0.9801, 0.967849]
    """
    d = check_problem(problem)
    s = as_real("s", s, lower=0.0, lower_inclusive=False)
    r = as_real("r", r, lower=0.0)
    steps = as_int("steps", steps, minimum=0)
    x = np.array(check_theta("theta0", theta0, d, finite=True), dtype=np.float64)
    out = np.empty((steps + 1,) + x.shape)
    out[0] = x
    y = x.copy()
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(1, steps + 1):
            x_new = y - s * problem.grad(y)
            y = x_new + ((k - 1) / (k + r - 1)) * (x_new - x)
            x = x_new
            out[k] = x
    return out


def nesterov_limit(
    problem: Any, theta0: Any, *, s: Any, t_final: Any, r: Any = 3.0, method: Any = "DOP853"
) -> Comparison:
    r"""Nesterov's iterates against ``X'' + (r/t)X' + ∇f(X) = 0`` at ``t_k = k√s``.

    Su, Boyd & Candès (2016) show that :func:`nesterov_iterates` with step ``s``
    converge to the solution of the ODE with ``X(0) = x₀``, ``X'(0) = 0`` as ``s → 0``, in the
    time ``t = k√s``; the error on a bounded interval is ``O(√s)``. On ``f = ½x²`` with
    ``x₀ = 1`` and ``r = 3``, ``X(t) = 2J₁(t)/t``, and the maximal error on ``[0, 20]`` is about
    7e-2, 7e-3 and 7e-4 for ``s = 1e-2, 1e-4, 1e-6``.

    Parameters
    ----------
    problem : Problem
    theta0 : array_like, shape (d,)
    s : float, > 0
    t_final : float, >= √s
    r : float, >= 0
        The ODE's damping ``r/t`` and the momentum ``(k−1)/(k+r−1)``.
    method : str
        Integrator for :func:`~heavyball.simulate` when there is no closed form.

    Returns
    -------
    Comparison
        ``dt = √s``, ``eta = √s`` (``x_{k+1} = y_k − √s·(√s∇f(y_k))``), ``mu = NaN`` (the
        momentum ``(k−1)/(k+r−1)`` changes every step).

    Examples
    --------
    >>> import heavyball as hb
    >>> from heavyball.discretization import nesterov_limit
    >>> cmp = nesterov_limit(hb.Quadratic([[1.0]]), [1.0], s=1e-4, t_final=20.0)
    >>> cmp.steps, round(cmp.max_error, 4)
    (2000, 0.0075)
    """
    d = check_problem(problem)
    s = as_real("s", s, lower=0.0, lower_inclusive=False)
    r = as_real("r", r, lower=0.0)
    method = as_choice("method", method, SOLVERS)
    theta0 = check_point("theta0", theta0, d)
    t_final, dt, steps = _check_times(t_final, math.sqrt(s), d, dt_name="sqrt(s)")
    t = np.arange(steps + 1) * dt
    theta_d = nesterov_iterates(problem, theta0, s=s, steps=steps, r=r)
    v_d = _finite_differences(theta_d, np.zeros_like(theta0), dt)
    energy_d = _discrete_energy(problem, theta_d, v_d, 1.0)
    sol = _continuous(NesterovODE(r=r), problem, theta0, t, v0=None, method=method)
    what = f"Nesterov's method with s = {s:g}"
    return _assemble(t=t, theta_d=theta_d, sol=sol, energy_d=energy_d, mu=float("nan"), eta=dt, dt=dt,
                     scheme=f"nesterov (k-1)/(k+{r:g}-1)", steps=steps, what=what)  # fmt: skip
