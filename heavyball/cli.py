"""The ``heavyball`` command: regenerate the figures, check the derivations, print rates.

::

    heavyball figures [NAME ...] [--out DIR] [--format pdf,png,svg] [--fast] [--data] [--list]
    heavyball derive [NAME ...] [--latex] [--list]
    heavyball rates (--kappa K | --h-min A --h-max B) [--format table|json|latex]
    heavyball compare --m M --c C --dt DT [--kappa K] [--t-final T]
    heavyball --version | --help;  heavyball VERB --help

Exit status: 0 on success; 1 when something failed (a figure could not be written, a
derivation's check failed); 2 for bad usage (unknown verb or figure, a bad number such as
``--kappa 0``, NaN or inf); 130 when interrupted (Ctrl-C). Errors are one line on stderr,
never a traceback, unless the environment variable ``HEAVYBALL_DEBUG=1`` is set.

Importing this module is cheap (argparse only): the heavy modules (matplotlib, sympy,
scipy) are imported inside the verbs that need them, so ``heavyball --help`` is instant.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import sys
import time

from . import __version__

__all__ = ["build_parser", "main"]

#: exit statuses
EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
DEBUG_ENV = "HEAVYBALL_DEBUG"
#: `compare` refuses longer runs (1e6 steps take about 10 s here): the command must never hang
MAX_COMPARE_STEPS = 1_000_000
FIGURE_FORMATS = ("pdf", "png", "svg")


class _Exit(Exception):
    """Raised instead of ``sys.exit`` inside the parser, so ``main`` can return a status."""

    def __init__(self, status: int):
        super().__init__(status)
        self.status = status


class UsageError(Exception):
    """Bad usage detected after parsing (e.g. an unknown figure name): exit status 2."""


def _one_line(message) -> str:
    return " ".join(str(message).split())


def _debug() -> bool:
    return os.environ.get(DEBUG_ENV, "") not in ("", "0")


class _Parser(argparse.ArgumentParser):
    """``ArgumentParser`` whose errors are ONE line on stderr (no usage block), exit 2."""

    def error(self, message):
        sys.stderr.write(f"{self.prog}: error: {_one_line(message)} (see '{self.prog} --help')\n")
        raise _Exit(EXIT_USAGE)

    def exit(self, status=0, message=None):
        if message:
            sys.stderr.write(_one_line(message) + "\n")
        raise _Exit(status)


# -- argument types: argparse turns ArgumentTypeError into a one-line usage error ----------
def _real(text: str, *, lower=None, lower_inclusive=True, what="a finite real number") -> float:
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
    if lower is not None and (value < lower or (value == lower and not lower_inclusive)):
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
    return value


def _positive(text):
    return _real(text, lower=0.0, lower_inclusive=False, what="a finite real number > 0")


def _nonnegative(text):
    return _real(text, lower=0.0, what="a finite real number >= 0")


def _kappa(text):
    return _real(text, lower=1.0, what="a finite condition number kappa >= 1")


def _formats(text: str) -> tuple[str, ...]:
    parts = [p.strip().lower() for p in text.split(",")]
    if not parts or any(p not in FIGURE_FORMATS for p in parts):
        raise argparse.ArgumentTypeError(
            f"expected a comma-separated subset of {','.join(FIGURE_FORMATS)}, got {text!r}"
        )
    return tuple(dict.fromkeys(parts))


def build_parser() -> argparse.ArgumentParser:
    """The command's argument parser (exposed for documentation and tests)."""
    parser = _Parser(
        prog="heavyball",
        description="The continuous-time view of momentum methods: paper figures, sympy-checked "
        "derivations, optimal rates and discrete-vs-continuous comparisons.",
        epilog=f"Exit status: 0 ok, 1 failure, 2 bad usage, 130 interrupted. Set {DEBUG_ENV}=1 to see tracebacks.",
    )
    parser.add_argument("--version", action="version", version=f"heavyball {__version__}")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", parser_class=_Parser)

    fig = verbs.add_parser(
        "figures",
        help="regenerate the figure catalogue",
        description="Write DIR/NAME.FORMAT for each catalogue figure (all when no NAME is given) "
        "and, with --data, DIR/NAME.csv with the numbers behind it (long format: array,index,value).",
    )
    fig.add_argument("names", nargs="*", metavar="NAME", help="figures to make (default: the whole catalogue)")
    fig.add_argument("--out", default="figures", metavar="DIR", help="output directory (default: figures)")
    fig.add_argument("--format", dest="formats", type=_formats, default=("pdf", "png"), metavar="FMT[,FMT...]",
                     help="comma-separated formats among pdf, png, svg (default: pdf,png)")  # fmt: skip
    fig.add_argument("--fast", action="store_true", help="coarser grids and fewer steps (for tests and previews)")
    fig.add_argument("--data", action="store_true", help="also write NAME.csv with the figure's numbers")
    fig.add_argument("--list", action="store_true", help="list the catalogue with captions and exit")
    fig.set_defaults(handler=_cmd_figures)

    der = verbs.add_parser(
        "derive",
        help="check the sympy derivations",
        description="Run each derivation's exact and numerical checks; print PASS/FAIL with its "
        "claims (or the LaTeX); exit 1 if any fails.",
    )
    der.add_argument("names", nargs="*", metavar="NAME", help="derivations to check (default: all)")
    der.add_argument("--latex", action="store_true", help="print each derivation as a LaTeX align* block")
    der.add_argument("--list", action="store_true", help="list the derivations and exit")
    der.set_defaults(handler=_cmd_derive)

    rat = verbs.add_parser(
        "rates",
        help="optimal parameters and rates on a quadratic valley",
        description="Tuned parameters and asymptotic rates for GD, heavy ball (Polyak), Nesterov and "
        "the continuous heavy-ball ODE, for curvatures in [h_min, h_max]. --kappa K means h_min = 1/K, h_max = 1.",
    )
    group = rat.add_mutually_exclusive_group(required=True)
    group.add_argument("--kappa", type=_kappa, metavar="K", help="condition number (h_max = 1, h_min = 1/K)")
    group.add_argument(
        "--h-min", type=_positive, dest="h_min", metavar="A", help="smallest curvature (> 0; with --h-max)"
    )
    rat.add_argument("--h-max", type=_positive, dest="h_max", metavar="B", help="largest curvature (>= --h-min)")
    rat.add_argument("--format", dest="fmt", choices=("table", "json", "latex"), default="table",
                     help="output format (default: table)")  # fmt: skip
    rat.set_defaults(handler=_cmd_rates)

    cmp_ = verbs.add_parser(
        "compare",
        help="discrete heavy ball against the continuous ODE",
        description="Run semi-implicit Euler (mu = 1 - c dt/m, eta = dt/m) on a 2-D valley and compare "
        "it with the exact solution of m theta'' + c theta' + grad f = 0 on [0, T].",
    )
    cmp_.add_argument("--m", type=_positive, required=True, metavar="M", help="mass (> 0)")
    cmp_.add_argument("--c", type=_nonnegative, required=True, metavar="C", help="friction (>= 0)")
    cmp_.add_argument("--dt", type=_positive, required=True, metavar="DT", help="time step (> 0)")
    cmp_.add_argument("--kappa", type=_kappa, default=100.0, metavar="K", help="valley condition number (default 100)")
    cmp_.add_argument(
        "--t-final", type=_positive, dest="t_final", default=20.0, metavar="T", help="final time (default 20)"
    )
    cmp_.set_defaults(handler=_cmd_compare)
    return parser


