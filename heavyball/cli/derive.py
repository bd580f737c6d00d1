"""``heavyball derive``: check the sympy derivations and print what each one claims and found."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from ._common import EXIT_OK, Failure, Progress, debug, one_line, select
from ._parsing import add_progress

__all__ = ["DESCRIPTION", "HELP", "add_arguments", "run"]


#: the one-line summary in ``heavyball --help``
HELP = "check the sympy derivations"
#: the paragraph of ``heavyball derive --help``
DESCRIPTION = (
    "Run each derivation's exact and numerical checks and its numeric twins; print "
    "PASS/FAIL with its claims and findings (--summary: one line each; --latex: the LaTeX alone on "
    "stdout); exit 1 if any fails."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``heavyball derive``."""
    parser.add_argument("names", nargs="*", metavar="NAME", help="derivations to check (default: all)")
    parser.add_argument(
        "--latex", action="store_true", help="print the derivations as LaTeX on stdout (status lines go to stderr)"
    )
    parser.add_argument("--summary", action="store_true", help="one line per derivation")
    parser.add_argument("--list", action="store_true", help="list the derivations and exit")
    add_progress(parser)


def _derivation(entry: Any) -> Any:
    """A registry entry is a Derivation, or a factory (a callable) that builds one."""
    if callable(entry) and not hasattr(type(entry), "check"):
        return entry()
    return entry


def _title(derivation: Any) -> str:
    """The derivation's title as one line of plain text (empty without one)."""
    from ..symbolic.latex import plain_text

    return one_line(plain_text(getattr(derivation, "title", "")))


def _check(entry: Any) -> tuple[Any, Any, str | None]:
    """Build and check one registry entry: ``(derivation, report, reason)``; ``reason is None`` when it passed.

    A failure's reason is empty when its report says why (the failed claims), else the error.
    """
    d = None
    try:
        d = _derivation(entry)
        return d, d.check(), None
    except Exception as exc:
        if debug():
            raise
        report = getattr(exc, "report", None)
        return d, report, "" if report is not None else f"{type(exc).__name__}: {one_line(exc)}"


def _header(args: argparse.Namespace) -> None:
    """What precedes the results: the LaTeX preamble comment, or how claims are checked."""
    from .. import symbolic
    from ..symbolic.latex import PACKAGES

    if args.latex:
        print(f"% heavyball derivations; needs \\usepackage{{{','.join(PACKAGES)}}}")
    elif not args.summary:
        print(
            f"Each claim is checked exactly (its sides' difference reduces to 0) and numerically "
            f"(mpmath, {symbolic.MP_DPS} digits, {symbolic.MIN_POINTS} random points, relative error "
            f"<= {symbolic.RTOL:.0e}); each numeric twin against the library at {symbolic.twins.TWIN_POINTS} points."
        )


def run(args: argparse.Namespace) -> int:
    """Run ``heavyball derive``: list, or check each derivation and print PASS/FAIL; exit 1 if any fails."""
    from .. import symbolic

    registry = symbolic.DERIVATIONS
    names = select("derivation", args.names, registry, list(registry))
    if args.list:
        for name in names:
            print(f"{name:<28} {_title(_derivation(registry[name]))}")
        return EXIT_OK
    # --latex: the LaTeX alone on stdout (a clean fragment); every status line on stderr
    status = sys.stderr if args.latex else sys.stdout
    _header(args)
    failed = []
    progress = Progress(args.progress)
    for i, name in enumerate(names, 1):
        progress.update(f"[{i}/{len(names)}] {name} ...")
        t0 = time.perf_counter()
        d, report, reason = _check(registry[name])
        title = _title(d) if d is not None else ""
        seconds = f"{time.perf_counter() - t0:.2f} s"
        progress.done()
        word = "PASS" if reason is None else "FAIL"
        print(f"{word} {name} ({_derive_counts(report)}{seconds}): {title}" + (f" -- {reason}" if reason else ""),
              file=status, flush=True)  # fmt: skip
        if reason is not None:
            failed.append(name)
        if args.latex:
            if reason is None:
                print(d.latex().rstrip() + "\n", flush=True)
        elif not args.summary or reason is not None:
            for line in _claim_lines(d, report, findings=not args.summary):
                print(f"     {line}", file=status)
    print(f"{len(names) - len(failed)} of {len(names)} derivations pass", file=status, flush=True)
    if failed:
        raise Failure(f"{len(failed)} derivation(s) failed: {', '.join(failed)}")
    return EXIT_OK


def _derive_counts(report: Any) -> str:
    """``"16 claims, 2 twins, "`` from a check report (empty without one)."""
    if report is None or not hasattr(report, "claims"):
        return ""
    twins = len(getattr(report, "twins", ()) or ())
    return f"{len(report.claims)} claims, " + (f"{twins} twins, " if twins else "")


def _claim_lines(derivation: Any, report: Any, *, findings: bool = True) -> list[str]:
    """One line per claim (how it was proved, what it says) and twin, then the findings.

    A failed claim or twin says why; the numeric tolerance is said once, at the top.
    """
    from ..symbolic.latex import plain_text

    lines = []
    for c in getattr(report, "claims", None) or ():
        try:
            note = derivation.claim(c.name).note
        except Exception:  # a registry entry without claim lookup: no note
            note = ""
        how = f"exact ({c.method})" if c.exact else "not exact"
        line = f"{'ok  ' if c.held else 'FAIL'} {c.name}: {how}"
        if not c.held:
            line += f", numeric max rel. error {c.max_rel_error:.1e}" + (
                f" -- {one_line(c.detail)}" if c.detail else ""
            )
        lines.append(line + (f" -- {one_line(plain_text(note))}" if note else ""))
    for t in getattr(report, "twins", None) or ():
        line = f"{'ok  ' if t.held else 'FAIL'} twin {t.name}"
        lines.append(line + (f" -- {one_line(t.detail)}" if not t.held and t.detail else ""))
    if findings:
        for finding in getattr(derivation, "findings", ()) or ():
            lines.append(f"finding: {one_line(plain_text(finding))}")
    return lines
