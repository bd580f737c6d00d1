r"""Adam's elementwise update, written once.

:meth:`heavyball.optimizers.Adam.step` (and the general loop of :func:`heavyball.iterate`) and
the blocked kernel of ``heavyball/_fastadam.py`` both call :func:`adam_update`, so the two give
bit-identical iterates by construction: the same IEEE operations in the same order on every
element, whatever the layout of the arrays (``(B, d)`` rows or ``(d, block)`` columns).

One step of ``torch.optim.Adam``/``AdamW`` (2.13, single-tensor path), with ``t`` the step
number (from 1):

.. math::

    g &\leftarrow -g\ \text{(maximize)},\qquad g \leftarrow g + λθ\ \text{(Adam)}
        \quad\text{or}\quad θ \leftarrow (1 - γλ)θ\ \text{(AdamW)},\\
    m &\leftarrow \operatorname{lerp}(m, g, 1-β_1),\qquad v \leftarrow β_2 v + (1-β_2)g^2,
        \qquad \hat v = \max(\hat v, v)\ \text{(amsgrad)},\\
    θ &\leftarrow θ + \frac{-γ/(1-β_1^t)\cdot m}{\sqrt{\hat v}/\sqrt{1-β_2^t} + ε}.

Hyperparameters combined from Python floats are formed in float64 and then cast to the
iterate's dtype, as torch casts a Python scalar (:func:`cast`).

References: PyTorch 2.13 ``torch.optim.Adam``/``AdamW``; Kingma & Ba (2015); Reddi, Kale &
Kumar (2018); Loshchilov & Hutter (2019).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

__all__ = [
    "AdamConstants", "adam_constants", "adam_scalars", "adam_update", "bias_correction1", "cast", "decay_factor",
    "is_nonzero",
]  # fmt: skip


def cast(x: Any, dtype: np.dtype) -> Any:
    """A hyperparameter as a kernel uses it: torch casts a Python scalar to the tensor's dtype.

    Parameters
    ----------
    x : float or ndarray
    dtype : numpy dtype

    Returns
    -------
    float, numpy scalar or ndarray
        A float is left to numpy in float64 (it is cast to ``dtype`` by the operation that
        uses it, the same way) and cast explicitly otherwise; arrays are cast.
    """
    if isinstance(x, np.ndarray):
        return x if x.dtype == dtype else x.astype(dtype)
    return x if dtype == np.float64 else dtype.type(x)


def is_nonzero(x: Any) -> bool:
    """torch's ``if weight_decay != 0`` / ``if momentum != 0`` for a scalar or an array.

    Parameters
    ----------
    x : float or ndarray

    Returns
    -------
    bool
        True for any array (the kernel then applies the term elementwise).
    """
    return isinstance(x, np.ndarray) or x != 0


class AdamConstants(NamedTuple):
    """The per-run constants of Adam in the iterate's dtype (see :func:`adam_constants`)."""

    weight_decay: Any
    lerp_coeff: Any  # w = 1-β1 where w < 0.5, else w - 1 (torch's two lerp branches)
    lerp_small: Any  # True / False, or a boolean array for an array β1
    beta1: Any  # float64 (for the bias correction)
    beta2: Any  # float64
    beta2_cast: Any
    one_minus_beta2: Any
    eps: Any


def adam_constants(betas: tuple[Any, Any], eps: Any, weight_decay: Any, dtype: np.dtype) -> AdamConstants:
    """The constants of one Adam configuration (or array of them) in ``dtype``.

    torch's ``lerp(m, g, w)`` with ``w = 1 − β₁`` computes ``m + w(g − m)`` when ``|w| < 0.5``
    and ``g + (w − 1)(g − m)`` otherwise; ``lerp_coeff`` and ``lerp_small`` say which.

    Parameters
    ----------
    betas : (beta1, beta2)
    eps, weight_decay : float or ndarray
    dtype : numpy dtype

    Returns
    -------
    AdamConstants
    """
    beta1, beta2 = betas
    w = cast(1.0 - beta1, dtype)  # the lerp weight, cast as torch casts it
    small = np.abs(w) < 0.5
    one = dtype.type(1)
    coeff = np.where(small, w, w - one) if isinstance(w, np.ndarray) else (w if small else w - one)
    if isinstance(small, np.ndarray) and (small.all() or not small.any()):
        small = bool(small.all())
    elif isinstance(small, np.bool_):
        small = bool(small)
    return AdamConstants(
        cast(weight_decay, dtype), coeff, small, np.asarray(beta1, np.float64), np.asarray(beta2, np.float64),
        cast(beta2, dtype), cast(1.0 - beta2, dtype), cast(eps, dtype),
    )  # fmt: skip