# -- figures ---------------------------------------------------------------------------------
def _cmd_figures(args) -> int:
    from pathlib import Path

    from .figures import CATALOGUE, FIGURES

    names = list(dict.fromkeys(args.names)) or list(CATALOGUE)
    unknown = [n for n in names if n not in FIGURES]
    if unknown:
        raise UsageError(f"unknown figure {', '.join(map(repr, unknown))}; choose from {', '.join(CATALOGUE)}")
    if args.list:
        for name in names:
            caption = _one_line(FIGURES[name].CAPTION)
            print(f"{name:<24} {caption}")
        return EXIT_OK

    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _Failure(f"cannot create output directory '{out}': {exc.strerror or exc}") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise _Failure(f"output directory '{out}' is not writable")

    from ._io import INTERRUPTS
    from .figures import write_csv
    from .plotting import save

    start = time.perf_counter()
    failures, files = [], 0
    width = len(str(len(names)))
    for i, name in enumerate(names, 1):
        module = FIGURES[name]
        t0 = time.perf_counter()
        try:
            numbers = module.data(fast=args.fast)
            fig = module.plot(numbers, fast=args.fast)
            written = save(fig, out / name, args.formats)
            if args.data:
                written.append(write_csv(out / f"{name}.csv", numbers))
        except Exception as exc:  # one figure failing does not stop the others
            if INTERRUPTS.seen:  # Ctrl-C, turned into another exception by a C extension
                raise KeyboardInterrupt from None
            if _debug():
                raise
            failures.append((name, exc))
            print(f"[{i:>{width}}/{len(names)}] {name:<24} FAILED: {type(exc).__name__}: {_one_line(exc)}", flush=True)
            continue
        files += len(written)
        shown = ", ".join(p.name for p in written)
        print(f"[{i:>{width}}/{len(names)}] {name:<24} {time.perf_counter() - t0:6.2f} s  {shown}", flush=True)
    total = time.perf_counter() - start
    made = len(names) - len(failures)
    print(f"{made} of {len(names)} figures, {files} files in {out}/ ({total:.1f} s)", flush=True)
    if failures:
        name, exc = failures[0]
        more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
        raise _Failure(f"{len(failures)} figure(s) failed; {name}: {type(exc).__name__}: {_one_line(exc)}{more}")
    return EXIT_OK


