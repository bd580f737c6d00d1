"""Check every sympy derivation and write their LaTeX to one .tex file.

Usage::

    python analysis/derivations.py [OUTPUT] [--no-check] [--seed N] [--points N]

Builds each derivation of ``heavyball.symbolic.DERIVATIONS``, checks it (exactly and at
random points; see ``heavyball.symbolic``), prints a Markdown table with the number of
claims, the exact methods that were needed and the time, prints the findings, and writes a
compilable LaTeX document (``amsmath``, ``amssymb``, ``breqn``) to ``OUTPUT`` (default
``derivations.tex``) through ``heavyball._io.write_text`` (atomic). Exits with status 1 if a
claim fails (the file is not written then).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from heavyball import symbolic
from heavyball._io import write_text
from heavyball.symbolic.claims import EXACT_METHODS
from heavyball.symbolic.latex import plain_text


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", nargs="?", default="derivations.tex", help="the .tex file to write")
    parser.add_argument("--no-check", action="store_true", help="write without checking the claims")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random points")
    parser.add_argument("--points", type=int, default=symbolic.MIN_POINTS, help="random points per claim (>= 20)")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    rows = [
        "| derivation | claims | exact methods used | max rel. error | build + check (s) |",
        "|---|---|---|---|---|",
    ]
    failed = []
    for name, factory in symbolic.DERIVATIONS.items():
        t0 = time.perf_counter()
        d = factory()
        if args.no_check:
            rows.append(f"| {name} | {len(d.claims)} | not checked | | {time.perf_counter() - t0:.2f} |")
            continue
        report = d.check(seed=args.seed, n=args.points, strict=False)
        methods = sorted(
            {c.method for c in report.claims},
            key=lambda m: [n for n, _ in EXACT_METHODS].index(m) if m != "none" else 99,
        )
        worst = max((c.max_rel_error for c in report.claims), default=0.0)
        status = "" if report.success else " (FAILED: " + ", ".join(report.failed) + ")"
        rows.append(
            f"| {name}{status} | {len(report.claims)} | {', '.join(methods)} | {worst:.1e} | {time.perf_counter() - t0:.2f} |"
        )
        if not report.success:
            failed.append(report)
    total = time.perf_counter() - start
    print("\n".join(rows))
    print(f"\nall derivations built{'' if args.no_check else ' and checked'} in {total:.2f} s")
    print("\nFindings:")
    for name, factory in symbolic.DERIVATIONS.items():
        for finding in factory().findings:
            print(f"- [{name}] {plain_text(finding)}")
    if failed:
        for report in failed:
            print(f"\n{report.derivation}: {report.message}", file=sys.stderr)
        return 1
    path = write_text(Path(args.output), symbolic.latex_document())
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
