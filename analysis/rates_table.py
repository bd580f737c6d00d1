r"""Tuned rates on quadratic valleys: predicted (spectral radius) against measured (iterates).

For κ ∈ {10, 100, 1000, 10000}, on the 2-D valley with curvatures ``h_min = 1/κ`` and
``h_max = 1`` in a random orientation (``Quadratic.from_eigenvalues(..., rotation="random")``),
each closed-form tuning of ``heavyball.rates.optimal_parameters`` — GD, Polyak's heavy ball,
standard Nesterov, quadratic-optimal Nesterov (Lessard, Recht & Packard 2016) — is run as
``torch.optim.SGD`` would run it (``heavyball.SGD``) from ``θ0 = (1, −2)``. The table gives
the tuned parameters, the predicted rate (spectral radius of the spectrum at those
parameters), the measured rate (``rates.fit_rate`` of ``‖θ_k − θ*‖`` on the window
``[stop/3, stop)``, ``stop`` where the error first falls below 1e-12 of its initial value), and
the steps to reduce the error by 1e-6: the bound (the first ``k`` from which the per-mode
bound stays below 1e-6 for every start at rest, :func:`heavyball.cli.steps_to_tolerance`, the
count ``heavyball rates`` prints) and measured (first ``k`` with
``‖θ_k − θ*‖ <= 1e-6·‖θ_0 − θ*‖`` from this ``θ0``; never above the bound).

Polyak's and both Nesterov tunings put a repeated root at ``h_min``: the error decays like
``k·ρᵏ``. Their measured rate (marked †) divides out that ``k`` (``multiplicity=2``); the
plain fit, also given, is a few percent slower — the bias ``rates.fit_rate`` documents — and
the step counts exceed ``log 1e-6 / log ρ`` for the same reason (the bound includes the ``k``).

The LaTeX table needs ``\usepackage{booktabs}`` (its first line says so) and fits the text
width of a 10 pt ``article`` (345 pt).

Run::

    python analysis/rates_table.py            # Markdown and LaTeX on stdout
    python analysis/rates_table.py --out DIR  # also DIR/rates_table.{md,tex}
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import heavyball as hb
from heavyball import rates
from heavyball._io import write_text
from heavyball.cli import steps_to_tolerance

KAPPAS = (10.0, 100.0, 1000.0, 10000.0)
TARGET = 1e-6
THETA0 = np.array([1.0, -2.0])
LABELS = {
    "gd": "GD, lr = 2/(h_min + h_max)",
    "heavyball": "heavy ball (Polyak)",
    "nesterov": "Nesterov (standard)",
    "nesterov-quadratic": "Nesterov (quadratic-optimal)",
}


def rows(kappas=KAPPAS, seed=0):
    """One dict per (κ, tuning)."""
    out = []
    for i, kappa in enumerate(kappas):
        q = hb.Quadratic.from_eigenvalues([1.0 / kappa, 1.0], rotation="random", seed=seed + i)
        for tuning, method in rates.TUNINGS.items():
            t = rates.optimal_parameters(q.h_min, q.h_max, tuning)
            opt = hb.SGD(lr=float(t.lr), momentum=float(t.momentum), nesterov=method == "nesterov")
            res = rates.predicted_vs_measured(opt, q, THETA0, None)
            plain = rates.fit_rate(res.errors, multiplicity=1).rate if res.multiplicity > 1 else res.measured
            rel = res.errors / res.errors[0]
            reached = np.flatnonzero(rel <= TARGET)
            out.append(dict(
                kappa=kappa, tuning=tuning, lr=float(t.lr), momentum=float(t.momentum), closed_form=float(t.rate),
                predicted=float(res.predicted), measured=float(res.measured), plain=float(plain),
                repeated=res.multiplicity > 1, window=(int(res.fit.start), int(res.fit.stop)),
                steps_bound=int(steps_to_tolerance(opt, (q.h_min, q.h_max), TARGET)),
                steps_measured=int(reached[0]) if reached.size else None,
                exponent_error=float(res.exponent_error),
            ))  # fmt: skip
    return out


def _steps(n) -> str:
    return "—" if n is None else str(n)


def markdown(table) -> str:
    head = (
        "Tuned rates on 2-D valleys (h_min = 1/κ, h_max = 1, random rotation), SGD from θ0 = (1, −2); "
        f"steps to reduce ‖θ_k − θ*‖ by {TARGET:g}\n\n"
        "| κ | tuning | lr | momentum | predicted ρ | measured ρ | plain fit | fit window | "
        "steps (bound) | steps (measured) |\n"
        "|---|---|---|---|---|---|---|---|---|---|\n"
    )
    lines = [
        f"| {r['kappa']:g} | {LABELS[r['tuning']]} | {r['lr']:.6g} | {r['momentum']:.6g} | {r['predicted']:.6f} | "
        f"{r['measured']:.6f}{' †' if r['repeated'] else ''} | {r['plain']:.6f} | {r['window'][0]}–{r['window'][1]} | "
        f"{r['steps_bound']} | {_steps(r['steps_measured'])} |"
        for r in table
    ]
    foot = (
        "\n† repeated root at h_min (error ≈ k·ρᵏ): fitted with the factor k divided out "
        "(`fit_rate(..., multiplicity=2)`); the plain fit is slower by ≈ log(b/a)/(b − a) in the exponent "
        "over the window [a, b).\n"
    )
    return head + "\n".join(lines) + "\n" + foot


#: the tunings' short names in the LaTeX table, explained in its note
TEX_NAMES = {"gd": "GD", "heavyball": "HB", "nesterov": "NAG", "nesterov-quadratic": "NAG-Q"}


def latex(table) -> str:
    r"""The table as a LaTeX fragment: ``\small`` booktabs ``tabular`` within 345 pt, and a note.

    Abbreviated tuning names and grouped column heads keep it inside the text width of a 10 pt
    ``article``; the note after it (a paragraph, so it wraps at the text width) spells them out.
    """
    lines = [
        r"% heavyball rates_table: needs \usepackage{booktabs}",
        r"{\small\setlength{\tabcolsep}{4pt}%",
        r"\begin{tabular}{@{}rlrrlllrr@{}}",
        r"\toprule",
        r" & & & & \multicolumn{3}{c}{$\rho$ per step} & \multicolumn{2}{c@{}}{steps to $10^{-6}$} \\",
        r"\cmidrule(lr){5-7}\cmidrule(l){8-9}",
        r"$\kappa$ & tuning & $\gamma$ & $\mu$ & predicted & measured & plain fit & bound & measured \\",
        r"\midrule",
    ]
    previous = None
    for r in table:
        if previous is not None and r["kappa"] != previous:
            lines.append(r"\addlinespace")
        previous = r["kappa"]
        dagger = r"$^\dagger$" if r["repeated"] else ""
        lines.append(
            f"{r['kappa']:g} & {TEX_NAMES[r['tuning']]} & {r['lr']:.4g} & {r['momentum']:.4g} & {r['predicted']:.6f} & "
            f"{r['measured']:.6f}{dagger} & {r['plain']:.6f} & {r['steps_bound']} & {_steps(r['steps_measured'])} \\\\"
        )
    lines += [
        r"\bottomrule",
        r"\end{tabular}\par}",
        r"{\footnotesize GD: gradient descent, $\gamma = 2/(h_{\min} + h_{\max})$; HB: heavy ball, Polyak's tuning; "
        r"NAG: Nesterov, $\gamma = 1/h_{\max}$; NAG-Q: Nesterov, quadratic-optimal (Lessard, Recht \& Packard). "
        r"$^\dagger$~repeated root at $h_{\min}$ (error $\approx k\rho^k$): fitted with the factor $k$ divided out; "
        r"the plain fit is slower. Steps: the bound holds for every start at rest; measured from "
        r"$\theta_0 = (1, -2)$.\par}",
    ]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="directory for rates_table.md and .tex")
    parser.add_argument("--kappa", type=float, nargs="+", default=list(KAPPAS), help="condition numbers")
    parser.add_argument("--seed", type=int, default=0, help="seed of the first valley's rotation")
    args = parser.parse_args(argv)
    table = rows(args.kappa, args.seed)
    md, tex = markdown(table), latex(table)
    print(md)
    print(tex)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        write_text(args.out / "rates_table.md", md)
        write_text(args.out / "rates_table.tex", tex)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