# -- derive ------------------------------------------------------------------------------------
def _derivation(entry):
    """A registry entry is a Derivation, or a factory (a callable) that builds one."""
    if callable(entry) and not hasattr(type(entry), "check"):
        return entry()
    return entry


def _cmd_derive(args) -> int:
    from . import symbolic

    registry = symbolic.DERIVATIONS
    names = list(dict.fromkeys(args.names)) or list(registry)
    unknown = [n for n in names if n not in registry]
    if unknown:
        raise UsageError(f"unknown derivation {', '.join(map(repr, unknown))}; choose from {', '.join(registry)}")
    if args.list:
        for name in names:
            print(f"{name:<28} {_one_line(getattr(_derivation(registry[name]), 'title', ''))}")
        return EXIT_OK
    failed = []
    for name in names:
        t0 = time.perf_counter()
        d = report = None
        try:
            d = _derivation(registry[name])
            report = d.check()
            ok = True
        except Exception as exc:
            if _debug():
                raise
            ok = False
            report = getattr(exc, "report", None)
            reason = f"{type(exc).__name__}: {_one_line(exc)}"
        title = _one_line(getattr(d, "title", "")) if d is not None else ""
        if ok:
            print(f"PASS {name} ({time.perf_counter() - t0:.2f} s): {title}", flush=True)
        else:
            failed.append(name)
            print(f"FAIL {name}: {title} -- {reason}", flush=True)
        if args.latex and ok:
            print(d.latex().rstrip())
        else:
            for line in _claim_lines(d, report):
                print(f"     {line}")
    print(f"{len(names) - len(failed)} of {len(names)} derivations pass", flush=True)
    if failed:
        raise _Failure(f"{len(failed)} derivation(s) failed: {', '.join(failed)}")
    return EXIT_OK


def _claim_lines(derivation, report) -> list[str]:
    """One line per checked claim (how it was verified, and what it says), then the findings."""
    lines = []
    for c in getattr(report, "claims", None) or ():
        note = ""
        try:
            note = derivation.claim(c.name).note
        except Exception:  # a registry entry without claim lookup: no note
            note = ""
        status = "ok  " if c.held else "FAIL"
        how = f"exact ({c.method})" if c.exact else "not exact"
        line = f"{status} {c.name}: {how}, numeric max rel. error {c.max_rel_error:.1e} at {c.points} points"
        if not c.held and getattr(c, "detail", ""):
            line += f" -- {_one_line(c.detail)}"
        lines.append(line + (f" -- {_one_line(note)}" if note else ""))
    for finding in getattr(derivation, "findings", ()) or ():
        lines.append(f"finding: {_one_line(finding)}")
    return lines


