"""The claim engine: :class:`Claim`, :class:`Derivation`, and how a claim is checked.

A claim ``lhs == rhs`` holds when it holds twice:

* **exactly** -- the difference reduces to ``0`` with, in this order, no rewriting at all,
  ``cancel``, ``expand``, ``cancel(expand(.))`` and only then ``simplify``; the report
  records the first method that worked. A claim that only holds in part of the parameter
  space carries a ``region``: a substitution that parametrises that part (e.g.
  ``c -> sqrt(4*m*h - w)`` with ``w > 0``), applied before the exact reduction.
* **numerically** -- ``lhs`` and ``rhs`` are lambdified with the ``mpmath`` backend and
  evaluated at ``n >= MIN_POINTS`` random admissible points (uniform in each symbol's box,
  integers for integer symbols, rejection-sampled against the claim's ``where`` condition)
  at ``MP_DPS`` significant digits; the claim holds if the largest relative error
  ``|lhs - rhs| / max(|lhs|, |rhs|)`` is at most ``RTOL`` (absolute differences below
  ``MP_ZERO`` count as 0). Undefined functions are replaced by a fixed smooth ``Lambda``
  for this check only.

A derivation's numeric twins (:mod:`heavyball.symbolic.twins`) are checked by the same
:meth:`Derivation.check`.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import mpmath
import numpy as np
import sympy as sp

from .._validation import as_bool, as_int, as_real, describe
from . import latex as _latex_mod
from .twins import TWIN_POINTS, Twin, TwinResult, check_twin, lambdify_result

# heavyball.symbolic re-exports all of these but EXACT_METHODS in its own literal __all__
__all__ = [
    "EXACT_METHODS",
    "MIN_POINTS",
    "MP_DPS",
    "MP_ZERO",
    "RTOL",
    "CheckReport",
    "Claim",
    "ClaimResult",
    "Derivation",
    "DerivationError",
    "claim",
]

#: relative tolerance of the numerical check
RTOL = 1e-12
#: significant digits of the mpmath evaluation in the numerical check
MP_DPS = 50
#: absolute differences below this count as equal in the numerical check (claims whose
#: right-hand side is exactly 0 evaluate to rounding noise ~1e-50 at MP_DPS digits)
MP_ZERO = 1e-40
#: the smallest number of random points the numerical check accepts
MIN_POINTS = 20

#: the exact reductions tried on ``lhs - rhs``, in order (name, function)
EXACT_METHODS: tuple[tuple[str, Callable[[Any], Any]], ...] = (
    ("identical", lambda e: e),
    ("cancel", sp.cancel),
    ("expand", sp.expand),
    ("expand+cancel", lambda e: sp.cancel(sp.expand(e))),
    ("simplify", sp.simplify),
)
_METHOD_RANK = {name: i for i, (name, _) in enumerate(EXACT_METHODS)}


# --------------------------------------------------------------------------------------
# claims, reports, derivations
# --------------------------------------------------------------------------------------
class DerivationError(ValueError):
    """A claimed identity of a derivation did not hold (exactly or numerically).

    A subclass of ``ValueError``; ``str(err)`` names the derivation and the claim in
    backticks. Attributes: ``derivation`` (its name), ``claim`` (the first claim that
    failed), ``failed`` (all of them, in order) and ``report`` (the :class:`CheckReport`);
    they are ``None``/empty when the error is raised with a message only.
    """

    def __init__(
        self,
        message: str,
        *,
        derivation: str | None = None,
        claim: str | None = None,
        failed: Iterable[str] = (),
        report: CheckReport | None = None,
    ) -> None:
        self.derivation = derivation
        self.claim = claim
        self.failed = tuple(failed) or ((claim,) if claim else ())
        self.report = report
        super().__init__(message)

    @classmethod
    def from_report(cls, report: CheckReport) -> DerivationError:
        """The error for a failed report: names its first failed claim (and lists the others)."""
        bad = [c for c in report.items() if not c.held]
        first = bad[0]
        also = [c.name for c in bad[1:]]
        tail = f" (also failed: {', '.join(f'`{n}`' for n in also)})" if also else ""
        what = "claim" if isinstance(first, ClaimResult) else "numeric twin"
        message = f"derivation `{report.derivation}`: {what} `{first.name}` does not hold: {first.detail}{tail}"
        return cls(message, derivation=report.derivation, claim=first.name, failed=[c.name for c in bad], report=report)


@dataclass(frozen=True)
class Claim:
    """One identity ``lhs == rhs`` to verify (build it with :func:`claim`).

    Attributes
    ----------
    name : str
        Identifies the claim in reports and errors.
    lhs, rhs : sympy expression or Matrix
        By convention ``lhs`` is what sympy derived and ``rhs`` the stated closed form.
    domain : tuple of (Symbol, low, high)
        Box of admissible values for the numerical check (integers for integer symbols).
    where : sympy boolean or None
        Extra condition the sampled points must satisfy (rejection sampling).
    region : tuple of (expression, expression)
        Substitutions applied in order before the exact reduction only: a parametrisation
        of the part of the space where the claim holds (e.g. ``c -> sqrt(4*m*h - w)``,
        ``w > 0``), or an identity that sympy does not apply by itself (splitting the last
        term off a ``Sum``). The numerical check evaluates the sides as they are.
    functions : tuple of (undefined function, Lambda)
        Concrete smooth functions that replace undefined ones in the numerical check.
    note : str
        What the claim says, in words.
    """

    name: str
    lhs: Any
    rhs: Any
    domain: tuple[tuple[Any, float, float], ...]
    where: Any = None
    region: tuple[tuple[Any, Any], ...] = ()
    functions: tuple[tuple[Any, Any], ...] = ()
    note: str = ""


def _entries(value: Any) -> list[Any]:
    if isinstance(value, sp.MatrixBase):
        return list(value)
    if isinstance(value, (list, tuple, sp.Tuple)):
        out = []
        for item in value:
            out.extend(_entries(item))
        return out
    return [sp.sympify(value)]


def _replace_functions(expr: Any, functions: tuple[tuple[Any, Any], ...]) -> Any:
    if not functions:
        return expr
    if isinstance(expr, sp.MatrixBase):
        return expr.applyfunc(lambda e: _replace_functions(e, functions))
    for func, lam in functions:
        expr = expr.replace(func, lambda *args, _lam=lam: _lam(*args))
    # evaluate the derivatives of the substituted functions, but leave Sums alone: summing
    # a symbolic-limit Sum in closed form is slow and not needed (lambdify loops over it)
    return expr.replace(lambda e: isinstance(e, (sp.Derivative, sp.Subs)), lambda e: e.doit())


def claim(
    name: str,
    lhs: Any,
    rhs: Any,
    domain: Mapping[Any, tuple[float, float]],
    *,
    where: Any = None,
    region: Mapping[Any, Any] | None = None,
    functions: Mapping[Any, Any] | None = None,
    note: str = "",
) -> Claim:
    """Build a :class:`Claim`, checking that the sampling box covers every free symbol.

    Parameters
    ----------
    name : str
    lhs, rhs : sympy expressions (or Matrices of equal shape)
    domain : mapping Symbol -> (low, high)
    where : sympy boolean, optional
    region : mapping Symbol -> expression, optional
        Substitutions applied in order before the exact reduction only.
    functions : mapping undefined function -> Lambda, optional
    note : str

    Examples
    --------
    >>> import sympy as sp
    >>> x = sp.Symbol("x", positive=True)
    >>> c = claim("square", sp.expand((x + 1)**2), x**2 + 2*x + 1, {x: (0.1, 3.0)})
    >>> c.name
    'square'
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"`name` must be a non-empty string, got {describe(name)}")
    if not isinstance(domain, Mapping):
        raise TypeError(f"`domain` must be a mapping Symbol -> (low, high), got {describe(domain)}")
    box = []
    for sym, bounds in domain.items():
        low, high = bounds
        if not float(low) < float(high) and not (sym.is_integer and float(low) <= float(high)):
            raise ValueError(f"`domain` of claim `{name}`: empty range {bounds!r} for {sym}")
        box.append((sym, float(low), float(high)))
    pairs = tuple((functions or {}).items())
    lhs_n = _replace_functions(lhs, pairs)
    rhs_n = _replace_functions(rhs, pairs)
    free = set()
    for e in _entries(lhs_n) + _entries(rhs_n):
        free |= e.free_symbols
    if where is not None:
        free |= sp.sympify(where).free_symbols
    missing = free - {s for s, _, _ in box}
    if missing:
        names = ", ".join(sorted(map(str, missing)))
        raise ValueError(f"`domain` of claim `{name}` does not cover the free symbols {names}")
    if len(_entries(lhs)) != len(_entries(rhs)):
        raise ValueError(f"claim `{name}`: `lhs` and `rhs` have different numbers of entries")
    return Claim(
        name=name,
        lhs=lhs,
        rhs=rhs,
        domain=tuple(box),
        where=where,
        region=tuple((region or {}).items()),
        functions=pairs,
        note=note,
    )


