r"""Compiled kernels of the noisy Monte Carlo engine (:mod:`heavyball.monte_carlo`).

One kernel call steps a chunk of samples through a block of steps whose standard normal
variates numpy has already drawn (so the noise is the numpy engine's, byte for byte). For each
row, kept in registers for the whole block, each step forms the gradient of the quadratic
``θA − b`` (``Quadratic.grad``'s products and sums in its order), adds the noise ``σz`` (or the
already correlated ``zLᵀ``) cast to the run's dtype, and applies the optimiser's update with
torch's operations in torch's order:

* :class:`~heavyball.optimizers.SGD`: ``g ← λθ ± g`` (weight decay, maximize),
  ``b ← μb + (1 − τ)g`` (``b ← g`` at the first step), ``d = g + μb`` (Nesterov) or ``b``,
  ``θ ← θ + (−γ)d``;
* :class:`~heavyball.optimizers.HeavyBall` and :class:`~heavyball.optimizers.NesterovLookahead`:
  the gradient at ``θ`` or at ``y = θ + (Δtμ)v``, ``v ← μv − ηg``, ``θ ← θ + Δt·v``.

Strict IEEE arithmetic (no fused multiply-add, no reassociation), so the iterates are bitwise
those of the numpy engine, which are the general loop's. A kernel also writes the iterates of
the run's last steps (the tail that classifies the final status) and reports whether every
``|θ|`` stayed below the run's cheap divergence bound; if not, the caller hands the run to the
general loop.

Covered: scalar hyperparameters without schedules (:func:`plan` returns ``None`` otherwise,
and the numpy engine runs).
"""

from __future__ import annotations

import dataclasses
import threading
from typing import Any

import numpy as np

from .._adamkernel import is_nonzero
from ..optimizers import SGD, NesterovLookahead, _PhysicalForm
from . import jit

__all__ = ["Plan", "plan"]


def _make_sgd(D: int, scale: bool, has_wd: bool, maximize: bool, has_buf: bool, has_alpha: bool,
              nesterov: bool) -> Any:  # fmt: skip
    """The SGD kernel for dimension ``D`` and these flags, compile-time constants (the loops over
    coordinates unroll; the branches of the other flags are gone)."""

    @jit()
    def sgd(theta, buf, xi, sigma, A, b, c, k0, tail, tail_first, limit):  # type: ignore[no-untyped-def]  # pragma: no cover
        n = theta.shape[0]
        wd, mom, alpha, neg_lr = c[0], c[1], c[2], c[3]
        y = np.empty(D, theta.dtype)
        x1 = np.empty(1, theta.dtype)
        ok = True
        for s in range(xi.shape[0]):
            k = k0 + s  # steps taken before this one
            for i in range(n):  # independent rows: their updates overlap in the pipeline
                for j in range(D):  # the old iterate: every coordinate's gradient reads it
                    y[j] = theta[i, j]
                for j in range(D):
                    acc = y[0] * A[0, j]  # (yA − b) + cast(σz): Quadratic.grad's order, then the noise
                    for m in range(1, D):
                        acc = acc + y[m] * A[m, j]
                    acc = acc - b[j]
                    x1[0] = xi[s, i, j] * sigma if scale else xi[s, i, j]  # cast: the general loop's astype
                    gj = acc + x1[0]
                    if has_wd:  # grad.add(param, alpha=weight_decay); maximize: λθ − grad
                        t = y[j] * wd
                        gj = t - gj if maximize else t + gj
                    elif maximize:
                        gj = -gj
                    if has_buf:
                        if k == 0:  # buf = grad.clone()
                            u = gj
                        else:  # buf.mul_(momentum).add_(grad, alpha=1 - dampening)
                            u = buf[i, j] * mom
                            u = u + gj * alpha if has_alpha else u + gj
                        buf[i, j] = u
                        dd = u * mom + gj if nesterov else u
                    else:
                        dd = gj
                    t = y[j] + dd * neg_lr  # param.add_(d, alpha=-lr)
                    theta[i, j] = t
                    if not abs(t) <= limit:
                        ok = False
                if k + 1 >= tail_first:
                    for j in range(D):
                        tail[k + 1 - tail_first, i, j] = theta[i, j]
        return ok

    return sgd


