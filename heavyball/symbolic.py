r"""Sympy derivations of the relations the lecture states, each checked twice and printable.

Every relation between the heavy-ball ODE, its discretisations and the optimisers that
``torch.optim`` runs is *derived* here: sympy does the algebra from the update rules or the
ODE, and the closed forms that the lecture (or a paper) states are then checked against
what was derived. Each derivation is a frozen :class:`Derivation` with its assumptions,
intermediate ``steps``, a ``result`` dictionary, the ``claims`` to verify and plain-language
``findings`` (where the lecture's formulas are loose or mix conventions, the finding says so).

``Derivation.check()`` verifies every claim ``lhs == rhs`` twice:

* **exactly** -- the difference reduces to ``0`` with, in this order, no rewriting at all,
  ``cancel``, ``expand``, ``cancel(expand(.))`` and only then ``simplify``; the report
  records the first method that worked (``simplify`` is therefore visible when it was needed).
  Symbols carry sympy assumptions (``positive=True``...). A claim that only holds in part of
  the parameter space (e.g. "complex roots have modulus sqrt(mu)") carries a ``region``: a
  substitution that parametrises that part (e.g. ``c -> sqrt(4*m*h - w)`` with ``w > 0``),
  applied before the exact reduction.
* **numerically** -- ``lhs`` and ``rhs`` are lambdified with the ``mpmath`` backend and
  evaluated at ``n >= 20`` random admissible points (uniform in each symbol's box, integers
  for integer symbols, rejection-sampled against the claim's ``where`` condition) at
  ``MP_DPS = 50`` significant digits; the claim holds if the largest relative error
  ``|lhs - rhs| / max(|lhs|, |rhs|)`` is at most ``rtol = 1e-12`` (absolute differences below
  ``MP_ZERO = 1e-40`` count as 0, so that claims ``expr == 0`` are not judged on noise). mpmath (rather than
  float64) is used so that the tolerance tests the identity and not float64 cancellation in
  long unrolled expressions. Undefined functions (a general gradient ``g(x)``, a general
  objective ``f(x1, x2, x3)``) are replaced by a fixed smooth ``Lambda`` for this check only.

A claim that fails either way makes ``check()`` raise :class:`DerivationError` (a
``ValueError``) naming the claim (``err.claim``; all failures in ``err.failed``); with
``strict=False`` the :class:`CheckReport` is returned with ``success=False`` instead.

``DERIVATIONS`` maps each name to a factory (a zero-argument callable, cached, returning
the :class:`Derivation`); for convenience the factory also forwards attribute access, so
``DERIVATIONS["discretization"]().check()`` and ``DERIVATIONS["discretization"].check()``
are the same. The factories themselves (``discretization(m=..., c=..., dt=...)`` and so
on) accept the symbols to use as keyword arguments.

Numeric twins
-------------
``numeric(name, key)`` lambdifies ``DERIVATIONS[name]().result[key]`` (numpy backend by
default) with the positional argument order below, so numeric code can be tested against
its symbolic twin:

=========================== ==================================== ==============================
derivation                  keys                                 arguments, in order
=========================== ==================================== ==============================
discretization              mu, eta, eta_displacement, lr,       (m, c, dt)
                            momentum, effective_step
discretization              m_from_velocity, c_from_velocity     (mu, eta, dt)
discretization              m_from_torch, c_from_torch           (lr, mu, dt)
consistency                 discriminant                         (m, c, h, dt)
characteristic_polynomials  heavyball, nesterov, gd (in z)       (z, h, lr, mu)
characteristic_polynomials  heavyball_trace, heavyball_det,      (h, lr, mu)
                            nesterov_trace, nesterov_det,
                            gd_root, discriminant_heavyball,
                            modulus_complex
characteristic_polynomials  critical_momentum, critical_rate     (h, lr)
optimal_parameters          polyak_lr, polyak_momentum,          (h_min, h_max)
                            polyak_rate, gd_lr, gd_rate,
                            nesterov_lr, nesterov_momentum,
                            nesterov_rate
continuous_regimes          s_plus, s_minus, rate, discriminant  (m, c, h)
continuous_regimes          critical_c                           (m, h)
continuous_regimes          optimal_c, optimal_rate              (m, h_min)
modified_equation           C_heavyball, C_nesterov, C_gd,       (mu,)
                            shift_heavyball, shift_nesterov,
                            flow_factor
=========================== ==================================== ==============================

``s_plus``/``s_minus`` contain a square root that is imaginary for underdamped
parameters: pass complex input (``np.asarray(m, complex)``) or use ``rate``, which is written
with ``Max(c**2 - 4*m*h, 0)`` and is real everywhere.

Examples
--------
>>> from heavyball import symbolic
>>> d = symbolic.DERIVATIONS["discretization"]()
>>> d.result["mu"]
-c*dt/m + 1
>>> d.check().success
True
>>> symbolic.numeric("discretization", "lr")(1.0, 0.5, 0.1)  # (m, c, dt) -> dt**2/m
0.010000000000000002

References
----------
Polyak (1964); Qian (1999); Sutskever, Martens, Dahl & Hinton (2013); Kingma & Ba (2015);
Goh (2017), "Why Momentum Really Works", Distill; Kovachki & Stuart (2021), "Continuous time
analysis of momentum methods", JMLR 22; Ghosh, Lyu, Zhang & Wang (2023), "Implicit
regularization in heavy-ball momentum accelerated stochastic gradient descent", ICLR.
The lecture: "Variantes de Gradient Descent: Momento, Friccion y ADAM" (ORT Uruguay, 2025).
"""

from __future__ import annotations

import dataclasses
import functools
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import mpmath
import numpy as np
import sympy as sp

from ._validation import as_bool, as_choice, as_int, as_real, describe

__all__ = [
    "DERIVATIONS",
    "MIN_POINTS",
    "MP_DPS",
    "MP_ZERO",
    "RTOL",
    "CheckReport",
    "Claim",
    "ClaimResult",
    "Derivation",
    "DerivationError",
    "DerivationFactory",
    "adam_bias_correction",
    "characteristic_polynomials",
    "check_all",
    "claim",
    "consistency",
    "continuous_regimes",
    "dampening",
    # factories
    "discretization",
    "energy_dissipation",
    "latex_document",
    "modified_equation",
    "momentum_sum",
    "nesterov_equivalence",
    "numeric",
    "optimal_parameters",
    "sgd_equals_heavyball",
    "weight_decay",
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

_EXACT_METHODS: tuple[tuple[str, Callable], ...] = (
    ("identical", lambda e: e),
    ("cancel", sp.cancel),
    ("expand", sp.expand),
    ("expand+cancel", lambda e: sp.cancel(sp.expand(e))),
    ("simplify", sp.simplify),
)
_METHOD_RANK = {name: i for i, (name, _) in enumerate(_EXACT_METHODS)}


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
        self, message: str, *, derivation: str | None = None, claim: str | None = None, failed=(), report=None
    ):
        self.derivation = derivation
        self.claim = claim
        self.failed = tuple(failed) or ((claim,) if claim else ())
        self.report = report
        super().__init__(message)

    @classmethod
    def from_report(cls, report: CheckReport) -> DerivationError:
        """The error for a failed report: names its first failed claim (and lists the others)."""
        bad = [c for c in report.claims if not c.held]
        first = bad[0]
        also = [c.name for c in bad[1:]]
        tail = f" (also failed: {', '.join(f'`{n}`' for n in also)})" if also else ""
        message = f"derivation `{report.derivation}`: claim `{first.name}` does not hold: {first.detail}{tail}"
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
    region : tuple of (Symbol, expression)
        Substitution parametrising the part of the space where the claim holds, applied
        before the exact reduction (e.g. ``c -> sqrt(4*m*h - w)``, ``w > 0``).
    functions : tuple of (undefined function, Lambda)
        Concrete smooth functions that replace undefined ones in the numerical check.
    note : str
        What the claim says, in words.
    """

    name: str
    lhs: Any
    rhs: Any
    domain: tuple
    where: Any = None
    region: tuple = ()
    functions: tuple = ()
    note: str = ""


def _entries(value) -> list:
    if isinstance(value, sp.MatrixBase):
        return list(value)
    if isinstance(value, (list, tuple, sp.Tuple)):
        out = []
        for item in value:
            out.extend(_entries(item))
        return out
    return [sp.sympify(value)]


def _replace_functions(expr, functions) -> Any:
    if not functions:
        return expr
    if isinstance(expr, sp.MatrixBase):
        return expr.applyfunc(lambda e: _replace_functions(e, functions))
    for func, lam in functions:
        expr = expr.replace(func, lambda *args, _lam=lam: _lam(*args))
    # evaluate the derivatives of the substituted functions, but leave Sums alone: summing
    # a symbolic-limit Sum in closed form is slow and not needed (lambdify loops over it)
    return expr.replace(lambda e: isinstance(e, (sp.Derivative, sp.Subs)), lambda e: e.doit())


def claim(name, lhs, rhs, domain, *, where=None, region=None, functions=None, note="") -> Claim:
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
    functions = tuple((functions or {}).items())
    lhs_n = _replace_functions(lhs, functions)
    rhs_n = _replace_functions(rhs, functions)
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
        functions=functions,
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
    ``seconds``, ``seed``, ``success``, ``status`` (``"verified"`` or ``"failed"``) and
    ``message`` in words.
    """

    derivation: str
    claims: tuple
    seconds: float
    seed: int
    success: bool
    status: str
    message: str

    @property
    def held(self) -> tuple:
        """Names of the claims that held."""
        return tuple(c.name for c in self.claims if c.held)

    @property
    def failed(self) -> tuple:
        """Names of the claims that did not hold."""
        return tuple(c.name for c in self.claims if not c.held)

    def methods(self) -> dict:
        """Claim name -> exact method that proved it."""
        return {c.name: c.method for c in self.claims}

    def table(self) -> str:
        """A Markdown table: claim, held, exact method, max relative error, points."""
        rows = ["| claim | held | exact method | max rel. error | points |", "|---|---|---|---|---|"]
        for c in self.claims:
            rows.append(f"| {c.name} | {'yes' if c.held else 'NO'} | {c.method} | {c.max_rel_error:.1e} | {c.points} |")
        return "\n".join(rows)


def _exact_method(lhs, rhs, region) -> str | None:
    """The first method that reduces every entry of ``lhs - rhs`` to 0, or None."""
    worst = 0
    for left, right in zip(_entries(lhs), _entries(rhs), strict=False):
        diff = left - right
        for old, new in region:  # in the given order: later entries may refine earlier ones
            diff = diff.subs(old, new)
        for name, method in _EXACT_METHODS:
            try:
                reduced = method(diff)
            except Exception:  # a method that cannot handle the expression: try the next
                continue
            if reduced == 0:
                worst = max(worst, _METHOD_RANK[name])
                break
        else:
            return None
    return _EXACT_METHODS[worst][0]


def _sample(box, where_fn, rng, n, claim_name):
    """``n`` admissible points (lists of mpf / int), rejection-sampled against ``where``."""
    points = []
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


def _numeric_error(c: Claim, rng, n: int) -> tuple[float, str]:
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


def _check_claim(c: Claim, rng, n: int, rtol: float) -> ClaimResult:
    method = _exact_method(c.lhs, c.rhs, c.region)
    try:
        error, detail = _numeric_error(c, rng, n)
    except RuntimeError as exc:
        error, detail = float("inf"), str(exc)
    exact = method is not None
    numeric_ok = error <= rtol
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
    """

    name: str
    title: str
    assumptions: tuple
    symbols: Mapping
    result: Mapping
    steps: tuple
    claims: tuple
    findings: tuple = ()
    signatures: Mapping = field(default_factory=dict)
    references: tuple = ()

    def claim(self, name: str) -> Claim:
        """The claim called ``name`` (``ValueError`` listing the names otherwise)."""
        for c in self.claims:
            if c.name == name:
                return c
        raise ValueError(
            f"`name` must be a claim of `{self.name}` ({', '.join(c.name for c in self.claims)}), got {name!r}"
        )

    def with_claim(self, name: str, rhs) -> Derivation:
        """A copy whose claim ``name`` states ``rhs`` instead (to test that errors are caught).

        Examples
        --------
        >>> d = discretization()
        >>> m, dt = d.symbols["m"], d.symbols["dt"]
        >>> d.with_claim("eta", dt**2 / m).check()
        Traceback (most recent call last):
        ...
        heavyball.symbolic.DerivationError: derivation `discretization`: claim `eta` does not hold: ...
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
        seconds = time.perf_counter() - start
        failed = [r for r in results if not r.held]
        if failed:
            message = f"{len(failed)} of {len(results)} claims failed: " + "; ".join(
                f"`{r.name}`: {r.detail}" for r in failed
            )
        else:
            worst = max((r.max_rel_error for r in results), default=0.0)
            message = f"all {len(results)} claims hold exactly and numerically (max relative error {worst:.1e})"
        report = CheckReport(
            derivation=self.name,
            claims=results,
            seconds=seconds,
            seed=seed,
            success=not failed,
            status="failed" if failed else "verified",
            message=message,
        )
        if failed and strict:
            raise DerivationError.from_report(report)
        return report

    def numeric(self, key: str, *, modules: str = "numpy") -> Callable:
        """``result[key]`` as a function of ``signatures[key]`` (see the module docstring)."""
        return numeric(self.name, key, modules=modules, derivation=self)

    def latex(self) -> str:
        r"""A self-contained ``align*`` block (needs ``amsmath``): title, steps, results.

        The findings precede it as TeX comments. Non-ASCII text is translated to TeX.
        """
        lines = [f"% {self.name}: {_tex_text(self.title, math=False)}"]
        for finding in self.findings:
            lines.append("% finding: " + _tex_text(finding, math=False).replace("\n", " "))
        lines.append(r"\begin{align*}")
        body = [rf"&\text{{\textbf{{{_tex_text(self.title)}}}}}"]
        for label, expr in self.steps:
            body.append(rf"&\text{{{_tex_text(label)}:}}\quad {_latex(expr)}")
        for key, value in self.result.items():
            body.append(rf"&\text{{result {_tex_text(key)}:}}\quad {_latex(value)}")
        lines.append(" \\\\\n".join(body))
        lines.append(r"\end{align*}")
        return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------
# LaTeX helpers
# --------------------------------------------------------------------------------------
_SYMBOL_TEX = {
    "dt": r"\Delta t",
    "lr": r"\gamma",
    "h_min": r"h_{\min}",
    "h_max": r"h_{\max}",
    "eta_p": r"\eta_{p}",
    "kappa": r"\kappa",
    "eps": r"\varepsilon",
    "theta_k": r"\theta_{k}",
    "theta_0": r"\theta_{0}",
}

_UNICODE_TEX = {
    "μ": r"\mu",
    "η": r"\eta",
    "γ": r"\gamma",
    "τ": r"\tau",
    "λ": r"\lambda",
    "Δ": r"\Delta",
    "θ": r"\theta",
    "∇": r"\nabla",
    "ε": r"\varepsilon",
    "β": r"\beta",
    "κ": r"\kappa",
    "ρ": r"\rho",
    "σ": r"\sigma",
    "φ": r"\varphi",
    "δ": r"\delta",
    "ω": r"\omega",
    "ξ": r"\xi",
    "≤": r"\le",
    "≥": r"\ge",
    "≠": r"\ne",
    "→": r"\to",
    "≈": r"\approx",
    "∞": r"\infty",
    "·": r"\cdot",
    "−": "-",
    "×": r"\times",
    "√": r"\surd",
    "‖": r"\|",
    "∑": r"\sum",
    "²": "^2",
    "³": "^3",
    "ᵗ": "^t",
    "½": r"\tfrac12",
    "′": "'",
    "⇔": r"\Leftrightarrow",
    "∈": r"\in",
    "±": r"\pm",
    "∂": r"\partial",
    "∓": r"\mp",
    "≡": r"\equiv",
    "⁻": "^-",
    "¹": "^1",
    "ᵀ": "^T",
    "ₖ": "_k",
    "₀": "_0",
    "₁": "_1",
    "₂": "_2",
    "ᵢ": "_i",
    "←": r"\leftarrow",
    "⇒": r"\Rightarrow",
    "∝": r"\propto",
    "∘": r"\circ",
    "≪": r"\ll",
    "≫": r"\gg",
    "ᵏ": "^k",
    "Σ": r"\Sigma",
}
_UNICODE_WORDS = {
    "·": "*",
    "←": "<-",
    "→": "->",
    "≤": "<=",
    "≥": ">=",
    "≠": "!=",
    "√": "sqrt",
    "‖": "||",
    "×": "x",
    "⇒": "=>",
    "⇔": "<=>",
    "≈": "~",
    "½": "1/2",
    "∞": "inf",
    "±": "+-",
}
_TEXT_ESCAPES = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
}
_PLAIN = {"“": '"', "”": '"', "‘": "'", "’": "'", "—": "--", "–": "-", "…": "..."}