@dataclass(frozen=True)
class ClaimResult:
    """How one claim fared: ``held``; the exact ``method`` (``"none"`` when no method reduced
    the difference to 0); ``max_rel_error`` over ``points`` random points; ``detail``."""

    name: str
    held: bool
    exact: bool
    method: str
    max_rel_error: float
    points: int
    detail: str = ""


@dataclass(frozen=True)
class CheckReport:
    """The outcome of :meth:`Derivation.check`.

    Attributes: ``derivation``, ``claims`` (:class:`ClaimResult` per claim, in order),
    ``seconds``, ``seed``, ``success``, ``status`` (``"verified"`` or ``"failed"``),
    ``message`` in words and ``twins`` (:class:`~heavyball.symbolic.twins.TwinResult` per
    numeric twin).
    """

    derivation: str
    claims: tuple[ClaimResult, ...]
    seconds: float
    seed: int
    success: bool
    status: str
    message: str
    twins: tuple[TwinResult, ...] = ()

    def items(self) -> list[ClaimResult | TwinResult]:
        """The claims' results, then the twins'."""
        return [*self.claims, *self.twins]

    @property
    def held(self) -> tuple[str, ...]:
        """Names of the claims and twins that held."""
        return tuple(c.name for c in self.items() if c.held)

    @property
    def failed(self) -> tuple[str, ...]:
        """Names of the claims and twins that did not hold."""
        return tuple(c.name for c in self.items() if not c.held)

    def methods(self) -> dict:
        """Claim name -> exact method that proved it."""
        return {c.name: c.method for c in self.claims}

    def table(self) -> str:
        """A Markdown table: claim, held, exact method, max relative error, points."""
        rows = ["| claim | held | exact method | max rel. error | points |", "|---|---|---|---|---|"]
        for c in self.claims:
            rows.append(f"| {c.name} | {'yes' if c.held else 'NO'} | {c.method} | {c.max_rel_error:.1e} | {c.points} |")
        return "\n".join(rows)