# -- rates --------------------------------------------------------------------------------------
def _cmd_rates(args) -> int:
    import json

    if args.kappa is not None:
        if args.h_max is not None:
            raise UsageError("--kappa and --h-max are exclusive: give --kappa K, or --h-min A --h-max B")
        h_min, h_max = 1.0 / args.kappa, 1.0
    else:
        if args.h_max is None:
            raise UsageError("--h-min needs --h-max")
        if args.h_max < args.h_min:
            raise UsageError(f"--h-max must be >= --h-min, got --h-min {args.h_min!r} --h-max {args.h_max!r}")
        h_min, h_max = args.h_min, args.h_max
    try:
        rows = _rate_rows(h_min, h_max)
    except ValueError as exc:  # the library's own range checks (e.g. magnitudes it cannot represent)
        raise UsageError(str(exc)) from None
    if args.fmt == "json":
        print(json.dumps({"h_min": h_min, "h_max": h_max, "kappa": h_max / h_min, "methods": rows}, indent=2))
    elif args.fmt == "latex":
        print(_rates_latex(rows, h_min, h_max))
    else:
        print(_rates_table(rows, h_min, h_max))
    return EXIT_OK


def _rate_rows(h_min: float, h_max: float) -> list[dict]:
    """Tuned parameters from :mod:`heavyball.rates`, one row per method."""
    import numpy as np

    from . import rates

    rows = []
    specs = [
        ("gd", "GD", {"tuning": "gd"}),
        ("heavyball", "heavy ball (Polyak)", {"tuning": "heavyball"}),
        ("nesterov", "Nesterov (1/h_max)", {"tuning": "nesterov"}),
        ("nesterov-quadratic", "Nesterov (Lessard et al.)", {"tuning": "nesterov-quadratic"}),
    ]
    for key, label, kw in specs:
        tuned = rates.optimal_parameters(h_min, h_max, **kw)
        rate = float(tuned.rate)
        steps = math.inf if rate >= 1 else (0.0 if rate == 0 else math.log(1e-6) / math.log(rate))
        rows.append({"method": key, "label": label, "lr": float(tuned.lr), "momentum": float(tuned.momentum),
                     "rate": rate, "steps_to_1e-6": steps})  # fmt: skip
    # the continuous heavy-ball ODE with m = 1 and the damping that is fastest uniformly
    c = float(rates.optimal_damping(1.0, h_min))
    decay = float(rates.continuous_rate(1.0, c, np.array([h_min, h_max])))
    rows.append({"method": "ode", "label": "heavy-ball ODE (m = 1)", "c": c, "rate": decay,
                 "time_to_1e-6": -math.log(1e-6) / decay if decay > 0 else math.inf})  # fmt: skip
    return rows


def _rates_table(rows, h_min, h_max) -> str:
    lines = [
        f"curvatures in [{h_min:.6g}, {h_max:.6g}], kappa = {h_max / h_min:.6g}",
        f"{'method':<30} {'lr':>12} {'momentum':>12} {'rate':>12} {'steps to 1e-6':>14}",
    ]
    for r in rows:
        if r["method"] == "ode":
            lines.append(f"{r['label']:<30} {'c = ' + format(r['c'], '.6g'):>12} {'':>12} "
                         f"{'e^-' + format(r['rate'], '.6g') + 't':>12} {'t = ' + format(r['time_to_1e-6'], '.4g'):>14}")  # fmt: skip
        else:
            lines.append(
                f"{r['label']:<30} {r['lr']:>12.6g} {r['momentum']:>12.6g} {r['rate']:>12.6g} {r['steps_to_1e-6']:>14.1f}"
            )
    lines.append("rate: error ~ rate^k per step (discrete), e^(-rate t) (continuous)")
    return "\n".join(lines)


def _rates_latex(rows, h_min, h_max) -> str:
    lines = [
        r"\begin{tabular}{lrrrr}",
        r"\hline",
        rf"\multicolumn{{5}}{{l}}{{$h \in [{h_min:.6g}, {h_max:.6g}]$, $\kappa = {h_max / h_min:.6g}$}} \\",
        r"method & $\gamma$ & $\mu$ & $\rho$ & steps to $10^{-6}$ \\",
        r"\hline",
    ]
    for r in rows:
        if r["method"] == "ode":
            lines.append(
                rf"{r['label']} & $c = {r['c']:.6g}$ & & $e^{{-{r['rate']:.6g}\,t}}$ & $t = {r['time_to_1e-6']:.4g}$ \\"
            )
        else:
            lines.append(
                rf"{r['label']} & {r['lr']:.6g} & {r['momentum']:.6g} & {r['rate']:.6g} & {r['steps_to_1e-6']:.1f} \\"
            )
    lines += [r"\hline", r"\end{tabular}"]
    return "\n".join(lines)


