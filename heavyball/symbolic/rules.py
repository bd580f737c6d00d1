"""The update rules that the derivations start from, written once as sympy expressions.

Each function takes the state and the hyperparameters as sympy expressions (or numbers)
and returns the new state; the derivations build on these and nothing else, so every
derivation speaks about the same update rule.
"""

from __future__ import annotations

from typing import Any

import sympy as sp

__all__ = ["heavyball_step", "semi_implicit_euler", "torch_sgd_step", "torch_step_matrix"]


def semi_implicit_euler(theta: Any, v: Any, grad: Any, *, m: Any, c: Any, dt: Any) -> tuple[Any, Any]:
    """One semi-implicit (symplectic) Euler step of ``m v' = -grad - c v``, ``θ' = v``.

    The velocity first (force and friction at the old state), then the position with the
    new velocity. Returns ``(θ_{k+1}, v_{k+1})``.
    """
    v_next = v + dt * (-grad - c * v) / m
    return theta + dt * v_next, v_next


def heavyball_step(theta: Any, v: Any, grad: Any, *, eta: Any, mu: Any, dt: Any) -> tuple[Any, Any]:
    """The physical form ``v ← μv − η∇f(θ)``, ``θ ← θ + Δt·v``; returns ``(θ, v)``."""
    v_next = mu * v - eta * grad
    return theta + dt * v_next, v_next


def torch_sgd_step(
    theta: Any,
    buf: Any,
    grad: Any,
    *,
    lr: Any,
    momentum: Any,
    dampening: Any = 0,
    nesterov: bool = False,
    first: bool = False,
) -> tuple[Any, Any]:
    """One step of ``torch.optim.SGD`` (weight decay already folded into ``grad``).

    First step ``b = g``, later ``b = μb + (1−τ)g``; ``d = g + μb`` (Nesterov) or ``b``;
    ``θ ← θ − γd``. Returns ``(θ, b)``.
    """
    buf_next = grad if first else momentum * buf + (1 - dampening) * grad
    direction = grad + momentum * buf_next if nesterov else buf_next
    return theta - lr * direction, buf_next


def torch_step_matrix(h: Any, lr: Any, mu: Any, *, nesterov: bool = False) -> sp.Matrix:
    """The Jacobian of one torch SGD step on ``f = ½hθ²``, state ``(θ, b)``.

    Derived from :func:`torch_sgd_step` (``momentum = μ``; ``μ = 0`` is gradient descent
    with an idle buffer). Its characteristic polynomial is the family's ``z² − Tz + D`` of
    :mod:`heavyball.recurrences`, which ``characteristic_polynomials`` checks.
    """
    theta, buf = sp.symbols("theta b", real=True)
    new_theta, new_buf = torch_sgd_step(theta, buf, h * theta, lr=lr, momentum=mu, nesterov=nesterov)
    return sp.Matrix([new_theta, new_buf]).jacobian([theta, buf])
