"""Observed global order of every discretisation of the heavy-ball ODE.

For each scheme of ``heavyball.discretization.SCHEMES`` and each test problem, the iterates
from ``v0 = 0`` are compared with the closed-form solution (``hb.exact``) on ``[0, T]`` for
``Δt = 0.1 … 0.003125`` (halving); the table gives the largest and smallest max-errors, the
successive error ratios (→ 2 for order 1), the fitted order and the RMS log-residual of the
fit. A last block repeats the literature's setting (``m = 1, c = 0.5, h = 4, T = 10``) with
the error at ``t = T``, whose ratios are the quoted 2.14, 2.07, 2.04, 2.02, 2.01.

The LaTeX table needs ``\\usepackage{booktabs}`` (its first line says so) and fits the text
width of a 10 pt ``article`` (345 pt).

Run::

    python analysis/discretization_order.py            # Markdown and LaTeX on stdout
    python analysis/discretization_order.py --out DIR  # also DIR/discretization_order.{md,tex}
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import heavyball as hb
from heavyball._io import write_text
from heavyball.discretization import SCHEME_ORDER, SCHEMES

T_FINAL = 10.0
DTS = 0.1 / 2.0 ** np.arange(6)  # 0.1 … 0.003125


def problems():
    """(label, ODE, problem, θ0): the 1-D oscillator, two 2-D valleys, a random 20-D quadratic."""
    return [
        ("1-D, h = 4 (m = 1, c = 0.5)", hb.HeavyBallODE(1.0, 0.5), hb.Quadratic([[4.0]]), np.array([1.0])),
        ("valley κ = 10, h_max = 4 (m = 1, c = 0.5)", hb.HeavyBallODE(1.0, 0.5),
         hb.Quadratic.valley(kappa=10.0, h_max=4.0, angle=0.5), np.array([1.0, -1.0])),
        ("valley κ = 100, overdamped (m = 2, c = 3)", hb.HeavyBallODE(2.0, 3.0),
         hb.Quadratic.valley(kappa=100.0, h_max=1.0, angle=-1.0), np.array([2.0, 1.0])),
        ("random 20-D, h ∈ [0.1, 4] (m = 1, c = 1)", hb.HeavyBallODE(1.0, 1.0),
         hb.Quadratic.from_eigenvalues(np.linspace(0.1, 4.0, 20), rotation="random", seed=7), np.linspace(-1, 1, 20)),
    ]  # fmt: skip


def rows():
    """One row per (scheme, problem), plus the literature's final-time row."""
    out = []
    for scheme in SCHEMES:
        for label, ode, problem, theta0 in problems():
            fit = hb.convergence_order(ode, problem, theta0, T_FINAL, DTS, scheme=scheme, full_output=True)
            out.append((scheme, label, "max", fit))
    ode, problem, theta0 = problems()[0][1:]
    for scheme in SCHEMES:
        fit = hb.convergence_order(ode, problem, theta0, T_FINAL, DTS, scheme=scheme, measure="final", full_output=True)
        out.append((scheme, problems()[0][0], "at t = T", fit))
    return out


def markdown(table) -> str:
    head = (
        f"Global error of the discretisations on [0, {T_FINAL:g}] from v0 = 0, "
        f"Δt = {DTS[0]:g} … {DTS[-1]:g} (halving)\n\n"
        "| scheme | expected order | problem | error | error(Δt = 0.1) | error(Δt = 0.003125) | ratios "
        "| fitted order | residual |\n"
        "|---|---|---|---|---|---|---|---|---|\n"
    )
    lines = [
        f"| {scheme} | {SCHEME_ORDER[scheme]} | {label} | {measure} | {fit.errors[0]:.3e} | {fit.errors[-1]:.3e} | "
        f"{' '.join(f'{r:.3f}' for r in fit.ratios)} | {fit.order:.4f} | {fit.residual:.1e} |"
        for scheme, label, measure, fit in table
    ]
    return head + "\n".join(lines) + "\n"


#: the schemes' names in the LaTeX table
TEX_SCHEMES = {"semi-implicit": "semi-implicit", "implicit-friction": "implicit friction", "exponential": "exponential"}


def _tex_problem(label: str) -> str:
    """A problem's label as LaTeX: every ``symbol = value`` and ``h ∈ [a, b]`` set as mathematics."""
    import re

    text = re.sub(r"h ∈ (\[[^\]]*\])", r"$h \\in \1$", label)
    text = re.sub(r"(κ|h_max|h|m|c) = ([0-9.]+)", lambda m: f"${m.group(1)} = {m.group(2)}$", text)
    return text.replace("κ", r"\kappa").replace("h_max", r"h_{\max}")


def _sci(x: float) -> str:
    """``1.234e-05`` as ``$1.23{\\cdot}10^{-5}$`` (3 significant digits, plain LaTeX)."""
    mantissa, exponent = f"{x:.2e}".split("e")
    return f"${mantissa}{{\\cdot}}10^{{{int(exponent)}}}$"


def latex(table) -> str:
    r"""The table as a LaTeX fragment: ``\small`` booktabs ``tabular`` within 345 pt, and a note.

    The problems are numbered P1–P4 and spelled out in the note after the table (a paragraph
    that wraps at the text width); each scheme's block is separated by a rule.
    """
    labels = list(dict.fromkeys(label for _, label, _, _ in table))
    number = {label: f"P{i}" for i, label in enumerate(labels, 1)}
    lines = [
        r"% heavyball discretization_order: needs \usepackage{booktabs}",
        r"{\small\setlength{\tabcolsep}{3pt}%",
        r"\begin{tabular}{@{}lllllll@{}}",
        r"\toprule",
        r" & & & \multicolumn{2}{c}{global error at} & ratios as & fitted \\",
        r"\cmidrule(lr){4-5}",
        r"scheme & & error & $\Delta t = 0.1$ & $\Delta t = 0.003125$ & $\Delta t$ halves & order \\",
        r"\midrule",
    ]
    previous = None
    for scheme, label, measure, fit in table:
        if previous is not None and scheme != previous:
            lines.append(r"\addlinespace")
        name = TEX_SCHEMES[scheme] if scheme != previous else ""
        previous = scheme
        ratios = r"\,".join(f"{r:.2f}" for r in fit.ratios)
        where = "max" if measure == "max" else "$t = T$"
        lines.append(
            f"{name} & {number[label]} & {where} & {_sci(fit.errors[0])} & {_sci(fit.errors[-1])} & "
            f"{ratios} & {fit.order:.4f} \\\\"
        )
    problems = "; ".join(f"{number[label]}: {_tex_problem(label)}" for label in labels)
    expected = ", ".join(f"{TEX_SCHEMES[s]} {SCHEME_ORDER[s]}" for s in dict.fromkeys(row[0] for row in table))
    lines += [
        r"\bottomrule",
        r"\end{tabular}\par}",
        rf"{{\noindent\footnotesize Problems: {problems}. Error: the largest over $[0, T]$ (max) or at $t = T$, "
        rf"$T = {T_FINAL:g}$, from $v_0 = 0$; ratios of successive errors as $\Delta t$ halves (2 for order 1) "
        rf"and the fitted order (expected: {expected}).\par}}",
    ]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="directory for discretization_order.md and .tex")
    args = parser.parse_args(argv)
    table = rows()
    md, tex = markdown(table), latex(table)
    print(md)
    print(tex)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        write_text(args.out / "discretization_order.md", md)
        write_text(args.out / "discretization_order.tex", tex)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
