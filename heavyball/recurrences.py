r"""The table of linear recurrences: each momentum family written once.

On a quadratic ``f(θ) = ½θᵀAθ − bᵀθ`` every linear method decouples, in the eigenbasis of
``A``, into one scalar recurrence per curvature ``h``. With ``g = γh`` (``γ = lr``) and
``μ = momentum`` the error ``x_k`` along an eigenvector obeys

.. math:: x_{k+1} = T\,x_k - D\,x_{k-1},
          \qquad M = \begin{pmatrix}T & -D\\ 1 & 0\end{pmatrix}

(the iteration matrix acting on ``(x_k, x_{k−1})``), with

================  =======================  ==================
family            trace ``T``              determinant ``D``
================  =======================  ==================
``"gd"``          ``1 − g``                ``0``
``"heavyball"``   ``1 + μ − g``            ``μ``
``"nesterov"``    ``(1 + μ)(1 − g)``       ``μ(1 − g)``
================  =======================  ==================

The formulas use plain arithmetic only, so the same functions evaluate numpy arrays
(elementwise, broadcasting) and sympy expressions (exactly).

Which optimiser runs which family (:func:`recurrence_of`): ``SGD(lr, momentum)`` is
``"heavyball"`` (``"gd"`` when ``momentum`` is 0), ``SGD(..., nesterov=True)`` is
``"nesterov"``; the velocity forms ``HeavyBall(eta, mu, dt)`` and
``NesterovLookahead(eta, mu, dt)`` are ``"heavyball"`` and ``"nesterov"`` with
``γ = η·Δt``. The semi-implicit, implicit-friction and exponential discretisations of the
heavy-ball ODE all run ``HeavyBall`` with their own ``(μ, η)``, so they are the
``"heavyball"`` family too. Dampening ``τ`` scales the gradient of every step after the
first, ``γ → γ(1 − τ)`` (torch ignores it when ``μ = 0``); coupled weight decay ``λ``
shifts the curvature and ``maximize`` flips it, ``ĥ = ±h + λ``. torch's Nesterov parameters
are the look-ahead points of the textbook method, a fixed linear combination of its
iterates, so both follow the same recurrence; they differ only in the first step.

**First step.** With the linear term ``ĉ = ±(Vᵀb)`` the first step from rest is
``z_1 = (1 − γ₁ĥ)z_0 + γ₁ĉ`` and every later one ``z_{k+1} = Tz_k − Dz_{k−1} + γĉ``, where
``γ₁`` (:attr:`Recurrence.first_lr`) is ``γ`` for heavy ball (torch's undamped first
buffer ``b = g``) and the look-ahead form, and ``γ(1 + μ)`` for torch's Nesterov (its
first update is ``g + μb`` with ``b = g``).

References: Polyak (1964); Nesterov (1983); Goh (2017), "Why Momentum Really Works",
Distill.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from .optimizers import SGD, HeavyBall, NesterovLookahead

__all__ = [
    "FAMILIES",
    "Recurrence",
    "discriminant",
    "first_step",
    "iteration_matrix",
    "recurrence_of",
    "three_term",
    "trace_det",
]

#: the linear families, in the order they are documented
FAMILIES = ("heavyball", "nesterov", "gd")


# The functions of the table share the parameters (family, g, mu); each docstring lists them
# (numpydoc: a function's help stands alone): that repeated text is the only repetition here.
def trace_det(family: str, g: Any, mu: Any) -> tuple[Any, Any]:
    """Trace ``T`` and determinant ``D`` of one curvature's iteration matrix.

    Parameters
    ----------
    family : {"heavyball", "nesterov", "gd"}
    g : array_like or sympy expression
        ``γh``, the learning rate times the curvature.
    mu : array_like or sympy expression
        The momentum (ignored by ``"gd"``).

    Returns
    -------
    T, D
        Plain-arithmetic expressions in ``g`` and ``mu`` (``D`` is ``0·μ`` for ``"gd"``).

    Examples
    --------
    >>> import sympy as sp
    >>> g, mu = sp.symbols("g mu")
    >>> trace_det("nesterov", g, mu)
    ((1 - g)*(mu + 1), mu*(1 - g))
    """
    if family == "heavyball":
        return 1 + mu - g, mu
    if family == "nesterov":
        a = 1 - g
        return (1 + mu) * a, mu * a
    if family == "gd":
        return 1 - g, 0 * mu
    raise ValueError(f"`family` must be one of {FAMILIES}, got {family!r}")


def discriminant(family: str, g: Any, mu: Any) -> Any:
    """``T² − 4D``, the discriminant of the characteristic polynomial ``z² − Tz + D``.

    Nesterov's is written ``a((1 + μ)²a − 4μ)`` with ``a = 1 − g`` (no cancellation at
    ``a = 0``); heavy ball's and GD's are ``T² − 4D`` as they stand (``heavyball.rates``
    evaluates heavy ball's in a factored form that needs a square root).

    Parameters
    ----------
    family, g, mu
        As in :func:`trace_det`.

    Returns
    -------
    array_like or sympy expression

    Examples
    --------
    >>> discriminant("heavyball", 0.5, 0.25)
    -0.4375
    """
    if family == "nesterov":
        a = 1 - g
        return a * ((1 + mu) ** 2 * a - 4 * mu)
    T, D = trace_det(family, g, mu)
    return T * T - 4 * D


def iteration_matrix(family: str, g: Any, mu: Any) -> tuple[tuple[Any, Any], tuple[Any, Any]]:
    """The rows ``((T, −D), (1, 0))`` of the iteration matrix on ``(x_k, x_{k−1})``.

    Parameters
    ----------
    family, g, mu
        As in :func:`trace_det`.

    Returns
    -------
    tuple of two rows
        Pass to ``sympy.Matrix`` or fill a numpy array with it.

    Examples
    --------
    >>> import sympy as sp
    >>> g, mu = sp.symbols("g mu")
    >>> sp.Matrix(iteration_matrix("heavyball", g, mu))
    Matrix([
    [-g + mu + 1, -mu],
    [          1,   0]])
    """
    T, D = trace_det(family, g, mu)
    return (T, -D), (1, 0)


def three_term(family: str, g: Any, mu: Any) -> tuple[Any, Any]:
    """``(a, m)`` of the three-term form ``x_{k+1} = a·x_k + m·x_{k−1}``: ``a = T``, ``m = −D``.

    Parameters
    ----------
    family, g, mu
        As in :func:`trace_det`.

    Returns
    -------
    a, m

    Examples
    --------
    >>> three_term("heavyball", 0.5, 0.25)
    (0.75, -0.25)
    """
    T, D = trace_det(family, g, mu)
    return T, -D


def first_step(first_lr: Any, h: Any) -> Any:
    """The first step's factor ``1 − γ₁ĥ`` (``z_1 = (1 − γ₁ĥ)z_0 + γ₁ĉ``).

    Parameters
    ----------
    first_lr : array_like
        :attr:`Recurrence.first_lr`.
    h : array_like
        The effective curvature ``ĥ``.

    Returns
    -------
    array_like

    Examples
    --------
    >>> first_step(0.5, 1.0)
    0.5
    """
    return 1.0 - first_lr * h


@dataclasses.dataclass(frozen=True)
class Recurrence:
    """The per-curvature recurrence an optimiser runs on a quadratic.

    Attributes
    ----------
    family : str
        ``"gd"``, ``"heavyball"`` or ``"nesterov"`` (:data:`FAMILIES`).
    lr : float or ndarray
        ``γ`` of the steady recurrence (``γ(1 − τ)`` for damped SGD).
    momentum : float or ndarray
        ``μ`` (0 for ``"gd"``).
    first_lr : float or ndarray
        ``γ₁``, the gradient coefficient of the first step from rest.
    sign : float
        ``−1`` for ``maximize``, else ``1``: ``ĥ = sign·h + shift``.
    shift : ndarray
        Coupled weight decay ``λ``.

    Hyperparameter arrays keep ``iterate``'s batch convention ``(*batch, 1)`` with the
    coordinate axis dropped: shape ``batch`` (0-d for scalars).
    """

    family: str
    lr: Any
    momentum: Any
    first_lr: Any
    sign: float
    shift: Any

    def curvature(self, h: Any) -> Any:
        """The effective curvature ``ĥ = sign·h + shift``.

        Parameters
        ----------
        h : array_like

        Returns
        -------
        array_like
        """
        return self.sign * h + self.shift


def _per_configuration(name: str, value: Any, dim: int | None) -> np.ndarray:
    """A hyperparameter of the batch convention ``(*batch, 1)`` as an array shaped ``batch``.

    ``dim``: the problem's dimension, or ``None`` when only ``(*batch, 1)`` is accepted. A
    trailing axis of length ``dim`` is accepted when all its values are equal (the modes then
    still decouple). Raises ``ValueError`` naming ``name`` otherwise.
    """
    if callable(value) and not isinstance(value, np.ndarray):
        raise ValueError(
            f"`optimizer` must have a constant `{name}`: the recurrence needs fixed hyperparameters, got a schedule"
        )
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 0:
        return arr
    last = arr.shape[-1]
    if last == 1 or (dim is not None and last == dim and np.all(arr == arr[..., :1])):
        return arr[..., 0]
    raise ValueError(
        f"`optimizer` has a per-coordinate `{name}` of shape {arr.shape}: the modes then do not decouple; "
        "the recurrence needs one value per configuration, shaped (*batch, 1)"
    )


def recurrence_of(optimizer: Any, *, dim: int | None = None) -> Recurrence:
    """The family and coefficients of a linear optimiser (subclasses included).

    Parameters
    ----------
    optimizer : SGD, HeavyBall or NesterovLookahead
        Constant hyperparameters: scalars or arrays shaped ``(*batch, 1)``.
    dim : int, optional
        The problem's dimension: a hyperparameter whose last axis has this length is accepted
        when its values agree along it.

    Returns
    -------
    Recurrence

    Raises
    ------
    ValueError
        A schedule, a hyperparameter that varies per coordinate, or a method without a linear
        recurrence (Adam).

    Examples
    --------
    >>> import heavyball as hb
    >>> r = recurrence_of(hb.SGD(lr=0.1, momentum=0.5, dampening=0.5))
    >>> r.family, float(r.lr), float(r.first_lr)
    ('heavyball', 0.05, 0.1)
    """

    def hp(name: str, value: Any) -> np.ndarray:
        return _per_configuration(name, value, dim)

    if isinstance(optimizer, (HeavyBall, NesterovLookahead)):
        gamma = hp("dt", optimizer.dt) * hp("eta", optimizer.eta)
        family = "heavyball" if isinstance(optimizer, HeavyBall) else "nesterov"
        return Recurrence(family, gamma, hp("mu", optimizer.mu), gamma, 1.0, np.zeros(()))
    if isinstance(optimizer, SGD):
        gamma, mu = hp("lr", optimizer.lr), hp("momentum", optimizer.momentum)
        tau = np.where(mu == 0.0, 0.0, hp("dampening", optimizer.dampening))  # torch: no buffer, no dampening
        wd = hp("weight_decay", optimizer.weight_decay)
        sign = -1.0 if optimizer.maximize else 1.0
        if optimizer.nesterov:
            return Recurrence("nesterov", gamma, mu, gamma * (1.0 + mu), sign, wd)
        lr = gamma * (1.0 - tau)
        family = "gd" if np.all(mu == 0.0) else "heavyball"
        return Recurrence(family, lr, mu, gamma, sign, wd)
    raise ValueError(
        "`optimizer` must be a linear momentum method (SGD, HeavyBall, NesterovLookahead), got "
        f"{type(optimizer).__name__}: adaptive methods such as Adam have no fixed per-curvature recurrence"
    )