# -- compare -------------------------------------------------------------------------------------
def _cmd_compare(args) -> int:
    if args.t_final < args.dt:
        raise UsageError(f"--t-final must be >= --dt, got --t-final {args.t_final!r} --dt {args.dt!r}")
    if args.t_final / args.dt > MAX_COMPARE_STEPS:
        raise UsageError(
            f"--t-final/--dt must be at most {MAX_COMPARE_STEPS:.0e} steps, got {args.t_final / args.dt:.3g}"
        )
    import numpy as np

    from .discretization import compare
    from .dynamics import HeavyBallODE, damping_regime
    from .problems import Quadratic
    from .status import Status

    q = Quadratic.valley(kappa=args.kappa)
    theta0 = np.array([1.0, 1.0])
    try:
        ode = HeavyBallODE(m=args.m, c=args.c)
        cmp = compare(ode, q, theta0, dt=args.dt, t_final=args.t_final)
    except ValueError as exc:  # the library's range checks on the user's numbers
        raise UsageError(str(exc)) from None
    regimes = [str(damping_regime(args.m, args.c, h)) for h in q.eigenvalues]
    print(f"heavy-ball ODE m = {args.m:g}, c = {args.c:g} on a kappa = {args.kappa:g} valley "
          f"(h = {q.h_min:g}, {q.h_max:g}: {', '.join(regimes)}), theta0 = (1, 1), T = {args.t_final:g}")  # fmt: skip
    print(f"semi-implicit Euler, dt = {args.dt:g}: mu = {float(cmp.mu):.6g}, eta = {float(cmp.eta):.6g} "
          f"(torch: lr = {args.dt**2 / args.m:.6g}, momentum = {float(cmp.mu):.6g})")  # fmt: skip
    for label, attr in (("max error", "max_error"), ("final error", "final_error")):
        value = getattr(cmp, attr, None)
        if value is not None:
            print(f"{label:<12} {float(np.max(value)):.6e}")
    status, message = Status(cmp.status), cmp.message
    print(f"status       {status}" + (f": {_one_line(message)}" if message else ""))
    if not status.success:
        raise _Failure(f"the discrete run did not track the ODE: {_one_line(message or status.message)}")
    return EXIT_OK


class _Failure(Exception):
    """A failure (not bad usage): exit status 1."""


def main(argv=None) -> int:
    """Run the ``heavyball`` command with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    from ._io import sigint_between_writes

    with sigint_between_writes() as interrupts:
        return _main(argv, interrupts)


def _main(argv, interrupts) -> int:
    parser = build_parser()
    prog = parser.prog
    try:
        try:
            args = parser.parse_args(argv)
        except _Exit as stop:
            return stop.status
        if args.verb is None:
            sys.stderr.write(
                f"{prog}: error: a verb is required: figures, derive, rates or compare (see '{prog} --help')\n"
            )
            return EXIT_USAGE
        return args.handler(args)
    except KeyboardInterrupt:
        sys.stderr.write(f"{prog}: interrupted\n")
        return EXIT_INTERRUPTED
    except UsageError as exc:
        sys.stderr.write(f"{prog} {args.verb}: error: {_one_line(exc)}\n")
        return EXIT_USAGE
    except _Failure as exc:
        if _debug():
            raise
        sys.stderr.write(f"{prog} {args.verb}: error: {_one_line(exc)}\n")
        return EXIT_FAILURE
    except BrokenPipeError:  # e.g. `heavyball figures --list | head -1`
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")
        return EXIT_FAILURE
    except Exception as exc:
        if interrupts.seen:  # a C extension turned Ctrl-C into another exception
            sys.stderr.write(f"{prog}: interrupted\n")
            return EXIT_INTERRUPTED
        if _debug():
            raise
        sys.stderr.write(f"{prog}: error: {type(exc).__name__}: {_one_line(exc)}\n")
        return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
