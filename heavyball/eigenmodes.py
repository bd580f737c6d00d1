r"""The eigenmodes of a linear method on a quadratic valley, and their closed form.

On ``f(θ) = ½θᵀAθ − bᵀθ`` with ``A = V diag(h) Vᵀ``, every method of the recurrence table
(:mod:`heavyball.recurrences`: SGD with every flag, ``HeavyBall``, ``NesterovLookahead``) moves each
mode ``z = Vᵀθ`` by its own scalar recurrence: the first step ``z_1 = f₁z_0 + e₁``, then
``z_{k+1} = a z_k + m z_{k−1} + e``. :class:`Modes` holds the rotation and those coefficients per
configuration; :func:`lucas` and :func:`closed_form_iterate` jump any number of steps by the
Lucas sequence of ``[[a, m], [1, 0]]``. The stepping engine (:mod:`heavyball.fastpath`) steps the
same coefficients.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import recurrences
from ._validation import as_int, check_theta
from .problems import Quadratic

__all__ = [
    "Modes",
    "closed_form_iterate",
    "closed_form_modes",
    "columns",
    "companion_radius",
    "last_iterates",
    "lucas",
    "lucas_state",
    "recurrence_on",
]

#: bytes of one ``(d, B_block)`` array of the closed form's blocks (the result does not depend on it)
_BLOCK_BYTES = 256 * 1024


def recurrence_on(method: Any, problem: Any) -> recurrences.Recurrence | None:
    """The per-mode recurrence of ``method`` on ``problem``, or ``None`` when the eigenbasis
    engine does not apply (not a Quadratic, not linear, a schedule, a per-coordinate value)."""
    if not isinstance(problem, Quadratic):
        return None
    try:
        return recurrences.recurrence_of(method, dim=problem.dim)
    except ValueError:
        return None


class Modes:
    """The eigen-decomposition of the problem and the method's per-mode coefficients.

    Coefficients are computed per block of configurations on demand (float64), so that the
    memory of a run stays a small multiple of its state.
    """

    def __init__(self, rec: recurrences.Recurrence, q: Quadratic, theta_shape: Any) -> None:
        d = q.dim
        rows = {"lr": rec.lr, "momentum": rec.momentum, "first_lr": rec.first_lr, "shift": rec.shift}
        batch = np.broadcast_shapes(tuple(theta_shape[:-1]), *(np.shape(a) for a in rows.values()))
        self.batch_shape = batch
        self.n = int(np.prod(batch, dtype=np.int64))
        self.d = d
        self.family = rec.family
        h, V = q.eigenvalues, q.eigenvectors
        self.V = None if np.array_equal(V, np.eye(d)) else V
        self.h = np.asarray(h, dtype=np.float64)
        self.bt = self.rotate(q.b)
        self.has_b = bool(np.any(self.bt != 0.0))
        self.sign = rec.sign
        # per-configuration rows, flattened: scalars stay 0-d (cheap broadcasting)
        self._rows = {
            name: np.asarray(arr, dtype=np.float64) if np.ndim(arr) == 0 else np.broadcast_to(arr, batch).reshape(-1)
            for name, arr in rows.items()
        }
        self.per_config = any(x.ndim for x in self._rows.values())
        self._cache = None

    def coefficients(self, sl: slice | np.ndarray | None = None) -> Any:
        """``(f1, e1, a, m, e)`` as float64 arrays broadcasting against ``(d, B_block)``
        (``e``, ``e1`` are ``None`` when ``b = 0``)."""
        if not self.per_config:
            if self._cache is None:
                self._cache = self._coefficients(slice(None))
            return self._cache
        return self._coefficients(sl)

    def _coefficients(self, sl: Any) -> Any:
        """The table's coefficients (:mod:`heavyball.recurrences`) on the modes: the effective
        curvature ``ĥ = sign·h + λ`` and linear term ``ĉ = sign·(Vᵀb)``, then
        ``a, m = three_term(family, γĥ, μ)``, ``f₁ = 1 − γ₁ĥ``, ``e = γĉ``, ``e₁ = γ₁ĉ``."""

        def row(x: Any) -> Any:
            return x[sl][None, :] if x.ndim else x

        gamma, mu, first, lam = (row(self._rows[k]) for k in ("lr", "momentum", "first_lr", "shift"))
        hh = self.sign * self.h[:, None] + lam  # effective curvature (maximize flips, weight decay shifts)
        cc = self.sign * self.bt[:, None] if self.has_b else None
        a, m = recurrences.three_term(self.family, gamma * hh, mu)
        f1 = recurrences.first_step(first, hh)
        e1 = None if cc is None else first * cc
        e = None if cc is None else gamma * cc
        out = [np.asarray(x, dtype=np.float64) if x is not None else None for x in (f1, e1, a, m, e)]
        return tuple(x if x is None or x.ndim == 2 else np.reshape(x, (1, 1)) for x in out)

    # -- rotations ----------------------------------------------------------------------
    def to_modes(self, theta: Any, dtype: Any) -> Any:
        """``z = Vᵀθ`` as a C-contiguous ``(d, B)`` array (one row per mode)."""
        theta = np.asarray(theta)
        if theta.shape != (self.n, self.d):
            theta = np.broadcast_to(theta, self.batch_shape + (self.d,)).reshape(-1, self.d)
        z = theta.T if self.V is None else self.V.T @ theta.T.astype(np.float64, copy=False)
        # always a copy: the engine updates z in place, and for one configuration theta.T is
        # itself contiguous (ascontiguousarray would alias the caller's theta0)
        return np.array(z, dtype=dtype, order="C")

    def rotate(self, x: Any) -> np.ndarray:
        """``Vᵀx`` in float64, C-contiguous, for ``x`` shaped ``(d,)`` or ``(d, n)`` (a vector
        or columns of the parameter space in the eigenbasis)."""
        x = np.asarray(x, dtype=np.float64)
        return np.ascontiguousarray(x if self.V is None else self.V.T @ x)

    def from_modes(self, z: Any) -> Any:
        """``θ = Vz`` for modes ``z`` shaped ``(d, B)``; returns ``(B, d)`` (a transposed view)."""
        return z.T if self.V is None else np.matmul(self.V, z).T  # V·z: one fast gemm


# ---------------------------------------------------------------------------------------
# the Lucas-sequence closed form
# ---------------------------------------------------------------------------------------
def companion_radius(a: Any, m: Any) -> Any:
    """The spectral radius ``ρ`` of ``[[a, m], [1, 0]]`` (the roots of ``λ² − aλ − m``),
    elementwise in float64: ``(|a| + √(a² + 4m))/2`` for real roots, ``√(−m)`` for complex ones."""
    a = np.asarray(a, np.float64)
    m = np.asarray(m, np.float64)
    disc = a * a + 4.0 * m
    return np.where(disc >= 0.0, 0.5 * (np.abs(a) + np.sqrt(np.maximum(disc, 0.0))), np.sqrt(np.maximum(-m, 0.0)))


def lucas(a: Any, m: Any, e: Any, n: int, compiled: bool = False) -> Any:
    """``(U_{n+1}, m·U_n, G_n)`` for the recurrence ``x_{j+1} = a x_j + m x_{j−1} + e``.

    ``U`` is the Lucas sequence ``U_0 = 0, U_1 = 1, U_{j+1} = aU_j + mU_{j−1}`` (so that
    ``[[a, m], [1, 0]]ⁿ = [[U_{n+1}, mU_n], [U_n, mU_{n−1}]]``) and ``G_n = Σ_{l=1}^{n} U_l``
    (``None`` when ``e`` is None). Then ``x_n = U_{n+1}x_0 + mU_n x_{−1} + e·G_n``.
    Left-to-right binary fast doubling on the pair ``(U_j, U_{j+1})``:

    ``U_{2j} = U_j(2U_{j+1} − aU_j)``, ``U_{2j+1} = U_{j+1}² + mU_j²``,
    ``G_{2j} = G_j(1 + U_{j+1}) + mU_j(G_j − U_j)``; a set bit then steps ``j → j+1``.
    All float64 polynomial arithmetic (no roots, no division): stable at repeated roots.
    """
    shape = np.broadcast_shapes(np.shape(a), np.shape(m))
    a = np.broadcast_to(a, shape)
    m = np.broadcast_to(m, shape)
    if n == 0:
        return np.ones(shape), np.zeros(shape), (np.zeros(shape) if e is not None else None)
    u_n, u_next, g_n = lucas_state(a, m, e, n, compiled)
    return u_next, u_n * m, g_n


def lucas_state(a: Any, m: Any, e: Any, n: int, compiled: bool = False) -> Any:
    """``(U_n, U_{n+1}, G_n)`` of :func:`lucas` (``G_n`` ``None`` when ``e`` is None), by its
    fast doubling; ``n >= 0``; ``compiled``: by the compiled kernel (the same operations, the
    same bits). With them, the closed form gives two consecutive iterates:
    ``x_n = U_{n+1}x_0 + mU_n x_{−1} + eG_n`` and
    ``x_{n−1} = U_n x_0 + (U_{n+1} − aU_n) x_{−1} + e(G_n − U_n)`` (as ``mU_{n−1} = U_{n+1} − aU_n``)."""
    shape = np.broadcast_shapes(np.shape(a), np.shape(m))
    a = np.broadcast_to(a, shape)
    m = np.broadcast_to(m, shape)
    if n == 0:
        return np.zeros(shape), np.ones(shape), (np.zeros(shape) if e is not None else None)
    if compiled:  # heavyball.compiled.linear.lucas: the loop below, elementwise
        from .compiled import linear

        flat = [np.ascontiguousarray(x, dtype=np.float64).reshape(-1) for x in (a, m)]
        out = [np.empty(flat[0].size) for _ in range(3)]
        linear.lucas(flat[0], flat[1], e is not None, n, *out)
        u_next, u_n, g_n = (x.reshape(shape) for x in out)
        return u_n, u_next, (g_n if e is not None else None)
    u1 = np.ones(shape)  # U_j (j = 1)
    u2 = np.array(a, dtype=np.float64, copy=True)  # U_{j+1}
    g = np.ones(shape) if e is not None else None  # G_j
    t1 = np.empty(shape)
    t2 = np.empty(shape)
    for bit in bin(n)[3:]:
        if g is not None:  # G_{2j} from the old U_j, U_{j+1}
            np.subtract(g, u1, out=t1)
            t1 *= u1
            t1 *= m
            np.add(u2, 1.0, out=t2)
            g *= t2
            g += t1
        np.multiply(a, u1, out=t1)
        np.add(u2, u2, out=t2)
        t2 -= t1  # 2U_{j+1} − aU_j
        np.multiply(u1, u1, out=t1)
        t1 *= m  # mU_j²
        u1 *= t2  # U_{2j}
        u2 *= u2
        u2 += t1  # U_{2j+1}
        if bit == "1":  # j -> j+1: U_{j+2} = aU_{j+1} + mU_j, G_{j+1} = G_j + U_{j+1}
            if g is not None:
                g += u2
            np.multiply(m, u1, out=t1)
            np.multiply(a, u2, out=t2)
            t2 += t1
            u1, u2, t2 = u2, t2, u1
    return u1, u2, g


def closed_form_modes(modes: Modes, z0: Any, k: int, sl: Any = slice(None), compiled: bool = False) -> Any:
    """The modes after ``k`` steps from ``z0`` (float64, shape ``(d, B_block)``); ``compiled``:
    the Lucas sequence by the compiled kernel (the same bits)."""
    f1, e1, a, m, e = modes.coefficients(sl)
    z0 = np.asarray(z0, dtype=np.float64)
    if k == 0:
        return z0.copy()
    z1 = f1 * z0
    if e1 is not None:
        z1 += e1
    if k == 1:
        return z1
    p, q, g = lucas(a, m, e, k - 1, compiled)
    out = p * z1
    out += q * z0
    if e is not None:
        out += e * g
    return out


def last_iterates(coef64: Any, z1: Any, z0: Any, steps: int, n: int, compiled: bool = False) -> np.ndarray:
    """The modes at steps ``K − n + 1 … K`` (``K = steps``) from ``z_1`` and ``z_0`` (float64
    ``(d, w)``), shaped ``(n, d, w)``, NaN before step 0: the closed form gives the first
    two (one Lucas evaluation, :func:`lucas_state`), then the three-term
    recurrence the rest (``coef64``: the block's ``(f₁, e₁, a, m, e)``; ``f₁``, ``e₁`` unused;
    ``compiled``: the Lucas sequence by the compiled kernel, the same bits)."""
    _f1, _e1, a, m, e = coef64
    out = np.empty((n,) + np.shape(z0))
    first = steps - n + 1
    with np.errstate(all="ignore"):
        if first >= 1:  # z_first and z_{first−1} from U_n, U_{n+1}, G_n with n = first − 1
            u_n, u_next, g_n = lucas_state(a, m, e, first - 1, compiled)
            np.multiply(u_next, z1, out=out[0])
            out[0] += (m * u_n) * z0
            prev = u_n * z1
            u_next -= a * u_n  # m·U_{n−1}
            prev += u_next * z0
            if e is not None:
                out[0] += e * g_n
                g_n -= u_n
                prev += e * g_n
            j0 = 1
        else:
            out[:-first] = np.nan
            out[-first] = z0
            out[1 - first] = z1
            prev, j0 = z0, 2 - first
        tmp = np.empty_like(out[0])
        for j in range(j0, n):  # z_{k+1} = a·z_k + m·z_{k−1} + e  (k >= 1)
            np.multiply(a, out[j - 1], out=out[j])
            np.multiply(m, out[j - 2] if j >= 2 else prev, out=tmp)
            out[j] += tmp
            if e is not None:
                out[j] += e
    return out


def columns(c: Any, idx: Any) -> Any:
    """The columns ``idx`` of a ``(d, w)`` array, C-contiguous (``c[:, idx]`` is not, and numpy
    runs several times slower on it); a column shared by all (``(d, 1)``) and ``None`` pass."""
    return None if c is None else (c if c.shape[1] == 1 else np.take(c, idx, axis=-1))


def closed_form_iterate(method: Any, q: Any, theta0: Any, k: Any) -> Any:
    r"""The iterate after ``k`` steps of a linear method on a quadratic, without stepping.

    In the eigenbasis every mode follows ``z_{j+1} = a z_j + m z_{j−1} + e`` after the first
    step ``z_1 = f₁z_0 + e₁`` (coefficients from :class:`Modes`). With the Lucas
    sequence ``U_0 = 0, U_1 = 1, U_{j+1} = aU_j + mU_{j−1}``,

    .. math::

        z_k = U_{k}\,z_1 + m\,U_{k-1}\,z_0 + e\sum_{l=1}^{k-1} U_l ,

    i.e. the first row of the ``(k−1)``-th power of ``[[a, m], [1, 0]]``, computed by
    Lucas-style fast doubling in ``O(log k)`` vectorised steps over (configurations × modes):
    polynomial arithmetic in float64, with no characteristic roots, hence stable at and near
    repeated roots (Polyak's optimal tuning). float32 input is computed in float64 and
    returned as float32. No divergence check: a diverging configuration returns its (huge,
    possibly infinite) exact iterate; :func:`heavyball.iterate` reports divergence.

    Parameters
    ----------
    method : SGD, HeavyBall or NesterovLookahead
        With constant (non-callable) hyperparameters; arrays broadcast over ``theta0``'s
        leading batch axes.
    q : Quadratic
    theta0 : array_like, shape (..., d)
    k : int, >= 0

    Returns
    -------
    ndarray, shape (*batch, d)
        ``θ_k``, agreeing with stepping to about ``1e-10`` relative.

    Examples
    --------
    >>> import numpy as np, heavyball as hb
    >>> q = hb.Quadratic.valley(kappa=10)
    >>> th = hb.closed_form_iterate(hb.SGD(lr=0.5, momentum=0.5), q, [1.0, 1.0], 200)
    >>> bool(np.all(np.abs(th) < 1e-8))
    True

    References
    ----------
    Polyak (1964); Goh (2017), "Why Momentum Really Works", Distill.
    """
    if not isinstance(q, Quadratic):
        raise TypeError(f"`q` must be a Quadratic, got {type(q).__name__}")
    rec = recurrence_on(method, q)
    if rec is None:
        raise TypeError(
            f"`method` must be SGD, HeavyBall or NesterovLookahead with constant hyperparameters "
            f"(one value per configuration), got {method!r}"
        )
    theta0 = check_theta("theta0", theta0, q.dim, finite=True)
    k = as_int("k", k, minimum=0)
    modes = Modes(rec, q, theta0.shape)
    dtype = theta0.dtype
    if k == 0:  # θ₀ itself, not rotated into the eigenbasis and back (an ulp off)
        return np.array(np.broadcast_to(theta0, modes.batch_shape + (modes.d,)), dtype=dtype)
    z0 = modes.to_modes(theta0, np.float64)
    out = np.empty_like(z0)
    width = max(1, _BLOCK_BYTES // (8 * modes.d))
    with np.errstate(all="ignore"):
        for b0 in range(0, modes.n, width):
            sl = slice(b0, min(modes.n, b0 + width))
            out[:, sl] = closed_form_modes(modes, z0[:, sl], k, sl)
        theta = modes.from_modes(out)
    return np.ascontiguousarray(theta, dtype=dtype).reshape(modes.batch_shape + (modes.d,))