def _tex_text(text: str, *, math: bool = True) -> str:
    """Plain text -> ASCII: TeX text with inline math (``math=True``) or words (comments)."""
    out = []
    for i, ch in enumerate(text):
        if ch in _PLAIN:
            out.append(_PLAIN[ch])
        elif ch in _UNICODE_TEX:
            if math:
                out.append(f"${_UNICODE_TEX[ch]}$")
            else:
                word = _UNICODE_WORDS.get(ch, _UNICODE_TEX[ch].lstrip("\\"))
                following = text[i + 1] if i + 1 < len(text) else ""
                out.append(word + " " if word[-1:].isalpha() and (following.isalnum() or following in "(∇") else word)
        elif ch in _TEXT_ESCAPES and math:
            out.append(_TEXT_ESCAPES[ch])
        elif ord(ch) < 128:
            out.append(ch)
        else:
            out.append("?")
    return "".join(out).replace("$$", "")


def _latex(expr) -> str:
    if isinstance(expr, str):
        return rf"\text{{{_tex_text(expr)}}}"
    if isinstance(expr, (tuple, list)):
        return r",\ ".join(_latex(e) for e in expr)
    names = {}
    try:
        free = expr.free_symbols if isinstance(expr, sp.MatrixBase) else sp.sympify(expr).free_symbols
    except (sp.SympifyError, AttributeError):
        free = set()
    for s in free:
        if s.name in _SYMBOL_TEX:
            names[s] = _SYMBOL_TEX[s.name]
        else:
            match = _BRACED.match(s.name)
            if match and match.group(1) in _GREEK:
                names[s] = rf"\{match.group(1)}_{{{match.group(2)}}}"
    return sp.latex(expr, symbol_names=names)


_BRACED = re.compile(r"^([A-Za-z]+)_\{(.+)\}$")
_GREEK = {
    "alpha",
    "beta",
    "gamma",
    "delta",
    "eta",
    "theta",
    "kappa",
    "lambda",
    "mu",
    "nu",
    "xi",
    "rho",
    "sigma",
    "tau",
    "phi",
    "varphi",
    "omega",
    "epsilon",
    "varepsilon",
}


def latex_document(names=None) -> str:
    r"""A minimal, compilable LaTeX document with the chosen derivations (all by default).

    Each derivation is a section with its assumptions and findings (itemised) and its
    :meth:`Derivation.latex` block. Needs only ``amsmath``. The text is pure ASCII.
    """
    names = list(DERIVATIONS) if names is None else [as_choice("names", n, DERIVATIONS) for n in names]
    parts = [
        r"\documentclass{article}",
        r"\usepackage{amsmath}",
        r"\allowdisplaybreaks",
        r"\begin{document}",
        r"\section*{heavyball: derivations checked by sympy}",
    ]
    for name in names:
        d = DERIVATIONS[name]()
        parts.append(rf"\section{{{_tex_text(d.title)}}}")
        parts.append(rf"\noindent\texttt{{{_tex_text(d.name)}}}")
        items = [rf"\item {_tex_text(a)}" for a in d.assumptions]
        parts.append(r"\paragraph{Assumptions}" + "\n\\begin{itemize}\n" + "\n".join(items) + "\n\\end{itemize}")
        parts.append(d.latex())
        if d.findings:
            items = [rf"\item {_tex_text(f)}" for f in d.findings]
            parts.append(r"\paragraph{Findings}" + "\n\\begin{itemize}\n" + "\n".join(items) + "\n\\end{itemize}")
    parts.append(r"\end{document}")
    return "\n".join(parts) + "\n"


# --------------------------------------------------------------------------------------
# registry, numeric twins
# --------------------------------------------------------------------------------------
class DerivationFactory:
    """A zero-argument, cached factory of one :class:`Derivation`.

    Calling it builds (once) and returns the derivation; attribute access is forwarded to
    the built derivation, so ``factory.check()`` is ``factory().check()``.
    """

    def __init__(self, name: str, build: Callable[[], Derivation]):
        self.name = name
        self._build = build

    def __call__(self) -> Derivation:
        return self._build()

    def __getattr__(self, attr):
        if attr.startswith("_"):
            raise AttributeError(attr)
        return getattr(self._build(), attr)

    def __repr__(self) -> str:
        return f"<DerivationFactory {self.name!r}>"


@functools.cache
def _lambdified(name: str, key: str, modules: str) -> Callable:
    d = DERIVATIONS[name]()
    return _lambdify_result(d, key, modules)


def _lambdify_result(d: Derivation, key: str, modules: str) -> Callable:
    if key not in d.signatures:
        what = "has no numeric signature" if key in d.result else "is not a result"
        raise ValueError(f"`key` must be one of {', '.join(map(repr, d.signatures))} for `{d.name}`; {key!r} {what}")
    value = d.result[key]
    if isinstance(value, sp.Eq):
        value = value.rhs
    fn = sp.lambdify(d.signatures[key], value, modules=modules)
    args = ", ".join(str(s) for s in d.signatures[key])
    fn.__doc__ = f"{d.name}.result[{key!r}] as a function of ({args}):\n\n    {value}\n"
    return fn


def numeric(name: str, key: str, *, modules: str = "numpy", derivation: Derivation | None = None) -> Callable:
    """The derived ``result[key]`` of derivation ``name`` as a numeric function.

    Parameters
    ----------
    name : str
        A key of ``DERIVATIONS``.
    key : str
        A result with a documented signature (table in the module docstring).
    modules : {"numpy", "mpmath", "math"}
        Lambdify backend.

    Returns
    -------
    callable
        ``f(*args)`` with the arguments in the documented order; numpy broadcasting.

    Examples
    --------
    >>> round(float(numeric("optimal_parameters", "polyak_rate")(0.01, 1.0)), 12)  # (h_min, h_max) -> 9/11
    0.818181818182
    """
    name = as_choice("name", name, DERIVATIONS)
    modules = as_choice("modules", modules, ("numpy", "mpmath", "math"))
    if not isinstance(key, str):
        raise TypeError(f"`key` must be a string naming a result of `{name}`, got {describe(key)}")
    if derivation is not None:
        return _lambdify_result(derivation, key, modules)
    return _lambdified(name, key, modules)


def check_all(*, seed: int = 0, n: int = MIN_POINTS, strict: bool = True) -> dict:
    """Check every registered derivation; returns name -> :class:`CheckReport`."""
    return {name: factory().check(seed=seed, n=n, strict=strict) for name, factory in DERIVATIONS.items()}


# --------------------------------------------------------------------------------------
# shared building blocks: the update rules, written once
# --------------------------------------------------------------------------------------
def _pos(name: str) -> sp.Symbol:
    return sp.Symbol(name, positive=True)


def _real(name: str) -> sp.Symbol:
    return sp.Symbol(name, real=True)


def _given(value, name: str, **assumptions) -> sp.Basic:
    """The symbol passed to a factory, or a fresh one named ``name`` with ``assumptions``."""
    if value is None:
        return sp.Symbol(name, **assumptions)
    if isinstance(value, str):
        return sp.Symbol(value, **assumptions)
    if not isinstance(value, sp.Symbol):
        raise TypeError(f"`{name}` must be a sympy Symbol or a name, got {describe(value)}")
    return value


def _assumptions(symbols, *texts) -> tuple:
    """Texts, then each symbol with its sympy assumptions."""
    out = list(texts)
    keys = ("positive", "nonnegative", "real", "integer")
    for s in symbols:
        facts = [k for k in keys if s.assumptions0.get(k)]
        if "positive" in facts:
            facts = [k for k in facts if k not in ("real", "nonnegative")]
        out.append(f"symbol {s.name}: {', '.join(facts) if facts else 'complex (no assumption)'}")
    return tuple(out)


def _semi_implicit_euler(theta, v, grad, *, m, c, dt):
    """One semi-implicit (symplectic) Euler step of ``m v' = -grad - c v``, ``θ' = v``:
    the velocity first (force and friction at the old state), then the position with the
    new velocity."""
    v_next = v + dt * (-grad - c * v) / m
    return theta + dt * v_next, v_next


def _heavyball_step(theta, v, grad, *, eta, mu, dt):
    """The physical form ``v ← μv − η∇f(θ)``, ``θ ← θ + Δt·v``."""
    v_next = mu * v - eta * grad
    return theta + dt * v_next, v_next


def _torch_sgd_step(theta, buf, grad, *, lr, momentum, dampening=0, nesterov=False, first=False):
    """One step of ``torch.optim.SGD`` (weight decay already folded into ``grad``):
    first step ``b = g``, later ``b = μb + (1−τ)g``; ``d = g + μb`` (Nesterov) or ``b``;
    ``θ ← θ − γd``."""
    buf_next = grad if first else momentum * buf + (1 - dampening) * grad
    direction = grad + momentum * buf_next if nesterov else buf_next
    return theta - lr * direction, buf_next


def _iteration_matrix(method: str, h, lr, mu) -> sp.Matrix:
    """The linear map of one step on ``f = ½hθ²``: state ``(θ, b)`` (``(θ,)`` for GD)."""
    theta, buf = sp.symbols("theta b", real=True)
    if method == "gd":
        new, _ = _torch_sgd_step(theta, 0, h * theta, lr=lr, momentum=0)
        return sp.Matrix([new]).jacobian([theta])
    new_theta, new_buf = _torch_sgd_step(theta, buf, h * theta, lr=lr, momentum=mu, nesterov=method == "nesterov")
    return sp.Matrix([new_theta, new_buf]).jacobian([theta, buf])


def _root_series(poly, z, eps, z0, order: int) -> list:
    """Coefficients ``a_1..a_order`` of the root ``z = z0 + Σ a_i eps^i`` of ``poly`` that
    equals ``z0`` at ``eps = 0`` (a simple root), solved order by order."""
    coeffs = sp.symbols(f"a1:{order + 1}")
    ansatz = z0 + sum(a * eps ** (i + 1) for i, a in enumerate(coeffs))
    expanded = sp.Poly(sp.expand(poly.subs(z, ansatz)), eps)
    if sp.expand(expanded.coeff_monomial(1)) != 0:
        raise ValueError(f"{z0} is not a root of {poly} at {eps} = 0")
    solution = {}
    for i, a in enumerate(coeffs, start=1):
        equation = sp.expand(expanded.coeff_monomial(eps**i).subs(solution))
        solution[a] = sp.factor(sp.solve(equation, a)[0])
    return [solution[a] for a in coeffs]


def _peel(expr, *, end: str = "last"):
    """Split the last (or first) term off every ``Sum`` in ``expr``:
    ``Σ_{k=a}^{b} f(k) = Σ_{k=a}^{b-1} f(k) + f(b)`` (or ``f(a) + Σ_{k=a+1}^{b}``)."""

    def split(s):
        (k, low, high) = s.limits[0]
        if end == "last":
            return sp.Sum(s.function, (k, low, high - 1)) + s.function.subs(k, high)
        return s.function.subs(k, low) + sp.Sum(s.function, (k, low + 1, high))

    return expr.replace(lambda e: isinstance(e, sp.Sum), split)


def _one_minus(expr, mu):
    """``factor(expr)`` with every ``(μ − 1)**k`` written as ``(−1)**k (1 − μ)**k`` (display)."""
    return sp.factor(expr).replace(
        lambda e: e.is_Pow and sp.expand(e.base - (mu - 1)) == 0 and e.exp.is_integer,
        lambda e: (-1) ** e.exp * (1 - mu) ** e.exp,
    )


def _generic_branch(expr):
    """Replace every ``Piecewise`` by its last (generic, ``True``) branch."""
    return expr.replace(lambda e: isinstance(e, sp.Piecewise), lambda e: e.args[-1].expr)


# a smooth test function replacing undefined gradients in numerical checks
_X = sp.Symbol("x")
_GRAD_TEST = sp.Lambda(_X, _X**3 / 5 + sp.sin(2 * _X) + _X / 2)

