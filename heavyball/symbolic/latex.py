r"""LaTeX rendering of derivations: text with inline mathematics, and displays that break.

Texts (titles, assumptions, findings, claim notes, step labels) are written in Unicode with
their mathematics between dollar signs: ``"the step $θ ← θ − γ(g + μb)$ of torch"``.
:func:`tex_text` turns the mathematics into TeX (``μ`` → ``\mu``, ``Δt`` → ``\Delta t``,
``√(mh)`` → ``\sqrt{mh}``, ``θ²`` → ``\theta^{2}``, ``v_{k+1}`` as written) and escapes the
prose; :func:`plain_text` drops the dollar signs for the terminal. Expressions are printed by
sympy with the terms in the order a person writes them (:class:`TermOrderPrinter`: constants
first, ``1 - c\Delta t/m``; polynomials by descending degree) and set in ``dmath*``
environments of ``breqn``, which break long equations across lines. The output is pure ASCII
and needs ``amsmath`` and ``breqn`` (:data:`PACKAGES`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import sympy as sp
from sympy.printing.latex import LatexPrinter

if TYPE_CHECKING:  # typing only: the claim engine imports this module
    from .claims import Derivation

__all__ = [
    "PACKAGES",
    "TermOrderPrinter",
    "derivation_block",
    "displays",
    "document",
    "math_segments",
    "mathjax_block",
    "plain_text",
    "tex_expr",
    "tex_math",
    "tex_text",
]

#: the LaTeX packages the rendered blocks need, in loading order (breqn after amsmath)
PACKAGES = ("amsmath", "amssymb", "breqn")

# -- text: Unicode mathematics between dollar signs --------------------------------------
_MATH = {
    "α": r"\alpha",
    "β": r"\beta",
    "γ": r"\gamma",
    "δ": r"\delta",
    "ε": r"\varepsilon",
    "η": r"\eta",
    "θ": r"\theta",
    "κ": r"\kappa",
    "λ": r"\lambda",
    "μ": r"\mu",
    "ξ": r"\xi",
    "ρ": r"\rho",
    "σ": r"\sigma",
    "τ": r"\tau",
    "φ": r"\varphi",
    "ω": r"\omega",
    "Δ": r"\Delta",
    "Σ": r"\Sigma",
    "∑": r"\sum",
    "∇": r"\nabla",
    "∂": r"\partial",
    "≤": r"\le",
    "≥": r"\ge",
    "≠": r"\ne",
    "≈": r"\approx",
    "≡": r"\equiv",
    "≪": r"\ll",
    "≫": r"\gg",
    "∝": r"\propto",
    "∈": r"\in",
    "→": r"\to",
    "←": r"\leftarrow",
    "⇒": r"\Rightarrow",
    "⇔": r"\Leftrightarrow",
    "∞": r"\infty",
    "·": r"\cdot",
    "×": r"\times",
    "∘": r"\circ",
    "±": r"\pm",
    "∓": r"\mp",
    "‖": r"\|",
    "½": r"\tfrac{1}{2}",
    "…": r"\ldots",
    "−": "-",
    "′": "'",
    "~": r"\sim",
    "%": r"\%",
    "&": r"\&",
    "#": r"\#",
}
_SUPERSCRIPT = {"⁰": "0", "¹": "1", "²": "2", "³": "3", "⁴": "4", "⁻": "-", "ᵗ": "t", "ᵏ": "k", "ᵀ": "T", "ⁿ": "n"}
_SUBSCRIPT = {"₀": "0", "₁": "1", "₂": "2", "₃": "3", "ₖ": "k", "ᵢ": "i"}
_WORDS = {
    "max": r"\max",
    "min": r"\min",
    "exp": r"\exp",
    "log": r"\log",
    "sin": r"\sin",
    "cos": r"\cos",
    "det": r"\det",
    "lr": r"\mathrm{lr}",
    "sign": r"\operatorname{sign}",
    "diag": r"\operatorname{diag}",
    "Var": r"\operatorname{Var}",
    "Cov": r"\operatorname{Cov}",
    "Re": r"\operatorname{Re}",
    "Im": r"\operatorname{Im}",
}
_PROSE = {
    "\\": r"$\backslash$",
    "&": r"\&",
    "%": r"\%",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"$\sim$",
    "^": r"\^{}",
    "<": "$<$",
    ">": "$>$",
    "|": "$|$",
    "“": "``",
    "”": "''",
    "‘": "`",
    "’": "'",
    "—": "---",
    "–": "--",
    "…": r"\ldots{}",
}
_WORD = re.compile(r"[A-Za-z]+")


def _matching(text: str, start: int) -> int:
    """Index of the parenthesis closing the one at ``start``."""
    depth = 0
    for i in range(start, len(text)):
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        if depth == 0:
            return i
    raise ValueError(f"unbalanced parentheses in {text!r}")


def _atom_end(text: str, start: int) -> int:
    """End of the operand of a ``√`` at ``start``: a group, a letter or a word (with its call)."""
    if start >= len(text):
        return start
    if text[start] == "(":
        return _matching(text, start) + 1
    match = _WORD.match(text, start)
    if match is None or len(match.group()) == 1:
        end = start + 1
        while end < len(text) and text[end].isdigit() and text[start].isdigit():
            end += 1
        return end
    end = match.end()
    return _matching(text, end) + 1 if end < len(text) and text[end] == "(" else end


def tex_math(text: str) -> str:
    r"""Unicode mathematics -> TeX math (without the dollar signs).

    Examples
    --------
    >>> tex_math("μ = 1 − cΔt/m")
    '\\mu = 1 - c\\Delta t/m'
    >>> tex_math("c = 2√(mh), θ'' + θ² ≤ ½")
    "c = 2\\sqrt{mh}, \\theta'' + \\theta^{2} \\le \\tfrac{1}{2}"
    >>> tex_math("m̂' = a(g − m̂)")
    "\\hat{m}' = a(g - \\hat{m})"
    """
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if text[i + 1 : i + 2] == "\u0302":  # a combining circumflex: m̂ is \hat{m}
            out.append(rf"\hat{{{tex_math(ch)}}}")
            i += 2
            continue
        if ch == "√":
            end = _atom_end(text, i + 1)
            inner = text[i + 2 : end - 1] if text[i + 1 : i + 2] == "(" else text[i + 1 : end]
            out.append(rf"\sqrt{{{tex_math(inner)}}}")
            i = end
            continue
        if ch in _SUPERSCRIPT or ch in _SUBSCRIPT:
            table, mark = (_SUPERSCRIPT, "^") if ch in _SUPERSCRIPT else (_SUBSCRIPT, "_")
            end = i
            while end < len(text) and text[end] in table:
                end += 1
            out.append(mark + "{" + "".join(table[c] for c in text[i:end]) + "}")
            i = end
            continue
        if ch == "\\":  # a TeX command written as such
            match = _WORD.match(text, i + 1)
            end = match.end() if match else i + 2
            out.append(text[i:end])
            i = end
            continue
        match = _WORD.match(text, i)
        if match and match.group() in _WORDS:
            out.append(_WORDS[match.group()])
            i = match.end()
            if i < len(text) and text[i].isascii() and text[i].isalpha():
                out.append(" ")
            continue
        if match:
            out.append(match.group())
            i = match.end()
            continue
        if text.startswith("..", i):
            out.append(r"\ldots ")
            i += 2
            continue
        tex = _MATH.get(ch, ch)
        if ord(tex[0]) > 127:
            raise ValueError(f"no TeX for {ch!r} in {text!r}")
        out.append(tex)
        following = text[i + 1] if i + 1 < len(text) else ""
        if tex[0] == "\\" and tex[-1].isalpha() and following.isascii() and following.isalpha():
            out.append(" ")
        i += 1
    return "".join(out)


def tex_text(text: str) -> str:
    r"""A text with ``$...$`` mathematics -> TeX (prose escaped, mathematics converted).

    Unicode symbols outside the dollar signs are set as inline mathematics too.

    Examples
    --------
    >>> tex_text("momentum $μ = 1 − cΔt/m$ (the 'μ' of torch)")
    "momentum $\\mu = 1 - c\\Delta t/m$ (the '$\\mu$' of torch)"
    """
    parts = text.split("$")
    if len(parts) % 2 == 0:
        raise ValueError(f"unbalanced dollar signs in {text!r}")
    out = []
    for k, part in enumerate(parts):
        if k % 2:
            out.append(f"${tex_math(part)}$")
            continue
        for ch in part:
            if ch in _PROSE:
                out.append(_PROSE[ch])
            elif ord(ch) < 128:
                out.append(ch)
            else:
                out.append(f"${tex_math(ch)}$")
    return "".join(out).replace("$$", "")


def math_segments(text: str) -> list[tuple[bool, str]]:
    r"""A text with ``$...$`` mathematics as ``(is_math, part)`` pairs, the mathematics in TeX.

    For renderers with their own inline-math markup (reStructuredText's ``:math:`` role, say).

    Examples
    --------
    >>> math_segments("gives $μ = 1 − cΔt/m$.")
    [(False, 'gives '), (True, '\\mu = 1 - c\\Delta t/m'), (False, '.')]
    """
    parts = text.split("$")
    if len(parts) % 2 == 0:
        raise ValueError(f"unbalanced dollar signs in {text!r}")
    return [(bool(k % 2), tex_math(part) if k % 2 else part) for k, part in enumerate(parts) if part]


def plain_text(text: str) -> str:
    """A text with ``$...$`` mathematics for the terminal: the dollar signs dropped."""
    return text.replace("$", "")


# -- expressions --------------------------------------------------------------------------
_SYMBOL_TEX = {
    "dt": r"\Delta t",
    "lr": r"\gamma",
    "h_min": r"h_{\min}",
    "h_max": r"h_{\max}",
    "eps": r"\varepsilon",
    "M_inf": r"M_{\infty}",
}
_GREEK = frozenset(
    "alpha beta gamma delta eta theta kappa lambda mu nu xi rho sigma tau phi varphi omega epsilon varepsilon".split()
)
#: the variables of characteristic polynomials, whose powers are written in descending order
_POLYNOMIAL_VARIABLES = frozenset({"z", "s"})
_IDENTIFIER = re.compile(r"^([A-Za-z]+)(\d*)(?:_(\{.+\}|\w+))?$")


def _symbol_tex(name: str) -> str | None:
    """TeX for a symbol's name: a label such as ``p(1 + Δt σ)`` is Unicode mathematics."""
    if name in _SYMBOL_TEX:
        return _SYMBOL_TEX[name]
    match = _IDENTIFIER.match(name)
    if match is None:
        return tex_math(name)
    base, digits, sub = match.groups()
    base_tex = rf"\{base}" if base in _GREEK else base
    if sub is None:
        return f"{base_tex}_{{{digits}}}" if digits else (None if base_tex == base else base_tex)
    sub = sub[1:-1] if sub.startswith("{") else sub
    sub = "k-1" if sub == "km1" else sub
    return f"{base_tex}{digits}_{{{tex_math(sub)}}}"


class TermOrderPrinter(LatexPrinter):
    r"""sympy's LaTeX printer with the terms of a sum in the order a person writes them.

    A polynomial in the variable of a characteristic equation (``z`` or ``s``) is written by
    descending degree; any other sum puts its positive terms first, a positive constant
    leading: ``1 - c\Delta t/m``, not ``- c\Delta t/m + 1``, and ``\mu - 1``.
    """

    def _as_ordered_terms(self, expr: Any, order: Any = None) -> list[Any]:
        terms = list(expr.as_ordered_terms(order="rev-lex"))
        main = [s for s in expr.free_symbols if s.name in _POLYNOMIAL_VARIABLES and expr.is_polynomial(s)]
        if main:
            return sorted(terms, key=lambda t: -sp.degree(t, main[0]))
        return sorted(terms, key=lambda t: (t.could_extract_minus_sign(), not t.is_number))


def tex_expr(expr: Any) -> str:
    """A sympy expression (or a tuple of them) as TeX math, with the package's symbol names."""
    if isinstance(expr, (tuple, list)):
        return r",\ ".join(tex_expr(e) for e in expr)
    try:
        free = expr.free_symbols if isinstance(expr, sp.MatrixBase) else sp.sympify(expr).free_symbols
    except (sp.SympifyError, AttributeError):
        free = set()
    names = {s: tex for s in free if isinstance(s, sp.Symbol) and (tex := _symbol_tex(s.name)) is not None}
    return TermOrderPrinter({"symbol_names": names}).doprint(expr)


def displays(expr: Any) -> list[str]:
    r"""``expr`` as ``dmath*`` displays: one per element of a tuple, per entry of a long vector.

    A column (or row) vector whose entries are long is split into its components
    (``[i] = ...``), because ``breqn`` breaks lines but not matrix cells.
    """
    if isinstance(expr, (tuple, list, sp.Tuple)):
        return [d for item in expr for d in displays(item)]
    if isinstance(expr, sp.MatrixBase) and 1 in expr.shape and len(tex_expr(expr)) > 160:
        return [rf"\begin{{dmath*}}{{[{i + 1}]}} = {tex_expr(e)}\end{{dmath*}}" for i, e in enumerate(expr)]
    return [rf"\begin{{dmath*}}{tex_expr(expr)}\end{{dmath*}}"]


# -- blocks and documents -----------------------------------------------------------------
#: results whose TeX is at most this long are set inline, in a list
_INLINE = 90


def _items(texts: Iterable[str]) -> str:
    return "\\begin{itemize}\n" + "\n".join(rf"\item {tex_text(t)}" for t in texts) + "\n\\end{itemize}"


def derivation_block(d: Derivation) -> str:
    r"""One derivation as a LaTeX fragment: a section with its assumptions, steps, results and
    findings (needs :data:`PACKAGES`)."""
    parts = [
        r"\begingroup\sloppy  % a long inline formula moves to the next line rather than overflowing",
        rf"\section{{{tex_text(d.title)}}}\label{{derivation:{d.name}}}",
        rf"\noindent Registered as \texttt{{{tex_text(d.name)}}}.",
        r"\paragraph{Assumptions}" + "\n" + _items(d.assumptions),
        r"\paragraph{Derivation}",
    ]
    for label, expr in d.steps:
        parts.append(rf"\noindent {tex_text(label)}:" + "\n" + "\n".join(displays(expr)))
    parts.append(r"\paragraph{Results}")
    short = []
    for key, value in d.result.items():
        tex = tex_expr(value)
        if len(tex) <= _INLINE and not isinstance(value, (tuple, list, sp.Tuple, sp.MatrixBase)):
            short.append(rf"\item \texttt{{{tex_text(key)}}}: $\displaystyle {tex}$")
            continue
        if short:
            parts.append("\\begin{itemize}\n" + "\n".join(short) + "\n\\end{itemize}")
            short = []
        parts.append(rf"\noindent\texttt{{{tex_text(key)}}}:" + "\n" + "\n".join(displays(value)))
    if short:
        parts.append("\\begin{itemize}\n" + "\n".join(short) + "\n\\end{itemize}")
    if d.findings:
        parts.append(r"\paragraph{Findings}" + "\n" + _items(d.findings))
    parts.append(r"\par\endgroup")
    return "\n\n".join(parts) + "\n"


def mathjax_block(d: Derivation) -> str:
    r"""The steps and results of ``d`` as one ``align*`` block of plain amsmath (for MathJax).

    Labels are ``\text{...}`` with their mathematics set outside it; no ``breqn`` (MathJax
    wraps long lines itself).
    """
    rows = []
    for label, expr in [*d.steps, *((f"result {key.replace('_', ' ')}", value) for key, value in d.result.items())]:
        head = "".join(part if is_math else rf"\text{{{part}}}" for is_math, part in math_segments(label))
        rows.append(rf"&{head}:\quad {tex_expr(expr)}")
    return "\\begin{align*}\n" + " \\\\\n".join(rows) + "\n\\end{align*}\n"


def document(derivations: Iterable[Derivation]) -> str:
    r"""A compilable LaTeX document with the given derivations (pure ASCII)."""
    parts = [
        r"\documentclass[11pt]{article}",
        r"\usepackage[margin=2.5cm]{geometry}",
        *(rf"\usepackage{{{p}}}" for p in PACKAGES),
        r"\setlength{\parindent}{0pt}",
        r"\begin{document}",
        r"\title{heavyball: derivations checked by sympy}",
        r"\date{}",
        r"\maketitle",
        r"\noindent Each claim below was verified exactly (the difference of its sides reduces to 0) "
        r"and numerically (at random admissible points, in 50-digit arithmetic); each result is a "
        r"side of a verified claim or agrees with the library's numeric function.",
    ]
    parts.extend(derivation_block(d) for d in derivations)
    parts.append(r"\end{document}")
    return "\n\n".join(parts) + "\n"
