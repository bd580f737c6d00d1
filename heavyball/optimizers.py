r"""The discrete methods, exactly as ``torch.optim`` runs them, in numpy and batched.

Five optimisers, each a frozen dataclass with the pure pair

    ``state = opt.init(theta)`` and ``theta, state = opt.step(theta, grad, state)``,

plus ``opt.grad_point(theta, state)``: the point where the next gradient must be taken
(``theta`` itself, except for :class:`NesterovLookahead`, whose gradient is taken at the
look-ahead point). ``step`` never mutates its arguments. States are NamedTuples.

* :class:`SGD`, :class:`Adam`, :class:`AdamW` follow torch 2.13's single-tensor code
  (``torch/optim/sgd.py::_single_tensor_sgd``, ``torch/optim/adam.py::_single_tensor_adam``,
  the path ``torch.optim`` takes on CPU) operation by operation; see the glossary (docs/glossary.md).
* :class:`HeavyBall` and :class:`NesterovLookahead` are the physical (velocity) forms
  ``v ← μv − η∇f``, ``θ ← θ + Δt·v`` of the heavy-ball ODE's semi-implicit Euler step.

Batching
--------
Every real hyperparameter may be a numpy array that broadcasts against ``theta``'s shape
``(*batch, d)`` (numpy's trailing-axis rules), e.g. ``SGD(lr=lrs[:, None])`` with ``theta``
shaped ``(B, d)`` runs ``B`` configurations at once; ``init`` returns state arrays of the
broadcast shape. ``lr`` (``eta`` for the physical forms) may also be a callable
``k -> lr_k``, where ``k`` is the number of steps already taken (0 at the first step); it is
read at every step, exactly as torch reads ``param_group["lr"]``, and what it returns is
validated then (a negative or NaN value raises a ``ValueError`` naming ``lr``). A schedule is
checked at construction too: it must take the step count and return a number (it is called
once with ``k = 0``); anything else callable, a class for instance, is refused by name. Flags
(``nesterov``, ``maximize``, ``amsgrad``) are plain booleans and are not batched.

Rounding
--------
Each torch kernel is mirrored by the same sequence of numpy operations in the same order and
the same precision: Python-float hyperparameters are combined in float64 (``1 - dampening``,
``lr / bias_correction1``, ``1 - lr*weight_decay``) and then cast to ``theta``'s dtype, as torch
casts a Python scalar to the tensor's dtype; ``alpha*x`` is computed and then added. torch's
vectorised CPU kernels use fused multiply-adds and a vector ``sqrt`` that numpy cannot
reproduce, so results agree with torch to a few ulps per step, not always bit for bit
(measured over 1000 steps: see ``tests/test_torch_parity.py``). The bias corrections use
``numpy.power``, identical for a scalar and for every element of an array, so a batched run
equals the same configurations run one by one bit for bit.

Equality and printing
---------------------
The dataclasses are declared ``eq=False`` and define ``__eq__`` themselves: two optimisers are
equal when they have the same type and equal fields, arrays compared with
``numpy.array_equal`` and callables by identity; ``__hash__`` is consistent with it. Arrays
are stored as read-only float64 copies; ``repr`` abbreviates large arrays and ``label`` gives
a short legend text such as ``"SGD(lr=0.1, momentum=0.9)"``.

References
----------
PyTorch documentation, ``torch.optim.SGD`` and ``torch.optim.Adam`` (2.13). B. T. Polyak,
"Some methods of speeding up the convergence of iteration methods", USSR Comput. Math. Math.
Phys. 4 (1964). Y. Nesterov, "A method for solving the convex programming problem with
convergence rate O(1/k²)", Soviet Math. Dokl. 27 (1983). I. Sutskever, J. Martens, G. Dahl,
G. Hinton, "On the importance of initialization and momentum in deep learning", ICML 2013.
D. P. Kingma, J. Ba, "Adam: a method for stochastic optimization", ICLR 2015. S. J. Reddi,
S. Kale, S. Kumar, "On the convergence of Adam and beyond", ICLR 2018. I. Loshchilov,
F. Hutter, "Decoupled weight decay regularization", ICLR 2019.
"""

from __future__ import annotations

import abc
import dataclasses
from typing import Any, ClassVar, NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from ._adamkernel import adam_constants, adam_scalars, adam_update, decay_factor
from ._adamkernel import cast as _cast
from ._adamkernel import is_nonzero as _is_nonzero
from ._batch import Scratch as _Scratch
from ._hyper import hyperparameter as _hyper
from ._validation import as_bool, as_float_array, broadcast_shapes, describe