def _exact_method(lhs: Any, rhs: Any, region: Iterable[tuple[Any, Any]], *, cheap: bool = False) -> str | None:
    """The first method that reduces every entry of ``lhs - rhs`` to 0, or None.

    ``cheap=True`` leaves ``simplify`` out (for a claim already refuted numerically, where
    it could only spend time).
    """
    worst = 0
    methods = EXACT_METHODS[:-1] if cheap else EXACT_METHODS
    for left, right in zip(_entries(lhs), _entries(rhs), strict=False):
        diff = left - right
        for old, new in region:  # in the given order: later entries may refine earlier ones
            diff = diff.subs(old, new)
        for name, method in methods:
            try:
                reduced = method(diff)
            except Exception:  # a method that cannot handle the expression: try the next
                continue
            if reduced == 0:
                worst = max(worst, _METHOD_RANK[name])
                break
        else:
            return None
    return EXACT_METHODS[worst][0]


def _sample(
    box: tuple[tuple[Any, float, float], ...],
    where_fn: Callable[..., Any] | None,
    rng: np.random.Generator,
    n: int,
    claim_name: str,
) -> list[list[Any]]:
    """``n`` admissible points (lists of mpf / int), rejection-sampled against ``where``."""
    points: list[list[Any]] = []
    tries = 0
    while len(points) < n:
        tries += 1
        if tries > 200 * n:
            raise RuntimeError(f"could not sample {n} admissible points for claim `{claim_name}` ({len(points)} found)")
        point = []
        for sym, low, high in box:
            if sym.is_integer:
                point.append(int(rng.integers(int(low), int(high) + 1)))
            else:
                point.append(mpmath.mpf(float(rng.uniform(low, high))))
        if where_fn is not None and not bool(where_fn(*point)):
            continue
        points.append(point)
    return points


