r"""Compiled kernels: the optional ``fast`` extra (numba).

The stepping engines of :func:`heavyball.iterate` are written in numpy, which is the default and
the reference. With ``engine="compiled"`` the same recurrences run as numba kernels compiled
once per machine (``cache=True``), which fuse the operations of a step, keep a block of
configurations in registers and release the GIL, so that threads scale. Every kernel performs the
reference's floating-point operations in the reference's order (no fused multiply-add, no
reassociation: numba's default ``fastmath=False``), so its results are bitwise equal to the numpy
engine's; a kernel that cannot promise that says so in its docstring and is tested to its stated
tolerance instead.

``import heavyball`` never imports numba: the kernels live in the submodules of this package,
which import numba at their top and are imported only when a run asks for them.

Install with ``pip install "heavyball-dynamics[fast]"``.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["ENGINES", "available", "check_engine", "jit"]

#: the values of ``engine=``: the numpy reference and the compiled kernels
ENGINES = ("numpy", "compiled")

_F = TypeVar("_F", bound=Callable[..., Any])


def available() -> bool:
    """Whether the compiled engine can run here (numba is importable)."""
    return importlib.util.find_spec("numba") is not None


def check_engine(engine: Any) -> str:
    """Validate ``engine=``: one of :data:`ENGINES`; ``"compiled"`` needs numba.

    Raises
    ------
    TypeError, ValueError
        Not a string, or not one of :data:`ENGINES`.
    ModuleNotFoundError
        ``"compiled"`` without numba installed (naming the extra that installs it).
    """
    if not isinstance(engine, str):
        raise TypeError(f"`engine` must be a str, one of {', '.join(map(repr, ENGINES))}; got {engine!r}")
    if engine not in ENGINES:
        raise ValueError(f"`engine`={engine!r} is not one of {', '.join(map(repr, ENGINES))}")
    if engine == "compiled" and not available():
        raise ModuleNotFoundError(
            "`engine`='compiled' needs numba, which is not installed: "
            "pip install \"heavyball-dynamics[fast]\" (or use `engine`='numpy', the default)"
        )
    return engine


def jit(**options: Any) -> Callable[[_F], _F]:
    """``numba.njit`` with the package's conventions: compiled once per machine (``cache=True``),
    the GIL released (``nogil=True``), numpy's semantics for division by zero
    (``error_model="numpy"``: inf/NaN, no exception) and strict IEEE arithmetic
    (``fastmath=False``: no contraction into fused multiply-adds, no reassociation)."""
    import numba  # the kernels' modules are imported only for engine="compiled"

    kw: dict[str, Any] = {"cache": True, "nogil": True, "error_model": "numpy", "fastmath": False}
    kw.update(options)
    return numba.njit(**kw)  # type: ignore[no-any-return,unused-ignore]
