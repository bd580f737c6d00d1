"""Small sympy building blocks shared by the derivations: symbols with assumptions, the
sampling boxes of the numerical checks, and a few series and display rewrites."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sympy as sp

from .._validation import describe

__all__ = [
    "BOX",
    "GRAD_TEST",
    "LAMBDA_X",
    "assumption_texts",
    "box_of",
    "generic_branch",
    "given",
    "given_positive",
    "one_minus",
    "peel",
    "pos",
    "real",
    "root_series",
    "symbol_markup",
]


def pos(name: str) -> sp.Symbol:
    """A positive symbol."""
    return sp.Symbol(name, positive=True)


def real(name: str) -> sp.Symbol:
    """A real symbol."""
    return sp.Symbol(name, real=True)


def given(value: Any, name: str, **assumptions: bool) -> sp.Symbol:
    """The symbol passed to a factory, or a fresh one named ``name`` with ``assumptions``."""
    if value is None:
        return sp.Symbol(name, **assumptions)
    if isinstance(value, str):
        return sp.Symbol(value, **assumptions)
    if not isinstance(value, sp.Symbol):
        raise TypeError(f"`{name}` must be a sympy Symbol or a name, got {describe(value)}")
    return value


def given_positive(**symbols: Any) -> tuple[sp.Symbol, ...]:
    """:func:`given` for each keyword, in order: the symbol passed, or a fresh positive one
    named by the keyword (``a, P = given_positive(a=a, P=p)``).

    Examples
    --------
    >>> import sympy as sp
    >>> lr = sp.Symbol("lr", positive=True)
    >>> a, same = given_positive(a=None, lr=lr)
    >>> a.is_positive, same is lr
    (True, True)
    """
    return tuple(given(value, name, positive=True) for name, value in symbols.items())


_GREEK = {
    "alpha": "α",
    "beta": "β",
    "gamma": "γ",
    "delta": "δ",
    "eps": "ε",
    "eta": "η",
    "theta": "θ",
    "kappa": "κ",
    "lambda": "λ",
    "mu": "μ",
    "phi": "φ",
    "sigma": "σ",
    "tau": "τ",
    "dt": "Δt",
    "lr": "γ",
}


def symbol_markup(name: str) -> str:
    """A symbol's name as Unicode mathematics: ``dt`` → ``Δt``, ``beta1`` → ``β_1``, ``theta_0`` → ``θ_0``."""
    head, _, sub = name.partition("_")
    sub = "k−1" if sub == "km1" else sub
    stem = head.rstrip("0123456789")
    digits = head[len(stem) :]
    text = _GREEK.get(stem, stem)
    if digits:
        text += f"_{digits}" if not sub else digits
    return f"{text}_{{{sub}}}" if len(sub) > 1 else (f"{text}_{sub}" if sub else text)


def assumption_texts(symbols: Sequence[sp.Symbol], *texts: str) -> tuple[str, ...]:
    """Texts, then one line listing the symbols by their sympy assumptions (``$m$, $c$: positive``)."""
    groups: dict[str, list[str]] = {}
    for s in symbols:
        facts = s.assumptions0
        sign = next((k for k in ("positive", "nonnegative") if facts.get(k)), "")
        number = "integer" if facts.get("integer") else ("real" if facts.get("real") and not sign else "")
        kind = " ".join(k for k in (sign, number) if k) or "complex (no assumption)"
        groups.setdefault(kind, []).append(f"${symbol_markup(s.name)}$")
    listed = "; ".join(f"{', '.join(names)}: {kind}" for kind, names in groups.items())
    return (*texts, f"symbols: {listed}") if groups else tuple(texts)


def root_series(poly: Any, z: sp.Symbol, eps: sp.Symbol, z0: Any, order: int) -> list[Any]:
    """Coefficients ``a_1..a_order`` of the root ``z = z0 + Σ a_i eps^i`` of ``poly`` that
    equals ``z0`` at ``eps = 0`` (a simple root), solved order by order."""
    coeffs = sp.symbols(f"a1:{order + 1}")
    ansatz = z0 + sum(a * eps ** (i + 1) for i, a in enumerate(coeffs))
    expanded = sp.Poly(sp.expand(poly.subs(z, ansatz)), eps)
    if sp.expand(expanded.coeff_monomial(1)) != 0:
        raise ValueError(f"{z0} is not a root of {poly} at {eps} = 0")
    solution: dict[Any, Any] = {}
    for i, a in enumerate(coeffs, start=1):
        equation = sp.expand(expanded.coeff_monomial(eps**i).subs(solution))
        solution[a] = sp.factor(sp.solve(equation, a)[0])
    return [solution[a] for a in coeffs]


def peel(expr: Any, *, end: str = "last") -> Any:
    """Split the last (or first) term off every ``Sum`` in ``expr``:
    ``Σ_{k=a}^{b} f(k) = Σ_{k=a}^{b-1} f(k) + f(b)`` (or ``f(a) + Σ_{k=a+1}^{b}``)."""

    def split(s: sp.Sum) -> Any:
        (k, low, high) = s.limits[0]
        if end == "last":
            return sp.Sum(s.function, (k, low, high - 1)) + s.function.subs(k, high)
        return s.function.subs(k, low) + sp.Sum(s.function, (k, low + 1, high))

    return expr.replace(lambda e: isinstance(e, sp.Sum), split)


def one_minus(expr: Any, mu: sp.Symbol) -> Any:
    """``factor(expr)`` with every ``(μ − 1)**k`` written as ``(−1)**k (1 − μ)**k`` (display)."""
    return sp.factor(expr).replace(
        lambda e: e.is_Pow and sp.expand(e.base - (mu - 1)) == 0 and e.exp.is_integer,
        lambda e: (-1) ** e.exp * (1 - mu) ** e.exp,
    )


def generic_branch(expr: Any) -> Any:
    """Replace every ``Piecewise`` by its last (generic, ``True``) branch."""
    return expr.replace(lambda e: isinstance(e, sp.Piecewise), lambda e: e.args[-1].expr)


#: the variable of the smooth test functions below
LAMBDA_X = sp.Symbol("x")
#: a smooth test function replacing undefined gradients in numerical checks
GRAD_TEST = sp.Lambda(LAMBDA_X, LAMBDA_X**3 / 5 + sp.sin(2 * LAMBDA_X) + LAMBDA_X / 2)

#: common sampling boxes, by the kind of symbol
BOX: dict[str, tuple[float, float]] = {
    "m": (0.2, 5.0),
    "c": (0.05, 5.0),
    "dt": (1e-3, 0.5),
    "h": (0.05, 10.0),
    "mu": (0.05, 0.95),
    "eta": (1e-3, 2.0),
    "lr": (1e-3, 1.0),
    "tau": (0.0, 0.9),
    "value": (-2.0, 2.0),
}


def box_of(**pairs: Any) -> dict[Any, tuple[float, float]]:
    """``{symbol: BOX[kind]}`` from ``kind=symbol`` or ``kind=[symbols]`` pairs."""
    out = {}
    for kind, syms in pairs.items():
        syms = syms if isinstance(syms, (list, tuple)) else [syms]
        for s in syms:
            out[s] = BOX[kind]
    return out