# common sampling boxes
_BOX = {
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


def _box(**pairs) -> dict:
    """``{symbol: _BOX[kind]}`` from ``kind=symbol`` or ``kind=[symbols]`` pairs."""
    out = {}
    for kind, syms in pairs.items():
        syms = syms if isinstance(syms, (list, tuple)) else [syms]
        for s in syms:
            out[s] = _BOX[kind]
    return out


# --------------------------------------------------------------------------------------
# 1. discretization
# --------------------------------------------------------------------------------------
@functools.cache
def discretization(*, m=None, c=None, dt=None) -> Derivation:
    r"""Semi-implicit Euler on the heavy-ball ODE, its two position forms, and the map to SGD.

    From ``m·v' = −∇f − c·v``, ``θ' = v`` with step Δt (velocity first, then position):
    ``v_{k+1} = μ v_k − η ∇f(θ_k)``, ``θ_{k+1} = θ_k + Δt·v_{k+1}`` with ``μ = 1 − cΔt/m``,
    ``η = Δt/m`` (velocity form). With the displacement ``p = Δt·v`` the position update is
    ``θ_{k+1} = θ_k + p_{k+1}`` and the gradient coefficient is ``Δt²/m``; that is
    ``torch.optim.SGD(lr=Δt²/m, momentum=1 − cΔt/m)`` with ``b = −p/lr``. Inverse maps
    ``m = Δt/η, c = (1−μ)/η`` (velocity) and ``m = Δt²/γ, c = (1−μ)Δt/γ`` (torch).

    Examples
    --------
    >>> d = discretization()
    >>> d.result["lr"], d.result["m_from_velocity"]
    (dt**2/m, dt/eta)
    """
    m, c, dt = _given(m, "m", positive=True), _given(c, "c", positive=True), _given(dt, "dt", positive=True)
    theta, v, g, p, b = (_real(n) for n in ("theta_k", "v_k", "g_k", "p_k", "b_k"))
    mu_s, eta_s, lr = _pos("mu"), _pos("eta"), _pos("lr")
    M, C = sp.symbols("M C")  # unknown mass and friction when inverting

    theta1, v1 = _semi_implicit_euler(theta, v, g, m=m, c=c, dt=dt)
    v1e = sp.expand(v1)
    mu = sp.expand(v1e.coeff(v))
    eta = sp.factor(-v1e.coeff(g))
    # displacement form p = Δt·v
    p1 = sp.expand(dt * v1.subs(v, p / dt))
    mu_p, eta_p = sp.expand(p1.coeff(p)), sp.factor(-p1.coeff(g))
    # torch: b ← μb + g, θ ← θ − γb, read as a displacement p = −γb
    theta_t, _ = _torch_sgd_step(theta, b, g, lr=lr, momentum=mu_s)
    p_torch = sp.expand((theta_t - theta).subs(b, -p / lr))
    lr_map = sp.solve(sp.Eq(p_torch.coeff(g), p1.coeff(g)), lr)[0]
    momentum_map = sp.expand(sp.solve(sp.Eq(p_torch.coeff(p), mu_p), mu_s)[0])
    # inverse maps
    to_mc = {m: M, c: C}
    inv_v = sp.solve([sp.Eq(mu_s, mu.subs(to_mc)), sp.Eq(eta_s, eta.subs(to_mc))], [M, C], dict=True)[0]
    inv_t = sp.solve([sp.Eq(mu_s, momentum_map.subs(to_mc)), sp.Eq(lr, lr_map.subs(to_mc))], [M, C], dict=True)[0]
    effective = sp.cancel(eta_p / (1 - mu))
    vinf = sp.Symbol("v_inf")
    terminal_discrete = sp.solve(sp.Eq(vinf, mu * vinf - eta * g), vinf)[0]
    terminal_ode = sp.solve(sp.Eq(0, -g - c * vinf), vinf)[0]
    # which ODE does "v ← μv − κ g, θ ← θ + v" approximate?  Eliminate v with the second
    # difference: m(θ_{k+1} − 2θ_k + θ_{k−1})/Δt² + c(θ_k − θ_{k−1})/Δt = −(mκ/Δt²) g_k
    theta_prev = _real("theta_km1")
    kappa = sp.Symbol("kappa", positive=True)  # a generic gradient coefficient
    theta_next = theta + mu * (theta - theta_prev) - kappa * g
    residual = sp.expand(m * (theta_next - 2 * theta + theta_prev) / dt**2 + c * (theta - theta_prev) / dt)
    force = sp.factor(-residual.coeff(g))  # coefficient of ∇f in  m θ'' + c θ' + force·∇f = 0
    force_disp, force_lecture = sp.factor(force.subs(kappa, eta_p)), sp.factor(force.subs(kappa, eta))

    box = _box(m=m, c=c, dt=dt, value=[theta, v, g, p, b, theta_prev], mu=mu_s, eta=[eta_s, kappa], lr=lr)
    claims = (
        claim("mu", mu, 1 - c * dt / m, box, note="momentum of the semi-implicit step"),
        claim("eta", eta, dt / m, box, note="gradient coefficient of the velocity form"),
        claim("velocity_update_form", v1e, mu * v - eta * g, box, note="the velocity update is exactly μv − η∇f"),
        claim("position_update_velocity_form", theta1, theta + dt * v1, box),
        claim("mu_displacement", mu_p, mu, box, note="the displacement form has the same momentum"),
        claim("eta_displacement", eta_p, dt**2 / m, box, note="gradient coefficient once θ ← θ + p"),
        claim("lr", lr_map, dt**2 / m, box, note="torch's learning rate"),
        claim("momentum", momentum_map, 1 - c * dt / m, box, note="torch's momentum"),
        claim("m_from_velocity", inv_v[M], dt / eta_s, box),
        claim("c_from_velocity", inv_v[C], (1 - mu_s) / eta_s, box),
        claim("m_from_torch", inv_t[M], dt**2 / lr, box),
        claim("c_from_torch", inv_t[C], (1 - mu_s) * dt / lr, box),
        claim("effective_step", effective, dt / c, box, note="η_p/(1−μ) = Δt/c"),
        claim(
            "terminal_velocity", terminal_discrete, terminal_ode, box, note="fixed point of the velocity update = −∇f/c"
        ),
        claim(
            "force_coefficient_displacement",
            force_disp,
            sp.Integer(1),
            box,
            note="θ ← θ + p with Δt²/m: m θ'' + cθ' + ∇f = 0",
        ),
        claim(
            "force_coefficient_lecture",
            force_lecture,
            1 / dt,
            box,
            note="θ ← θ + v with Δt/m: the force is scaled by 1/Δt",
        ),
    )
    result = {
        "mu": mu,
        "eta": eta,
        "eta_displacement": eta_p,
        "lr": lr_map,
        "momentum": momentum_map,
        "m_from_velocity": inv_v[M],
        "c_from_velocity": inv_v[C],
        "m_from_torch": inv_t[M],
        "c_from_torch": inv_t[C],
        "effective_step": effective,
        "terminal_velocity": terminal_discrete,
        "force_coefficient_lecture": force_lecture,
    }
    steps = (
        ("semi-implicit Euler, velocity", sp.Eq(sp.Symbol("v_{k+1}"), v1)),
        ("semi-implicit Euler, position", sp.Eq(sp.Symbol("theta_{k+1}"), theta + dt * sp.Symbol("v_{k+1}"))),
        ("collected", sp.Eq(sp.Symbol("v_{k+1}"), mu * v - eta * g)),
        ("displacement p = dt v", sp.Eq(sp.Symbol("p_{k+1}"), p1)),
        ("torch step as a displacement p = -lr b", sp.Eq(sp.Symbol("p_{k+1}"), p_torch)),
        (
            "theta <- theta + v, v <- mu v - kappa g, as differences D2 = second, D1 = first difference quotient",
            sp.Eq(m * sp.Symbol("D2") + c * sp.Symbol("D1"), residual),
        ),
        ("force coefficient", force),
    )
    findings = (
        "Semi-implicit Euler gives μ = 1 − cΔt/m and η = Δt/m in the velocity form "
        "v_{k+1} = μv_k − η∇f(θ_k), θ_{k+1} = θ_k + Δt·v_{k+1}.",
        "In the displacement form θ_{k+1} = θ_k + p_{k+1} (p = Δt·v), which is the form of the "
        "lecture's slide and of torch.optim.SGD, the gradient coefficient is Δt²/m: "
        "SGD(lr = Δt²/m, momentum = 1 − cΔt/m) with buffer b = −p/lr.",
        "The lecture pairs θ_{t+1} = θ_t + v_{t+1} with η = Δt/m. That pairing holds only in the "
        "velocity form θ ← θ + Δt·v. Read literally, v ← μv − (Δt/m)∇f with θ ← θ + v "
        "approximates m·θ'' + c·θ' + ∇f/Δt = 0 (the derived force coefficient is 1/Δt, not 1), "
        "so it is not a consistent discretisation of the heavy-ball ODE.",
        "The effective step η_p/(1−μ) = Δt/c is the gradient-flow step of the overdamped limit, "
        "and the fixed point of the velocity update, −η∇f/(1−μ) = −∇f/c, is the ODE's terminal velocity.",
    )
    sig_mcd = (m, c, dt)
    signatures = {
        "mu": sig_mcd,
        "eta": sig_mcd,
        "eta_displacement": sig_mcd,
        "lr": sig_mcd,
        "momentum": sig_mcd,
        "effective_step": sig_mcd,
        "m_from_velocity": (mu_s, eta_s, dt),
        "c_from_velocity": (mu_s, eta_s, dt),
        "m_from_torch": (lr, mu_s, dt),
        "c_from_torch": (lr, mu_s, dt),
    }
    return Derivation(
        name="discretization",
        title="Semi-implicit Euler on the heavy-ball ODE and the map to SGD",
        assumptions=_assumptions(
            (m, c, dt, mu_s, eta_s, lr, theta, v, g),
            "m·v' = −∇f(θ) − c·v, θ' = v; one step of length Δt, velocity first (semi-implicit Euler)",
            "g_k = ∇f(θ_k) is a number per coordinate (the update is coordinatewise)",
        ),
        symbols={"m": m, "c": c, "dt": dt, "mu": mu_s, "eta": eta_s, "lr": lr, "g": g, "v": v, "p": p, "theta": theta},
        result=result,
        steps=steps,
        claims=claims,
        findings=findings,
        signatures=signatures,
        references=("Qian (1999)", "the lecture, slide 'Momento y amortiguamiento: modelo fisico'"),
    )


# --------------------------------------------------------------------------------------
# 2. consistency
# --------------------------------------------------------------------------------------
@functools.cache
def consistency(*, m=None, c=None, h=None, dt=None) -> Derivation:
    r"""The discrete roots tend to ``1 + sΔt`` with ``m s² + c s + h = 0``: first-order consistency.

    On ``f = ½hθ²`` the semi-implicit step is linear; its characteristic polynomial is the
    heavy-ball polynomial with ``μ = 1 − cΔt/m``, ``γ = Δt²/m``. Substituting
    ``z = 1 + Δt·σ``: ``p(1 + Δtσ) = Δt²(mσ² + cσ + h)/m + Δt³hσ/m`` exactly, so the roots are
    ``λ = 1 + sΔt + O(Δt²)``. The discrete discriminant is
    ``Δt²(c² − 4mh)/m² + 2chΔt³/m² + h²Δt⁴/m²``.

    Examples
    --------
    >>> consistency().result["discriminant_leading"]
    (c**2 - 4*h*m)/m**2
    """
    m, c = _given(m, "m", positive=True), _given(c, "c", positive=True)
    h, dt = _given(h, "h", positive=True), _given(dt, "dt", positive=True)
    theta, v = _real("theta"), _real("v")
    z, sigma = sp.Symbol("z"), sp.Symbol("sigma")
    base = discretization(m=m, c=c, dt=dt)
    mu, gamma = base.result["mu"], base.result["eta_displacement"]

    theta1, v1 = _semi_implicit_euler(theta, v, h * theta, m=m, c=c, dt=dt)
    matrix = sp.Matrix([theta1, v1]).jacobian([theta, v])
    poly = sp.expand(matrix.charpoly(z).as_expr())
    scaled = sp.expand(poly.subs(z, 1 + dt * sigma))
    coeffs = sp.Poly(scaled, dt)
    order0, order1 = coeffs.coeff_monomial(1), coeffs.coeff_monomial(dt)
    leading = sp.factor(coeffs.coeff_monomial(dt**2))
    remainder = sp.factor(sp.expand(scaled - leading * dt**2) / dt**3)
    # the explicit roots, expanded to first order in Δt
    roots = sp.solve(poly, z)
    first = [sp.expand(sp.series(r, dt, 0, 2).removeO()).coeff(dt, 1) for r in roots]
    zeroth = [sp.expand(sp.series(r, dt, 0, 2).removeO()).coeff(dt, 0) for r in roots]
    disc = sp.expand(sp.discriminant(poly, z))
    dpoly = sp.Poly(disc, dt)
    d_leading = sp.factor(dpoly.coeff_monomial(dt**2))
    at_critical = sp.factor(disc.subs(c, 2 * sp.sqrt(m * h)))

    box = _box(m=m, c=c, h=h, dt=dt, value=sigma)
    box_sigma = {**box, sigma: (-3.0, 3.0)}
    claims = (
        claim(
            "charpoly",
            poly,
            z**2 - (1 + mu - gamma * h) * z + mu,
            {**box, z: (-2.0, 2.0)},
            note="the heavy-ball polynomial with μ = 1 − cΔt/m, γ = Δt²/m",
        ),
        claim("order_0", order0, sp.Integer(0), box_sigma),
        claim("order_1", order1, sp.Integer(0), box_sigma),
        claim(
            "leading_order",
            leading,
            (m * sigma**2 + c * sigma + h) / m,
            box_sigma,
            note="p(1 + Δtσ)/Δt² → (mσ² + cσ + h)/m as Δt → 0",
        ),
        claim("remainder", remainder, h * sigma / m, box_sigma),
        claim("roots_zeroth_order", sp.Tuple(*zeroth), sp.Tuple(1, 1), box),
        claim("roots_first_order_sum", sp.Add(*first), -c / m, box, note="first-order coefficients: their sum"),
        claim(
            "roots_first_order_product",
            sp.Mul(*first),
            h / m,
            box,
            note="and product: they are the roots of m s² + c s + h",
        ),
        claim(
            "discriminant",
            disc,
            dt**2 * (c**2 - 4 * m * h) / m**2 + 2 * c * h * dt**3 / m**2 + h**2 * dt**4 / m**2,
            box,
        ),
        claim(
            "discriminant_low_orders", sp.Tuple(dpoly.coeff_monomial(1), dpoly.coeff_monomial(dt)), sp.Tuple(0, 0), box
        ),
        claim("discriminant_leading", d_leading, (c**2 - 4 * m * h) / m**2, box),
        claim(
            "discriminant_at_critical",
            at_critical,
            dt**3 * h * (4 * sp.sqrt(m * h) + dt * h) / m**2,
            box,
            note="at c = 2√(mh) the discrete roots are real and distinct",
        ),
    )
    result = {
        "charpoly": poly,
        "scaled": sp.Eq(scaled, leading * dt**2 + remainder * dt**3),
        "root_first_order": sp.Tuple(*first),
        "discriminant": disc,
        "discriminant_leading": d_leading,
        "discriminant_at_critical": at_critical,
    }
    steps = (
        ("iteration matrix of (theta, v)", matrix),
        ("characteristic polynomial", sp.Eq(sp.Symbol("p(z)"), poly)),
        ("substitute z = 1 + dt sigma", sp.Eq(sp.Symbol("p(1 + dt sigma)"), leading * dt**2 + remainder * dt**3)),
        ("roots", sp.Tuple(*roots)),
        ("first-order coefficients", sp.Tuple(*first)),
        ("discriminant in powers of dt", sp.Eq(sp.Symbol("D"), disc)),
    )
    findings = (
        "The characteristic roots of the semi-implicit scheme are λ = 1 + sΔt + O(Δt²) with "
        "m·s² + c·s + h = 0: the discrete iteration is a first-order consistent discretisation "
        "(p(1 + Δtσ) = Δt²(mσ² + cσ + h)/m + Δt³hσ/m exactly).",
        "The discrete discriminant is Δt²(c² − 4mh)/m² + O(Δt³): for small Δt its sign is the "
        "sign of c² − 4mh, so complex/real discrete roots correspond to under/overdamped motion.",
        "At continuous critical damping c = 2√(mh) the O(Δt³) term decides: the discriminant is "
        "Δt³h(4√(mh) + Δt·h)/m² > 0, so the discrete scheme is slightly overdamped there.",
        "This consistency needs the displacement coefficient Δt²/m (or the velocity form); with the "
        "lecture's literal pairing θ ← θ + v, η = Δt/m the force is scaled by 1/Δt (see discretization).",
    )
    return Derivation(
        name="consistency",
        title="First-order consistency of the discrete characteristic roots",
        assumptions=_assumptions(
            (m, c, h, dt, sigma, z),
            "f(θ) = ½hθ² (one curvature h of a quadratic)",
            "semi-implicit Euler step of the heavy-ball ODE, as in `discretization`",
        ),
        symbols={"m": m, "c": c, "h": h, "dt": dt, "z": z, "sigma": sigma},
        result=result,
        steps=steps,
        claims=claims,
        findings=findings,
        signatures={"discriminant": (m, c, h, dt)},
        references=("Hairer, Lubich & Wanner, Geometric Numerical Integration (consistency of one-step maps)",),
    )


# --------------------------------------------------------------------------------------
# 3. momentum_sum
# --------------------------------------------------------------------------------------
@functools.cache
def momentum_sum(*, mu=None, lr=None, steps: int = 8) -> Derivation:
    r"""Unrolling torch's momentum (λ = τ = 0, no Nesterov): weights ``μ^{t−i}`` summing to
    ``(1 − μᵗ)/(1 − μ) → 1/(1 − μ)``.

    With ``g_t = ∇J(θ_{t−1})``, ``b_1 = g_1``, ``b_t = μb_{t−1} + g_t``, ``θ_t = θ_{t−1} − γb_t``:
    ``θ_t = θ_{t−1} − γ Σ_{i=1..t} μ^{t−i} g_i`` (checked for ``t ≤ steps`` with symbolic
    gradients, and for general ``t`` by induction).

    Examples
    --------
    >>> momentum_sum().result["memory_example"]
    10
    """
    mu, lr = _given(mu, "mu", positive=True), _given(lr, "lr", positive=True)
    steps = as_int("steps", steps, minimum=1, maximum=12)
    gs = sp.symbols(f"g1:{steps + 1}", real=True)
    theta0 = _real("theta_0")
    t = sp.Symbol("t", integer=True, positive=True)
    i = sp.Symbol("i", integer=True, positive=True)
    r = _pos("r")
    G = sp.Function("g")

    thetas, buf = [theta0], sp.Integer(0)
    for k in range(1, steps + 1):
        new, buf = _torch_sgd_step(thetas[-1], buf, gs[k - 1], lr=lr, momentum=mu, first=k == 1)
        thetas.append(sp.expand(new))
    box = _box(mu=mu, lr=lr, value=[theta0, *gs])
    claims = [
        claim(
            f"step_t{k}", thetas[k] - thetas[k - 1], -lr * sum(mu ** (k - j) * gs[j - 1] for j in range(1, k + 1)), box
        )
        for k in range(1, steps + 1)
    ]
    S = lambda T: sp.Sum(mu ** (T - i) * G(i), (i, 1, T))  # noqa: E731
    weights = _generic_branch(sp.summation(mu ** (t - i), (i, 1, t)))
    weights_c = sp.factor(sp.cancel(sp.powsimp(sp.expand(weights))))
    memory = sp.limit(weights.subs(mu, sp.exp(-r)), t, sp.oo)
    memory_example = sp.limit(weights.subs(mu, sp.Rational(9, 10)), t, sp.oo)
    gbox = {mu: _BOX["mu"], t: (1, 15)}
    gfun = {G: sp.Lambda(_X, sp.sin(_X) + _X / 7)}
    claims += [
        claim(
            "inductive_step",
            mu * S(t) + G(t + 1),
            _peel(S(t + 1)),
            gbox,
            functions=gfun,
            note="Σ_{i≤t+1} μ^{t+1−i}g_i = μ·Σ_{i≤t} μ^{t−i}g_i + g_{t+1}: the recurrence b_{t+1} = μb_t + g_{t+1}",
        ),
        claim("base_case", S(1).doit(), G(1), gbox, functions=gfun),
        claim("weight_sum", weights, (1 - mu**t) / (1 - mu), gbox, note="Σ_{i=1..t} μ^{t−i} = (1 − μᵗ)/(1 − μ)"),
        claim("memory", memory, 1 / (1 - sp.exp(-r)), {r: (0.01, 3.0)}, note="t → ∞ with μ = e^{−r} < 1"),
        claim("memory_example", memory_example, sp.Integer(10), {}, note="μ = 0.9 → 10 steps of memory"),
    ]
    result = {
        f"theta_{steps}": thetas[-1],
        "step": sp.Eq(sp.Symbol("theta_t") - sp.Symbol("theta_{t-1}"), -lr * S(t)),
        "weight_sum": weights_c,
        "memory": sp.Eq(sp.Symbol("M_inf"), 1 / (1 - mu)),
        "memory_example": memory_example,
    }
    steps_ = (
        ("unrolled, t = 3", sp.Eq(sp.Symbol("theta_3"), thetas[min(3, steps)])),
        ("induction", sp.Eq(_peel(S(t + 1)), mu * S(t) + G(t + 1))),
        ("weights", sp.Eq(sp.Sum(mu ** (t - i), (i, 1, t)), weights_c)),
        ("limit, mu = 9/10", sp.Eq(sp.Symbol("M_inf"), memory_example)),
    )
    findings = (
        "With torch's indexing (g_t = ∇J(θ_{t−1}), b_1 = g_1) the unrolled step is "
        "θ_t = θ_{t−1} − γΣ_{i=1..t} μ^{t−i}g_i. The lecture writes θ_{t+1} = θ_t − γΣ_{i=1..t} μ^{t−i}g_i, "
        "which is the same statement if g_i denotes the gradient at θ_i with θ indexed from 1; "
        "against the lecture's own algorithm (g_t = ∇J(θ_{t−1})) it is shifted by one index. "
        "The weights are right either way.",
        "The weights sum to (1 − μᵗ)/(1 − μ) → 1/(1 − μ): 10 steps of effective memory for μ = 0.9, "
        "as the lecture says.",
    )
    return Derivation(
        name="momentum_sum",
        title="Unrolling torch's momentum buffer",
        assumptions=_assumptions(
            (mu, lr, t, *gs[:2]),
            "weight decay λ = 0, dampening τ = 0, nesterov=False",
            "g_1, g_2, ... are arbitrary (symbolic) gradients; g(i) an undefined function in the induction",
        ),
        symbols={"mu": mu, "lr": lr, "t": t, "g": G, **{f"g{k}": gs[k - 1] for k in range(1, steps + 1)}},
        result=result,
        steps=steps_,
        claims=tuple(claims),
        findings=findings,
        references=("torch.optim.SGD documentation", "the lecture, slide 'Interpretacion del momento'"),
    )


# --------------------------------------------------------------------------------------
# 4. dampening
# --------------------------------------------------------------------------------------
@functools.cache
def dampening(*, mu=None, tau=None, steps: int = 8) -> Derivation:
    r"""torch's buffer with dampening τ: ``b_t = μ^{t−1}g₁ + (1−τ)Σ_{k=2..t} μ^{t−k}g_k``.

    torch sets ``b_1 = g_1`` (no dampening at the first step) and then
    ``b_t = μb_{t−1} + (1−τ)g_t``. The lecture's ``v_t = μᵗg₁ + (1−τ)Σ_{k=1..t} μ^{t−k}g_k``
    exceeds it by ``μ^{t−1}(μ − τ)g₁``.

    Examples
    --------
    >>> d = dampening()
    >>> d.result["lecture_minus_torch"]
    mu**(t - 1)*(mu - tau)*g(1)
    """
    mu, tau = _given(mu, "mu", positive=True), _given(tau, "tau", nonnegative=True)
    steps = as_int("steps", steps, minimum=1, maximum=12)
    gs = sp.symbols(f"g1:{steps + 1}", real=True)
    t = sp.Symbol("t", integer=True, positive=True)
    k = sp.Symbol("k", integer=True, positive=True)
    G = sp.Function("g")

    bufs, buf = [], sp.Integer(0)
    for j in range(1, steps + 1):
        _, buf = _torch_sgd_step(0, buf, gs[j - 1], lr=0, momentum=mu, dampening=tau, first=j == 1)
        bufs.append(sp.expand(buf))
    box = _box(mu=mu, tau=tau, value=list(gs))
    closed = lambda j: mu ** (j - 1) * gs[0] + (1 - tau) * sum(mu ** (j - q) * gs[q - 1] for q in range(2, j + 1))  # noqa: E731
    claims = [claim(f"closed_form_t{j}", bufs[j - 1], closed(j), box) for j in range(1, steps + 1)]

    B = lambda T: mu ** (T - 1) * G(1) + (1 - tau) * sp.Sum(mu ** (T - k) * G(k), (k, 2, T))  # noqa: E731
    L = lambda T: mu**T * G(1) + (1 - tau) * sp.Sum(mu ** (T - k) * G(k), (k, 1, T))  # noqa: E731
    difference = sp.factor(sp.expand(_peel(L(t), end="first") - B(t)))
    tau_equal = sp.solve(difference, tau)
    gbox = {mu: _BOX["mu"], tau: _BOX["tau"], t: (1, 15)}
    zbox = {mu: _BOX["mu"], tau: _BOX["tau"]}
    gfun = {G: sp.Lambda(_X, sp.cos(_X) + _X / 5)}
    claims += [
        claim("closed_form_base", B(1).doit(), G(1), zbox, functions=gfun),
        claim(
            "closed_form_induction",
            mu * B(t) + (1 - tau) * G(t + 1),
            _peel(B(t + 1)),
            gbox,
            functions=gfun,
            note="the closed form satisfies b_{t+1} = μb_t + (1−τ)g_{t+1} for every t ≥ 1",
        ),
        claim("lecture_minus_torch", difference, mu ** (t - 1) * (mu - tau) * G(1), gbox, functions=gfun),
        claim(
            "lecture_recurrence",
            mu * L(t) + (1 - tau) * G(t + 1),
            _peel(L(t + 1)),
            gbox,
            functions=gfun,
            note="the lecture's formula satisfies the same recurrence",
        ),
        claim("lecture_start", L(0).doit(), G(1), zbox, functions=gfun, note="... started from v_0 = g_1"),
        claim("lecture_first_step", L(1).doit(), (1 + mu - tau) * G(1), zbox, functions=gfun),
        claim("agree_iff_tau_equals_mu", sp.Tuple(*tau_equal), sp.Tuple(mu), zbox),
    ]
    result = {
        "torch_closed_form": sp.Eq(sp.Symbol("b_t"), B(t)),
        "lecture_closed_form": sp.Eq(sp.Symbol("v_t"), L(t)),
        "lecture_minus_torch": difference,
        f"b_{steps}": bufs[-1],
    }
    steps_ = (
        ("torch, t = 3", sp.Eq(sp.Symbol("b_3"), bufs[min(3, steps) - 1])),
        ("induction", sp.Eq(_peel(B(t + 1)), mu * B(t) + (1 - tau) * G(t + 1))),
        ("lecture minus torch (split k = 1 off the lecture's sum)", sp.Eq(L(t) - B(t), difference)),
    )
    findings = (
        "torch's buffer is b_t = μ^{t−1}g_1 + (1−τ)Σ_{k=2..t} μ^{t−k}g_k: the first gradient enters "
        "undamped because torch sets b_1 = g_1 (dampening starts at the second step).",
        "The lecture's v_t = μᵗg_1 + (1−τ)Σ_{k=1..t} μ^{t−k}g_k differs from it by μ^{t−1}(μ − τ)g_1. "
        "It solves the same recurrence v_t = μv_{t−1} + (1−τ)g_t but started from v_0 = g_1, so at "
        "t = 1 it gives (1 + μ − τ)g_1 instead of g_1; with τ = 0 it counts g_1 twice (μᵗg_1 extra). "
        "The two agree only when τ = μ (or g_1 = 0). The lecture's recurrence "
        "v_{t+1} = μv_t + (1−τ)g_t is also shifted by one index against its algorithm slide.",
    )
    return Derivation(
        name="dampening",
        title="Momentum with dampening: torch's closed form against the lecture's",
        assumptions=_assumptions(
            (mu, tau, t, *gs[:2]),
            "weight decay 0, nesterov=False; b_1 = g_1 as in torch",
            "g(k) is an undefined function in the general-t identities",
        ),
        symbols={"mu": mu, "tau": tau, "t": t, "g": G, **{f"g{j}": gs[j - 1] for j in range(1, steps + 1)}},
        result=result,
        steps=steps_,
        claims=tuple(claims),
        findings=findings,
        references=("torch.optim.SGD source (torch/optim/sgd.py)", "the lecture, slide 'Interpretacion geometrica'"),
    )


# --------------------------------------------------------------------------------------
# 5. weight_decay
# --------------------------------------------------------------------------------------
@functools.cache
def weight_decay(*, lam=None, lr=None, mu=None, dim: int = 3) -> Derivation:
    r"""Coupled L2: ``∇J_λ = ∇J + λθ`` and one SGD step ``θ ← (1 − γλ)θ − γg``.

    Also: with momentum, torch's coupled decay (``g ← g + λθ`` before the buffer) differs
    from decoupled decay (``θ ← (1 − γλ)θ`` then the momentum step) from the second step on,
    by ``−γμλθ₀`` after two steps.

    Examples
    --------
    >>> weight_decay().result["coupled_minus_decoupled"]
    -lambda*lr*mu*theta_0
    """
    lam = _given(lam, "lambda", positive=True)
    lr, mu = _given(lr, "lr", positive=True), _given(mu, "mu", positive=True)
    dim = as_int("dim", dim, minimum=1, maximum=4)
    xs = sp.symbols(f"theta1:{dim + 1}", real=True)
    gs = sp.symbols(f"g1:{dim + 1}", real=True)
    J = sp.Function("J")
    Jx = J(*xs)
    J_lam = Jx + lam / 2 * sum(x**2 for x in xs)
    grad = sp.Matrix([J_lam.diff(x) for x in xs])
    step = (sp.Matrix(xs) - lr * grad).subs({Jx.diff(x): g for x, g in zip(xs, gs, strict=False)})
    # coupled (torch) and decoupled decay with momentum, two steps from θ₀ (scalar)
    theta0, g1, g2 = _real("theta_0"), _real("g_1"), _real("g_2")
    th1, b1 = _torch_sgd_step(theta0, 0, g1 + lam * theta0, lr=lr, momentum=mu, first=True)
    th2, _ = _torch_sgd_step(th1, b1, g2 + lam * th1, lr=lr, momentum=mu)
    dth1, db1 = _torch_sgd_step((1 - lr * lam) * theta0, 0, g1, lr=lr, momentum=mu, first=True)
    dth2, _ = _torch_sgd_step((1 - lr * lam) * dth1, db1, g2, lr=lr, momentum=mu)
    coupled_minus_decoupled = sp.factor(sp.expand(th2 - dth2))
    first_step_difference = sp.expand(th1 - dth1)

    box = {**_box(lr=lr, mu=mu, value=[*xs, *gs, theta0, g1, g2]), lam: (1e-3, 1.0)}
    jfun = {J: sp.Lambda(xs, sum(x ** (j + 2) * xs[(j + 1) % dim] for j, x in enumerate(xs)) + sp.sin(xs[-1]) * xs[0])}
    claims = (
        claim("regularized_gradient", grad, sp.Matrix([Jx.diff(x) + lam * x for x in xs]), box, functions=jfun),
        claim("sgd_step", step, (1 - lr * lam) * sp.Matrix(xs) - lr * sp.Matrix(gs), box),
        claim(
            "first_step_same",
            first_step_difference,
            sp.Integer(0),
            box,
            note="coupled and decoupled decay agree at the first step",
        ),
        claim(
            "coupled_minus_decoupled",
            coupled_minus_decoupled,
            -lr * mu * lam * theta0,
            box,
            note="... but not after the second step when μ ≠ 0",
        ),
    )
    result = {
        "gradient": grad,
        "sgd_step": step,
        "coupled_minus_decoupled": coupled_minus_decoupled,
    }
    steps_ = (
        ("regularised objective", sp.Eq(sp.Symbol("J_lambda"), J_lam)),
        ("gradient", grad),
        ("one SGD step", step),
        ("two steps with momentum: coupled minus decoupled", coupled_minus_decoupled),
    )
    findings = (
        "∇J_λ = ∇J + λθ and one plain SGD step is θ ← (1 − γλ)θ − γg, as the lecture states; "
        "torch's weight_decay adds λθ to the gradient (coupled L2).",
        "With momentum the coupled λθ term also enters the buffer: after two steps coupled decay "
        "differs from decoupled decay θ ← (1 − γλ)θ by −γμλθ_0 (they coincide only for μ = 0 or at "
        "the first step).",
    )
    return Derivation(
        name="weight_decay",
        title="Weight decay as coupled L2 regularisation",
        assumptions=_assumptions(
            (lam, lr, mu, *xs[:1], *gs[:1]),
            "J is an undefined (general) function of θ",
            f"θ has {dim} components (the identity is coordinatewise)",
        ),
        symbols={"lambda": lam, "lr": lr, "mu": mu, "J": J, "theta": sp.Matrix(xs), "g": sp.Matrix(gs)},
        result=result,
        steps=steps_,
        claims=claims,
        findings=findings,
        references=("Loshchilov & Hutter (2019), decoupled weight decay", "the lecture, slide 'Regularizacion'"),
    )


# --------------------------------------------------------------------------------------
# 6. sgd_equals_heavyball
# --------------------------------------------------------------------------------------
@functools.cache
def sgd_equals_heavyball(*, mu=None, eta=None, dt=None, steps: int = 4) -> Derivation:
    r"""torch's ``(b, θ)`` recurrence and the physical ``(v, θ)`` one give the same ``θ_k``
    under ``v = −ηb``, ``γ = ηΔt``.

    Derived by matching one step of each with the ansatz ``v = αb``, then verified for a
    general (undefined) gradient over ``steps`` steps.

    Examples
    --------
    >>> sgd_equals_heavyball().result["lr"]
    dt*eta
    """
    mu, eta, dt = _given(mu, "mu", positive=True), _given(eta, "eta", positive=True), _given(dt, "dt", positive=True)
    steps = as_int("steps", steps, minimum=1, maximum=6)
    G = sp.Function("g")
    theta, b, g = _real("theta"), _real("b"), _real("g")
    alpha, gamma = sp.symbols("alpha gamma")
    th_t, b_t = _torch_sgd_step(theta, b, g, lr=gamma, momentum=mu)
    th_h, v_h = _heavyball_step(theta, alpha * b, g, eta=eta, mu=mu, dt=dt)
    velocity_eq = sp.expand(v_h - alpha * b_t)  # v_{k+1} = α b_{k+1} for every b_k, g_k
    position_eq = sp.expand(th_h - th_t)  # the same θ_{k+1} for every b_k, g_k
    equations = [velocity_eq.coeff(g), velocity_eq.coeff(b), position_eq.coeff(b), position_eq.coeff(g)]
    sol = sp.solve([e for e in equations if e != 0], [alpha, gamma], dict=True)[0]

    theta0, b0 = _real("theta_0"), _real("b_0")
    tt, bb = theta0, b0
    th, vv = theta0, sol[alpha] * b0
    claims = []
    box = _box(mu=mu, eta=eta, dt=dt, value=[theta0, b0])
    gfun = {G: _GRAD_TEST}
    for k in range(1, steps + 1):
        tt, bb = _torch_sgd_step(tt, bb, G(tt), lr=sol[gamma], momentum=mu)
        th, vv = _heavyball_step(th, vv, G(th), eta=eta, mu=mu, dt=dt)
        claims.append(claim(f"theta_{k}", tt, th, box, functions=gfun))
    claims.append(claim(f"velocity_{steps}", vv, sol[alpha] * bb, box, functions=gfun))
    claims = [
        claim("alpha", sol[alpha], -eta, box, note="v = −ηb"),
        claim("lr", sol[gamma], eta * dt, box, note="γ = ηΔt"),
        claim(
            "position_given_velocity",
            position_eq.subs(sol),
            sp.Integer(0),
            {**box, b: (-2.0, 2.0), g: (-2.0, 2.0), theta: (-2.0, 2.0)},
        ),
        *claims,
    ]
    result = {"alpha": sol[alpha], "lr": sol[gamma], "theta_2": sp.Eq(sp.Symbol("theta_2"), claims[4].lhs)}
    steps_ = (
        ("torch", sp.Tuple(sp.Eq(sp.Symbol("b_{k+1}"), b_t), sp.Eq(sp.Symbol("theta_{k+1}"), th_t))),
        ("physical, v = alpha b", sp.Tuple(sp.Eq(sp.Symbol("v_{k+1}"), v_h), sp.Eq(sp.Symbol("theta_{k+1}"), th_h))),
        ("match coefficients", sp.Tuple(*[sp.Eq(e, 0) for e in equations if e != 0])),
        ("solution", sp.Tuple(sp.Eq(alpha, sol[alpha]), sp.Eq(gamma, sol[gamma]))),
    )
    findings = (
        "torch.optim.SGD(lr = ηΔt, momentum = μ) and the physical heavy ball v ← μv − η∇f, θ ← θ + Δt·v "
        f"produce the same θ_k (verified for {steps} steps with a general gradient) when v = −ηb; "
        "torch's first step b = g is the case b_0 = 0, i.e. v_0 = 0.",
        "With Δt = 1 this is the usual statement lr = η; with the semi-implicit map η = Δt/m it "
        "gives lr = Δt²/m, the displacement-form coefficient of `discretization`.",
    )
    return Derivation(
        name="sgd_equals_heavyball",
        title="torch's SGD with momentum is the physical heavy ball",
        assumptions=_assumptions(
            (mu, eta, dt, theta0, b0),
            "g is an undefined function (a general gradient; "
            "the maps are linear with scalar coefficients, so one coordinate suffices)",
        ),
        symbols={"mu": mu, "eta": eta, "dt": dt, "g": G, "theta_0": theta0, "b_0": b0},
        result=result,
        steps=steps_,
        claims=tuple(claims),
        findings=findings,
        references=("Polyak (1964)", "torch.optim.SGD documentation"),
    )


# --------------------------------------------------------------------------------------
# 7. nesterov_equivalence
# --------------------------------------------------------------------------------------
@functools.cache
def nesterov_equivalence(*, mu=None, lr=None, eta=None, steps: int = 4) -> Derivation:
    r"""torch's Nesterov is the look-ahead method (Sutskever et al. 2013) in shifted variables.

    torch: ``b ← μb + ∇f(θ)``, ``θ ← θ − γ(∇f(θ) + μb)``. Look-ahead:
    ``v ← μv − γ∇f(φ + μv)``, ``φ ← φ + v``. They are the same under ``θ = φ + μv``
    (torch's parameters are the look-ahead point) and ``b = −v/γ``. The lecture's
    ``y = θ − ημv`` is that look-ahead point only in the buffer convention
    (``v ← μv + ∇f(y)``, ``θ ← θ − ηv``).

    Examples
    --------
    >>> nesterov_equivalence().result["shift"]
    mu
    """
    mu, lr = _given(mu, "mu", positive=True), _given(lr, "lr", positive=True)
    eta = _given(eta, "eta", positive=True)
    steps = as_int("steps", steps, minimum=1, maximum=6)
    G = sp.Function("g")
    phi, v, g = _real("phi"), _real("v"), _real("g")
    a, beta, e_free = sp.symbols("a beta e")
    # 1. the gradient is taken at θ (torch) and at φ + μv (look-ahead): θ = φ + a v
    shift = sp.solve(sp.Eq(phi + a * v, phi + mu * v), a)[0]
    # 2. buffers: b = βv must turn b ← μb + g into v ← μv − γg
    buffer_eq = sp.expand(beta * (mu * v - lr * g) - (mu * beta * v + g))
    scale = sp.solve(buffer_eq.coeff(g), beta)[0]

    def lookahead(phi_k, v_k, step):  # Sutskever et al. (2013)
        v_next = mu * v_k - step * G(phi_k + mu * v_k)
        return phi_k + v_next, v_next

    phi0, v0 = _real("phi_0"), _real("v_0")
    box = _box(mu=mu, lr=lr, eta=eta, value=[phi0, v0])
    gfun = {G: _GRAD_TEST}
    th, bb = phi0 + shift * v0, scale * v0
    pk, vk = phi0, v0
    claims = [claim("shift", shift, mu, box), claim("buffer_scale", scale, -1 / lr, box)]
    for k in range(1, steps + 1):
        th, bb = _torch_sgd_step(th, bb, G(th), lr=lr, momentum=mu, nesterov=True)
        pk, vk = lookahead(pk, vk, lr)
        claims.append(claim(f"theta_{k}", th, pk + shift * vk, box, functions=gfun, note="θ_k = φ_k + μv_k"))
    claims.append(claim(f"buffer_{steps}", bb, scale * vk, box, functions=gfun))

    # the lecture's look-ahead point y = θ − ημv in its two possible conventions
    def lecture_velocity(theta_k, v_k):  # v ← μv − η∇f(y), θ ← θ + v  (the slide's update lines)
        y = theta_k - eta * mu * v_k
        v_next = mu * v_k - eta * G(y)
        return theta_k + v_next, v_next, y

    def lecture_buffer(theta_k, v_k):  # v ← μv + ∇f(y), θ ← θ − ηv  (torch's buffer convention)
        y = theta_k - eta * mu * v_k
        v_next = mu * v_k + G(y)
        return theta_k - eta * v_next, v_next, y

    lb_steps = min(steps, 3)
    tb, vb = phi0, v0
    pk, vk = phi0, -eta * v0
    for k in range(1, lb_steps + 1):
        _, _, y_b = lecture_buffer(tb, vb)
        y_ref = pk + mu * vk
        claims.append(claim(f"lecture_buffer_lookahead_{k}", y_b, y_ref, box, functions=gfun))
        tb, vb, _ = lecture_buffer(tb, vb)
        pk, vk = lookahead(pk, vk, eta)
        claims.append(claim(f"lecture_buffer_theta_{k}", tb, pk, box, functions=gfun, note="φ = θ, v_NAG = −ηv"))
    _, _, y_v = lecture_velocity(phi0, v0)
    offset = sp.factor(y_v - (phi0 + mu * v0))
    offset_coeff = sp.factor(offset / v0)
    consistent_eta = sp.solve(offset_coeff.subs(eta, e_free), e_free)
    t1_v, _, _ = lecture_velocity(phi0, v0)
    p1, _ = lookahead(phi0, v0, eta)
    claims += [
        claim(
            "lecture_velocity_offset",
            offset,
            -mu * (1 + eta) * v0,
            box,
            note="with v a velocity, y = θ − ημv lies μ(1+η)v behind the look-ahead point θ + μv",
        ),
        claim("lecture_velocity_consistent_only_if", sp.Tuple(*consistent_eta), sp.Tuple(-1), {}),
        claim(
            "lecture_velocity_first_step",
            t1_v - p1,
            -eta * (G(phi0 - eta * mu * v0) - G(phi0 + mu * v0)),
            box,
            functions=gfun,
        ),
    ]
    result = {
        "shift": shift,
        "buffer_scale": scale,
        "change_of_variables": sp.Tuple(sp.Eq(sp.Symbol("theta"), phi + shift * v), sp.Eq(sp.Symbol("b"), scale * v)),
        "lecture_velocity_offset": offset,
    }
    steps_ = (
        (
            "torch Nesterov",
            sp.Tuple(
                sp.Eq(sp.Symbol("b_{k+1}"), mu * sp.Symbol("b_k") + G(sp.Symbol("theta_k"))),
                sp.Eq(
                    sp.Symbol("theta_{k+1}"),
                    sp.Symbol("theta_k") - lr * (G(sp.Symbol("theta_k")) + mu * sp.Symbol("b_{k+1}")),
                ),
            ),
        ),
        (
            "look-ahead (Sutskever)",
            sp.Tuple(
                sp.Eq(sp.Symbol("v_{k+1}"), mu * v - lr * G(phi + mu * v)),
                sp.Eq(sp.Symbol("phi_{k+1}"), phi + sp.Symbol("v_{k+1}")),
            ),
        ),
        ("gradient points agree", sp.Eq(phi + a * v, phi + mu * v)),
        ("buffer equation", sp.Eq(buffer_eq, 0)),
        ("change of variables", result["change_of_variables"]),
        (
            "lecture, velocity convention: y minus look-ahead point",
            sp.Eq(sp.Symbol("y") - (phi + mu * v), offset.subs({phi0: phi, v0: v})),
        ),
    )
    findings = (
        "torch's Nesterov (d = g + μb) is Sutskever's look-ahead method in shifted variables: "
        f"θ = φ + μv and b = −v/γ (verified for {steps} steps with a general gradient). torch's "
        "parameters are the look-ahead point of the textbook method.",
        "The lecture's look-ahead y_t = θ_t − ημv_t is consistent in the buffer convention "
        "v ← μv + ∇f(y), θ ← θ − ηv (there −ηv is the velocity and y = θ + μ·(−ηv)); verified to "
        "equal the look-ahead method step by step.",
        "With the slide's own update lines (v ← μv − η∇f(y), θ ← θ + v) v is a velocity and the "
        "look-ahead point must be θ + μv: y = θ − ημv then lies μ(1 + η)v behind it (against the "
        "motion); it would agree only for η = −1. Consistent versions: y = θ + μv with those "
        "updates, or keep y = θ − ημv with the buffer updates.",
    )
    return Derivation(
        name="nesterov_equivalence",
        title="torch's Nesterov as the look-ahead method, and the lecture's look-ahead point",
        assumptions=_assumptions((mu, lr, eta, phi0, v0), "g is an undefined function (a general gradient)"),
        symbols={"mu": mu, "lr": lr, "eta": eta, "g": G, "phi_0": phi0, "v_0": v0},
        result=result,
        steps=steps_,
        claims=tuple(claims),
        findings=findings,
        references=(
            "Sutskever, Martens, Dahl & Hinton (2013)",
            "torch.optim.SGD(nesterov=True)",
            "the lecture, slides 'Nesterov: forma conceptual' and 'Nesterov en PyTorch'",
        ),
    )


# --------------------------------------------------------------------------------------
# 8. characteristic_polynomials
# --------------------------------------------------------------------------------------
@functools.cache
def characteristic_polynomials(*, h=None, lr=None, mu=None) -> Derivation:
    r"""Per-curvature characteristic polynomials of heavy ball, Nesterov and GD (torch forms).

    From the iteration matrices on ``f = ½hθ²`` (state ``(θ, b)``):
    heavy ball ``z² − (1 + μ − γh)z + μ``; Nesterov ``z² − (1+μ)(1−γh)z + μ(1−γh)``;
    GD ``z − (1 − γh)``. Jury: heavy ball is stable iff ``|μ| < 1`` and
    ``0 < γh < 2(1 + μ)``. Complex roots iff ``(1 + μ − γh)² < 4μ``, and then ``|z| = √μ``.

    Examples
    --------
    >>> characteristic_polynomials().result["modulus_complex"]
    sqrt(mu)
    """
    h, lr, mu = _given(h, "h", positive=True), _given(lr, "lr", positive=True), _given(mu, "mu", positive=True)
    z = sp.Symbol("z")
    A, w = _real("A"), _pos("w")  # A = trace, w = 4μ − A² > 0 in the complex regime
    mats = {method: _iteration_matrix(method, h, lr, mu) for method in ("heavyball", "nesterov", "gd")}
    polys = {method: sp.expand(M.charpoly(z).as_expr()) for method, M in mats.items()}
    p_hb, p_n, p_gd = polys["heavyball"], polys["nesterov"], polys["gd"]
    trace_hb, det_hb = sp.expand(-p_hb.coeff(z, 1)), p_hb.coeff(z, 0)
    trace_n, det_n = sp.factor(-p_n.coeff(z, 1)), sp.factor(p_n.coeff(z, 0))
    disc_hb = sp.discriminant(p_hb, z)
    roots = sp.solve(p_hb, z)
    vieta = sp.expand(roots[0] * roots[1])
    # complex regime: parametrise h by the trace A, then μ = (A² + w)/4 (w > 0)
    region = ((h, (1 + mu - A) / lr), (mu, (A**2 + w) / 4))
    modulus = sp.Abs(roots[1])
    root_c = roots[1]
    for old, new in region:
        root_c = root_c.subs(old, new)
    re_c, im_c = root_c.as_real_imag()
    modulus_derived = sp.sqrt(sp.expand(re_c**2 + im_c**2)).subs(w, 4 * mu - A**2)
    crit = sorted(sp.solve(disc_hb, mu), key=lambda e: float(e.subs({lr: 1, h: sp.Rational(1, 4)})))
    crit_mu = crit[0]
    crit_rate = sp.factor(trace_hb.subs(mu, crit_mu) / 2)

    box = _box(h=h, lr=lr, mu=mu)
    zbox = {**box, z: (-2.0, 2.0)}
    complex_where = (1 + mu - lr * h) ** 2 < 4 * mu
    box_c = {h: (0.05, 4.0), lr: (0.05, 1.0), mu: (0.05, 0.95)}
    claims = (
        claim("heavyball", p_hb, z**2 - (1 + mu - lr * h) * z + mu, zbox),
        claim("nesterov", p_n, z**2 - (1 + mu) * (1 - lr * h) * z + mu * (1 - lr * h), zbox),
        claim("gd", p_gd, z - (1 - lr * h), zbox),
        claim("jury_p1_heavyball", p_hb.subs(z, 1), lr * h, box, note="p(1) > 0 ⇔ γh > 0"),
        claim("jury_pm1_heavyball", p_hb.subs(z, -1), 2 * (1 + mu) - lr * h, box, note="p(−1) > 0 ⇔ γh < 2(1+μ)"),
        claim("jury_p0_heavyball", p_hb.subs(z, 0), mu, box, note="|p(0)| < 1 ⇔ |μ| < 1"),
        claim("jury_p1_nesterov", p_n.subs(z, 1), lr * h, box),
        claim(
            "jury_pm1_nesterov",
            p_n.subs(z, -1),
            1 + (1 + 2 * mu) * (1 - lr * h),
            box,
            note="Nesterov: γh < 2(1+μ)/(1+2μ)",
        ),
        claim("discriminant_heavyball", disc_hb, (1 + mu - lr * h) ** 2 - 4 * mu, box),
        claim("vieta_product", vieta, mu, box_c),
        claim(
            "modulus",
            modulus_derived,
            sp.sqrt(mu),
            box_c,
            where=complex_where,
            note="complex roots have |z| = √μ (Goh prints 2√μ)",
        ),
        claim(
            "modulus_of_root",
            modulus,
            sp.sqrt(mu),
            box_c,
            where=complex_where,
            region={h: region[0][1], mu: region[1][1]},
            note="|root| evaluated from the explicit root formula",
        ),
        claim("critical_momentum", crit_mu, (1 - sp.sqrt(lr * h)) ** 2, box),
        claim("critical_rate", crit_rate, 1 - sp.sqrt(lr * h), box),
    )
    result = {
        "heavyball": p_hb,
        "nesterov": p_n,
        "gd": p_gd,
        "heavyball_trace": trace_hb,
        "heavyball_det": det_hb,
        "nesterov_trace": trace_n,
        "nesterov_det": det_n,
        "gd_root": sp.solve(p_gd, z)[0],
        "discriminant_heavyball": disc_hb,
        "heavyball_roots": sp.Tuple(*roots),
        "modulus_complex": modulus_derived,
        "critical_momentum": crit_mu,
        "critical_rate": crit_rate,
        "stability_heavyball": sp.And(sp.Abs(mu) < 1, lr * h > 0, lr * h < 2 * (1 + mu)),
    }
    steps_ = (
        ("heavy-ball iteration matrix, state (theta, b)", mats["heavyball"]),
        ("Nesterov iteration matrix", mats["nesterov"]),
        ("Jury: p(1), p(-1), p(0)", sp.Tuple(p_hb.subs(z, 1), sp.expand(p_hb.subs(z, -1)), p_hb.subs(z, 0))),
        ("roots", sp.Tuple(*roots)),
        ("complex roots: |z|^2 = Re^2 + Im^2", modulus_derived),
        ("critical damping: discriminant = 0", sp.Eq(mu, crit_mu)),
    )
    findings = (
        "From the iteration matrices of torch's updates on f = ½hθ²: heavy ball z² − (1 + μ − γh)z + μ, "
        "Nesterov z² − (1 + μ)(1 − γh)z + μ(1 − γh), gradient descent z − (1 − γh).",
        "Jury's conditions p(1) = γh > 0, p(−1) = 2(1 + μ) − γh > 0, |p(0)| = |μ| < 1 give the heavy-ball "
        "stability region |μ| < 1, 0 < γh < 2(1 + μ); for Nesterov p(−1) = 1 + (1 + 2μ)(1 − γh).",
        "Roots are complex iff (1 + μ − γh)² < 4μ and then |z| = √μ (their product is μ). Goh's "
        "'Why Momentum Really Works' prints 2√μ (2√β) for this modulus; the correct value is √μ.",
        "Critical damping: μ = (1 − √(γh))², with the double root 1 − √(γh).",
    )
    sig = (h, lr, mu)
    signatures = {
        "heavyball": (z, *sig),
        "nesterov": (z, *sig),
        "gd": (z, *sig),
        "heavyball_trace": sig,
        "heavyball_det": sig,
        "nesterov_trace": sig,
        "nesterov_det": sig,
        "gd_root": sig,
        "discriminant_heavyball": sig,
        "modulus_complex": sig,
        "critical_momentum": (h, lr),
        "critical_rate": (h, lr),
    }
    return Derivation(
        name="characteristic_polynomials",
        title="Per-curvature characteristic polynomials, stability and the complex-root modulus",
        assumptions=_assumptions(
            (h, lr, mu, z),
            "f(θ) = ½hθ²: one eigen-direction of a quadratic with curvature h",
            "torch forms: b ← μb + g, θ ← θ − γb (Nesterov: θ ← θ − γ(g + μb))",
        ),
        symbols={"h": h, "lr": lr, "mu": mu, "z": z},
        result=result,
        steps=steps_,
        claims=claims,
        findings=findings,
        signatures=signatures,
        references=("Goh (2017), Why Momentum Really Works, Distill", "Jury stability criterion"),
    )


# --------------------------------------------------------------------------------------
# 9. optimal_parameters
# --------------------------------------------------------------------------------------
@functools.cache
def optimal_parameters(*, h_min=None, h_max=None) -> Derivation:
    r"""Polyak's optimal heavy ball, optimal GD and tuned Nesterov on ``[h_min, h_max]``.

    Heavy ball: the equal-ripple conditions ``1 + μ − γh_min = 2√μ`` and
    ``1 + μ − γh_max = −2√μ`` give ``γ* = 4/(√h_max + √h_min)²``,
    ``μ* = ((√κ − 1)/(√κ + 1))²`` and the rate ``(√κ − 1)/(√κ + 1)``. GD:
    ``γ = 2/(h_min + h_max)``, rate ``(κ − 1)/(κ + 1)``. Nesterov at ``γ = 1/h_max``,
    ``μ = (√κ − 1)/(√κ + 1)``: rate ``1 − 1/√κ``.

    The algebra is done with ``h_max = h_min(1 + δ)²`` (``δ = √κ − 1 > 0``), which makes
    every square root sign-definite; results are reported in ``(h_min, h_max)``.

    Examples
    --------
    >>> from sympy import Rational
    >>> d = optimal_parameters()
    >>> d.result["polyak_rate"].subs({d.symbols["h_min"]: Rational(1, 100), d.symbols["h_max"]: 1})
    9/11
    """
    h_min, h_max = _given(h_min, "h_min", positive=True), _given(h_max, "h_max", positive=True)
    delta, h = _pos("delta"), _pos("h")
    r, gamma, mu = sp.symbols("r gamma mu")
    hmax_d = h_min * (1 + delta) ** 2
    kappa = hmax_d / h_min
    sk = sp.sqrt(kappa)  # = 1 + δ
    # Polyak: both extreme curvatures at the edge of the complex region, opposite signs
    eqs = [sp.Eq(1 + r**2 - gamma * h_min, 2 * r), sp.Eq(1 + r**2 - gamma * hmax_d, -2 * r)]
    sols = sp.solve(eqs, [r, gamma], dict=True)
    chosen = [s for s in sols if sp.factor(s[r] - 1).is_negative and sp.factor(s[r]).is_positive]
    polyak = chosen[0]
    p_lr, p_r = sp.factor(polyak[gamma]), sp.factor(polyak[r])
    p_mu = sp.factor(p_r**2)
    disc_at = sp.factor((1 + p_mu - p_lr * h) ** 2 - 4 * p_mu)
    # gradient descent: equal ripple |1 − γh_min| = |1 − γh_max|
    g_lr = sp.solve(sp.Eq(1 - gamma * h_min, -(1 - gamma * hmax_d)), gamma)[0]
    g_rate = sp.factor(1 - g_lr * h_min)
    # Nesterov at the standard tuning
    n_lr, n_mu = 1 / hmax_d, (sk - 1) / (sk + 1)
    x = sp.Symbol("x")  # x = 1 − γh
    z = sp.Symbol("z")
    p_n = z**2 - (1 + mu) * x * z + mu * x
    disc_n = sp.factor(sp.discriminant(p_n, z))
    threshold = sp.factor(sp.solve(disc_n / x, x)[0].subs(mu, n_mu))
    x_min = 1 - n_lr * h_min
    n_disc_min = sp.factor(disc_n.subs({mu: n_mu, x: x_min}))
    n_rate = sp.factor(((1 + mu) * x / 2).subs({mu: n_mu, x: x_min}))
    n_modulus = sp.sqrt(sp.factor(n_mu * x_min))

    to_h = {delta: sp.sqrt(h_max / h_min) - 1}
    in_h = lambda e: sp.factor(e.subs(to_h))  # noqa: E731
    K = h_max / h_min
    box = {h_min: (0.01, 2.0), delta: (0.01, 30.0), h: (0.01, 50.0)}
    hbox = {h_min: (0.01, 1.0), h_max: (1.0, 100.0)}
    example = {h_min: sp.Rational(1, 100), delta: 9}
    claims = (
        claim("polyak_lr", p_lr, 4 / (sp.sqrt(hmax_d) + sp.sqrt(h_min)) ** 2, box),
        claim("polyak_momentum", p_mu, ((sk - 1) / (sk + 1)) ** 2, box),
        claim("polyak_rate", p_r, (sk - 1) / (sk + 1), box, note="the modulus √μ* of every root"),
        claim(
            "polyak_equal_ripple",
            disc_at,
            p_lr**2 * (h - h_min) * (h - hmax_d),
            box,
            note="≤ 0 on [h_min, h_max]: all roots complex or double, modulus √μ*",
        ),
        claim(
            "polyak_example",
            sp.Tuple(p_lr, p_mu, p_r).subs(example),
            sp.Tuple(sp.Rational(400, 121), sp.Rational(81, 121), sp.Rational(9, 11)),
            {},
        ),
        claim("gd_lr", g_lr, 2 / (h_min + hmax_d), box),
        claim("gd_rate", g_rate, (kappa - 1) / (kappa + 1), box),
        claim("gd_example", g_rate.subs(example), sp.Rational(99, 101), {}),
        claim("nesterov_threshold", threshold, 1 - 1 / kappa, box, note="roots complex iff 0 < 1 − γh < 1 − 1/κ"),
        claim("nesterov_critical_at_h_min", n_disc_min, sp.Integer(0), box),
        claim("nesterov_rate", n_rate, 1 - 1 / sk, box),
        claim("nesterov_modulus_at_h_min", n_modulus, 1 - 1 / sk, box),
        claim("nesterov_example", n_rate.subs(example), sp.Rational(9, 10), {}),
        claim("polyak_lr_in_h", in_h(p_lr), 4 / (sp.sqrt(h_max) + sp.sqrt(h_min)) ** 2, hbox),
        claim("polyak_momentum_in_h", in_h(p_mu), ((sp.sqrt(K) - 1) / (sp.sqrt(K) + 1)) ** 2, hbox),
        claim("polyak_rate_in_h", in_h(p_r), (sp.sqrt(K) - 1) / (sp.sqrt(K) + 1), hbox),
        claim("gd_rate_in_h", in_h(g_rate), (K - 1) / (K + 1), hbox),
        claim("nesterov_rate_in_h", in_h(n_rate), 1 - 1 / sp.sqrt(K), hbox),
    )
    result = {
        "polyak_lr": in_h(p_lr),
        "polyak_momentum": in_h(p_mu),
        "polyak_rate": in_h(p_r),
        "gd_lr": in_h(g_lr),
        "gd_rate": in_h(g_rate),
        "nesterov_lr": 1 / h_max,
        "nesterov_momentum": in_h(n_mu),
        "nesterov_rate": in_h(n_rate),
    }
    steps_ = (
        ("equal-ripple conditions (r = sqrt(mu), h_max = h_min (1 + delta)^2)", sp.Tuple(*eqs)),
        ("solutions", sp.Tuple(*[sp.Tuple(s[r], s[gamma]) for s in sols])),
        ("discriminant at the optimum", sp.Eq(sp.Symbol("D(h)"), disc_at)),
        ("GD equal ripple", sp.Eq(1 - gamma * h_min, -(1 - gamma * hmax_d))),
        ("Nesterov discriminant, x = 1 - lr h", sp.Eq(sp.Symbol("D_N"), disc_n)),
    )
    findings = (
        "Polyak's tuning follows from the equal-ripple conditions: γ* = 4/(√h_max + √h_min)², "
        "μ* = ((√κ − 1)/(√κ + 1))², and every curvature in [h_min, h_max] then has complex or "
        "double roots of modulus √μ* = (√κ − 1)/(√κ + 1) (9/11 for κ = 100, h_max = 1).",
        "Gradient descent: γ = 2/(h_min + h_max), rate (κ − 1)/(κ + 1) (99/101 for κ = 100).",
        "Nesterov at γ = 1/h_max, μ = (√κ − 1)/(√κ + 1): h_min sits exactly at critical damping "
        "(double root 1 − 1/√κ), larger curvatures have complex roots of smaller modulus, so the "
        "rate is 1 − 1/√κ (0.9 for κ = 100).",
    )
    sig = (h_min, h_max)
    return Derivation(
        name="optimal_parameters",
        title="Optimal parameters on a spectrum [h_min, h_max]: Polyak, GD, Nesterov",
        assumptions=_assumptions(
            (h_min, h_max, delta),
            "0 < h_min < h_max; κ = h_max/h_min; δ = √κ − 1 > 0",
            "heavy-ball / Nesterov / GD characteristic polynomials of `characteristic_polynomials`",
        ),
        symbols={"h_min": h_min, "h_max": h_max, "delta": delta, "h": h},
        result=result,
        steps=steps_,
        claims=claims,
        findings=findings,
        signatures={key: sig for key in result},
        references=("Polyak (1964)", "Nesterov (1983)", "Lessard, Recht & Packard (2016)"),
    )


# --------------------------------------------------------------------------------------
# 10. continuous_regimes
# --------------------------------------------------------------------------------------
@functools.cache
def continuous_regimes(*, m=None, c=None, h=None) -> Derivation:
    r"""Roots of ``m s² + c s + h = 0``, critical damping ``c = 2√(mh)``, decay rates, and the
    fastest uniform decay over ``[h_min, h_max]``: ``c* = 2√(m h_min)``, rate ``√(h_min/m)``.

    The decay rate of ``m θ'' + c θ' + hθ = 0`` is ``c/(2m)`` (under- and critically damped)
    and ``(c − √(c² − 4mh))/(2m)`` (overdamped), i.e. ``(c − √max(c² − 4mh, 0))/(2m)``.

    Examples
    --------
    >>> continuous_regimes().result["critical_c"]
    2*sqrt(h)*sqrt(m)
    """
    m, c, h = _given(m, "m", positive=True), _given(c, "c", positive=True), _given(h, "h", positive=True)
    h_min, w, t = _pos("h_min"), _pos("w"), _real("t")
    s = sp.Symbol("s")
    theta = sp.Function("theta")
    ode = m * theta(t).diff(t, 2) + c * theta(t).diff(t) + h * theta(t)
    char = sp.expand(sp.simplify(ode.subs(theta(t), sp.exp(s * t)).doit() / sp.exp(s * t)))
    roots = sp.solve(char, s)
    disc = sp.discriminant(char, s)
    s_plus = next(r for r in roots if sp.expand(r - (-c + sp.sqrt(disc)) / (2 * m)) == 0)
    s_minus = next(r for r in roots if r is not s_plus)
    crit = next(x for x in sp.solve(disc, c) if x.is_positive)
    # underdamped: c² − 4mh = −w < 0
    under = {h: (c**2 + w) / (4 * m)}
    rate_under = sp.factor(-sp.re(s_plus.subs(under)))
    rate_over = sp.factor(-s_plus)
    rate_crit = sp.factor(rate_under.subs(c, crit))
    rate = (c - sp.sqrt(sp.Max(c**2 - 4 * m * h, 0))) / (2 * m)
    d_rate_dh, d_rate_dc = sp.diff(rate_over, h), sp.diff(rate_over, c)
    c_star = crit.subs(h, h_min)
    rate_star = sp.factor(rate_crit.subs(h, h_min))

    box = {m: _BOX["m"], c: _BOX["c"], h: _BOX["h"]}
    over_where = c**2 > 4 * m * h
    under_where = c**2 < 4 * m * h
    claims = (
        claim("characteristic_equation", char, m * s**2 + c * s + h, {**box, s: (-3.0, 3.0)}),
        claim("vieta_sum", s_plus + s_minus, -c / m, box),
        claim("vieta_product", s_plus * s_minus, h / m, box),
        claim("s_plus", s_plus, (-c + sp.sqrt(c**2 - 4 * m * h)) / (2 * m), box),
        claim("critical_damping", crit, 2 * sp.sqrt(m * h), box),
        claim("rate_underdamped", rate_under, c / (2 * m), {m: _BOX["m"], c: _BOX["c"], w: (0.01, 10.0)}),
        claim("rate_overdamped", rate_over, (c - sp.sqrt(c**2 - 4 * m * h)) / (2 * m), box, where=over_where),
        claim("rate_critical", rate_crit, sp.sqrt(h / m), box),
        claim(
            "rate_formula_underdamped", rate, c / (2 * m), box, where=under_where, region={c: sp.sqrt(4 * m * h - w)}
        ),
        claim("rate_formula_overdamped", rate, rate_over, box, where=over_where, region={c: sp.sqrt(4 * m * h + w)}),
        claim(
            "rate_increasing_in_h",
            d_rate_dh,
            1 / sp.sqrt(c**2 - 4 * m * h),
            box,
            where=over_where,
            note="overdamped: the slowest curvature is the smallest",
        ),
        claim("rate_decreasing_in_c", d_rate_dc, (1 - c / sp.sqrt(c**2 - 4 * m * h)) / (2 * m), box, where=over_where),
        claim(
            "rate_decreasing_in_c_sign",
            (c / sp.sqrt(c**2 - 4 * m * h)) ** 2 - 1,
            4 * m * h / (c**2 - 4 * m * h),
            box,
            where=over_where,
            note="c/√(c² − 4mh) > 1, so more friction past critical slows the decay",
        ),
        claim("optimal_damping", c_star, 2 * sp.sqrt(m * h_min), {m: _BOX["m"], h_min: _BOX["h"]}),
        claim("optimal_rate", rate_star, sp.sqrt(h_min / m), {m: _BOX["m"], h_min: _BOX["h"]}),
    )
    result = {
        "characteristic_equation": sp.Eq(char, 0),
        "s_plus": s_plus,
        "s_minus": s_minus,
        "discriminant": disc,
        "critical_c": crit,
        "rate_underdamped": rate_under,
        "rate_overdamped": rate_over,
        "rate": rate,
        "optimal_c": c_star,
        "optimal_rate": rate_star,
    }
    steps_ = (
        ("ansatz theta = exp(s t)", sp.Eq(ode.subs(theta(t), sp.exp(s * t)).doit(), 0)),
        ("characteristic equation", sp.Eq(char, 0)),
        ("roots", sp.Tuple(s_plus, s_minus)),
        ("critical damping: discriminant = 0", sp.Eq(c, crit)),
        ("underdamped, c^2 - 4 m h = -w", sp.Eq(sp.Symbol("s_+"), s_plus.subs(under))),
        ("decay rate", sp.Eq(sp.Symbol("r(m, c, h)"), rate)),
        ("d rate / dh, d rate / dc (overdamped)", sp.Tuple(d_rate_dh, d_rate_dc)),
    )
    findings = (
        "θ = e^{st} turns m·θ'' + c·θ' + h·θ = 0 into m·s² + c·s + h = 0; critical damping is c = 2√(mh).",
        "Decay rate: c/(2m) when underdamped or critical (√(h/m) at c = 2√(mh)); "
        "(c − √(c² − 4mh))/(2m) when overdamped, i.e. (c − √max(c² − 4mh, 0))/(2m) everywhere.",
        "For fixed c the rate is non-decreasing in h, so the smallest curvature is the slowest; past "
        "critical damping more friction slows it. The fastest uniform decay over [h_min, h_max] is "
        "therefore critical damping of h_min: c* = 2√(m·h_min), rate √(h_min/m).",
    )
    return Derivation(
        name="continuous_regimes",
        title="Damping regimes of the heavy-ball ODE on a quadratic",
        assumptions=_assumptions((m, c, h, h_min), "m·θ'' + c·θ' + h·θ = 0 for each curvature h of the quadratic"),
        symbols={"m": m, "c": c, "h": h, "h_min": h_min, "s": s},
        result=result,
        steps=steps_,
        claims=claims,
        findings=findings,
        signatures={
            "s_plus": (m, c, h),
            "s_minus": (m, c, h),
            "rate": (m, c, h),
            "discriminant": (m, c, h),
            "critical_c": (m, h),
            "optimal_c": (m, h_min),
            "optimal_rate": (m, h_min),
        },
        references=("Qian (1999)", "any text on the damped harmonic oscillator"),
    )


# --------------------------------------------------------------------------------------
# 11. energy_dissipation
# --------------------------------------------------------------------------------------
@functools.cache
def energy_dissipation(*, m=None, c=None, dim: int = 3) -> Derivation:
    r"""``E = ½m‖v‖² + f(θ)`` decreases along the heavy-ball ODE: ``dE/dt = −c‖v‖²``.

    Differentiated along a trajectory ``θ(t), v(t)`` of a general (undefined) ``f`` in
    ``dim`` dimensions, then the ODE ``θ' = v``, ``m v' = −∇f − cv`` substituted.

    Examples
    --------
    >>> energy_dissipation(dim=1).result["dE_dt"]
    -c*v1**2
    """
    m, c = _given(m, "m", positive=True), _given(c, "c", positive=True)
    dim = as_int("dim", dim, minimum=1, maximum=4)
    t = _real("t")
    f = sp.Function("f")
    th = [sp.Function(f"theta{i}")(t) for i in range(1, dim + 1)]
    vv = [sp.Function(f"v{i}")(t) for i in range(1, dim + 1)]
    energy = m / 2 * sum(v**2 for v in vv) + f(*th)
    dE = energy.diff(t)
    grad = [f(*th).diff(x) for x in th]
    ode = {
        **{x.diff(t): v for x, v in zip(th, vv, strict=False)},
        **{v.diff(t): (-g - c * v) / m for v, g in zip(vv, grad, strict=False)},
    }
    along = dE.subs(ode)
    # evaluate at a point of phase space: θ_i(t) -> x_i, v_i(t) -> v_i
    xs = sp.symbols(f"x1:{dim + 1}", real=True)
    vs = sp.symbols(f"v1:{dim + 1}", real=True)
    point = {**dict(zip(th, xs, strict=False)), **dict(zip(vv, vs, strict=False))}
    along_point = along.subs(point)
    dE_dt = sp.expand(along_point)
    box = {m: _BOX["m"], c: _BOX["c"], **{x: (-2.0, 2.0) for x in (*xs, *vs)}}
    ffun = {f: sp.Lambda(xs, sum(sp.sin(x) * xs[(j + 1) % dim] + x**2 / (j + 2) for j, x in enumerate(xs)))}
    claims = (
        claim("dE_dt", along_point, -c * sum(v**2 for v in vs), box, functions=ffun),
        claim(
            "conservative_without_friction",
            along_point.subs(c, 0),
            sp.Integer(0),
            box,
            functions=ffun,
            note="c = 0: energy is conserved",
        ),
    )
    result = {"energy": energy.subs(point), "dE_dt": dE_dt}
    steps_ = (
        ("energy", sp.Eq(sp.Symbol("E"), energy)),
        ("time derivative (chain rule)", sp.Eq(sp.Symbol("dE/dt"), dE)),
        ("substitute theta' = v, m v' = -grad f - c v", sp.Eq(sp.Symbol("dE/dt"), along_point)),
        ("expand", sp.Eq(sp.Symbol("dE/dt"), dE_dt)),
    )
    findings = (
        "Along m·v' = −∇f − c·v, θ' = v the energy E = ½m‖v‖² + f(θ) satisfies dE/dt = −c‖v‖² ≤ 0 for "
        "any f: friction is the only sink, and with c = 0 energy is conserved.",
    )
    return Derivation(
        name="energy_dissipation",
        title="Energy dissipation along the heavy-ball ODE",
        assumptions=_assumptions((m, c, t), f"f is an undefined (general) function of {dim} coordinates"),
        symbols={"m": m, "c": c, "f": f, "x": sp.Matrix(xs), "v": sp.Matrix(vs)},
        result=result,
        steps=steps_,
        claims=claims,
        findings=findings,
        references=("any mechanics text; Qian (1999)",),
    )


# --------------------------------------------------------------------------------------
# 12. adam_bias_correction
# --------------------------------------------------------------------------------------
@functools.cache
def adam_bias_correction(*, beta1=None, beta2=None, lr=None, eps=None) -> Derivation:
    r"""Adam with a constant gradient: ``m_t = (1 − β1ᵗ)g``, ``v_t = (1 − β2ᵗ)g²``; the
    corrected moments are ``g`` and ``g²``; torch's first step is ``θ₁ = θ₀ − γg/(|g| + ε)``.

    The recurrences are solved with ``rsolve`` from ``m_0 = v_0 = 0``. torch adds ε after
    the bias correction (``denom = √v/√(1 − β2ᵗ) + ε``); adding it before
    (``(√v + ε)/√(1 − β2ᵗ)``, the "efficient" form of Kingma & Ba) makes the first step
    ``θ₀ − γg/(|g| + ε/√(1 − β2))``.

    Examples
    --------
    >>> adam_bias_correction().result["m_t"]
    -beta1**t*g + g
    """
    beta1, beta2 = _given(beta1, "beta1", positive=True), _given(beta2, "beta2", positive=True)
    lr, eps = _given(lr, "lr", positive=True), _given(eps, "eps", positive=True)
    g, theta0 = _real("g"), _real("theta_0")
    w = _pos("w")  # w = 1 − β2 > 0, for the exact reduction of √(1 − β2)
    t = sp.Symbol("t", integer=True, nonnegative=True)
    M, V = sp.Function("m"), sp.Function("v")
    m_prev, _v_prev = sp.Symbol("m_prev"), sp.Symbol("v_prev")
    lerp = m_prev + (1 - beta1) * (g - m_prev)  # torch: exp_avg.lerp_(grad, 1 - beta1)
    ema = beta1 * m_prev + (1 - beta1) * g
    m_t = sp.rsolve(M(t) - beta1 * M(t - 1) - (1 - beta1) * g, M(t), {M(0): 0})
    v_t = sp.rsolve(V(t) - beta2 * V(t - 1) - (1 - beta2) * g**2, V(t), {V(0): 0})
    m_hat, v_hat = sp.cancel(m_t / (1 - beta1**t)), sp.cancel(v_t / (1 - beta2**t))
    m1, v1 = m_t.subs(t, 1), v_t.subs(t, 1)
    bc1, bc2 = 1 - beta1, 1 - beta2
    # torch: denom = sqrt(v)/sqrt(bc2) + eps ; theta += (-lr/bc1) * m / denom
    theta_torch = theta0 + (-lr / bc1) * m1 / (sp.sqrt(v1) / sp.sqrt(bc2) + eps)
    theta_before = theta0 + (-lr / bc1) * m1 / ((sp.sqrt(v1) + eps) / sp.sqrt(bc2))
    region = {beta2: 1 - w}
    box = {
        beta1: (0.05, 0.999),
        beta2: (0.05, 0.9999),
        lr: (1e-4, 1.0),
        eps: (1e-8, 1e-1),
        g: (-3.0, 3.0),
        theta0: (-2.0, 2.0),
        m_prev: (-2.0, 2.0),
        t: (1, 60),
    }
    claims = (
        claim("lerp_form", lerp, ema, box, note="torch's lerp is the exponential moving average"),
        claim("first_moment", m_t, (1 - beta1**t) * g, box),
        claim("second_moment", v_t, (1 - beta2**t) * g**2, box),
        claim("m_hat", m_hat, g, box),
        claim("v_hat", v_hat, g**2, box),
        claim(
            "first_step_torch",
            theta_torch,
            theta0 - lr * g / (sp.Abs(g) + eps),
            box,
            region=region,
            note="ε added after the bias correction",
        ),
        claim(
            "first_step_eps_before",
            theta_before,
            theta0 - lr * g / (sp.Abs(g) + eps / sp.sqrt(1 - beta2)),
            box,
            region=region,
            note="ε added before it: effectively ε/√(1 − β2)",
        ),
        claim(
            "effective_eps_factor_default",
            1 / sp.sqrt(1 - sp.Rational(999, 1000)),
            10 * sp.sqrt(10),
            {},
            note="β2 = 0.999: ε is effectively 31.6 times larger",
        ),
    )
    result = {
        "m_t": m_t,
        "v_t": v_t,
        "m_hat": m_hat,
        "v_hat": v_hat,
        "theta_1_torch": theta_torch,
        "theta_1_eps_before": theta_before,
    }
    steps_ = (
        ("first moment recurrence", sp.Eq(M(t), beta1 * M(t - 1) + (1 - beta1) * g)),
        ("solution (rsolve, m_0 = 0)", sp.Eq(M(t), m_t)),
        ("second moment", sp.Eq(V(t), v_t)),
        ("torch's first step", sp.Eq(sp.Symbol("theta_1"), theta_torch)),
        ("eps before the correction", sp.Eq(sp.Symbol("theta_1"), theta_before)),
    )
    findings = (
        "For a constant gradient m_t = (1 − β1ᵗ)g and v_t = (1 − β2ᵗ)g², so the bias-corrected moments "
        "are exactly g and g² at every t (the lecture's formulas; torch's lerp form is the same recurrence).",
        "torch adds ε after the bias correction: the first step is θ_1 = θ_0 − γg/(|g| + ε), a step of "
        "length ≈ γ whatever the scale of g. Adding ε before the correction (Kingma & Ba's efficient "
        "form) gives θ_0 − γg/(|g| + ε/√(1 − β2)): ε is effectively 1/√(1 − β2) ≈ 31.6 times larger "
        "for β2 = 0.999, which matters when |g| is comparable to ε.",
    )
    return Derivation(
        name="adam_bias_correction",
        title="Adam's bias correction and the placement of epsilon",
        assumptions=_assumptions((beta1, beta2, lr, eps, g, t), "0 < β1, β2 < 1; a constant gradient g; m_0 = v_0 = 0"),
        symbols={"beta1": beta1, "beta2": beta2, "lr": lr, "eps": eps, "g": g, "t": t, "theta_0": theta0},
        result=result,
        steps=steps_,
        claims=claims,
        findings=findings,
        references=("Kingma & Ba (2015)", "torch.optim.Adam source (torch/optim/adam.py)"),
    )


# --------------------------------------------------------------------------------------
# 13. modified_equation
# --------------------------------------------------------------------------------------
def _torch_residual(*, lr, mu, nesterov: bool):
    """The two-step θ-recurrence of torch's SGD (momentum μ, optionally Nesterov), obtained
    by eliminating the buffer: returns ``residual(θ_{k+1}, θ_k, θ_{k−1}, grad_at)``."""

    def residual(nxt, x, prv, grad_at):
        n = x.shape[0]
        buf_k = sp.Matrix(sp.symbols(f"B1:{n + 1}"))
        g_prev = grad_at(prv)
        # the step θ_{k−1} -> θ_k whose new buffer is b_k (torch: b_k = μ b_{k−1} + g_{k−1})
        theta_k, _ = _torch_sgd_step(prv, (buf_k - g_prev) / mu, g_prev, lr=lr, momentum=mu, nesterov=nesterov)
        solved = sp.solve(list(theta_k - x), list(buf_k), dict=True)[0]
        theta_next, _ = _torch_sgd_step(x, buf_k.subs(solved), grad_at(x), lr=lr, momentum=mu, nesterov=nesterov)
        return nxt - theta_next

    return residual


def _backward_error(residual, *, n: int, lr):
    r"""Backward error analysis of a two-step recurrence ``residual(θ_{k+1}, θ_k, θ_{k−1}) = 0``.

    Ansatz: the iterates are samples ``θ_k = x(k·lr)`` of a flow ``x' = F0(x) + lr·F1(x)``, so
    ``θ_{k±1} = Φ_{±lr}(x) = x ± lr F + (lr²/2)(DF)F + O(lr³)`` (Lie series). Every gradient in
    the recurrences is multiplied by ``lr``, so a first-order Taylor expansion
    ``∇f(x + d) = ∇f(x) + ∇²f(x) d`` of the gradients is enough to match ``O(lr²)``. The
    ``lr¹`` terms determine ``F0``, the ``lr²`` terms ``F1``. ``f`` is an undefined function of
    ``n`` coordinates. Returns ``(F0, F1, grad, hessian, coordinates, f)``.
    """
    xs = sp.symbols(f"x1:{n + 1}", real=True)
    f = sp.Function("f")
    fx = f(*xs)
    grad = sp.Matrix([fx.diff(x) for x in xs])
    hess = sp.hessian(fx, xs)
    X = sp.Matrix(xs)
    F0 = sp.Matrix(sp.symbols(f"F0_1:{n + 1}"))
    F1 = sp.Matrix(sp.symbols(f"F1_1:{n + 1}"))
    DFF = sp.Matrix(sp.symbols(f"A1:{n + 1}"))  # stands for (DF0)F0
    nxt = X + lr * F0 + lr**2 * (F1 + DFF / 2)
    prv = X - lr * F0 + lr**2 * (-F1 + DFF / 2)

    def grad_at(point):
        first_order = (point - X).applyfunc(lambda e: sp.expand(e).coeff(lr, 1)) * lr
        return grad + hess * first_order

    R = residual(nxt, X, prv, grad_at).applyfunc(sp.expand)
    order = lambda k: R.applyfunc(lambda e: e.coeff(lr, k))  # noqa: E731
    if any(sp.simplify(e) != 0 for e in order(0)):
        raise ValueError("the recurrence is not consistent at order lr**0")
    sol0 = sp.solve(list(order(1)), list(F0), dict=True)[0]
    F0e = F0.subs(sol0).applyfunc(sp.factor)
    dff = F0e.jacobian(xs) * F0e
    eq2 = order(2).subs(sol0).subs(dict(zip(DFF, dff, strict=False)))
    sol1 = sp.solve(list(eq2), list(F1), dict=True)[0]
    F1e = F1.subs(sol1).applyfunc(sp.factor)
    return F0e, F1e, grad, hess, xs, f


@functools.cache
def modified_equation(*, mu=None, lr=None, h=None) -> Derivation:
    r"""Fixed momentum, ``lr → 0`` (Kovachki & Stuart 2021): the modified flow and ``C(μ)``.

    In the time ``t = k·lr`` the iterates of torch's SGD with momentum μ follow
    ``θ' = −∇f/(1 − μ) − lr·C(μ)·∇²f·∇f + O(lr²)`` with

    * heavy ball (``b ← μb + g``, ``θ ← θ − lr·b``): ``C = (1 + μ)/(2(1 − μ)³)``,
    * Nesterov (torch's ``nesterov=True``): ``C = (1 − μ + 2μ²)/(2(1 − μ)³)``,

    derived twice: (i) on ``f = ½hx²`` by matching the slow root of the characteristic
    polynomial with ``exp(lr·s)``, ``s = −h/(1−μ) − lr·C·h²``, to ``O(lr²)``; (ii) by backward
    error analysis of the buffer-free two-step recurrence for a general ``f`` in 2-D. Starting
    torch's way (``b = g`` at the first step) puts the iterates on the slow manifold of the
    flow started from ``θ₀ + lr·D(μ)·∇f(θ₀)``, ``D = μ/(1 − μ)²`` (heavy ball) or
    ``μ²/(1 − μ)²`` (Nesterov), up to a fast mode decaying like ``μᵏ``.

    Examples
    --------
    >>> modified_equation().result["C_heavyball"]
    (mu + 1)/(2*(1 - mu)**3)
    """
    mu, lr, h = _given(mu, "mu", positive=True), _given(lr, "lr", positive=True), _given(h, "h", positive=True)
    z = sp.Symbol("z")
    s0, s1 = sp.symbols("s0 s1")
    one_step = sp.expand(sp.series(sp.exp(lr * (s0 + lr * s1)), lr, 0, 3).removeO())
    linear = {}
    for method in ("heavyball", "nesterov"):
        poly = sp.expand(_iteration_matrix(method, h, lr, mu).charpoly(z).as_expr())
        a1, a2 = _root_series(poly, z, lr, 1, 2)  # slow root
        (f1,) = _root_series(poly, z, lr, mu, 1)  # fast root
        match = sp.solve([sp.Eq(one_step.coeff(lr, 1), a1), sp.Eq(one_step.coeff(lr, 2), a2)], [s0, s1], dict=True)[0]
        theta1, _ = _torch_sgd_step(sp.Integer(1), 0, h, lr=lr, momentum=mu, nesterov=method == "nesterov", first=True)
        z_slow, z_fast = 1 + a1 * lr + a2 * lr**2, mu + f1 * lr
        amplitude = (theta1 - z_fast) / (z_slow - z_fast)  # θ_k = A z_slow^k + (1 − A) z_fast^k, θ_0 = 1
        shift = sp.factor(sp.series(amplitude, lr, 0, 2).removeO().coeff(lr, 1) / h)
        linear[method] = {
            "poly": poly,
            "slow": (a1, a2),
            "flow": sp.factor(match[s0]),
            "C": sp.factor(-match[s1] / h**2),
            "shift": shift,
        }
    for entry in linear.values():
        entry["C"], entry["shift"] = _one_minus(entry["C"], mu), _one_minus(entry["shift"], mu)
    C_hb, C_n = linear["heavyball"]["C"], linear["nesterov"]["C"]

    # backward error analysis, general f
    F0_hb, F1_hb, grad, hess, xs, f = _backward_error(_torch_residual(lr=lr, mu=mu, nesterov=False), n=2, lr=lr)
    F0_n, F1_n, *_ = _backward_error(_torch_residual(lr=lr, mu=mu, nesterov=True), n=2, lr=lr)

    def sutskever(nxt, x, prv, grad_at):  # x_{k+1} = x_k + μ(x_k − x_{k−1}) − lr ∇f(x_k + μ(x_k − x_{k−1}))
        return nxt - (x + mu * (x - prv) - lr * grad_at(x + mu * (x - prv)))

    def gd_scaled(nxt, x, prv, grad_at):  # GD with step lr/(1 − μ), same time t = k·lr
        return nxt - (x - lr / (1 - mu) * grad_at(x))

    _, F1_s, *_ = _backward_error(sutskever, n=2, lr=lr)
    _F0_gd, F1_gd, *_ = _backward_error(gd_scaled, n=2, lr=lr)
    _F0_1d, F1_1d, grad1, hess1, *_ = _backward_error(_torch_residual(lr=lr, mu=mu, nesterov=False), n=1, lr=lr)
    C_hb_bea = sp.factor(-F1_1d[0] / (hess1[0, 0] * grad1[0]))
    C_gd = _one_minus(-F1_gd[0] / (hess * grad)[0], mu)
    hg = hess * grad
    modified_loss = f(*xs) + lr * (1 - mu) * C_hb / 2 * sum(gi**2 for gi in grad)
    loss_flow = -sp.Matrix([modified_loss.diff(x) for x in xs]) / (1 - mu)

    box = {mu: (0.01, 0.95), lr: (1e-3, 0.5), h: (0.05, 5.0)}
    xbox = {mu: (0.01, 0.95), lr: (1e-3, 0.5), **{x: (-2.0, 2.0) for x in xs}}
    ffun = {f: sp.Lambda(xs, sp.sin(xs[0]) * xs[1] + xs[0] ** 2 * xs[1] ** 2 / 4 + sp.exp(xs[1] / 3))}
    mbox = {mu: (0.01, 0.95)}
    claims = (
        claim("flow_heavyball", linear["heavyball"]["flow"], -h / (1 - mu), box, note="rescaled gradient flow"),
        claim("flow_nesterov", linear["nesterov"]["flow"], -h / (1 - mu), box),
        claim("C_heavyball", C_hb, (1 + mu) / (2 * (1 - mu) ** 3), mbox, note="the claimed value: confirmed"),
        claim("C_nesterov", C_n, (1 - mu + 2 * mu**2) / (2 * (1 - mu) ** 3), mbox, note="the claimed value: confirmed"),
        claim("bea_F0_heavyball", F0_hb, -grad / (1 - mu), xbox, functions=ffun),
        claim("bea_F0_nesterov", F0_n, -grad / (1 - mu), xbox, functions=ffun),
        claim(
            "bea_heavyball", F1_hb, -C_hb * hg, xbox, functions=ffun, note="general f (2-D) agrees with the linear case"
        ),
        claim("bea_nesterov", F1_n, -C_n * hg, xbox, functions=ffun),
        claim("bea_C_heavyball_1d", C_hb_bea, C_hb, mbox),
        claim(
            "bea_nesterov_lookahead_sequence",
            F1_s,
            -C_n * hg,
            xbox,
            functions=ffun,
            note="Sutskever's base sequence x_k has the same O(lr) modified flow as torch's θ_k",
        ),
        claim("C_gd", C_gd, 1 / (2 * (1 - mu) ** 2), mbox, note="GD with lr/(1−μ) in the same time"),
        claim(
            "ratio_to_gd",
            sp.factor(C_hb / C_gd),
            (1 + mu) / (1 - mu),
            mbox,
            note="Ghosh et al. (2023): momentum strengthens the implicit regulariser by (1+μ)/(1−μ)",
        ),
        claim(
            "modified_loss",
            F0_hb + lr * F1_hb,
            loss_flow,
            {**xbox},
            functions=ffun,
            note="θ' = −∇[f + lr(1−μ)C/2·‖∇f‖²]/(1−μ)",
        ),
        claim("shift_heavyball", linear["heavyball"]["shift"], mu / (1 - mu) ** 2, {**mbox, h: (0.05, 5.0)}),
        claim("shift_nesterov", linear["nesterov"]["shift"], mu**2 / (1 - mu) ** 2, {**mbox, h: (0.05, 5.0)}),
    )
    result = {
        "C_heavyball": C_hb,
        "C_nesterov": C_n,
        "C_gd": C_gd,
        "flow_factor": 1 / (1 - mu),
        "shift_heavyball": linear["heavyball"]["shift"],
        "shift_nesterov": linear["nesterov"]["shift"],
        "modified_flow_heavyball": F0_hb + lr * F1_hb,
        "modified_flow_nesterov": F0_n + lr * F1_n,
    }
    a1, a2 = linear["heavyball"]["slow"]
    steps_ = (
        ("heavy ball on f = h x^2/2: characteristic polynomial", sp.Eq(sp.Symbol("p(z)"), linear["heavyball"]["poly"])),
        ("slow root z = 1 + a1 lr + a2 lr^2", sp.Tuple(sp.Eq(sp.Symbol("a1"), a1), sp.Eq(sp.Symbol("a2"), a2))),
        ("one step of x' = (s0 + lr s1) x", sp.Eq(sp.Symbol("exp(lr s)"), one_step)),
        ("C = -s1/h^2", sp.Eq(sp.Symbol("C_HB"), C_hb)),
        ("Nesterov", sp.Eq(sp.Symbol("C_N"), C_n)),
        ("backward error analysis, heavy ball, general f: F1", F1_hb),
        (
            "initial shift D: theta_tilde_0 = theta_0 + lr D grad f",
            sp.Tuple(linear["heavyball"]["shift"], linear["nesterov"]["shift"]),
        ),
    )
    findings = (
        "CONFIRMED: C(μ) = (1 + μ)/(2(1 − μ)³) for heavy ball and (1 − μ + 2μ²)/(2(1 − μ)³) for "
        "Nesterov (torch's forms), so θ' = −∇f/(1 − μ) − lr·C(μ)·∇²f·∇f. Derived two independent ways: "
        "(i) matching the slow characteristic root on f = ½hx² with exp(lr·s) to O(lr²); (ii) backward "
        "error analysis (Lie-series ansatz) of the buffer-free two-step recurrence for a general f in 2-D.",
        "The modified flow is a rescaled gradient flow of the modified loss f + lr(1 − μ)C/2·‖∇f‖²; "
        "C_HB is (1 + μ)/(1 − μ) times the coefficient 1/(2(1 − μ)²) of gradient descent with step "
        "lr/(1 − μ) in the same time, the factor reported by Ghosh, Lyu, Zhang & Wang (ICLR 2023).",
        "Sutskever's look-ahead sequence x_k (whose look-ahead points are torch's θ_k) has the same "
        "O(lr) modified flow: the two sequences differ by a near-identity change of variables whose "
        "O(lr) effect on the vector field cancels.",
        "Initial layer: started torch's way (b = g at the first step), the iterates follow the modified "
        "flow started from θ_0 + lr·D(μ)·∇f(θ_0) with D = μ/(1 − μ)² (heavy ball) or μ²/(1 − μ)² "
        "(Nesterov), plus a fast mode decaying like μᵏ whose amplitude is O(lr). So the error against "
        "the modified flow from θ_0 itself is O(lr), and O(lr²) only with the shifted start and away "
        "from the initial layer (t ≫ lr/(1 − μ)); against the rescaled gradient flow it is O(lr).",
        "Kovachki & Stuart (JMLR 22, 2021) write heavy ball as x_{k+1} = x_k − h∇f(x_k) + λ(x_k − x_{k−1}), "
        "the same θ-recurrence as torch's with h = lr, λ = μ. The search tool only returned the paper's "
        "abstract, so their modified-equation coefficients could not be quoted here; the values above are "
        "derived, cross-checked two ways and against Ghosh et al.'s (1 + μ)/(1 − μ) factor.",
    )
    sig = (mu,)
    return Derivation(
        name="modified_equation",
        title="Fixed momentum, vanishing learning rate: the modified equation and C(mu)",
        assumptions=_assumptions(
            (mu, lr, h),
            "momentum μ ∈ (0, 1) fixed, lr → 0, time t = k·lr",
            "heavy ball: b ← μb + g, θ ← θ − lr·b; Nesterov: θ ← θ − lr(g + μb) (torch)",
            "f undefined (general) in the backward error analysis; f = ½hx² for the root matching",
        ),
        symbols={"mu": mu, "lr": lr, "h": h, "f": f, "x": sp.Matrix(xs)},
        result=result,
        steps=steps_,
        claims=claims,
        findings=findings,
        signatures={
            key: sig
            for key in ("C_heavyball", "C_nesterov", "C_gd", "flow_factor", "shift_heavyball", "shift_nesterov")
        },
        references=(
            "Kovachki & Stuart (2021), JMLR 22(17)",
            "Ghosh, Lyu, Zhang & Wang (2023), ICLR",
            "Hairer, Lubich & Wanner, Geometric Numerical Integration (modified equations)",
        ),
    )


# --------------------------------------------------------------------------------------
# the registry
# --------------------------------------------------------------------------------------
DERIVATIONS: Mapping = OrderedDict(
    (fn.__name__, DerivationFactory(fn.__name__, fn))
    for fn in (
        discretization,
        consistency,
        momentum_sum,
        dampening,
        weight_decay,
        sgd_equals_heavyball,
        nesterov_equivalence,
        characteristic_polynomials,
        optimal_parameters,
        continuous_regimes,
        energy_dissipation,
        adam_bias_correction,
        modified_equation,
    )
)