__all__ = [
    "SGD",
    "Adam",
    "AdamState",
    "AdamW",
    "HeavyBall",
    "HeavyBallState",
    "NesterovLookahead",
    "SGDState",
]


# ---------------------------------------------------------------------------------------
# states
# ---------------------------------------------------------------------------------------
class SGDState(NamedTuple):
    """State of :class:`SGD`: ``step`` (steps taken, an int) and ``momentum_buffer`` ``b``
    (``None`` when ``momentum`` is the scalar 0, as torch keeps no buffer then)."""

    step: int
    momentum_buffer: np.ndarray | None


class AdamState(NamedTuple):
    """State of :class:`Adam`/:class:`AdamW`: ``step`` (an int), the moments ``exp_avg`` (m)
    and ``exp_avg_sq`` (v), and ``max_exp_avg_sq`` (``None`` unless ``amsgrad``)."""

    step: int
    exp_avg: np.ndarray
    exp_avg_sq: np.ndarray
    max_exp_avg_sq: np.ndarray | None


class HeavyBallState(NamedTuple):
    """State of :class:`HeavyBall` and :class:`NesterovLookahead`: ``step`` and the velocity ``v``."""

    step: int
    v: np.ndarray


#: the state of any optimiser here
OptimizerState = SGDState | AdamState | HeavyBallState

_STATE_ARRAYS: dict[type, tuple[str, ...]] = {
    SGDState: ("momentum_buffer",),
    AdamState: ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"),
    HeavyBallState: ("v",),
}


# ---------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------
def _fields(obj: Any) -> tuple[dataclasses.Field, ...]:
    """The dataclass fields of an optimiser."""
    return dataclasses.fields(obj)


def _fmt(value: Any, *, short: bool) -> str:
    if isinstance(value, bool):
        return repr(value)
    if isinstance(value, float):
        return f"{value:g}" if short else repr(value)
    if isinstance(value, np.ndarray):
        if value.size == 0:
            return f"array(shape={value.shape})"
        if short:
            lo, hi = float(np.min(value)), float(np.max(value))
            return f"[{lo:g}…{hi:g}]" if lo != hi else f"[{lo:g}]"
        if value.size <= 6:
            return describe(value)
        return f"array(shape={value.shape}, min={float(np.min(value)):g}, max={float(np.max(value)):g})"
    if isinstance(value, tuple):
        return "(" + ", ".join(_fmt(v, short=short) for v in value) + ")"
    if callable(value):
        name = getattr(value, "__name__", None) or type(value).__name__
        return f"{name}()" if short else repr(value)
    return repr(value)


def _key(value: Any) -> Any:
    """A hashable stand-in consistent with ``_equal``."""
    if isinstance(value, np.ndarray):
        return ("array", value.shape, value.tobytes())
    if isinstance(value, tuple):
        return tuple(_key(v) for v in value)
    return value


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape and np.array_equal(a, b)
    if isinstance(a, tuple) or isinstance(b, tuple):
        return isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b) and all(map(_equal, a, b))
    if callable(a) or callable(b):
        return a is b
    return a == b


def _as_theta(theta: Any, *, finite: bool) -> np.ndarray:
    """``theta`` as a float array shaped ``(..., d)`` (a scalar is refused, naming it)."""
    theta = as_float_array("theta", theta, finite=finite)
    if theta.ndim == 0:
        raise ValueError(f"`theta` must have shape (..., d), got a scalar {describe(theta)}")
    return theta


def _owned(arr: Any, shape: Any, dtype: Any) -> np.ndarray:
    """A fresh, writable, C-contiguous copy of ``arr`` broadcast to ``shape``."""
    out = np.empty(shape, dtype)
    out[...] = arr
    return out


