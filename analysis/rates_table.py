"""Tuned rates on quadratic valleys: predicted (spectral radius) against measured (iterates).

For κ ∈ {10, 100, 1000, 10000}, on the 2-D valley with curvatures ``h_min = 1/κ`` and
``h_max = 1`` in a random orientation (``Quadratic.from_eigenvalues(..., rotation="random")``),
each closed-form tuning of ``heavyball.rates.optimal_parameters`` — GD, Polyak's heavy ball,
standard Nesterov, quadratic-optimal Nesterov (Lessard, Recht & Packard 2016) — is run as
``torch.optim.SGD`` would run it (``heavyball.SGD``) from ``θ0 = (1, −2)``. The table gives
the tuned parameters, the predicted rate (spectral radius of the spectrum at those
parameters), the measured rate (``rates.fit_rate`` of ``‖θ_k − θ*‖`` on the window
``[stop/3, stop)``, ``stop`` where the error first falls below 1e-12 of its initial value), and
the steps to reduce the error by 1e-6: predicted ``⌈log 1e-6 / log ρ⌉`` and measured (first
``k`` with ``‖θ_k − θ*‖ <= 1e-6·‖θ_0 − θ*‖``).

Polyak's and both Nesterov tunings put a repeated root at ``h_min``: the error decays like
``k·ρᵏ``. Their measured rate (marked †) divides out that ``k`` (``multiplicity=2``); the
plain fit, also given, is a few percent slower — the bias ``rates.fit_rate`` documents — and
the measured step counts exceed ``log 1e-6 / log ρ`` for the same reason.

Run::

    python analysis/rates_table.py            # Markdown and LaTeX on stdout
    python analysis/rates_table.py --out DIR  # also DIR/rates_table.{md,tex}
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np

import heavyball as hb
from heavyball import rates
from heavyball._io import write_text

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
                steps_predicted=math.ceil(math.log(TARGET) / math.log(float(res.predicted))),
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
        "steps (predicted) | steps (measured) |\n"
        "|---|---|---|---|---|---|---|---|---|---|\n"
    )
    lines = [
        f"| {r['kappa']:g} | {LABELS[r['tuning']]} | {r['lr']:.6g} | {r['momentum']:.6g} | {r['predicted']:.6f} | "
        f"{r['measured']:.6f}{' †' if r['repeated'] else ''} | {r['plain']:.6f} | {r['window'][0]}–{r['window'][1]} | "
        f"{r['steps_predicted']} | {_steps(r['steps_measured'])} |"
        for r in table
    ]
    foot = (
        "\n† repeated root at h_min (error ≈ k·ρᵏ): fitted with the factor k divided out "
        "(`fit_rate(..., multiplicity=2)`); the plain fit is slower by ≈ log(b/a)/(b − a) in the exponent "
        "over the window [a, b).\n"
    )
    return head + "\n".join(lines) + "\n" + foot


def latex(table) -> str:
    names = {"gd": "GD", "heavyball": "heavy ball (Polyak)", "nesterov": "Nesterov (standard)",
             "nesterov-quadratic": "Nesterov (quadratic-optimal)"}  # fmt: skip
    lines = [
        r"\begin{tabular}{rlrrrrrrr}",
        r"\toprule",
        r"$\kappa$ & tuning & lr & momentum & predicted $\rho$ & measured $\rho$ & plain fit & "
        r"steps (pred.) & steps (meas.) \\",
        r"\midrule",
    ]
    for r in table:
        dagger = r"$^\dagger$" if r["repeated"] else ""
        lines.append(
            f"{r['kappa']:g} & {names[r['tuning']]} & {r['lr']:.6g} & {r['momentum']:.6g} & {r['predicted']:.6f} & "
            f"{r['measured']:.6f}{dagger} & {r['plain']:.6f} & {r['steps_predicted']} & {_steps(r['steps_measured'])} \\\\"
        )
    lines += [r"\bottomrule", r"\end{tabular}"]
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
