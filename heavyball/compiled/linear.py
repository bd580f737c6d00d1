r"""The compiled stepping kernel of the eigenbasis engine (:mod:`heavyball.fastpath`).

Per mode ``i`` and configuration ``c`` the linear methods run the three-term recurrence

.. math:: z_{k+1} = a\,z_k + m\,z_{k-1} + e \qquad (k \ge 1), \qquad z_1 = f_1 z_0 + e_1,

and :func:`advance` performs exactly the numpy engine's floating-point operations on them, in
its order: a step is ``t = z_k·a; u = z_{k−1}·m; u = u + t; u = u + e`` (``e`` only when the
problem has a linear term), the squared norm of the divergence test and the loss and distance
rows are sums over the modes taken sequentially (``s₀ + s₁ + …``), the test is
``not (‖z‖² <= bound²)`` (so NaN and ∞ fail it), and the loss is ``Σᵢ (½hᵢzᵢ − (Vᵀb)ᵢ)zᵢ``,
or ``f* + Σᵢ ½hᵢ(zᵢ − zᵢ*)²`` with ``‖z − z*‖ = √Σᵢ(zᵢ − zᵢ*)²`` when the minimiser is known.
Compiled without fused multiply-adds or reassociation (``fastmath=False``), every value is
therefore **bitwise** equal to the numpy engine's, in float64 and float32.

Layout and speed: configurations are the innermost, contiguous axis (the loops over them
vectorise); a *group* of configurations (about ``GROUP_ELEMENTS`` mode values) is copied into
small scratch arrays that stay in the L1 cache and is advanced through all its steps before
the next group (temporal blocking). Divergence is tested as in the numpy engine: every
``CHUNK`` steps a certificate bounds each mode over the next ``CHUNK`` steps
(``|U_j| ≤ j·ρ^{j−1}`` for the Lucas sequence of the mode's companion matrix, with the
certificate constants the numpy engine computes); the configurations of a group that the
certificate cannot clear are tested step by step (all of the group's, when they are more than
``1/FEW_SUSPECTS`` of it), so ``diverged_at`` is the first step at which the norm passes the
bound, as in the numpy engine. The kernel releases the GIL (``nogil``): the fast path's thread pool
runs one kernel per thread.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..eigenmodes import companion_radius
from . import jit

__all__ = ["FEW_SUSPECTS", "GROUP_ELEMENTS", "LEVEL_MARGIN", "advance", "group_width", "lucas", "take_levels"]

#: mode values (modes × configurations) of one group: its state and coefficients stay in L1
GROUP_ELEMENTS = 1024
#: a chunk whose uncleared configurations are at most 1/FEW_SUSPECTS of the group tests only them
FEW_SUSPECTS = 8

# Gradual underflow without its cost (no linear term; float64 here, float32 below). A mode whose
# two values are below its level (take_levels: at most 2^-560, lower for modes that cannot reach
# the subnormal range within the chunk) is taken out of the vector loop for a chunk (its entries there are
# zeros, which give the same squares, norms and losses as its true values, whose squares underflow
# to +0) and stepped in scaled arithmetic: its values times 2^1074, where subnormal numbers are
# integers and every operation is on normal numbers (no microcode assists). A product is rounded
# to 53 bits, and where the true one is subnormal to an integer, with the one double-rounding case
# (a tie after the first rounding) decided by the exact residual (Dekker's product); sums need
# nothing (a sum of subnormals is exact, scaling commutes with the rounding of normal results).
# So the emulated values are bitwise IEEE's.
_MASK = 0x7FFFFFFFFFFFFFFF
_SIGN = -0x8000000000000000
_TINY = 2.0**-560  # the largest level at which a mode is taken out (float64)
_GROWTH_MAX = 2.0**20  # a larger certificate growth over a chunk: not taken out (may grow back)
_TWO52 = 2.0**52
_UP = 2.0**537
_DOWN = 2.0**-537
_SPLIT = 134217729.0  # 2^27 + 1


def group_width(d: int, elements: int = GROUP_ELEMENTS) -> int:
    """Configurations per group: ``elements // d`` rounded down to a multiple of 16, at least 16."""
    return max(16, (elements // d) // 16 * 16)


@jit()
def _load(src: Any, dst: Any, c0: int, g: int) -> None:  # pragma: no cover - compiled
    """``dst[:, :g] = src[:, c0:c0 + g]``."""
    for i in range(src.shape[0]):
        s = src[i, c0 : c0 + g]
        t = dst[i]
        for c in range(g):
            t[c] = s[c]


@jit()
def _store(src: Any, dst: Any, c0: int, g: int) -> None:  # pragma: no cover - compiled
    """``dst[:, c0:c0 + g] = src[:, :g]``."""
    for i in range(src.shape[0]):
        s = src[i]
        t = dst[i, c0 : c0 + g]
        for c in range(g):
            t[c] = s[c]


@jit()
def _check(x: Any, g: int, bound2: Any, alive: Any, dat: Any, k: int, acc: Any) -> None:  # pragma: no cover
    """``diverged_at = k`` for the alive configurations with ``not (Σᵢ xᵢ² <= bound²)``
    (``bound2``, ``dat``: the group's slices; ``alive``: 1 while ``dat < 0``)."""
    d = x.shape[0]
    x0 = x[0]
    for c in range(g):
        acc[c] = x0[c] * x0[c]
    for i in range(1, d):
        xi = x[i]
        for c in range(g):
            acc[c] = acc[c] + xi[c] * xi[c]
    hits = 0
    for c in range(g):
        hits += alive[c] if not (acc[c] <= bound2[c]) else 0
    if hits:
        for c in range(g):
            if alive[c] and not (acc[c] <= bound2[c]):
                dat[c] = k
                alive[c] = 0


@jit()
def _certified(
    x: Any, p: Any, g: int, cm: Any, ck: Any, ce: Any, has_ce: bool, bound2: Any, alive: Any, acc: Any
) -> bool:  # pragma: no cover - compiled
    """No alive configuration can pass the bound within the certificate's horizon:
    ``Σᵢ (Kᵢ(|xᵢ| + |m||pᵢ| + n/2·|eᵢ|))² <= bound²`` (the numpy engine's operations; the
    constants are the group's local copies)."""
    d = x.shape[0]
    for i in range(d):
        xi, pi, cmi, cki, cei = x[i], p[i], cm[i], ck[i], ce[i]
        for c in range(g):
            s = np.abs(xi[c]) + np.abs(pi[c]) * cmi[c]
            if has_ce:
                s = s + cei[c]
            s = s * cki[c]
            s = s * s
            acc[c] = s if i == 0 else acc[c] + s
    hits = 0
    for c in range(g):
        hits += alive[c] if not (acc[c] <= bound2[c]) else 0
    return hits == 0


@jit()
def _suspects(g: int, bound2: Any, alive: Any, acc: Any, idx: Any) -> int:  # pragma: no cover - compiled
    """The alive configurations :func:`_certified` could not clear (its sums in ``acc``) into
    ``idx``; returns how many."""
    n = 0
    for c in range(g):
        if alive[c] and not (acc[c] <= bound2[c]):
            idx[n] = c
            n += 1
    return n


@jit()
def _check_some(x: Any, idx: Any, n: int, bound2: Any, alive: Any, dat: Any, k: int) -> int:  # pragma: no cover
    """:func:`_check` of the configurations ``idx[:n]`` only (the same sums, in the same order);
    the ones that diverge leave the list. Returns the list's new length."""
    d = x.shape[0]
    j = 0
    while j < n:
        c = idx[j]
        s = x[0, c] * x[0, c]
        for i in range(1, d):
            s = s + x[i, c] * x[i, c]
        if not (s <= bound2[c]):
            dat[c] = k
            alive[c] = 0
            n -= 1
            idx[j] = idx[n]
        else:
            j += 1
    return n


@jit()
def _to_scaled(v: float, bits: int) -> float:  # pragma: no cover - compiled
    """``v·2^1074`` for ``|v| < 2^-560`` (``bits``: its bit pattern), exactly, without an
    arithmetic operation on a subnormal number."""
    mag = bits & _MASK
    if mag < (1 << 52):
        u = float(mag)
        return -u if bits < 0 else u
    return (v * _UP) * _UP


@jit()
def _put_true(arr: Any, bits: Any, i: int, c: int, u: float) -> None:  # pragma: no cover - compiled
    """``arr[i, c] = u·2^-1074`` (``bits``: ``arr`` viewed as int64), exactly."""
    if abs(u) < _TWO52:
        mag = np.int64(abs(u))
        bits[i, c] = mag | _SIGN if math.copysign(1.0, u) < 0 else mag
    else:
        arr[i, c] = (u * _DOWN) * _DOWN


@jit()
def _scaled_product(c: float, u: float) -> float:  # pragma: no cover - compiled
    """``fl(c·v)·2^1074`` for ``u = v·2^1074``: IEEE's product, subnormal results included."""
    q = c * u
    if abs(q) >= _TWO52:
        return q
    r = np.rint(q)
    if abs(q - r) == 0.5:  # a tie after the first rounding: the exact residual decides
        t = _SPLIT * c
        ch = t - (t - c)
        cl = c - ch
        t = _SPLIT * u
        uh = t - (t - u)
        ul = u - uh
        err = ((ch * uh - q) + ch * ul + cl * uh) + cl * ul
        if err > 0.0:
            r = math.copysign(q + 0.5, q)
        elif err < 0.0:
            r = math.copysign(q - 0.5, q)
    return r


@jit()
def _take_tiny(
    xs: Any, ps: Any, g: int, al: Any, ml: Any, ckl: Any, lvl: Any,
    ti: Any, tc: Any, tx: Any, tp: Any, ta: Any, tm: Any,
) -> int:  # pragma: no cover - compiled  # fmt: skip
    """Move the modes whose values are both below their level (:func:`take_levels`, at most
    2^-560; not both zero) into the scaled lists; their entries in ``xs``, ``ps`` become zeros
    of the same sign. Returns how many."""
    xb, pb, lb = xs.view(np.int64), ps.view(np.int64), lvl.view(np.int64)
    nt = 0
    for i in range(xs.shape[0]):
        for c in range(g):
            bx, bp, bl = xb[i, c] & _MASK, pb[i, c] & _MASK, lb[i, c]
            if bx < bl and bp < bl and (bx | bp) != 0 and ckl[i, c] <= _GROWTH_MAX:
                ti[nt], tc[nt], ta[nt], tm[nt] = i, c, al[i, c], ml[i, c]
                tx[nt] = _to_scaled(xs[i, c], xb[i, c])
                tp[nt] = _to_scaled(ps[i, c], pb[i, c])
                xb[i, c] &= _SIGN
                pb[i, c] &= _SIGN
                nt += 1
    return nt


# float32: the same scheme at 2^149 (subnormal float32 numbers are integers below 2^23); the
# exact product of two float32 numbers is a float64, rounded once (to an integer, or to float32)
_TWO23 = 2.0**23
_TINY32 = 2.0**-97  # with growth ≤ 2^20 and |m| < 3 the values stay below 2^-75: squares underflow
#: binades of margin of a take-out level over the smallest normal number (:func:`take_levels`)
LEVEL_MARGIN = 8


def take_levels(a: np.ndarray, m: np.ndarray, chunk: int) -> np.ndarray:
    """Per mode, the level below which its two values are stepped in scaled arithmetic for a
    chunk: ``min(T, 2^(e_min + LEVEL_MARGIN)·ρ^−chunk)``, ``ρ`` the spectral radius of
    ``[[a, m], [1, 0]]``, ``e_min`` the smallest normal exponent of the dtype and ``T`` its
    ceiling (``2^-560`` in float64, ``2^-97`` in float32).

    Only a speed choice: a mode that is not taken out is stepped in the dtype's own arithmetic,
    which gives the same bits (slowly, where its values are subnormal). Taking out only the
    modes that can reach the subnormal range within the chunk (at their rate ``ρ``, with a
    margin for the polynomial factor and the phase) keeps the scaled lists short: a mode
    contracting at ``ρ = 0.5`` spends some 500 steps between ``2^-560`` and ``2^-1074``, nearly
    all of them on normal numbers."""
    f32 = a.dtype == np.float32
    rho = companion_radius(a, m)
    e_min, top = (-126, _TINY32) if f32 else (-1022, _TINY)
    with np.errstate(divide="ignore"):
        binades = np.minimum(e_min + LEVEL_MARGIN - chunk * np.log2(rho), np.log2(top))
    return np.exp2(binades).astype(a.dtype)


@jit()
def _take_tiny32(
    xs: Any, ps: Any, g: int, al: Any, ml: Any, ckl: Any, lvl: Any,
    ti: Any, tc: Any, tx: Any, tp: Any, ta: Any, tm: Any,
) -> int:  # pragma: no cover - compiled  # fmt: skip
    """:func:`_take_tiny` for float32 (levels at most 2^-97, values scaled by 2^149; each
    conversion is exact)."""
    nt = 0
    for i in range(xs.shape[0]):
        for c in range(g):
            vx, vp = xs[i, c], ps[i, c]
            ax, ap = abs(vx), abs(vp)
            if ax < lvl[i, c] and ap < lvl[i, c] and not (ax == 0 and ap == 0) and ckl[i, c] <= _GROWTH_MAX:
                ti[nt], tc[nt], ta[nt], tm[nt] = i, c, al[i, c], ml[i, c]
                tx[nt] = (np.float64(vx) * 2.0**75) * 2.0**74
                tp[nt] = (np.float64(vp) * 2.0**75) * 2.0**74
                xs[i, c] = math.copysign(0.0, vx)
                ps[i, c] = math.copysign(0.0, vp)
                nt += 1
    return nt


@jit()
def _true32(u: Any) -> Any:  # pragma: no cover - compiled
    """``u·2^-149`` (exact in float64, then representable in float32)."""
    return np.float32((np.float64(u) * 2.0**-75) * 2.0**-74)


@jit()
def _step_tiny32(nt: int, tx: Any, tp: Any, ta: Any, tm: Any, tn: Any) -> None:  # pragma: no cover - compiled
    """:func:`_step_tiny` for float32: each product exact in float64, rounded once to an
    integer (a subnormal result) or to float32; the sum in float32."""
    for j in range(nt):
        qa = np.float64(ta[j]) * np.float64(tx[j])
        qm = np.float64(tm[j]) * np.float64(tp[j])
        t = np.float32(np.rint(qa)) if abs(qa) < _TWO23 else np.float32(qa)
        u = np.float32(np.rint(qm)) if abs(qm) < _TWO23 else np.float32(qm)
        tn[j] = u + t


@jit()
def _step_tiny(nt: int, tx: Any, tp: Any, ta: Any, tm: Any, tn: Any) -> None:  # pragma: no cover - compiled
    """One step of the scaled modes into ``tn`` (``u = p·m; u = u + x·a``): a vectorised pass
    that rounds every product half-to-even, redone with the exact residual where a product's
    first rounding gave a tie."""
    ties = 0
    for j in range(nt):
        qa = ta[j] * tx[j]
        qm = tm[j] * tp[j]
        ra = np.rint(qa)
        rm = np.rint(qm)
        sa = abs(qa) < _TWO52
        sm = abs(qm) < _TWO52
        ties += (1 if sa and abs(qa - ra) == 0.5 else 0) + (1 if sm and abs(qm - rm) == 0.5 else 0)
        tn[j] = (rm if sm else qm) + (ra if sa else qa)
    if ties:
        for j in range(nt):
            tn[j] = _scaled_product(tm[j], tp[j]) + _scaled_product(ta[j], tx[j])


@jit()
def _steps_tiny(f32: bool, nt: int, tx: Any, tp: Any, ta: Any, tm: Any, tn: Any) -> None:  # pragma: no cover
    if f32:
        _step_tiny32(nt, tx, tp, ta, tm, tn)
    else:
        _step_tiny(nt, tx, tp, ta, tm, tn)


@jit()
def _step(xs: Any, ps: Any, al: Any, ml: Any, el: Any, has_e: bool, g: int) -> None:  # pragma: no cover
    """One step of the group, into ``ps``: ``t = x·a; u = p·m; u = u + t; u = u + e``."""
    for i in range(xs.shape[0]):
        if has_e:
            for c in range(g):
                ps[i, c] = (ps[i, c] * ml[i, c] + xs[i, c] * al[i, c]) + el[i, c]
        else:
            for c in range(g):
                ps[i, c] = ps[i, c] * ml[i, c] + xs[i, c] * al[i, c]


@jit()
def _rowsum(s: Any, g: int, out: Any) -> None:  # pragma: no cover - compiled
    """``out[:g] = Σᵢ s[i, :g]``, sequentially ``(s₀ + s₁) + s₂ + …``."""
    s0 = s[0]
    for c in range(g):
        out[c] = s0[c]
    for i in range(1, s.shape[0]):
        si = s[i]
        for c in range(g):
            out[c] = out[c] + si[c]


@jit()
def _record(
    x: Any,
    g: int,
    base: int,
    r: int,
    rec_theta: bool,
    theta: Any,
    loss: Any,
    dist: Any,
    has_dist: bool,
    known: bool,
    h2: Any,
    bt: Any,
    zstar: Any,
    has_zstar: bool,
    fstar: Any,
    has_fstar: bool,
    acc: Any,
    dacc: Any,
    sq: Any,
) -> None:  # pragma: no cover - compiled
    """The records of row ``r`` for the group's configurations ``base … base + g − 1``: the
    modes (rotated back later), the loss and the distance, in the numpy engine's order."""
    d = x.shape[0]
    if rec_theta:
        th = theta[r, base : base + g]
        for c in range(g):
            for i in range(d):
                th[c, i] = x[i, c]
    if known:
        for i in range(d):
            xi, si = x[i], sq[i]
            if has_zstar:
                zi = zstar[i]
                for c in range(g):
                    v = xi[c] - zi
                    si[c] = v * v
            else:
                for c in range(g):
                    si[c] = xi[c] * xi[c]
        _rowsum(sq, g, dacc)
        for i in range(d):
            si, hi = sq[i], h2[i]
            for c in range(g):
                si[c] = si[c] * hi
    else:
        for i in range(d):
            xi, si, hi, bi = x[i], sq[i], h2[i], bt[i]
            for c in range(g):
                v = xi[c] * hi
                v = v - bi
                si[c] = v * xi[c]
    _rowsum(sq, g, acc)
    lrow = loss[r, base : base + g]
    if has_fstar:
        f = fstar[0]
        for c in range(g):
            lrow[c] = acc[c] + f
    else:
        for c in range(g):
            lrow[c] = acc[c]
    if has_dist:
        drow = dist[r, base : base + g]
        for c in range(g):
            drow[c] = np.sqrt(dacc[c])


@jit()
def _load_coefficients(
    a: Any, m: Any, e: Any, has_e: bool, cm: Any, ck: Any, ce: Any, has_ce: bool,
    al: Any, ml: Any, el: Any, cml: Any, ckl: Any, cel: Any, c0: int, g: int,
) -> None:  # pragma: no cover - compiled  # fmt: skip
    """The group's coefficients and certificate constants into its contiguous scratch rows."""
    _load(a, al, c0, g)
    _load(m, ml, c0, g)
    if has_e:
        _load(e, el, c0, g)
    _load(cm, cml, c0, g)
    _load(ck, ckl, c0, g)
    if has_ce:
        _load(ce, cel, c0, g)


@jit()
def _first_step(xs: Any, ps: Any, f1: Any, e1: Any, has_e1: bool, c0: int, g: int) -> None:  # pragma: no cover
    """``z_1 = f₁z_0 (+ e₁)`` of the group into ``ps`` (numpy's ``multiply`` then ``+=``)."""
    d = xs.shape[0]
    for i in range(d):
        xi, pi, fi = xs[i], ps[i], f1[i, c0 : c0 + g]
        for c in range(g):
            pi[c] = xi[c] * fi[c]
        if has_e1:
            ei = e1[i, c0 : c0 + g]
            for c in range(g):
                pi[c] = pi[c] + ei[c]


@jit()
def _record_tiny(
    theta: Any, thb: Any, r: int, col: int, nt: int, ti: Any, tc: Any, tx: Any, f32: bool
) -> None:  # pragma: no cover - compiled
    """The true values of the modes stepped in scaled arithmetic into the θ record ``r``."""
    for j in range(nt):
        if f32:
            theta[r, col + tc[j], ti[j]] = _true32(tx[j])
        else:
            _put_true(theta[r], thb[r], col + tc[j], ti[j], tx[j])


@jit()
def _restore_tiny(xs: Any, ps: Any, nt: int, ti: Any, tc: Any, tx: Any, tp: Any, f32: bool) -> None:  # pragma: no cover
    """The true values of the modes stepped in scaled arithmetic back into the state."""
    if f32:
        for j in range(nt):
            xs[ti[j], tc[j]] = _true32(tx[j])
            ps[ti[j], tc[j]] = _true32(tp[j])
    else:
        xb, pb = xs.view(np.int64), ps.view(np.int64)
        for j in range(nt):
            _put_true(xs, xb, ti[j], tc[j], tx[j])
            _put_true(ps, pb, ti[j], tc[j], tp[j])


@jit()
def advance(
    x: Any, p: Any, k_from: int, k_to: int, chunk: int,
    f1: Any, e1: Any, has_e1: bool, a: Any, m: Any, e: Any, has_e: bool,
    cm: Any, ck: Any, ce: Any, has_ce: bool, bound2: Any, dat: Any,
    rec_steps: Any, col: int, rec_theta: bool, theta: Any, rec_loss: bool, loss: Any, dist: Any, has_dist: bool,
    known: bool, h2: Any, bt: Any, zstar: Any, has_zstar: bool, fstar: Any, has_fstar: bool, emulate: bool,
    levels: Any, G: int,
) -> None:  # pragma: no cover - compiled  # fmt: skip
    """Advance the modes of one block of configurations from step ``k_from`` to ``k_to``.

    Parameters
    ----------
    x, p : ndarray, shape (d, w), C-contiguous
        ``z_{k_from}`` and ``z_{k_from − 1}`` (``p`` unused when ``k_from = 0``); on return
        ``z_{k_to}`` and ``z_{k_to − 1}``.
    k_from, k_to : int
        Steps, ``0 <= k_from <= k_to``; from ``k_from = 0`` the first step uses ``f1``, ``e1``.
    chunk : int
        Steps between divergence certificates.
    f1, e1, a, m, e : ndarray, shape (d, w)
        The coefficients in the run's dtype (``e1``, ``e`` used when ``has_e1``, ``has_e``).
    cm, ck, ce : ndarray, shape (d, w)
        The certificate's ``|m|``, growth factor over ``chunk`` steps and ``chunk/2·|e|``
        (``ce`` used when ``has_ce``).
    bound2 : ndarray, shape (w,)
        Squared divergence bounds.
    dat : ndarray of int64, shape (w,)
        ``diverged_at`` (−1: alive), updated in place.
    rec_steps : ndarray of int64
        The recorded steps (sorted); those in ``[k_from, k_to]`` (``k_from`` only when 0) are
        written, when ``rec_loss``, to row ``r`` of ``theta`` (``(n, B, d)``, when
        ``rec_theta``), ``loss`` and ``dist`` (``(n, B)``, when ``has_dist``) at columns
        ``col + c``.
    known, h2, bt, zstar, fstar
        The loss: ``½h`` and ``Vᵀb`` per mode, or with a known minimiser its modes ``z*``
        and ``f*`` (1-element array), used as the flags say.
    emulate : bool
        Step the modes below their level in scaled arithmetic (without ``e``; the loss of a
        zero of the right sign must equal the loss of such a mode: no ``z*``, no ``f*``, and
        ``Vᵀb`` of positive sign).
    levels : ndarray, shape (d, w)
        The modes' take-out levels (:func:`take_levels`; used when ``emulate``).
    G : int
        Configurations per group (:func:`group_width`).
    """
    d, w = x.shape
    dt = x.dtype
    xs0, ps0 = np.empty((d, G), dt), np.empty((d, G), dt)
    al, ml, el = np.empty((d, G), dt), np.empty((d, G), dt), np.empty((d, G), dt)
    cml, ckl, cel = np.empty((d, G), dt), np.empty((d, G), dt), np.empty((d, G), dt)
    acc, dacc, sq = np.empty(G, dt), np.empty(G, dt), np.empty((d, G), dt)
    alive = np.empty(G, np.int64)
    lvl = np.empty((d, G) if emulate else (0, 0), dt)
    sus = np.empty(G, np.int64)
    nmax = d * G if emulate else 0
    ti, tc = np.empty(nmax, np.int64), np.empty(nmax, np.int64)
    tx, tp, tn = np.empty(nmax, dt), np.empty(nmax, dt), np.empty(nmax, dt)
    ta, tm = np.empty(nmax, dt), np.empty(nmax, dt)
    f32 = x.itemsize == 4
    thb = theta.view(np.int64) if emulate and rec_theta and not f32 else np.empty((0, 0, 0), np.int64)
    n_rec = rec_steps.shape[0] if rec_loss else 0
    r0 = 0
    while r0 < n_rec and (rec_steps[r0] < k_from or (k_from > 0 and rec_steps[r0] == k_from)):
        r0 += 1
    for c0 in range(0, w, G):
        g = min(G, w - c0)
        xs, ps = xs0, ps0
        _load(x, xs, c0, g)
        _load_coefficients(a, m, e, has_e, cm, ck, ce, has_ce, al, ml, el, cml, ckl, cel, c0, g)
        if emulate:
            _load(levels, lvl, c0, g)
        b2 = bound2[c0 : c0 + g]
        dg = dat[c0 : c0 + g]
        for c in range(g):
            alive[c] = 1 if dg[c] < 0 else 0
        k = k_from
        r = r0
        if k == 0:
            if r < n_rec and rec_steps[r] == 0:
                _record(xs, g, col + c0, r, rec_theta, theta, loss, dist, has_dist, known, h2, bt, zstar, has_zstar,
                        fstar, has_fstar, acc, dacc, sq)  # fmt: skip
                r += 1
            if k_to > 0:
                _first_step(xs, ps, f1, e1, has_e1, c0, g)
                xs, ps = ps, xs
                k = 1
                _check(xs, g, b2, alive, dg, 1, acc)
                if r < n_rec and rec_steps[r] == 1:
                    _record(xs, g, col + c0, r, rec_theta, theta, loss, dist, has_dist, known, h2, bt, zstar,
                            has_zstar, fstar, has_fstar, acc, dacc, sq)  # fmt: skip
                    r += 1
        else:
            _load(p, ps, c0, g)
        while k < k_to:
            n = min(chunk, k_to - k)
            careful = not _certified(xs, ps, g, cml, ckl, cel, has_ce, b2, alive, acc)
            # a few configurations the certificate cannot clear: only they are tested each step
            nsus = _suspects(g, b2, alive, acc, sus) if careful else 0
            few = careful and nsus * FEW_SUSPECTS <= g
            quiet = (few or not careful) and not (r < n_rec and rec_steps[r] <= k + n)
            nt = 0
            if emulate:
                if f32:
                    nt = _take_tiny32(xs, ps, g, al, ml, ckl, lvl, ti, tc, tx, tp, ta, tm)
                else:
                    nt = _take_tiny(xs, ps, g, al, ml, ckl, lvl, ti, tc, tx, tp, ta, tm)
            if quiet:
                for _ in range(n // 2):
                    _step(xs, ps, al, ml, el, has_e, g)
                    if nsus:
                        nsus = _check_some(ps, sus, nsus, b2, alive, dg, k + 1)
                    _step(ps, xs, al, ml, el, has_e, g)
                    if nsus:
                        nsus = _check_some(xs, sus, nsus, b2, alive, dg, k + 2)
                    if nt:
                        _steps_tiny(f32, nt, tx, tp, ta, tm, tn)
                        _steps_tiny(f32, nt, tn, tx, ta, tm, tp)
                        tx, tp, tn = tp, tn, tx
                    k += 2
                if n % 2:
                    _step(xs, ps, al, ml, el, has_e, g)
                    if nsus:
                        nsus = _check_some(ps, sus, nsus, b2, alive, dg, k + 1)
                    if nt:
                        _steps_tiny(f32, nt, tx, tp, ta, tm, tn)
                        tx, tp, tn = tn, tx, tp
                    xs, ps = ps, xs
                    k += 1
            else:
                for _ in range(n):
                    _step(xs, ps, al, ml, el, has_e, g)
                    if nt:
                        _steps_tiny(f32, nt, tx, tp, ta, tm, tn)
                        tx, tp, tn = tn, tx, tp
                    xs, ps = ps, xs
                    k += 1
                    if few:
                        if nsus:
                            nsus = _check_some(xs, sus, nsus, b2, alive, dg, k)
                    elif careful:
                        _check(xs, g, b2, alive, dg, k, acc)
                    if r < n_rec and rec_steps[r] == k:
                        _record(xs, g, col + c0, r, rec_theta, theta, loss, dist, has_dist, known, h2, bt, zstar,
                                has_zstar, fstar, has_fstar, acc, dacc, sq)  # fmt: skip
                        if rec_theta and nt:
                            _record_tiny(theta, thb, r, col + c0, nt, ti, tc, tx, f32)
                        r += 1
            if nt:
                _restore_tiny(xs, ps, nt, ti, tc, tx, tp, f32)
        _store(xs, x, c0, g)
        if k > 0:
            _store(ps, p, c0, g)


@jit()
def lucas(a: Any, m: Any, has_e: bool, n: int, u_next: Any, u_n: Any, g: Any) -> None:  # pragma: no cover
    """The closed form's Lucas sequence, elementwise: ``U_{n+1}``, ``U_n`` and (when
    ``has_e``) ``G_n = Σ_{l=1}^{n} U_l`` into ``u_next``, ``u_n``, ``g`` (all flat float64 of one
    length), by the numpy engine's fast doubling (:func:`heavyball.eigenmodes.lucas`): the same
    operations in the same order, so the same bits. ``n >= 1``. Chunks of ``GROUP_ELEMENTS``
    elements go through all the bits in L1 (the loops over elements vectorise)."""
    nbits = 0
    while (n >> nbits) > 1:
        nbits += 1
    N = a.shape[0]
    W = GROUP_ELEMENTS
    u1 = np.empty(W)
    for j0 in range(0, N, W):
        w = min(W, N - j0)
        aj, mj = a[j0 : j0 + w], m[j0 : j0 + w]
        u2, gj = u_next[j0 : j0 + w], g[j0 : j0 + w]
        for j in range(w):
            u1[j] = 1.0
            u2[j] = aj[j]
            gj[j] = 1.0
        for b in range(nbits - 1, -1, -1):
            if has_e:
                for j in range(w):
                    t1 = gj[j] - u1[j]
                    t1 = t1 * u1[j]
                    t1 = t1 * mj[j]
                    t2 = u2[j] + 1.0
                    v = gj[j] * t2
                    gj[j] = v + t1
            for j in range(w):
                t1 = aj[j] * u1[j]
                t2 = u2[j] + u2[j]
                t2 = t2 - t1
                t1 = u1[j] * u1[j]
                t1 = t1 * mj[j]
                u1[j] = u1[j] * t2
                v = u2[j] * u2[j]
                u2[j] = v + t1
            if (n >> b) & 1:
                for j in range(w):
                    if has_e:
                        gj[j] = gj[j] + u2[j]
                    t1 = mj[j] * u1[j]
                    t2 = aj[j] * u2[j]
                    t2 = t2 + t1
                    u1[j] = u2[j]
                    u2[j] = t2
        unj = u_n[j0 : j0 + w]
        for j in range(w):
            unj[j] = u1[j]