class _Optimizer(abc.ABC):
    """Shared machinery: validation helpers, equality, printing, the pure ``step``.

    Subclasses define ``_RATE`` (the name of the field that may be a schedule), ``_init``
    (state from a full-shaped theta) and ``_apply(theta, grad, state, rate, scratch)``, which
    updates ``theta`` and the state's arrays **in place** (they are owned, full-shaped) and
    returns the new state. ``step`` wraps ``_apply`` with fresh copies; ``heavyball.iterate``
    calls ``_apply`` directly on arrays it owns, so both give bit-identical results.
    """

    _RATE: ClassVar[str] = "lr"
    _state_type: ClassVar[type]
    _cache: dict[str, Any]

    @abc.abstractmethod
    def _init(self, shape: tuple[int, ...], dtype: np.dtype) -> Any:
        """The initial state (``_state_type``) with zero arrays of ``shape`` and ``dtype``."""

    @abc.abstractmethod
    def _apply(self, theta: np.ndarray, grad: np.ndarray, state: Any, rate: Any, scratch: Any) -> Any:
        """One step in place on the owned arrays ``theta`` and ``state``'s; returns the new state."""

    @abc.abstractmethod
    def _make_consts(self, dtype: np.dtype) -> Any:
        """The hyperparameters cast to ``dtype`` once (cached per dtype by ``_consts``)."""

    # -- construction ------------------------------------------------------------------
    def _set(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)

    def _finish(self) -> None:
        """Check that array hyperparameters broadcast together; set up the cast cache."""
        shapes = self._array_shapes()
        if len(shapes) > 1:
            broadcast_shapes(**shapes)
        self._set("_cache", {})

    def _array_shapes(self) -> dict:
        shapes = {}
        for f in _fields(self):
            v = getattr(self, f.name)
            if isinstance(v, np.ndarray):
                shapes[f.name] = v.shape
            elif isinstance(v, tuple):
                for i, vi in enumerate(v):
                    if isinstance(vi, np.ndarray):
                        shapes[f"{f.name}[{i}]"] = vi.shape
        return shapes

    # -- equality, hashing, printing -----------------------------------------------------
    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(_equal(getattr(self, f.name), getattr(other, f.name)) for f in _fields(self))

    def __hash__(self) -> int:
        return hash((type(self).__name__,) + tuple(_key(getattr(self, f.name)) for f in _fields(self)))

    def __repr__(self) -> str:
        parts = [f"{f.name}={_fmt(getattr(self, f.name), short=False)}" for f in _fields(self)]
        return f"{type(self).__name__}({', '.join(parts)})"

    @property
    def label(self) -> str:
        """A short text for legends: the rate and every field that differs from its default."""
        parts = []
        for f in _fields(self):
            v = getattr(self, f.name)
            if f.name != self._RATE and f.default is not dataclasses.MISSING and _equal(v, f.default):
                continue
            parts.append(f"{f.name}={_fmt(v, short=True)}")
        return f"{type(self).__name__}({', '.join(parts)})"

    # -- the rate (lr or eta), read at each step ---------------------------------------
    def _rate(self, k: int, shape: Any = None) -> Any:
        """The validated rate for the step after ``k`` steps (float64 float or array)."""
        value = getattr(self, self._RATE)
        if not callable(value) or isinstance(value, np.ndarray):
            return value
        raw = value(k)
        if type(raw) is float and 0.0 <= raw < float("inf"):  # the common case, checked cheaply
            return raw
        try:
            out = _hyper(self._RATE, raw, lower=0.0)
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"{exc} (returned by the `{self._RATE}` schedule at k={k})") from None
        if shape is not None and isinstance(out, np.ndarray):
            try:
                ok = np.broadcast_shapes(out.shape, shape) == tuple(shape)
            except ValueError:
                ok = False
            if not ok:
                raise ValueError(
                    f"`{self._RATE}` schedule returned shape {out.shape} at k={k}, which does not "
                    f"broadcast into theta's shape {tuple(shape)}"
                )
        return out

    def _consts(self, dtype: Any) -> Any:
        key = dtype.char  # hashing a numpy dtype object is slow; its type code is not
        c = self._cache.get(key)
        if c is None:
            c = self._cache[key] = self._make_consts(np.dtype(dtype))
        return c

    # -- the public pure pair -------------------------------------------------------------
    def init(self, theta: ArrayLike) -> OptimizerState:
        """The initial state for ``theta`` shaped ``(..., d)``; arrays are zeros shaped like
        ``theta`` broadcast with the array hyperparameters, in ``theta``'s dtype."""
        theta = _as_theta(theta, finite=True)
        shape = broadcast_shapes(theta=theta.shape, **self._array_shapes())
        return self._init(shape, theta.dtype)

    def grad_point(self, theta: np.ndarray, state: OptimizerState) -> np.ndarray:
        """Where the next gradient is evaluated: ``theta`` itself."""
        return theta

    def step(self, theta: ArrayLike, grad: ArrayLike, state: OptimizerState) -> tuple[np.ndarray, OptimizerState]:
        """One step: returns ``(new_theta, new_state)``; the arguments are not modified.

        ``grad`` is the gradient at ``grad_point(theta, state)``; it is cast to ``theta``'s
        dtype. Shapes broadcast (``theta`` ``(d,)`` with ``lr`` ``(B, 1)`` gives ``(B, d)``).
        """
        theta = _as_theta(theta, finite=False)
        dtype = theta.dtype
        grad = as_float_array("grad", grad, dtype=dtype, finite=False)
        state = self._check_state(state)
        named = {"theta": theta.shape, "grad": grad.shape}
        for name in _STATE_ARRAYS[type(state)]:
            arr = getattr(state, name)
            if arr is not None:
                named[f"state.{name}"] = np.shape(arr)
        rate = self._rate(state.step)
        if isinstance(rate, np.ndarray) and callable(getattr(self, self._RATE)):
            named[f"{self._RATE}({state.step})"] = rate.shape  # the schedule's value
        shape = broadcast_shapes(**named, **self._array_shapes())  # errors name the arguments
        theta = _owned(theta, shape, dtype)
        fresh = {name: _owned(getattr(state, name), shape, dtype)
                 for name in _STATE_ARRAYS[type(state)] if getattr(state, name) is not None}  # fmt: skip
        state = state._replace(**fresh)  # type: ignore[arg-type]
        with np.errstate(all="ignore"):  # a diverging run overflows quietly, as torch does
            state = self._apply(theta, grad, state, rate, _Scratch(shape, dtype))
        return theta, state

    def _check_state(self, state: Any) -> Any:
        expected: Any = self._state_type
        if not isinstance(state, expected):
            raise TypeError(
                f"`state` must be a {expected.__name__} from `{type(self).__name__}.init`, got {describe(state)}"
            )
        if isinstance(state.step, (bool, np.bool_)) or not isinstance(state.step, (int, np.integer)) or state.step < 0:
            raise ValueError(f"`state.step` must be an integer >= 0, got {describe(state.step)}")
        for name, value in zip(state._fields[1:], state[1:], strict=False):
            if value is None and name in self._needed_arrays():
                raise ValueError(
                    f"`state.{name}` is None but {type(self).__name__} needs it; build the state with `init`"
                )
        return state

    def _needed_arrays(self) -> tuple:
        return _STATE_ARRAYS[self._state_type]