def _numeric_error(c: Claim, rng: np.random.Generator, n: int) -> tuple[float, str]:
    """Largest relative error of ``lhs`` vs ``rhs`` at ``n`` random points (mpmath)."""
    # functions that are differentiated are substituted symbolically; the others are passed
    # to lambdify as numeric implementations (substituting them would blow up nested calls)
    differentiated = set()
    for e in _entries(c.lhs) + _entries(c.rhs):
        for d in e.atoms(sp.Derivative, sp.Subs):
            differentiated |= {type(a) for a in d.atoms(sp.core.function.AppliedUndef)}
    symbolic_fns = tuple((f, lam) for f, lam in c.functions if f in differentiated)
    namespace = {
        f.__name__: sp.lambdify(lam.variables, lam.expr, modules="mpmath")
        for f, lam in c.functions
        if f not in differentiated
    }
    lhs = _entries(_replace_functions(c.lhs, symbolic_fns))
    rhs = _entries(_replace_functions(c.rhs, symbolic_fns))
    syms = [s for s, _, _ in c.domain]
    with mpmath.workdps(MP_DPS):
        # common subexpressions keep nested calls small; not with Sums (cse would hoist
        # terms that contain the summation index out of the loop)
        use_cse = not any(e.has(sp.Sum) for e in lhs + rhs)
        fn = sp.lambdify(syms, lhs + rhs, modules=[namespace, "mpmath"], cse=use_cse)
        where_fn = sp.lambdify(syms, c.where, modules="mpmath") if c.where is not None else None
        points = _sample(c.domain, where_fn, rng, n, c.name)
        worst = mpmath.mpf(0)
        k = len(lhs)
        for point in points:
            try:
                values = fn(*point)
            except (ZeroDivisionError, ValueError, TypeError, OverflowError) as exc:
                return float("inf"), f"evaluation failed at {point}: {exc}"
            for left, right in zip(values[:k], values[k:], strict=False):
                left, right = mpmath.mpmathify(left), mpmath.mpmathify(right)
                if not (mpmath.isfinite(left) and mpmath.isfinite(right)):
                    return float("inf"), f"non-finite value at {[float(p) for p in point]}"
                gap = abs(left - right)
                if gap > MP_ZERO:  # below MP_ZERO both sides are the same number (or both 0)
                    worst = max(worst, gap / max(abs(left), abs(right)))
        return float(worst), ""


def _check_claim(c: Claim, rng: np.random.Generator, n: int, rtol: float) -> ClaimResult:
    try:
        error, detail = _numeric_error(c, rng, n)
    except RuntimeError as exc:
        error, detail = float("inf"), str(exc)
    numeric_ok = error <= rtol
    method = _exact_method(c.lhs, c.rhs, c.region, cheap=not numeric_ok)
    exact = method is not None
    if not exact and not detail:
        detail = "the difference did not reduce to 0 (cancel/expand/simplify)"
    if not numeric_ok and not detail:
        detail = f"max relative error {error:.3e} > rtol {rtol:.0e} at {n} random points"
    elif not numeric_ok:
        detail = f"{detail}; numerical check failed"
    elif not exact:
        detail += f"; numerically max relative error {error:.1e}"
    return ClaimResult(
        name=c.name,
        held=exact and numeric_ok,
        exact=exact,
        method=method or "none",
        max_rel_error=error,
        points=n,
        detail="" if (exact and numeric_ok) else detail,
    )