# physical() repeats sgd()'s scratch arrays, gradient loop and tail record: each kernel is one
# closure compiled for its own flags, its hot loop kept as written (a shared jitted helper would
# need its speed and its bitwise equality with the numpy engine measured again)
def _make_physical(D: int, scale: bool, lookahead: bool, has_dt: bool) -> Any:
    """The HeavyBall / NesterovLookahead kernel for dimension ``D`` and these flags."""

    @jit()
    def physical(theta, v, xi, sigma, A, b, c, k0, tail, tail_first, limit):  # type: ignore[no-untyped-def]  # pragma: no cover
        n = theta.shape[0]
        mu, eta, dt, dt_mu = c[0], c[1], c[2], c[3]
        y = np.empty(D, theta.dtype)
        x1 = np.empty(1, theta.dtype)
        ok = True
        for s in range(xi.shape[0]):
            k = k0 + s
            for i in range(n):
                for j in range(D):  # the gradient point: θ, or the look-ahead θ + (Δtμ)v
                    y[j] = theta[i, j] + dt_mu * v[i, j] if lookahead else theta[i, j]
                for j in range(D):
                    acc = y[0] * A[0, j]
                    for m in range(1, D):
                        acc = acc + y[m] * A[m, j]
                    acc = acc - b[j]
                    x1[0] = xi[s, i, j] * sigma if scale else xi[s, i, j]
                    gj = acc + x1[0]
                    u = v[i, j] * mu  # v ← μv − ηg
                    u = u - gj * eta
                    v[i, j] = u
                    t = theta[i, j] + u * dt if has_dt else theta[i, j] + u  # θ ← θ + Δt·v
                    theta[i, j] = t
                    if not abs(t) <= limit:
                        ok = False
                if k + 1 >= tail_first:
                    for j in range(D):
                        tail[k + 1 - tail_first, i, j] = theta[i, j]
        return ok

    return physical


_KERNELS: dict[tuple, Any] = {}
_LOCK = threading.Lock()


def _kernel(make: Any, *flags: Any) -> Any:
    """``make(*flags)``, made once per process (and compiled once per machine: numba's cache
    tells closures apart by the values they close over)."""
    key = (make, *flags)
    with _LOCK:
        if key not in _KERNELS:
            _KERNELS[key] = make(*flags)
        return _KERNELS[key]


@dataclasses.dataclass(frozen=True)
class Plan:
    """A compiled kernel and the optimiser's constants in the run's dtype."""

    kernel: Any
    consts: np.ndarray

    def step(self, theta: np.ndarray, buf: np.ndarray, xi: np.ndarray, sigma: float, A: np.ndarray,
             b: np.ndarray, k0: int, tail: np.ndarray, tail_first: int, limit: float) -> bool:  # fmt: skip
        """Step the rows of ``theta`` ``(n, d)`` (and the buffer or velocity ``buf``) in place
        through ``len(xi)`` steps, the first after ``k0`` steps; ``xi`` ``(steps, n, d)`` float64
        are the variates (multiplied by ``sigma`` if the plan scales them). Writes
        ``tail[k − tail_first]`` for the steps ``k >= tail_first``. Returns whether every ``|θ|``
        stayed ``<= limit``."""
        return bool(self.kernel(theta, buf, xi, sigma, A, b, self.consts, k0, tail, tail_first, limit))


def _scalar(method: Any) -> bool:
    """Whether every hyperparameter is a scalar (no array, no schedule)."""
    for f in dataclasses.fields(method):
        v = getattr(method, f.name)
        values = v if isinstance(v, tuple) else (v,)
        if any(isinstance(x, np.ndarray) or callable(x) for x in values):
            return False
    return True


def plan(method: Any, dtype: Any, d: int, scale: bool) -> Plan | None:
    """The kernel for ``method`` in ``dtype`` and dimension ``d`` (``scale``: the variates are
    multiplied by ``σ``, isotropic noise; else they are the correlated noise already), or
    ``None`` when no kernel covers it (array hyperparameters, a schedule, or an optimiser other
    than SGD, HeavyBall and NesterovLookahead)."""
    dtype = np.dtype(dtype)
    if not _scalar(method):
        return None
    if isinstance(method, SGD):
        c = method._consts(dtype)
        consts = np.array([c.weight_decay, c.momentum, 0.0 if c.alpha is None else c.alpha, c.neg_lr], dtype)
        flags = (is_nonzero(method.weight_decay), bool(method.maximize), is_nonzero(method.momentum),
                 c.alpha is not None, bool(method.nesterov))  # fmt: skip
        return Plan(_kernel(_make_sgd, d, bool(scale), *flags), consts)
    if isinstance(method, _PhysicalForm):
        h = method._consts(dtype)
        consts = np.array([h.mu, h.eta, 1.0 if h.dt is None else h.dt, h.dt_mu], dtype)
        form = (isinstance(method, NesterovLookahead), h.dt is not None)
        return Plan(_kernel(_make_physical, d, bool(scale), *form), consts)
    return None
