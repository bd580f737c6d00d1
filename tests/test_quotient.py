"""Division by a known divisor through its reciprocal (heavyball/compiled/quotient.py).

Oracle: the hardware's IEEE division ``a / b`` (numpy), compared bit for bit wherever the kernel's
proof accepts its quotient; where it does not, the caller divides, so the only claims are "accepted
means exact" and "accepted nearly always". Adam's row update with the reciprocal is compared
byte for byte with the plain one, including the rows whose quotients fall back to the division.
"""

import numpy as np
import pytest

pytest.importorskip("numba", reason="the compiled kernels need numba (pip install heavyball-dynamics[fast])")

from heavyball.compiled import adam, jit
from heavyball.compiled.quotient import proven, quotient, usable


@jit()
def _quotients(a, b, out, ok):  # pragma: no cover - compiled
    y = 1.0 / b
    for i in range(a.shape[0]):
        q, k = quotient(a[i], b, y)
        out[i] = q
        ok[i] = k


@jit()
def _proven(a, b, q, ok):  # pragma: no cover - compiled
    for i in range(a.shape[0]):
        ok[i] = proven(a[i], b, q[i])


def _run(a, b):
    out, ok = np.empty(a.size), np.empty(a.size, np.bool_)
    _quotients(a, b, out, ok)
    return out, ok


def _divisors(rng):
    """Adam's √(1 − β₂ᵗ) at β₂ = 0.999 and 0.9 (the divisors it meets), powers of two, and
    random divisors over the allowed range."""
    t = rng.integers(1, 20000, 8).astype(float)
    yield from np.sqrt(1.0 - 0.999**t)
    yield from np.sqrt(1.0 - 0.9 ** t[:2])
    yield from (1.0, 0.5, 2.0**-60, 2.0**60)
    yield from 2.0 ** rng.uniform(-60, 60, 6)


def test_accepted_quotients_are_the_ieee_quotient(rng):
    """Numerators over 400 decades (both signs) for 20 divisors: every accepted quotient is
    bitwise ``a / b``; the proof rejects fewer than 1 in 10⁶ finite quotients."""
    n, rejected, total = 200_000, 0, 0
    for b in _divisors(rng):
        assert usable(b)
        a = rng.standard_normal(n) * 10.0 ** rng.uniform(-200, 200, n)
        with np.errstate(over="ignore", under="ignore"):
            want = a / b
        got, ok = _run(a, b)
        assert got[ok].tobytes() == want[ok].tobytes()
        rejected += np.count_nonzero(~ok & (np.abs(want) >= 2.0**-900) & (np.abs(want) <= 2.0**1000))
        total += n
    assert rejected <= total * 1e-6, (rejected, total)


def test_quotients_next_to_a_midpoint_are_never_accepted_wrongly(rng):
    """Numerators ``a = RN(b·midpoint)``: their quotients lie within about a half gap of a
    midpoint between two floating-point numbers (rounding ``a`` moves them that much). Accepted
    still means exact; and the proof itself, handed the true quotient and each of its two
    neighbours, passes the true one nearly always and a neighbour never (a neighbour is at
    least a half gap away, where the strict inequality must fail)."""
    n = 100_000
    for b in (0.7, np.sqrt(1.0 - 0.999**37), 3.0, 1.0 / 3.0):
        q = rng.uniform(1.0, 2.0, n) * 2.0 ** rng.integers(-50, 50, n)
        ld = np.longdouble  # 64-bit significands: the midpoints and b·midpoint to 11 more bits
        mid = q.astype(ld) + ld(0.5) * np.spacing(q).astype(ld)
        a = (mid * ld(b)).astype(np.float64)  # a/b within about a half gap of the midpoint
        a = np.concatenate([a, np.nextafter(a, np.inf), np.nextafter(a, -np.inf)])
        got, ok = _run(a, b)
        want = a / b
        assert got[ok].tobytes() == want[ok].tobytes()
        assert np.count_nonzero(ok) > 0.9 * a.size  # the proof passes for most of them still
        # the proof itself: the true quotient passes nearly always, its neighbours never
        for cand, right in ((want, True), (np.nextafter(want, np.inf), False), (np.nextafter(want, -np.inf), False)):
            passed = np.empty(a.size, np.bool_)
            _proven(a, b, cand, passed)
            assert (np.count_nonzero(passed) > 0.9 * a.size) if right else not passed.any()


def test_special_values_fall_back_to_the_division():
    """Zeros (a signed zero would lose its sign), infinities, NaN, subnormal and out-of-range
    quotients are not accepted; the divisor range is checked by ``usable``."""
    a = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 5e-324, 1e-310, 2.0**-901, 1.7e308])
    _, ok = _run(a, 0.7)
    assert not ok.any()
    _, ok = _run(np.array([1.0, -3.0, 2.0**-890]), 0.7)
    assert ok.all()
    for b in (0.0, -1.0, 2.0**-61, 2.0**61, np.inf, np.nan):
        assert not usable(b)


@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_row_update_by_reciprocal_is_the_plain_update(amsgrad, rng):
    """One coordinate row of Adam's update (``_update_by_reciprocal`` against ``_update``),
    with zero, infinite and NaN second moments among ordinary ones, so that the second pass
    (the division of the rejected quotients) runs: the same bytes in every array."""
    n = 4096
    g = rng.standard_normal(n) * 10.0 ** rng.uniform(-5, 5, n)
    g[:40] = 0.0  # v = 0 at the first step: √v = 0 is rejected, then divided
    m = np.zeros(n)
    v = np.zeros(n)
    v[40:50] = np.inf
    v[50:60] = np.nan
    v[60:] = rng.uniform(0, 1, n - 60) ** 8
    w = np.where(rng.random(n) < 0.5, v, 2 * v) if amsgrad else v
    x = rng.standard_normal(n)
    nss = -(rng.uniform(0.05, 1.5, n) / (1.0 - 0.9**3))
    bc2 = float(np.sqrt(1.0 - 0.999**3))
    consts = (0.1, False, 0.999, 1.0 - 0.999, 1e-8)
    ref = [a.copy() for a in (x, g, m, v, w)]
    new = [a.copy() for a in (x, g, m, v, w)]
    adam._update(*ref, n, *consts, nss, bc2, amsgrad)
    adam._update_by_reciprocal(*new, n, *consts, nss, bc2, 1.0 / bc2, amsgrad, np.empty(n), np.empty(n, np.bool_))
    for r, c in zip(ref, new, strict=True):
        assert r.tobytes() == c.tobytes()