# ---------------------------------------------------------------------------------------
# SGD
# ---------------------------------------------------------------------------------------
class _SGDConsts(NamedTuple):
    weight_decay: Any
    momentum: Any
    alpha: Any  # 1 - dampening, or None when dampening == 0 (torch's alpha=1 is exact)
    zero_momentum: Any  # boolean mask where an array momentum is 0 (torch: no buffer), or None
    neg_lr: Any  # -lr cast, or None for a schedule


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class SGD(_Optimizer):
    r"""Stochastic gradient descent with momentum, exactly as ``torch.optim.SGD`` (2.13).

    Per step, with ``g`` the gradient, ``γ = lr``, ``μ = momentum``, ``τ = dampening``,
    ``λ = weight_decay`` (torch's single-tensor code, operation by operation):

    .. math::

        g &\leftarrow -g \quad\text{if maximize}, \qquad g \leftarrow g + λθ,\\
        b &\leftarrow g \ \text{(first step: no dampening)}, \qquad
        b \leftarrow μb + (1-τ)g \ \text{(later steps)},\\
        d &= g + μb \ \text{(nesterov)}, \quad d = b \ \text{(otherwise)}, \quad
        d = g \ \text{(μ = 0: no buffer)},\\
        θ &\leftarrow θ - γd .

    The learning rate is read at each step and never enters the buffer (PyTorch's convention;
    Sutskever et al. 2013 fold it into the velocity instead, and the two differ once ``lr``
    changes). With a constant ``lr`` and ``v₀ = 0`` this is the heavy ball:
    ``SGD(lr=η·Δt, momentum=μ)`` equals ``HeavyBall(eta=η, mu=μ, dt=Δt)`` with
    ``b = −v/η``; with an ``eta`` schedule, ``HeavyBall`` is the convention with the rate
    inside the buffer (g = 1, μ = 0.9, rate 0.1 then 0.01: θ₂ = −0.119 here, −0.2 there).

    Parameters
    ----------
    lr : float, array or callable
        Learning rate ``γ >= 0``; an array broadcasting against ``theta``, or a schedule
        ``k -> lr_k`` (``k`` = steps already taken), validated at every step.
    momentum : float or array
        ``μ`` in ``[0, 1)``. heavyball is stricter than torch, which accepts any ``μ >= 0``:
        ``μ >= 1`` makes the buffer a non-decaying (or growing) sum and is refused.
    dampening : float or array
        ``τ`` in ``[0, 1]`` (torch does not check it; heavyball keeps ``1 − τ >= 0``).
    weight_decay : float or array
        Coupled L2 coefficient ``λ >= 0``: the same as plain SGD on ``f + (λ/2)‖θ‖²``
        (``Quadratic.with_weight_decay``).
    nesterov : bool
        Nesterov momentum, torch's form; requires ``momentum > 0`` and ``dampening == 0``
        (as torch). torch's parameters are the look-ahead points of the textbook method: see
        :class:`NesterovLookahead` for the change of variables.
    maximize : bool
        Ascend: the gradient's sign is flipped before anything else.

    Examples
    --------
    >>> import numpy as np, heavyball as hb
    >>> opt = hb.SGD(lr=0.1, momentum=0.9)
    >>> theta = np.array([1.0, -2.0]); state = opt.init(theta)
    >>> theta, state = opt.step(theta, 2 * theta, state)      # f = ‖θ‖²
    >>> theta
    array([ 0.8, -1.6])
    >>> opt.label
    'SGD(lr=0.1, momentum=0.9)'

    References
    ----------
    PyTorch 2.13 ``torch.optim.SGD``; Polyak (1964); Sutskever et al. (2013).
    """

    lr: Any
    momentum: Any = 0.0
    dampening: Any = 0.0
    weight_decay: Any = 0.0
    nesterov: bool = False
    maximize: bool = False

    _state_type = SGDState

    def __post_init__(self) -> None:
        self._set("lr", _hyper("lr", self.lr, callable_ok=True, lower=0.0))
        self._set("momentum", _hyper("momentum", self.momentum, lower=0.0, upper=1.0, upper_inclusive=False))
        self._set("dampening", _hyper("dampening", self.dampening, lower=0.0, upper=1.0))
        self._set("weight_decay", _hyper("weight_decay", self.weight_decay, lower=0.0))
        self._set("nesterov", as_bool("nesterov", self.nesterov))
        self._set("maximize", as_bool("maximize", self.maximize))
        if self.nesterov:
            if np.any(np.asarray(self.momentum) <= 0):
                raise ValueError(
                    f"`nesterov`=True requires `momentum` > 0, got momentum={_fmt(self.momentum, short=False)}"
                )
            if np.any(np.asarray(self.dampening) != 0):
                raise ValueError(
                    f"`nesterov`=True requires `dampening` == 0, got dampening={_fmt(self.dampening, short=False)}"
                )
        self._finish()

    def _make_consts(self, dtype: Any) -> Any:
        zero = None
        if isinstance(self.momentum, np.ndarray) and np.any(self.momentum == 0):
            zero = self.momentum == 0
        alpha = None if not _is_nonzero(self.dampening) else _cast(1.0 - self.dampening, dtype)
        neg_lr = None if callable(self.lr) and not isinstance(self.lr, np.ndarray) else _cast(-self.lr, dtype)
        return _SGDConsts(_cast(self.weight_decay, dtype), _cast(self.momentum, dtype), alpha, zero, neg_lr)

    def _init(self, shape: Any, dtype: Any) -> Any:
        buf = np.zeros(shape, dtype) if _is_nonzero(self.momentum) else None
        return SGDState(0, buf)

    def _needed_arrays(self) -> Any:
        return ("momentum_buffer",) if _is_nonzero(self.momentum) else ()

    def _apply(self, theta: Any, grad: Any, state: Any, lr: Any, scratch: Any) -> Any:
        c = self._consts(theta.dtype)
        g = grad
        if _is_nonzero(self.weight_decay):  # grad.add(param, alpha=weight_decay)
            g = np.multiply(theta, c.weight_decay, out=scratch[0])
            if self.maximize:  # (−grad) + λθ ≡ λθ − grad bit for bit
                np.subtract(g, grad, out=g)
            else:
                np.add(g, grad, out=g)
        elif self.maximize:
            g = np.negative(grad, out=scratch[0])
        buf = state.momentum_buffer
        if buf is not None:
            if state.step == 0:  # buf = grad.clone(): no dampening at the first step
                np.copyto(buf, g)
            else:  # buf.mul_(momentum).add_(grad, alpha=1 - dampening)
                np.multiply(buf, c.momentum, out=buf)
                if c.alpha is None:
                    np.add(buf, g, out=buf)
                else:
                    np.add(buf, np.multiply(g, c.alpha, out=scratch[1]), out=buf)
                if c.zero_momentum is not None:  # torch keeps no buffer where momentum == 0
                    np.copyto(buf, g, where=c.zero_momentum)
            if self.nesterov:  # grad.add(buf, alpha=momentum)
                d = np.multiply(buf, c.momentum, out=scratch[1])
                np.add(d, g, out=d)
            else:
                d = buf
        else:
            d = g
        neg_lr = c.neg_lr if c.neg_lr is not None else _cast(-lr, theta.dtype)
        np.add(theta, np.multiply(d, neg_lr, out=scratch[2]), out=theta)  # param.add_(d, alpha=-lr)
        return SGDState(state.step + 1, buf)


