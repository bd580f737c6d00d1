"""LaTeX rendering of derivations: text with inline mathematics, and display blocks.

:func:`derivation_block` renders one derivation (its steps and results);
:func:`document` a compilable document of several. The output is pure ASCII.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import sympy as sp

if TYPE_CHECKING:  # typing only: the claim engine imports this module
    from .claims import Derivation

__all__ = ["derivation_block", "document", "tex_expr", "tex_text"]

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


def tex_text(text: str, *, math: bool = True) -> str:
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


def tex_expr(expr: Any) -> str:
    if isinstance(expr, str):
        return rf"\text{{{tex_text(expr)}}}"
    if isinstance(expr, (tuple, list)):
        return r",\ ".join(tex_expr(e) for e in expr)
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


def derivation_block(d: Derivation) -> str:
    r"""A self-contained ``align*`` block (needs ``amsmath``): title, steps, results.

    The findings precede it as TeX comments. Non-ASCII text is translated to TeX.
    """
    lines = [f"% {d.name}: {tex_text(d.title, math=False)}"]
    for finding in d.findings:
        lines.append("% finding: " + tex_text(finding, math=False).replace("\n", " "))
    lines.append(r"\begin{align*}")
    body = [rf"&\text{{\textbf{{{tex_text(d.title)}}}}}"]
    for label, expr in d.steps:
        body.append(rf"&\text{{{tex_text(label)}:}}\quad {tex_expr(expr)}")
    for key, value in d.result.items():
        body.append(rf"&\text{{result {tex_text(key)}:}}\quad {tex_expr(value)}")
    lines.append(" \\\\\n".join(body))
    lines.append(r"\end{align*}")
    return "\n".join(lines) + "\n"


def document(derivations: Iterable[Derivation]) -> str:
    r"""A minimal, compilable LaTeX document with the given derivations.

    Each derivation is a section with its assumptions and findings (itemised) and its
    :func:`derivation_block`. Needs only ``amsmath``. The text is pure ASCII.
    """
    parts = [
        r"\documentclass{article}",
        r"\usepackage{amsmath}",
        r"\allowdisplaybreaks",
        r"\begin{document}",
        r"\section*{heavyball: derivations checked by sympy}",
    ]
    for d in derivations:
        parts.append(rf"\section{{{tex_text(d.title)}}}")
        parts.append(rf"\noindent\texttt{{{tex_text(d.name)}}}")
        items = [rf"\item {tex_text(a)}" for a in d.assumptions]
        parts.append(r"\paragraph{Assumptions}" + "\n\\begin{itemize}\n" + "\n".join(items) + "\n\\end{itemize}")
        parts.append(derivation_block(d))
        if d.findings:
            items = [rf"\item {tex_text(f)}" for f in d.findings]
            parts.append(r"\paragraph{Findings}" + "\n\\begin{itemize}\n" + "\n".join(items) + "\n\\end{itemize}")
    parts.append(r"\end{document}")
    return "\n".join(parts) + "\n"