def _key(expr: Any) -> Any:
    """A hashable stand-in for structural equality (Matrices are not hashable)."""
    if isinstance(expr, sp.MatrixBase):
        return ("Matrix", expr.shape, tuple(expr))
    if isinstance(expr, (tuple, list)):
        return tuple(_key(e) for e in expr)
    try:
        return sp.sympify(expr)
    except (sp.SympifyError, TypeError):
        return repr(expr)


def _is_label(expr: Any, sampled: set[Any]) -> bool:
    """A number, or an expression of symbols that no claim samples (a name such as
    ``theta_t - theta_{t-1}``): the side of an ``Eq`` that names, not derives."""
    if not isinstance(expr, sp.Expr) or expr.atoms(sp.Function):
        return False
    return not (expr.free_symbols & sampled)


@dataclass(frozen=True)
class Derivation:
    """A derivation: assumptions, steps, results, the claims to verify, and findings.

    Attributes
    ----------
    name, title : str
    assumptions : tuple of str
        In words, including each symbol with its sympy assumptions.
    symbols : dict name -> sympy Symbol (or undefined Function)
        The symbols the derivation used (e.g. to build a mutated claim in a test).
    result : dict name -> sympy expression or Eq
        What was derived.
    steps : tuple of (label, expression)
        The intermediate steps, in order.
    claims : tuple of :class:`Claim`
        The identities :meth:`check` verifies.
    findings : tuple of str
        Plain-language conclusions, notably where the lecture's formulas differ.
    signatures : dict key -> tuple of Symbols
        Argument order of :meth:`numeric` for the results numeric code uses.
    references : tuple of str
    twins : dict key -> :class:`~heavyball.symbolic.twins.Twin`
        Library functions that compute ``result[key]`` numerically; :meth:`check`
        compares them with the lambdified result (``key`` needs a signature).
    """

    name: str
    title: str
    assumptions: tuple[str, ...]
    symbols: Mapping[str, Any]
    result: Mapping[str, Any]
    steps: tuple[tuple[str, Any], ...]
    claims: tuple[Claim, ...]
    findings: tuple[str, ...] = ()
    signatures: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    references: tuple[str, ...] = ()
    twins: Mapping[str, Twin] = field(default_factory=dict)

    def ties(self) -> dict[str, str | None]:
        """Each ``result`` key -> what checks it: ``"claim NAME"``, ``"twin FUNCTION"`` or ``None``.

        An entry is tied to a claim when it is the ``lhs`` or ``rhs`` of one (sympy's
        structural equality: the printed expression is the checked one). An ``Eq`` is tied
        when each of its sides is a claim side, a number or a label (built from symbols that
        no claim samples, e.g. ``M_inf``), and at least one is a claim side. An entry with a :class:`~heavyball.symbolic.twins.Twin`
        is tied to the library function it is compared with. ``None`` marks an entry that
        nothing checks; the test suite requires that there is none.
        """
        sides: dict[Any, str] = {}
        sampled: set[Any] = set()
        for c in self.claims:
            sampled |= {s for s, _, _ in c.domain}
            for side in (c.lhs, c.rhs):
                sides.setdefault(_key(side), c.name)
        out: dict[str, str | None] = {}
        for key, value in self.result.items():
            if key in self.twins:
                out[key] = f"twin {self.twins[key].function}"
                continue
            parts = [value.lhs, value.rhs] if isinstance(value, sp.Eq) else [value]
            names = [sides.get(_key(p)) for p in parts]
            labels = all(n is not None or _is_label(p, sampled) for n, p in zip(names, parts, strict=True))
            found = [n for n in names if n is not None]
            out[key] = f"claim {found[0]}" if found and labels else None
        return out

    def claim(self, name: str) -> Claim:
        """The claim called ``name`` (``ValueError`` listing the names otherwise)."""
        for c in self.claims:
            if c.name == name:
                return c
        raise ValueError(
            f"`name` must be a claim of `{self.name}` ({', '.join(c.name for c in self.claims)}), got {name!r}"
        )

    def with_claim(self, name: str, rhs: Any) -> Derivation:
        """A copy whose claim ``name`` states ``rhs`` instead (to test that errors are caught).

        Examples
        --------
        >>> from heavyball.symbolic import discretization
        >>> d = discretization()
        >>> m, dt = d.symbols["m"], d.symbols["dt"]
        >>> d.with_claim("eta", dt**2 / m).check()
        Traceback (most recent call last):
        ...
        heavyball.symbolic.claims.DerivationError: derivation `discretization`: claim `eta` does not hold: ...
        """
        old = self.claim(name)
        if len(_entries(rhs)) != len(_entries(old.rhs)):
            raise ValueError(
                f"`rhs` must have {len(_entries(old.rhs))} entries like claim `{name}`, got {describe(rhs)}"
            )
        new = dataclasses.replace(old, rhs=sp.sympify(rhs) if not isinstance(rhs, sp.MatrixBase) else rhs)
        return dataclasses.replace(self, claims=tuple(new if c.name == name else c for c in self.claims))

    def check(self, *, seed: int = 0, n: int = MIN_POINTS, rtol: float = RTOL, strict: bool = True) -> CheckReport:
        """Verify every claim exactly and at ``n`` random admissible points.

        Parameters
        ----------
        seed : int
            Seed of the numpy generator that draws the points.
        n : int
            Number of random points per claim, at least ``MIN_POINTS`` (20).
        rtol : float
            Largest admissible relative error (default ``1e-12``); evaluation uses mpmath at
            ``MP_DPS`` digits.
        strict : bool
            Raise :class:`DerivationError` naming the first failed claim (default); with
            ``False`` return the report with ``success=False`` instead.

        Returns
        -------
        CheckReport
        """
        seed = as_int("seed", seed, minimum=0)
        n = as_int("n", n, minimum=MIN_POINTS)
        rtol = as_real("rtol", rtol, lower=0.0, lower_inclusive=False, upper=1e-6)
        strict = as_bool("strict", strict)
        start = time.perf_counter()
        rng = np.random.default_rng(seed)
        results = tuple(_check_claim(c, rng, n, rtol) for c in self.claims)
        twins = tuple(check_twin(self, key, twin, rng, max(n, TWIN_POINTS)) for key, twin in self.twins.items())
        seconds = time.perf_counter() - start
        items: list[ClaimResult | TwinResult] = [*results, *twins]
        failed = [(r.name, r.detail) for r in items if not r.held]
        if failed:
            total = len(results) + len(twins)
            message = f"{len(failed)} of {total} claims and twins failed: " + "; ".join(
                f"`{name}`: {detail}" for name, detail in failed
            )
        else:
            worst = max((r.max_rel_error for r in results), default=0.0)
            message = f"all {len(results)} claims hold exactly and numerically (max relative error {worst:.1e})"
            if twins:
                message += f"; {len(twins)} numeric twins agree with the library"
        report = CheckReport(
            derivation=self.name,
            claims=results,
            seconds=seconds,
            seed=seed,
            success=not failed,
            status="failed" if failed else "verified",
            message=message,
            twins=twins,
        )
        if failed and strict:
            raise DerivationError.from_report(report)
        return report

    def numeric(self, key: str, *, modules: str = "numpy") -> Callable[..., Any]:
        """``result[key]`` as a function of ``signatures[key]`` (see :func:`heavyball.symbolic.numeric`)."""
        return lambdify_result(self, key, modules)

    def latex(self) -> str:
        r"""This derivation as LaTeX: title, steps and results in display environments."""
        return _latex_mod.derivation_block(self)
