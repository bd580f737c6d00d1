r"""Correctly rounded division by a known divisor, without the divider (float64).

Adam divides every element by per-step constants (``√(1 − β₂ᵗ)``, say). A hardware division
costs 2 cycles per element even vectorised, a fused multiply-add a quarter of one; with the
reciprocal ``y = 1/b`` formed once (one true division per step), the quotient of every element
is

.. math::

    q_0 = a\,y, \qquad r = \operatorname{fma}(-q_0, b, a), \qquad
    q_1 = \operatorname{fma}(r, y, q_0)

(Markstein's correction [1]_: ``r`` approximates the remainder of ``q_0``, exactly when
``q_0`` is within an ulp of ``a/b``), and :func:`quotient`
then **proves** that ``q_1`` is the IEEE quotient ``RN(a/b)`` before it is used:
with ``R = fma(−q_1, b, a)`` (the remainder, rounded once) and ``h`` the half gap between
``q_1`` and its nearer neighbour (``2^{e−53}`` for ``2^e ≤ |q_1| < 2^{e+1}``, ``2^{e−54}`` when
``q_1`` is a power of two, whose lower neighbour is nearer; a conservative choice, since a
quotient of two floating-point numbers never falls between ``2^e − 2^{e−53}`` and that
midpoint),

.. math:: |R| < h\,b \;\Longrightarrow\; |a/b - q_1| < h \;\Longrightarrow\; q_1 = RN(a/b),

because ``h·b`` is a floating-point number (a power of two times ``b``, computed exactly: the
bounds below keep it normal) and rounding is monotone (``|a − bq_1| ≥ hb`` would give
``|R| ≥ hb``). The inequality is strict, so ties never pass. Where the proof fails (rarely: a
quotient within ``2^{−50}`` of a midpoint, zeros, infinities, NaN, values outside
``[2^{−900}, 2^{1000}]``), the caller divides (``ok`` is False). The result is therefore
bitwise the hardware's division for every input; the speed depends on the proof passing,
which it does for all but a vanishing share of finite quotients.

Requirements, checked by the caller once per divisor (:func:`usable`): ``b`` positive,
normal and in ``[2^{−60}, 2^{60}]``, ``y = 1/b`` (the division). On a processor without
fused multiply-add instructions ``llvm.fma`` is a call to the C library's ``fma`` (correctly
rounded, much slower): the results stay the same, the speed does not.

.. [1] P. Markstein, "Computation of elementary functions on the IBM RISC System/6000
   processor", IBM J. Res. Dev. 34(1), 1990, 111–119.
"""

from __future__ import annotations

from typing import Any

from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from . import jit

__all__ = ["proven", "quotient", "usable"]

_EXP = 0x7FF0000000000000
_MANT = 0x000FFFFFFFFFFFFF
_LOW = 2.0**-900
_HIGH = 2.0**1000


def _fma_typer(typingctx: Any, a: Any, b: Any, c: Any) -> Any:  # pragma: no cover - compiled
    """``a·b + c`` rounded once (``llvm.fma``: an explicit fused multiply-add, which
    ``fastmath=False`` keeps as written)."""
    sig = types.float64(types.float64, types.float64, types.float64)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        d = ir.DoubleType()
        fn = builder.module.declare_intrinsic("llvm.fma", [d], ir.FunctionType(d, [d, d, d]))
        return builder.call(fn, args)

    return sig, codegen


def _bits_typer(typingctx: Any, x: Any) -> Any:  # pragma: no cover - compiled
    """The bit pattern of a float64 as an int64."""
    sig = types.int64(types.float64)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        return builder.bitcast(args[0], ir.IntType(64))

    return sig, codegen


def _float_typer(typingctx: Any, n: Any) -> Any:  # pragma: no cover - compiled
    """The float64 whose bit pattern is the int64 ``n``."""
    sig = types.float64(types.int64)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        return builder.bitcast(args[0], ir.DoubleType())

    return sig, codegen


# the typing functions above wrapped as numba intrinsics (callable from compiled code only)
_fma: Any = intrinsic(_fma_typer)
_bits: Any = intrinsic(_bits_typer)
_float: Any = intrinsic(_float_typer)


@jit(inline="always")
def proven(a: float, b: float, q: float) -> bool:  # pragma: no cover - compiled
    """Whether ``q`` is provably ``RN(a/b)`` (``b`` :func:`usable`): ``|fma(−q, b, a)| < h·b``
    with ``h`` the half gap to ``q``'s nearer neighbour, ``q`` in ``[2^{−900}, 2^{1000}]``."""
    rem = _fma(-q, b, a)
    bits = _bits(q)
    h = _float(bits & _EXP) * (2.0**-54 if (bits & _MANT) == 0 else 2.0**-53)  # exact: q is normal here
    mag = abs(q)
    return (mag >= _LOW) & (mag <= _HIGH) & (abs(rem) < h * b)


@jit(inline="always")
def quotient(a: float, b: float, y: float) -> tuple[float, bool]:  # pragma: no cover - compiled
    """``(q, ok)``: when ``ok``, ``q`` is bitwise ``a / b`` (``y = 1/b``, :func:`usable` ``b``);
    otherwise ``q`` is meaningless and the caller divides."""
    q0 = a * y
    q1 = _fma(_fma(-q0, b, a), y, q0)
    return q1, proven(a, b, q1)


@jit()
def usable(b: float) -> bool:  # pragma: no cover - compiled
    """Whether :func:`quotient` may be used with the divisor ``b`` (positive, in
    ``[2^{−60}, 2^{60}]``: ``h·b`` stays normal and exact)."""
    return 2.0**-60 <= b <= 2.0**60
