r"""The fixed-momentum scaling limit of Kovachki & Stuart (2021).

With the momentum ``μ`` fixed and the learning rate ``lr → 0`` in the time ``t = k·lr``,
PyTorch's heavy ball and Nesterov iterates follow the rescaled gradient flow
``θ' = −∇f/(1 − μ)`` (:func:`gradient_flow_limit`), and to second order in ``lr`` the
modified equation (:func:`modified_equation`, :func:`modified_coefficient`), after an
initial layer that shifts the start (:func:`slow_manifold_shift`); :func:`compare_momentum`
measures the iterates against either.

References
----------
Kovachki, N. B. & Stuart, A. M. (2021). Continuous time analysis of momentum methods. JMLR 22(17).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._validation import (
    as_bool,
    as_choice,
    as_real,
    check_momentum,
    check_point,
    check_theta,
    describe,
    renamed_keyword,
)
from ..dynamics import METHODS as SOLVERS
from ..dynamics import GradientFlowODE, HeavyBallODE
from ..iterate import iterate
from ..optimizers import SGD
from ..problems import check_problem
from .comparison import (
    Comparison,
    _assemble,
    _check_times,
    _continuous,
    _discrete_energy,
    _finite_differences,
    _stability_hint,
)
from .schemes import _scalar_or_array

__all__ = [
    "FAMILIES",
    "compare_momentum",
    "gradient_flow_limit",
    "modified_coefficient",
    "modified_equation",
    "slow_manifold_shift",
]

#: the momentum families whose fixed-momentum limits are known here
FAMILIES = ("heavyball", "nesterov")


@renamed_keyword("method", "family")
def modified_coefficient(momentum: Any, *, family: Any = "heavyball") -> Any:
    r"""The coefficient ``C(μ)`` of the modified equation of a fixed-momentum method.

    With ``momentum = μ`` fixed, learning rate ``lr`` and time ``t = k·lr``, PyTorch's
    heavy ball (``b ← μb + ∇f``, ``θ ← θ − lr·b``) and Nesterov (``θ ← θ − lr(∇f + μb)``)
    iterates follow, to second order in ``lr``,

    .. math::

        \theta' = -\frac{\nabla f(\theta)}{1-\mu} - \mathrm{lr}\, C(\mu)\, \nabla^2 f(\theta)\,\nabla f(\theta),
        \qquad C_{\rm HB} = \frac{1+\mu}{2(1-\mu)^3}, \quad
        C_{\rm NAG} = \frac{1-\mu+2\mu^2}{2(1-\mu)^3}.

    Derivation (checked in ``symbolic.DERIVATIONS["modified_equation"]``): insert
    ``θ(t ± lr)`` Taylor-expanded into ``θ_{k+1} − θ_k − μ(θ_k − θ_{k−1}) = −lr∇f(θ_k)
    − a·μ·lr(∇f(θ_k) − ∇f(θ_{k−1}))`` (``a = 0`` heavy ball, ``a = 1`` Nesterov) and match
    powers of ``lr``: ``lr(1−μ)θ' + lr²(1+μ)θ''/2 = −lr∇f − a·μ·lr²∇²f θ' + O(lr³)``, with
    ``θ'' = ∇²f∇f/(1−μ)²`` at leading order. This is the modified equation of Kovachki &
    Stuart (2021, JMLR 22(17)) in PyTorch's parametrisation. Nesterov's ``C`` is the same
    for the look-ahead sequence PyTorch returns and for textbook NAG's ``x_k``: the two differ
    by a time shift of one solution of the same flow.

    Parameters
    ----------
    momentum : float or array_like, in [0, 1)
    family : {"heavyball", "nesterov"}
        The momentum family (PyTorch's heavy ball or Nesterov); the old keyword ``method``
        still works for this release, with a ``DeprecationWarning``.

    Returns
    -------
    float or ndarray

    Examples
    --------
    >>> from heavyball.discretization import modified_coefficient
    >>> round(modified_coefficient(0.9), 6), round(modified_coefficient(0.9, family="nesterov"), 6)
    (950.0, 860.0)
    """
    family = as_choice("family", family, FAMILIES)
    mu = check_momentum(momentum, family=family, limit=True, scalar=False)
    if family == "heavyball":
        coef = (1.0 + mu) / (2.0 * (1.0 - mu) ** 3)
    else:
        coef = (1.0 - mu + 2.0 * mu**2) / (2.0 * (1.0 - mu) ** 3)
    return _scalar_or_array(np.array(coef))


@renamed_keyword("method", "family")
def gradient_flow_limit(momentum: Any, *, family: Any = "heavyball") -> Any:
    r"""The rescaled gradient flow that fixed-momentum iterates follow as ``lr → 0``.

    With ``momentum = μ`` fixed and time ``t = k·lr``, heavy-ball and Nesterov iterates
    (PyTorch's ``SGD(lr, momentum, nesterov=...)``) converge, with error ``O(lr)`` on bounded
    intervals, to

    .. math:: \theta' = -\frac{\nabla f(\theta)}{1-\mu}

    — the same limit as gradient descent with step ``lr/(1−μ)``; the momentum does not
    survive as inertia (Kovachki & Stuart 2021, JMLR 22(17)). The heavy-ball ODE
    appears only when ``μ → 1`` with ``lr``: ``μ = 1 − c√(lr/m)`` (:func:`to_torch`).

    Parameters
    ----------
    momentum : float, in [0, 1)
    family : {"heavyball", "nesterov"}
        The momentum family (PyTorch's heavy ball or Nesterov); the old keyword ``method``
        still works for this release, with a ``DeprecationWarning``.
        Both have the same limit; the argument is accepted for symmetry with
        :func:`modified_equation`.

    Returns
    -------
    GradientFlowODE
        ``GradientFlowODE(scale=1/(1−μ))``.

    Examples
    --------
    >>> import heavyball as hb
    >>> hb.gradient_flow_limit(0.9).scale
    10.000000000000002
    """
    as_choice("family", family, FAMILIES)
    mu = check_momentum(momentum, limit=True)
    return GradientFlowODE(scale=1.0 / (1.0 - mu))


@renamed_keyword("method", "family")
def modified_equation(momentum: Any, lr: Any, *, family: Any = "heavyball") -> Any:
    r"""The modified equation: the fixed-momentum limit to second order in ``lr``.

    .. math::

        \theta' = -\frac{\nabla f(\theta)}{1-\mu} - \mathrm{lr}\,C(\mu)\,\nabla^2 f(\theta)\nabla f(\theta)

    in the time ``t = k·lr``, with ``C`` from :func:`modified_coefficient`. Started from the
    slow-manifold point :func:`slow_manifold_shift` (not from ``θ₀`` itself: PyTorch's first
    step ``b = ∇f`` leaves the iterates ``O(lr)`` behind the flow), it agrees with the
    iterates to ``O(lr²)`` after an initial layer of a few steps (Kovachki & Stuart 2021).

    Parameters
    ----------
    momentum : float, in [0, 1)
    lr : float, > 0
    family : {"heavyball", "nesterov"}
        The momentum family (PyTorch's heavy ball or Nesterov); the old keyword ``method``
        still works for this release, with a ``DeprecationWarning``.

    Returns
    -------
    GradientFlowODE
        ``GradientFlowODE(scale=1/(1−μ), correction=lr·C(μ))``.

    Examples
    --------
    >>> import heavyball as hb
    >>> ode = hb.modified_equation(0.9, 1e-3)
    >>> round(ode.scale, 9), round(ode.correction, 9)
    (10.0, 0.95)
    """
    family = as_choice("family", family, FAMILIES)
    mu = check_momentum(momentum, limit=True)
    lr = as_real("lr", lr, lower=0.0, lower_inclusive=False)
    return GradientFlowODE(scale=1.0 / (1.0 - mu), correction=lr * modified_coefficient(mu, family=family))


@renamed_keyword("method", "family")
def slow_manifold_shift(problem: Any, theta0: Any, *, lr: Any, momentum: Any, family: Any = "heavyball") -> np.ndarray:
    r"""The initial value of the limiting flow that PyTorch's iterates from ``theta0`` track.

    PyTorch's first momentum step sets ``b = ∇f`` (``v₀ = 0``), so the iterates start below
    the flow's speed and settle, within a few steps, ``O(lr)`` behind the flow from
    ``theta0``. Summing the geometric deficit of the first steps gives the flow's effective
    initial value

    .. math::

        \theta(0) = \theta_0 + \mathrm{lr}\,\frac{\mu^{p}}{(1-\mu)^2}\nabla f(\theta_0),
        \qquad p = 1 \text{ (heavy ball)},\; p = 2 \text{ (Nesterov, PyTorch's parameters)},

    accurate to ``O(lr²)``: on ``f = ½hx²`` it is the coefficient of the slow root in the
    exact solution of the two-step recurrence.

    Parameters
    ----------
    problem : Problem
    theta0 : array_like, shape (..., d)
    lr : float, > 0
    momentum : float, in [0, 1)
    family : {"heavyball", "nesterov"}
        The momentum family (PyTorch's heavy ball or Nesterov); the old keyword ``method``
        still works for this release, with a ``DeprecationWarning``.

    Returns
    -------
    ndarray, shape of ``theta0``

    Examples
    --------
    >>> import heavyball as hb
    >>> from heavyball.discretization import slow_manifold_shift
    >>> slow_manifold_shift(hb.Quadratic([[1.0]]), [1.0], lr=1e-3, momentum=0.5).round(6)  # 1 + 1e-3·0.5/0.25
    array([1.002])
    """
    d = check_problem(problem)
    family = as_choice("family", family, FAMILIES)
    mu = check_momentum(momentum, limit=True)
    lr = as_real("lr", lr, lower=0.0, lower_inclusive=False)
    theta0 = np.asarray(check_theta("theta0", theta0, d, finite=True), dtype=np.float64)
    power = 1 if family == "heavyball" else 2
    return theta0 + lr * mu**power / (1.0 - mu) ** 2 * np.asarray(problem.grad(theta0), dtype=np.float64)


def compare_momentum(ode: Any, problem: Any, theta0: Any, *, lr: Any, momentum: Any, t_final: Any, nesterov: Any=False, initial: Any="auto",
                     method: Any="DOP853") -> Comparison:  # fmt: skip
    r"""PyTorch's ``SGD(lr, momentum, nesterov)`` iterates against a continuous model.

    The iterates (run by :func:`~heavyball.iterate` with :class:`~heavyball.SGD`, ``v₀ = 0``)
    are compared with the solution of ``ode`` at the times the model assigns to them:

    - a ``GradientFlowODE`` (:func:`gradient_flow_limit`, :func:`modified_equation`): the
      fixed-momentum scaling, ``t_k = k·lr``. The flow starts at ``theta0``
      (``initial="same"``) or at :func:`slow_manifold_shift` (``initial="slow-manifold"``);
      ``initial="auto"`` picks the shift when the flow has a second-order ``correction``
      (without it the modified equation is only first-order accurate) and ``theta0``
      otherwise.
    - a ``HeavyBallODE(m, c)``: the ODE scaling of :func:`to_torch`, one step is
      ``dt = √(lr·m)`` and ``t_k = k·dt``, from ``v₀ = 0``. With ``momentum = 1 − c·dt/m``
      these are the semi-implicit iterates of :func:`compare` and the error is ``O(dt)``.

    Parameters
    ----------
    ode : GradientFlowODE or HeavyBallODE
    problem : Problem
    theta0 : array_like, shape (d,)
    lr : float, > 0
    momentum : float, in [0, 1)
    t_final : float
        End of the compared interval in the ODE's time (>= one step).
    nesterov : bool
        PyTorch's Nesterov variant.
    initial : {"auto", "same", "slow-manifold"}
    method : str
        Integrator for :func:`~heavyball.simulate` when there is no closed form.

    Returns
    -------
    Comparison
        ``mu = momentum`` and ``eta = lr/dt`` (the velocity form with ``v = Δθ/dt``).

    Examples
    --------
    >>> import heavyball as hb
    >>> from heavyball.discretization import compare_momentum
    >>> q = hb.Quadratic.valley(kappa=5)
    >>> errors = [compare_momentum(hb.modified_equation(0.9, lr), q, [1.0, 1.0], lr=lr, momentum=0.9,
    ...                            t_final=1.0).final_error for lr in (1e-3, 5e-4)]
    >>> round(errors[0] / errors[1], 1)          # second order: halving lr quarters the error
    4.1
    """
    d = check_problem(problem)
    nesterov = as_bool("nesterov", nesterov)
    initial = as_choice("initial", initial, ("auto", "same", "slow-manifold"))
    method = as_choice("method", method, SOLVERS)
    mu = check_momentum(momentum, limit=True)
    lr = as_real("lr", lr, lower=0.0, lower_inclusive=False)
    theta0 = check_point("theta0", theta0, d)
    kind = "nesterov" if nesterov else "heavyball"
    if isinstance(ode, GradientFlowODE):
        dt, mass, v0 = lr, 0.0, None
        if initial == "auto":
            initial = "slow-manifold" if float(ode.correction) != 0.0 else "same"
        start = theta0 if initial == "same" else slow_manifold_shift(problem, theta0, lr=lr, momentum=mu, family=kind)
    elif isinstance(ode, HeavyBallODE):
        if initial == "slow-manifold":
            raise ValueError(
                f"`initial` must be 'auto' or 'same' for a HeavyBallODE (it starts at theta0 with v0 = 0), got {initial!r}"
            )
        dt, mass, start = math.sqrt(lr * float(ode.m)), float(ode.m), theta0
        v0 = np.zeros_like(theta0)
    else:
        raise TypeError(f"`ode` must be a GradientFlowODE or a HeavyBallODE, got {describe(ode)}")
    t_final, dt, steps = _check_times(t_final, dt, d, dt_name="lr" if mass == 0.0 else "sqrt(lr*m)")
    t = np.arange(steps + 1) * dt
    with np.errstate(over="ignore", invalid="ignore"):
        trajectory = iterate(SGD(lr, momentum=mu, nesterov=nesterov), problem, theta0, steps, record="all")
    theta_d = np.asarray(trajectory.theta, dtype=np.float64)  # NaN after a divergence
    v_d = _finite_differences(theta_d, np.zeros_like(theta0), dt) if mass else None
    energy_d = _discrete_energy(problem, theta_d, v_d, mass)
    sol = _continuous(ode, problem, start, t, v0=v0, method=method)
    what = f"SGD(lr={lr:g}, momentum={mu:g}, nesterov={nesterov})"
    hint = "" if nesterov else _stability_hint(problem, mu, lr)
    return _assemble(t=t, theta_d=theta_d, sol=sol, energy_d=energy_d, mu=mu, eta=lr / dt, dt=dt,
                     scheme=f"{kind} (torch)", steps=steps, what=what, hint=hint)  # fmt: skip