# ---------------------------------------------------------------------------------------
# Adam / AdamW
# ---------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Adam(_Optimizer):
    r"""Adam, exactly as ``torch.optim.Adam`` (2.13, single-tensor path).

    Per step ``t = 1, 2, …`` with ``γ = lr``, ``β1, β2 = betas``, ``λ = weight_decay``:

    .. math::

        g &\leftarrow -g \ \text{(maximize)}, \qquad g \leftarrow g + λθ
            \ \text{(Adam)} \quad\text{or}\quad θ \leftarrow (1 - γλ)\,θ \ \text{(AdamW)},\\
        m &\leftarrow \operatorname{lerp}(m, g, 1-β_1) = m + (1-β_1)(g - m),\qquad
        v \leftarrow β_2 v + (1-β_2)\,g\,g,\\
        \hat v &= \max(\hat v, v) \ \text{(amsgrad, else } \hat v = v),\qquad
        θ \leftarrow θ - \frac{γ}{1-β_1^t}\,
            \frac{m}{\sqrt{\hat v}/\sqrt{1-β_2^t} + ε}.

    torch's ``lerp`` switches formula at weight 0.5 (``end − (end − self)(1 − w)`` for
    ``w >= 0.5``); so does this one.

    Parameters
    ----------
    lr : float, array or callable
        ``γ >= 0``, or a schedule ``k -> lr_k`` read at every step.
    betas : tuple of two floats or arrays
        ``β1, β2`` in ``[0, 1)``.
    eps : float or array
        ``ε > 0`` (heavyball is stricter than torch, which allows 0: with ``ε = 0`` a zero
        second moment divides by zero).
    weight_decay : float or array
        ``λ >= 0``: coupled (added to the gradient) for ``Adam``, decoupled for ``AdamW``.
    amsgrad : bool
        Keep the running maximum of ``v`` (Reddi et al. 2018).
    maximize : bool

    Examples
    --------
    >>> import numpy as np, heavyball as hb
    >>> opt = hb.Adam(lr=0.1)
    >>> theta = np.array([1.0, -2.0]); state = opt.init(theta)
    >>> theta, state = opt.step(theta, 2 * theta, state)
    >>> np.round(theta, 6)                 # the first step moves each coordinate by ≈ lr
    array([ 0.9, -1.9])

    References
    ----------
    PyTorch 2.13 ``torch.optim.Adam``; Kingma & Ba (2015); Reddi, Kale & Kumar (2018).
    """

    lr: Any = 1e-3
    betas: Any = (0.9, 0.999)
    eps: Any = 1e-8
    weight_decay: Any = 0.0
    amsgrad: bool = False
    maximize: bool = False

    _state_type = AdamState
    _decoupled = False

    def __post_init__(self) -> None:
        self._set("lr", _hyper("lr", self.lr, callable_ok=True, lower=0.0))
        betas = self.betas
        if isinstance(betas, (str, bytes)) or not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"`betas` must be a pair (beta1, beta2), got {describe(betas)}")
        self._set("betas", tuple(
            _hyper(f"betas[{i}]", b, lower=0.0, upper=1.0, upper_inclusive=False) for i, b in enumerate(betas)
        ))  # fmt: skip
        self._set("eps", _hyper("eps", self.eps, lower=0.0, lower_inclusive=False))
        self._set("weight_decay", _hyper("weight_decay", self.weight_decay, lower=0.0))
        self._set("amsgrad", as_bool("amsgrad", self.amsgrad))
        self._set("maximize", as_bool("maximize", self.maximize))
        self._finish()

    def _make_consts(self, dtype: Any) -> Any:
        return adam_constants(self.betas, self.eps, self.weight_decay, dtype)

    def _init(self, shape: Any, dtype: Any) -> Any:
        vmax = np.zeros(shape, dtype) if self.amsgrad else None
        return AdamState(0, np.zeros(shape, dtype), np.zeros(shape, dtype), vmax)

    def _needed_arrays(self) -> Any:
        return ("exp_avg", "exp_avg_sq", "max_exp_avg_sq") if self.amsgrad else ("exp_avg", "exp_avg_sq")

    def _apply(self, theta: Any, grad: Any, state: Any, lr: Any, scratch: Any) -> Any:
        """Adam's elementwise update (``heavyball._adamkernel.adam_update``, shared with the
        blocked kernel of the fast path), in place."""
        dtype = theta.dtype
        c = self._consts(dtype)
        neg_step_size, bc2_sqrt = adam_scalars(c, lr, float(state.step + 1), dtype)  # step_t += 1
        wd_on = _is_nonzero(self.weight_decay)
        adam_update(
            theta, grad, state.exp_avg, state.exp_avg_sq, state.max_exp_avg_sq, c=c, neg_step_size=neg_step_size,
            bc2_sqrt=bc2_sqrt, decay=decay_factor(lr, self.weight_decay, dtype) if wd_on and self._decoupled else None,
            coupled_decay=wd_on and not self._decoupled, maximize=self.maximize,
            scratch=(scratch[0], scratch[1], scratch[2]),
        )  # fmt: skip
        return AdamState(state.step + 1, state.exp_avg, state.exp_avg_sq, state.max_exp_avg_sq)


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class AdamW(Adam):
    r"""AdamW: Adam with decoupled weight decay, exactly as ``torch.optim.AdamW`` (2.13).

    Identical to :class:`Adam` except that the decay is applied to the parameters first,
    ``θ ← (1 − γλ)θ`` (``param.mul_(1 - lr*weight_decay)``), instead of being added to the
    gradient; the default ``weight_decay`` is ``1e-2`` as in torch. ``AdamW`` is a subclass
    of ``Adam`` (as in torch); an ``AdamW`` never equals an ``Adam``.

    Examples
    --------
    >>> import numpy as np, heavyball as hb
    >>> opt = hb.AdamW(lr=0.1, weight_decay=0.5)
    >>> theta, _ = opt.step(np.array([1.0]), np.array([0.0]), opt.init(np.array([1.0])))
    >>> theta                              # zero gradient: only the decay 1 − 0.1·0.5 acts
    array([0.95])

    References
    ----------
    PyTorch 2.13 ``torch.optim.AdamW``; Loshchilov & Hutter (2019).
    """

    lr: Any = 1e-3
    betas: Any = (0.9, 0.999)
    eps: Any = 1e-8
    weight_decay: Any = 1e-2
    amsgrad: bool = False
    maximize: bool = False

    _decoupled = True


