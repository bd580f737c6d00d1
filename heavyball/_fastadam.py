r"""The fast path for Adam and AdamW on a quadratic (used by :mod:`heavyball.fastpath`).

Adam is not linear, so there is no eigenbasis: the kernel runs torch's update in the original
coordinates, exactly as :meth:`heavyball.optimizers.Adam._apply` does, but organised for speed:

* **layout** ``(d, block)``: one row per coordinate, so each elementwise operation of the
  update is *one* ufunc call on the whole block (``out=``, in place, no temporaries);
* **temporal blocking**: a cache-sized block of configurations goes through all the steps
  before the next block (the block's ``θ, m, v`` and three scratch arrays stay in L2);
* the **gradient** ``Aθ − b`` is ``d`` multiply-adds per block, exactly as
  ``problems._rowwise_matvec`` evaluates it for ``d ≤ SMALL_DIM``;
* the per-step scalars (bias corrections, step size) are computed once per step for all
  blocks, with the very expressions of ``Adam._apply`` (``1 − β₁ᵗ`` by ``np.power``, …).

Every configuration therefore sees the same IEEE operations in the same order as in the
general path, and the iterates, losses and distances are **bitwise identical** to those of
``iterate``'s general loop (supported: ``d ≤ SMALL_DIM``, where the general path's gradient
is elementwise too; every flag — ``amsgrad``, ``maximize``, coupled and decoupled weight
decay, torch's two ``lerp`` branches — and array hyperparameters, constant ``lr`` only).

Divergence is reported exactly as by the general path. Every ``CHUNK`` steps a certificate
bounds each configuration's ``‖θ‖`` over the next ``CHUNK`` steps; the bound uses that Adam's
step is bounded independently of the gradient (Cauchy–Schwarz on the two moving averages,
with zero initial moments):

.. math::

    \frac{|m_t|}{\sqrt{v_t}} \le \frac{1-β_1}{\sqrt{1-β_2}}
        \Big(\sum_{j<t} (β_1^2/β_2)^j\Big)^{1/2},\qquad
    |Δθ_t| \le \frac{γ\sqrt{1-β_2^t}}{1-β_1^t}\,\frac{|m_t|}{\sqrt{\hat v_t}}

(``\hat v ≥ v`` with amsgrad; AdamW's decay multiplies ``|θ|`` by ``|1 − γλ|`` per step). A
block that the certificate cannot clear is checked after every step with the general path's
rule, so the first step at which ``‖θ_k‖₂`` passes the bound (or is not finite) is found
exactly; a configuration keeps being stepped after it diverged (its records are NaN).

With ``engine="compiled"`` each block runs the numba twin of this kernel
(``heavyball/compiled/adam.py``): the same operations in the same order, fused per
configuration, bitwise equal; the thread pool is the same (the kernel releases the GIL).

References: PyTorch 2.13 ``torch.optim.Adam``/``AdamW``; Kingma & Ba (2015); Reddi, Kale &
Kumar (2018); Loshchilov & Hutter (2019).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from ._adamkernel import adam_constants, adam_scalars, adam_update, decay_factor, is_nonzero
from ._batch import restrict_batch
from ._run import row_norm_sq
from .cycles import TAIL
from .optimizers import Adam, AdamW
from .problems import SMALL_DIM, Quadratic, small_matvec

__all__ = ["run_spec", "supports"]

#: steps between divergence certificates
CHUNK = 64
#: bytes of one ``(d, block)`` array (seven arrays per block; 256 KiB was fastest here, measured)
BLOCK_BYTES = 256 * 1024


def supports(method: Any, problem: Any) -> bool:
    """``Adam``/``AdamW`` with a constant ``lr`` on a :class:`Quadratic` of dimension
    ``≤ SMALL_DIM`` (whose ``grad``/``value`` are not overridden)."""
    return (
        isinstance(method, Adam)
        and not callable(method.lr)
        and isinstance(problem, Quadratic)
        and type(problem).grad is Quadratic.grad
        and type(problem).value is Quadratic.value
        and problem.dim <= SMALL_DIM
    )


def _transposed(method: Adam, batch: tuple) -> Adam:
    """``method`` with its array hyperparameters as ``(last, B)`` rows (the kernel's layout)."""
    flat: Any = restrict_batch(method, batch)  # arrays as (B, last)

    def t(v: Any) -> Any:
        return np.ascontiguousarray(v.T) if isinstance(v, np.ndarray) else v

    return dataclasses.replace(
        flat, lr=t(flat.lr), betas=tuple(t(b) for b in flat.betas), eps=t(flat.eps),
        weight_decay=t(flat.weight_decay),
    )  # fmt: skip


def _cols(x: Any, sl: Any) -> Any:
    return x[:, sl] if isinstance(x, np.ndarray) and x.ndim == 2 else x


def _step_factor(beta1: Any, beta2: Any, t: Any) -> Any:
    """``√(1−β₂ᵗ)/(1−β₁ᵗ) · (1−β₁)/√(1−β₂) · (Σ_{j<t} (β₁²/β₂)^j)^{1/2}`` (float64, ``inf`` when
    ``β₂ = 0``): ``|Δθ_t| ≤ γ·factor`` per coordinate (see the module notes)."""
    with np.errstate(all="ignore"):
        beta1 = np.asarray(beta1, np.float64)
        beta2 = np.asarray(beta2, np.float64)
        r = beta1 * beta1 / beta2
        geo = np.where(np.abs(r - 1.0) < 1e-12, t, (1.0 - r**t) / (1.0 - r))
        f = np.sqrt(1.0 - beta2**t) / (1.0 - beta1**t) * (1.0 - beta1) / np.sqrt(1.0 - beta2) * np.sqrt(geo)
        return np.where(beta2 > 0.0, f, np.inf)


class _Kernel:
    """Constants of one run shared by all blocks (and threads)."""

    def __init__(self, spec: Any) -> None:
        q, dtype, d = spec.problem, spec.dtype, spec.dim
        self.spec, self.dtype, self.d, self.steps = spec, dtype, d, spec.steps
        self.method = mt = _transposed(spec.method, tuple(spec.batch))
        self.c = adam_constants(mt.betas, mt.eps, mt.weight_decay, dtype)
        A, b = q.coefficients(dtype)
        self.A_rows = [np.ascontiguousarray(A[j][:, None]) for j in range(d)]  # A[j] as a column
        self.b_col = np.ascontiguousarray(b[:, None]) if np.any(b != 0) else None  # x − 0 == x
        self.lr = mt.lr
        self.wd_on = is_nonzero(mt.weight_decay)
        self.decoupled = isinstance(mt, AdamW)
        self.maximize = mt.maximize
        self.amsgrad = mt.amsgrad
        beta1, beta2 = mt.betas
        self.scalar_betas = not (isinstance(beta1, np.ndarray) or isinstance(beta2, np.ndarray))
        self.scalar_lr = not isinstance(mt.lr, np.ndarray)
        steps = self.steps
        # per-step scalars of Adam._apply (the same function; t = step + 1), once for all blocks
        self.scalars = None
        if self.scalar_betas and self.scalar_lr:
            neg, bc2 = adam_scalars(self.c, self.lr, np.arange(1.0, steps + 1.0), dtype)
            self.scalars = list(zip(np.atleast_1d(neg), np.atleast_1d(bc2), strict=True))
        # the certificate: Φ[j] = Σ over chunk j of the step factor (scalar betas), float64
        self.Arow = float(np.max(np.sum(np.abs(np.asarray(q.A, np.float64)), axis=1)))
        self.bmax = float(np.max(np.abs(np.asarray(q.b, np.float64)), initial=0.0))
        self.big = float(np.finfo(dtype).max)
        eps = float(np.finfo(dtype).eps)
        self.slack = 1.05 + 16.0 * steps * eps  # rounding of the moments over the run
        if self.scalar_betas and steps:
            f = _step_factor(beta1, beta2, np.arange(1, steps + 1, dtype=np.float64))
            self.phi = np.add.reduceat(f, np.arange(0, steps, CHUNK))
            self.fmax = float(np.max(f))
        self.sqrt_d = float(np.sqrt(d))


def _block_consts(K: _Kernel, sl: Any) -> Any:
    """Per-block constants: ``(c, lr, wd_factor)`` sliced to the block's columns."""
    c = K.c._replace(**{name: _cols(getattr(K.c, name), sl) for name in K.c._fields})
    lr = _cols(K.lr, sl)
    wdf = None
    if K.wd_on and K.decoupled:
        wdf = decay_factor(lr, _cols(K.method.weight_decay, sl), K.dtype)  # param.mul_(1 - lr*wd)
    return c, lr, wdf


def _colmax(x: Any) -> Any:
    """The largest value per configuration (over the coordinate rows) as float64."""
    arr = np.asarray(x, np.float64)
    return arr if arr.ndim < 2 else np.max(arr, axis=0)


def _certify(
    K: _Kernel, x: Any, chunk: Any, k0: Any, n: Any, lr: Any, wdf: Any, c: Any, bound2: Any, alive: Any, s: Any
) -> Any:
    """True when no alive configuration of the block can pass its bound (or overflow)
    during steps ``k0+1 … k0+n`` (:func:`certified`)."""
    return bool(np.all(certified(K, x, chunk, k0, n, lr, wdf, c, bound2, s) | ~alive))


def certified(K: _Kernel, x: Any, chunk: Any, k0: Any, n: Any, lr: Any, wdf: Any, c: Any, bound2: Any, s: Any) -> Any:
    """Per configuration of the block: True when it cannot pass its bound (or overflow) during
    steps ``k0+1 … k0+n``: ``|θ_i| ≤ grow·(|θ_i,k0| + Σ_t γ·factor_t)`` per coordinate."""
    lr_max = _colmax(lr)  # per configuration (over coordinates)
    if K.scalar_betas:
        U = K.phi[chunk] * lr_max
    else:
        t = np.arange(k0 + 1, k0 + n + 1, dtype=np.float64)[:, None, None]
        f = _step_factor(c.beta1[None], c.beta2[None], t)  # (n, last, w)
        U = np.max(np.sum(f, axis=0), axis=0) * lr_max
    U = U * K.slack
    np.multiply(x, x, out=s)
    n2 = np.sum(s, axis=0, dtype=np.float64)
    with np.errstate(all="ignore"):
        grow = 1.0
        if wdf is not None:  # AdamW: θ ← (1 − γλ)θ first
            grow = np.maximum(_colmax(np.abs(np.asarray(wdf, np.float64))), 1.0) ** n
        theta_max = grow * (np.sqrt(n2) + K.sqrt_d * U) * K.slack
        lam = 0.0
        if K.wd_on and not K.decoupled:  # the gradient includes λθ
            lam = _colmax(c.weight_decay)
        gmax = (K.Arow + lam) * theta_max + K.bmax  # bounds |g|, |m| and sqrt(v)
        beta1_max = _colmax(c.beta1)
        # no overflow: g², and step_size·m with step_size = γ/(1 − β₁ᵗ) ≤ γ/(1 − β₁)
        ok = (theta_max * theta_max <= bound2) & (gmax * gmax <= 0.25 * K.big)
        ok &= gmax * lr_max / (1.0 - beta1_max) <= 0.25 * K.big
    return np.broadcast_to(ok, x.shape[1:])


def _check(x: Any, s: Any, k: Any, bound2: Any, alive: Any, dat: Any) -> Any:
    """The general path's rule after step ``k``: ``~(‖θ‖² ≤ bound²)`` marks a divergence."""
    np.multiply(x, x, out=s)
    n2 = s[0].copy()
    for i in range(1, s.shape[0]):
        n2 += s[i]
    bad = ~(n2 <= bound2) & alive
    if bad.any():
        dat[bad] = k
        alive &= ~bad


def _gradient(K: _Kernel, x: np.ndarray, g: np.ndarray, s: np.ndarray) -> None:
    """``g = Aθ − b`` for the columns ``x`` (``(d, w)``): the one place the kernel evaluates
    the gradient of a step (``problems.small_matvec``, as ``Quadratic.grad`` does it row-wise)."""
    small_matvec(x, K.A_rows, g, s)
    if K.b_col is not None:
        np.subtract(g, K.b_col, out=g)


def _run_block(K: _Kernel, Z: Any, sl: Any, dat: Any, bound2: Any, rec: Any) -> Any:
    d, dtype, steps = K.d, K.dtype, K.steps
    w = sl.stop - sl.start
    x = Z[:, sl]  # updated in place (a view into the (d, B) state)
    m = np.zeros((d, w), dtype)
    v = np.zeros((d, w), dtype)
    vmax = np.zeros((d, w), dtype) if K.amsgrad else None
    g = np.empty((d, w), dtype)
    s0 = np.empty((d, w), dtype)
    s1 = np.empty((d, w), dtype)
    s2 = np.empty((d, w), dtype)
    alive = np.ones(w, dtype=bool)
    c, lr, wdf = _block_consts(K, sl)
    coupled, maximize = K.wd_on and not K.decoupled, K.maximize
    dat_b, bound2_b = dat[sl], bound2[sl]
    rec(x, 0, sl)
    k = 0
    chunk = 0
    while k < steps:
        n = min(CHUNK, steps - k)
        careful = not _certify(K, x, chunk, k, n, lr, wdf, c, bound2_b, alive, s0)
        for _ in range(n):
            t = k + 1
            _gradient(K, x, g, s0)
            if K.scalars is not None:
                neg_ss, bc2s_c = K.scalars[k]
            else:
                neg_ss, bc2s_c = adam_scalars(c, lr, float(t), dtype)
            adam_update(x, g, m, v, vmax, c=c, neg_step_size=neg_ss, bc2_sqrt=bc2s_c, decay=wdf,
                        coupled_decay=coupled, maximize=maximize, scratch=(s0, s1, s2))  # fmt: skip
            k = t
            if careful:
                _check(x, s0, k, bound2_b, alive, dat_b)
            rec(x, k, sl)
        chunk += 1


def run_spec(spec: Any, threads: int) -> Any:
    """The kernel on a validated ``RunSpec``: flat records as ``fastpath._run_spec`` returns them."""
    from concurrent.futures import ThreadPoolExecutor

    dtype, B, d = spec.dtype, spec.size, spec.dim
    K = _Kernel(spec)
    Z = np.array(spec.theta0_flat.T, dtype=dtype, order="C")  # (d, B), a copy
    theta_steps, loss_steps = spec.theta_steps, spec.loss_steps
    theta = np.empty((len(theta_steps), B, d), dtype)
    loss = np.empty((len(loss_steps), B), dtype)
    distance = None if spec.minimizer is None else np.empty((len(loss_steps), B), dtype)
    dat = np.full(B, -1, dtype=np.int64)
    bound2 = spec.bound2
    in_loop_theta = spec.record == "all"
    t_index = {int(k): j for j, k in enumerate(theta_steps)} if in_loop_theta else {}
    l_index = {int(k): j for j, k in enumerate(loss_steps)}
    problem, star = spec.problem, spec.minimizer

    tail = np.full((TAIL, B, d), np.nan, dtype)  # the last iterates, for the cycle test
    tail_first = spec.steps - TAIL + 1

    def rec(x: Any, k: Any, sl: Any) -> Any:
        if k >= tail_first:
            tail[k - tail_first, sl] = x.T
        j = l_index.get(k)
        i = t_index.get(k)
        if j is None and i is None:
            return
        rows = np.ascontiguousarray(x.T)  # (w, d): the general path's row layout
        if i is not None:
            theta[i, sl] = rows
        if j is not None:  # problem.value and the distance exactly as the general path
            loss[j, sl] = problem.value(rows)
            if distance is not None:
                distance[j, sl] = np.sqrt(row_norm_sq(rows - star))

    if spec.engine == "compiled":  # the numba twin of _run_block (heavyball/compiled/adam.py)
        from .compiled import adam as compiled_adam

        theta_slot = np.full(spec.steps + 1, -1, np.int64)
        if in_loop_theta:
            theta_slot[theta_steps] = np.arange(len(theta_steps))
        loss_slot = np.full(spec.steps + 1, -1, np.int64)
        loss_slot[loss_steps] = np.arange(len(loss_steps))
        records = compiled_adam.Records(theta, loss, distance, tail, theta_slot, loss_slot, tail_first)
        P = compiled_adam.Plan(K, records)
        # at least one block per thread (a configuration's result does not depend on its block)
        width = max(1, min(P.block_width, -(-B // max(1, threads))))

        def run_block(sl: Any) -> None:
            compiled_adam.run_block(P, Z, sl, dat, bound2, rec)
    else:
        width = max(1, BLOCK_BYTES // (np.dtype(dtype).itemsize * d))

        def run_block(sl: Any) -> None:
            _run_block(K, Z, sl, dat, bound2, rec)

    blocks = [slice(b0, min(B, b0 + width)) for b0 in range(0, B, width)]

    def work(part: Any) -> Any:
        with np.errstate(all="ignore"):
            for sl in part:
                run_block(sl)

    nthreads = max(1, min(threads, len(blocks)))
    if nthreads <= 1:
        work(blocks)
    else:
        parts = [blocks[len(blocks) * i // nthreads : len(blocks) * (i + 1) // nthreads] for i in range(nthreads)]
        with ThreadPoolExecutor(max_workers=nthreads) as pool:
            list(pool.map(work, parts))
    if not in_loop_theta:
        theta[0] = Z.T
    return theta, loss, distance, dat, tail