def bias_correction1(c: AdamConstants, t: Any) -> Any:
    """``1 − β₁ᵗ`` in float64 (``numpy.power``), the divisor of the step size ``lr/(1 − β₁ᵗ)``.

    Parameters
    ----------
    c : AdamConstants
    t : float, or a 1-D array of steps when ``β₁`` is a scalar

    Returns
    -------
    numpy.float64 or ndarray
    """
    return 1.0 - np.power(c.beta1, t)


def adam_scalars(c: AdamConstants, lr: Any, t: Any, dtype: np.dtype) -> tuple[Any, Any]:
    """``(−step_size, √(bias_correction2))`` of step ``t`` (from 1), cast to ``dtype``.

    ``step_size = lr/(1 − β₁ᵗ)`` and ``√(1 − β₂ᵗ)``, with the powers by ``numpy.power`` (the
    same for a scalar and for every element of an array). With scalar ``lr`` and betas, ``t``
    may be an array of steps: the values of all those steps at once, element for element the
    scalar ones (``numpy.power``'s result for one element does not depend on the array).

    Parameters
    ----------
    c : AdamConstants
    lr : float or ndarray
    t : float, or a 1-D array of steps (scalar ``lr`` and betas)
    dtype : numpy dtype

    Returns
    -------
    neg_step_size, bias_correction2_sqrt
    """
    bias_correction1_ = bias_correction1(c, t)
    bias_correction2 = 1.0 - np.power(c.beta2, t)
    return cast(-(lr / bias_correction1_), dtype), cast(np.power(bias_correction2, 0.5), dtype)


def decay_factor(lr: Any, weight_decay: Any, dtype: np.dtype) -> Any:
    """AdamW's ``1 − lr·weight_decay`` (``param.mul_(1 - lr*weight_decay)``), cast to ``dtype``.

    Parameters
    ----------
    lr, weight_decay : float or ndarray
    dtype : numpy dtype

    Returns
    -------
    float, numpy scalar or ndarray
    """
    return cast(1.0 - lr * weight_decay, dtype)


def adam_update(
    theta: np.ndarray,
    grad: np.ndarray,
    m: np.ndarray,
    v: np.ndarray,
    vmax: np.ndarray | None,
    *,
    c: AdamConstants,
    neg_step_size: Any,
    bc2_sqrt: Any,
    decay: Any,
    coupled_decay: bool,
    maximize: bool,
    scratch: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    """One Adam step, in place on ``theta``, ``m``, ``v`` (and ``vmax``), elementwise.

    Parameters
    ----------
    theta, grad, m, v : ndarray
        One shape (any layout); ``grad`` is read only.
    vmax : ndarray or None
        The running maximum of ``v`` (amsgrad), or ``None``.
    c : AdamConstants
        From :func:`adam_constants`, broadcasting against ``theta``.
    neg_step_size, bc2_sqrt
        From :func:`adam_scalars` for this step.
    decay : float, ndarray or None
        AdamW's factor :func:`decay_factor`, or ``None`` (no decoupled decay).
    coupled_decay : bool
        Adam's ``grad + weight_decay·θ`` (``weight_decay`` nonzero, not decoupled).
    maximize : bool
    scratch : three ndarrays shaped like ``theta``

    Returns
    -------
    None
    """
    s0, s1, s2 = scratch
    g = grad
    if decay is not None:  # param.mul_(1 - lr * weight_decay)
        np.multiply(theta, decay, out=theta)
        if maximize:
            g = np.negative(grad, out=s0)
    elif coupled_decay:  # grad.add(param, alpha=weight_decay)
        g = np.multiply(theta, c.weight_decay, out=s0)
        if maximize:
            np.subtract(g, grad, out=g)
        else:
            np.add(g, grad, out=g)
    elif maximize:
        g = np.negative(grad, out=s0)
    # exp_avg.lerp_(grad, 1 - beta1)
    diff = np.subtract(g, m, out=s1)
    np.multiply(diff, c.lerp_coeff, out=diff)
    if c.lerp_small is True:
        np.add(m, diff, out=m)
    elif c.lerp_small is False:
        np.add(g, diff, out=m)
    else:
        np.add(np.where(c.lerp_small, m, g), diff, out=m)
    # exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    np.multiply(v, c.beta2_cast, out=v)
    sq = np.multiply(g, c.one_minus_beta2, out=s1)
    np.multiply(sq, g, out=sq)
    np.add(v, sq, out=v)
    source = v
    if vmax is not None:  # torch.maximum(max_exp_avg_sqs[i], exp_avg_sq, out=...)
        np.maximum(vmax, v, out=vmax)
        source = vmax
    # denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps)
    denom = np.sqrt(source, out=s1)
    np.divide(denom, bc2_sqrt, out=denom)
    np.add(denom, c.eps, out=denom)
    # param.addcdiv_(exp_avg, denom, value=-step_size): param + (value·m)/denom
    upd = np.multiply(m, neg_step_size, out=s2)
    np.divide(upd, denom, out=upd)
    np.add(theta, upd, out=theta)