# ---------------------------------------------------------------------------------------
# the physical forms
# ---------------------------------------------------------------------------------------
class _HBConsts(NamedTuple):
    mu: Any
    eta: Any  # cast, or None for a schedule
    dt: Any  # cast, or None when dt is the scalar 1 (dt·v is then v exactly)
    dt_mu: Any  # dt·μ (float64 product, cast) for the look-ahead point


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class _PhysicalForm(_Optimizer):
    """The velocity update shared by :class:`HeavyBall` and :class:`NesterovLookahead` (they
    differ only in ``grad_point``). They are siblings, not subclass and class, so that
    ``isinstance(opt, HeavyBall)`` never holds for the Nesterov form."""

    eta: Any
    mu: Any
    dt: Any = 1.0

    _state_type = HeavyBallState
    _RATE = "eta"

    def __post_init__(self) -> None:
        self._set("eta", _hyper("eta", self.eta, callable_ok=True, lower=0.0))
        self._set("mu", _hyper("mu", self.mu))
        self._set("dt", _hyper("dt", self.dt, lower=0.0, lower_inclusive=False))
        self._finish()

    def _make_consts(self, dtype: Any) -> Any:
        eta = None if callable(self.eta) and not isinstance(self.eta, np.ndarray) else _cast(self.eta, dtype)
        dt = None if (not isinstance(self.dt, np.ndarray) and self.dt == 1.0) else _cast(self.dt, dtype)
        return _HBConsts(_cast(self.mu, dtype), eta, dt, _cast(self.dt * self.mu, dtype))

    def _init(self, shape: Any, dtype: Any) -> Any:
        return HeavyBallState(0, np.zeros(shape, dtype))

    def _apply(self, theta: Any, grad: Any, state: Any, eta: Any, scratch: Any) -> Any:
        c = self._consts(theta.dtype)
        v = state.v
        eta = c.eta if c.eta is not None else _cast(eta, theta.dtype)
        np.multiply(v, c.mu, out=v)  # v ← μv − ηg
        np.subtract(v, np.multiply(grad, eta, out=scratch[0]), out=v)
        if c.dt is None:  # θ ← θ + Δt·v
            np.add(theta, v, out=theta)
        else:
            np.add(theta, np.multiply(v, c.dt, out=scratch[0]), out=theta)
        return HeavyBallState(state.step + 1, v)


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class HeavyBall(_PhysicalForm):
    r"""Polyak's heavy ball in physical (velocity) form: semi-implicit Euler on the ODE.

    .. math::

        v_{k+1} = μ v_k - η ∇f(θ_k), \qquad θ_{k+1} = θ_k + Δt\, v_{k+1}, \qquad v_0 = 0,

    the step of ``m·θ'' + c·θ' + ∇f(θ) = 0`` with ``μ = 1 − cΔt/m`` and ``η = Δt/m``
    (docs/glossary.md: "the Δt subtlety"). It is PyTorch's SGD with ``lr = η·Δt`` and
    ``momentum = μ``: the buffer is ``b = −v/η`` (tested to ``rtol=1e-13`` over 500 steps).
    With a schedule ``eta = k -> η_k`` the rate enters the velocity (Sutskever et al. 2013's
    convention, the "textbook" variant), unlike torch's ``lr``, which multiplies the buffer
    afterwards: the two differ once the rate changes.

    Parameters
    ----------
    eta : float, array or callable
        ``η >= 0``: the gradient coefficient of the velocity update; a schedule
        ``k -> eta_k`` is read at each step.
    mu : float or array
        ``μ``: any finite real (``|μ| < 1`` for a damped ball; ``μ < 0`` is the over-large
        ``cΔt/m > 1`` of a coarse discretisation, kept so that its instability can be shown).
    dt : float or array
        ``Δt > 0``, the step that multiplies the velocity in the position update.

    Examples
    --------
    >>> import numpy as np, heavyball as hb
    >>> opt = hb.HeavyBall(eta=0.1, mu=0.9, dt=0.5)
    >>> theta = np.array([1.0]); state = opt.init(theta)
    >>> theta, state = opt.step(theta, theta, state)     # f = ½θ²: v = −0.1, θ = 1 − 0.05
    >>> theta, state.v
    (array([0.95]), array([-0.1]))

    References
    ----------
    B. T. Polyak (1964); the lecture's "momentum as friction" slides.
    """


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class NesterovLookahead(_PhysicalForm):
    r"""Nesterov's method in the lecture's look-ahead form (Sutskever et al. 2013).

    .. math::

        y_k = θ_k + Δt\,μ\,v_k,\qquad v_{k+1} = μ v_k - η ∇f(y_k),\qquad
        θ_{k+1} = θ_k + Δt\, v_{k+1},\qquad v_0 = 0.

    ``grad_point(theta, state)`` returns ``y_k``: feed ``step`` the gradient there.

    **Change of variables to torch.** ``SGD(lr=η·Δt, momentum=μ, nesterov=True)`` runs on
    the look-ahead points: its parameters are ``p_k = y_k = θ_k + Δt·μ·v_k`` and its buffer is
    ``b_k = −v_k/η``. Indeed ``y_{k+1} = y_k + Δt[(1+μ)v_{k+1} − μv_k]
    = y_k + Δt(μ v_{k+1} − η g_k) = y_k − ηΔt (g_k + μ b_{k+1})`` with
    ``b_{k+1} = μ b_k + g_k``, ``g_k = ∇f(y_k)`` — torch's Nesterov update; ``v_0 = 0`` gives
    ``p_0 = θ_0`` and torch's first buffer ``b_1 = g_0``. Conversely ``θ_k = p_k + lr·μ·b_k``.

    Parameters
    ----------
    eta, mu, dt
        As in :class:`HeavyBall` (``eta`` may be a schedule).

    Examples
    --------
    >>> import numpy as np, heavyball as hb
    >>> opt = hb.NesterovLookahead(eta=0.1, mu=0.9)
    >>> theta = np.array([1.0]); state = opt.init(theta)
    >>> for _ in range(2):
    ...     y = opt.grad_point(theta, state)
    ...     theta, state = opt.step(theta, y, state)   # f = ½θ²: ∇f(y) = y
    >>> np.round(theta, 6)
    array([0.729])

    References
    ----------
    Y. Nesterov (1983); Sutskever, Martens, Dahl & Hinton (2013).
    """

    def grad_point(self, theta: np.ndarray, state: OptimizerState) -> np.ndarray:
        """The look-ahead point ``y = θ + (Δt·μ)·v`` (``Δt·μ`` formed in float64, then cast)."""
        theta = np.asarray(theta)
        dt_mu = self._consts(theta.dtype).dt_mu
        return theta + dt_mu * np.asarray(state.v)  # type: ignore[union-attr]
