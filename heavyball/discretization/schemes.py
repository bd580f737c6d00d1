r"""The discretisations of the heavy-ball ODE: ``(m, c, Δt)`` ↔ ``(μ, η)``.

The heavy-ball ODE ``m·θ'' + c·θ' + ∇f(θ) = 0`` is discretised, in the velocity form that all
schemes here share,

.. math::

    v_{k+1} = \mu\, v_k - \eta\, \nabla f(\theta_k), \qquad
    \theta_{k+1} = \theta_k + \Delta t\, v_{k+1},

and the schemes differ only in how ``(μ, η)`` depend on ``(m, c, Δt)``:

================== ======================== ======================= ===== ===========================
scheme             μ                        η                       order source
================== ======================== ======================= ===== ===========================
semi-implicit      1 − cΔt/m                Δt/m                    1     symplectic Euler
implicit-friction  m/(m + cΔt)              Δt/(m + cΔt)            1     Qian (1999)
exponential        exp(−cΔt/m)              Δt/m                    1     França et al. (2020)
================== ======================== ======================= ===== ===========================

**The Δt subtlety.** The position update uses ``Δt·v``. Writing it as
``θ_{k+1} = θ_k + p_{k+1}`` (PyTorch's and the lecture's form) needs ``p = Δt·v``, so the
gradient coefficient becomes ``Δt·η`` (``Δt²/m`` for the default scheme):
``SGD(lr=Δt²/m, momentum=1 − cΔt/m)`` is the semi-implicit scheme, and :func:`to_torch`
returns exactly that. Pairing ``θ_{k+1} = θ_k + v_{k+1}`` with ``η = Δt/m`` (the lecture's
slide) is a different reading: it is the same scheme with a unit time step for the mass
``m/Δt`` and friction ``c``, so it agrees with the ODE of mass ``m`` only when ``Δt = 1``.

References
----------
Qian, N. (1999). On the momentum term in gradient descent learning algorithms. Neural Networks 12.
França, G., Sulam, J., Robinson, D. P. & Vidal, R. (2020). Conformal symplectic and relativistic
optimization. NeurIPS 2020.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import as_choice, as_real, broadcast_shapes

__all__ = ["SCHEMES", "SCHEME_ORDER", "continuum", "discretize", "to_torch"]

#: the discretisations of the heavy-ball ODE, in the order they are documented
SCHEMES = ("semi-implicit", "implicit-friction", "exponential")

#: global order of accuracy of each scheme (error in θ on a fixed interval [0, T] is O(Δt^order))
SCHEME_ORDER = {"semi-implicit": 1, "implicit-friction": 1, "exponential": 1}


def _scalar_or_array(x: np.ndarray) -> Any:
    return float(x) if x.ndim == 0 else x


# --------------------------------------------------------------------------------------
# (m, c, Δt) <-> (μ, η)
# --------------------------------------------------------------------------------------
def discretize(m: Any, c: Any, dt: Any, *, scheme: Any = "semi-implicit") -> Any:
    r"""The velocity-form coefficients ``(mu, eta)`` of a discretisation of the heavy-ball ODE.

    The ODE ``m·θ'' + c·θ' + ∇f(θ) = 0`` is written as ``θ' = v``, ``m·v' = −c·v − ∇f(θ)`` and
    every scheme advances it as

    .. math::

        v_{k+1} = \mu v_k - \eta \nabla f(\theta_k), \qquad \theta_{k+1} = \theta_k + \Delta t\, v_{k+1}.

    ``scheme="semi-implicit"``
        Symplectic Euler: explicit in the force, the new velocity in the position update.
        ``μ = 1 − cΔt/m``, ``η = Δt/m``. Global order 1.
    ``scheme="implicit-friction"``
        Qian (1999): the friction ``−c·v_{k+1}`` taken at the new time, a backward difference.
        ``μ = m/(m + cΔt)``, ``η = Δt/(m + cΔt)``. Global order 1. In the displacement form
        ``θ_{k+1} = θ_k + p_{k+1}`` the gradient coefficient is Qian's ``Δt²/(m + cΔt)``.
    ``scheme="exponential"``
        Conformal symplectic Euler (França, Sulam, Robinson & Vidal 2020).
        ``μ = exp(−cΔt/m)``, ``η = Δt/m``: the exact flow of the dissipative part
        ``m·v' = −c·v`` over ``Δt`` followed by one symplectic-Euler step of the conservative
        part (their "classical momentum" update, a Lie–Trotter splitting). Global order 1.
        Every scheme of this form maps the symplectic form ``dθ∧dv`` to ``μ·dθ∧dv``
        whatever ``η`` is, and the exact flow contracts it by ``exp(−cΔt/m)``;
        only this scheme has the exact conformal factor, so phase-space volume shrinks at
        the ODE's rate at every step (the other two schemes get it to ``O(Δt²)`` per step).
        The alternative ``η = (1 − e^{−cΔt/m})/c`` (exponential Euler, the force frozen over
        the step) is also first order and conformal symplectic; it is not used because it is
        not the composition of the exact dissipative flow with a symplectic step that França
        et al. analyse, and it differs from ``Δt/m`` only at ``O(Δt²)``. The order stays 1:
        a Lie–Trotter splitting is first order.

    Parameters
    ----------
    m : float or array_like, > 0
        Mass.
    c : float or array_like, >= 0
        Friction.
    dt : float or array_like, > 0
        Time step.
    scheme : {"semi-implicit", "implicit-friction", "exponential"}

    Returns
    -------
    mu, eta : float or ndarray
        Broadcast over ``m``, ``c`` and ``dt`` (floats when all three are scalars).

    Examples
    --------
    >>> import heavyball as hb
    >>> hb.discretize(1.0, 0.5, 0.1)
    (0.95, 0.1)
    >>> mu, eta = hb.discretize(1.0, 0.5, [0.1, 0.2], scheme="implicit-friction")
    >>> mu.round(6).tolist(), eta.round(6).tolist()
    ([0.952381, 0.909091], [0.095238, 0.181818])
    """
    scheme = as_choice("scheme", scheme, SCHEMES)
    m = as_real("m", m, lower=0.0, lower_inclusive=False, array=True)
    c = as_real("c", c, lower=0.0, array=True)
    dt = as_real("dt", dt, lower=0.0, lower_inclusive=False, array=True)
    broadcast_shapes(m=m.shape, c=c.shape, dt=dt.shape)
    with np.errstate(over="ignore", under="ignore"):  # extreme finite inputs give ±inf/0, silently
        x = c * dt / m
        if scheme == "semi-implicit":
            mu, eta = 1.0 - x, dt / m
        elif scheme == "implicit-friction":
            mu, eta = m / (m + c * dt), dt / (m + c * dt)
        else:  # exponential
            mu, eta = np.exp(-x), dt / m
    mu, eta = np.broadcast_arrays(mu, eta)
    return _scalar_or_array(np.array(mu)), _scalar_or_array(np.array(eta))


def continuum(mu: Any, eta: Any, dt: Any, *, scheme: Any = "semi-implicit") -> Any:
    r"""Invert :func:`discretize`: the mass and friction ``(m, c)`` behind ``(mu, eta, dt)``.

    ``scheme="semi-implicit"``: ``m = Δt/η``, ``c = (1 − μ)/η``.
    ``scheme="implicit-friction"``: ``m = μΔt/η``, ``c = (1 − μ)/η``.
    ``scheme="exponential"``: ``m = Δt/η``, ``c = −ln(μ)/η``.

    Parameters
    ----------
    mu : float or array_like
        Momentum; ``mu <= 1`` (``c >= 0``); the implicit-friction and exponential schemes
        need ``0 < mu <= 1``.
    eta : float or array_like, > 0
    dt : float or array_like, > 0
    scheme : {"semi-implicit", "implicit-friction", "exponential"}

    Returns
    -------
    m, c : float or ndarray

    Examples
    --------
    >>> import heavyball as hb
    >>> m, c = hb.continuum(0.95, 0.1, 0.1)
    >>> m, round(c, 12)
    (1.0, 0.5)
    """
    scheme = as_choice("scheme", scheme, SCHEMES)
    positive = scheme != "semi-implicit"
    mu = as_real("mu", mu, lower=0.0 if positive else None, lower_inclusive=False, upper=1.0, array=True)
    eta = as_real("eta", eta, lower=0.0, lower_inclusive=False, array=True)
    dt = as_real("dt", dt, lower=0.0, lower_inclusive=False, array=True)
    broadcast_shapes(mu=mu.shape, eta=eta.shape, dt=dt.shape)
    with np.errstate(over="ignore", under="ignore"):  # a tiny `eta` gives inf, silently
        m = (mu * dt if scheme == "implicit-friction" else dt) / eta
        c = (-np.log(mu) if scheme == "exponential" else 1.0 - mu) / eta
    m, c = np.broadcast_arrays(m, c)
    return _scalar_or_array(np.array(m)), _scalar_or_array(np.array(c) + 0.0)


def to_torch(m: Any, c: Any, dt: Any, *, scheme: Any = "semi-implicit") -> Any:
    r"""``torch.optim.SGD`` hyperparameters that run a discretisation of the heavy-ball ODE.

    With ``p = Δt·v`` the velocity form becomes PyTorch's ``b ← μb + ∇f``, ``θ ← θ − lr·b``
    with ``b = −p/lr`` and ``lr = Δt·η``; starting from ``v₀ = 0`` (PyTorch's first step
    ``b = g``) the two produce the same iterates. For the default scheme
    ``lr = Δt²/m`` and ``momentum = 1 − cΔt/m`` (the Δt subtlety, ``docs/glossary.md``): the
    learning rate is ``Δt·η``, not ``η = Δt/m``, because PyTorch's position update adds the
    displacement ``p = Δt·v`` rather than the velocity. One PyTorch step advances the ODE
    time by ``Δt = √(lr·m)`` for the semi-implicit and exponential schemes. For the
    implicit-friction scheme ``lr`` is Qian's (1999) ``Δt²/(m + cΔt)``.

    Parameters
    ----------
    m, c, dt, scheme
        As in :func:`discretize`.

    Returns
    -------
    dict
        ``{"lr": dt*eta, "momentum": mu}`` (floats, or arrays when the inputs are arrays).

    Examples
    --------
    >>> import heavyball as hb
    >>> hb.to_torch(1.0, 0.5, 0.1)
    {'lr': 0.010000000000000002, 'momentum': 0.95}
    """
    mu, eta = discretize(m, c, dt, scheme=scheme)  # validates m, c, dt
    with np.errstate(over="ignore", under="ignore"):
        lr = np.asarray(dt, dtype=np.float64) * eta
    return {"lr": _scalar_or_array(np.asarray(lr)), "momentum": mu}
