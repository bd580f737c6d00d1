"""The ``heavyball`` command: regenerate the figures, check the derivations, print rates.

::

    heavyball figures [NAME ...] [--out DIR] [--format pdf,png,svg] [--fast] [--data] [--list]
    heavyball derive [NAME ...] [--latex] [--summary] [--list]
    heavyball rates (--kappa K | --h-min A --h-max B) [--tol TOL] [--format table|json|latex]
    heavyball compare --m M --c C --dt DT [--kappa K] [--t-final T] [--theta0 X Y]
    heavyball noise --lr LR --momentum MU --sigma S (--kappa K | --h-min A --h-max B) [--nesterov] [--format table|json]
    heavyball compare --optimizer adam --lr LR [--betas B1,B2] [--eps EPS] [--kappa K] [--t-final T]
    heavyball --version | --help;  heavyball VERB --help;  python -m heavyball ...

Exit status: 0 on success; 1 when something failed (a figure could not be written, a
derivation's check failed); 2 for bad usage (unknown verb or figure, a bad number such as
``--kappa 0``, NaN or inf); 130 when interrupted (Ctrl-C). Errors are one line on stderr,
never a traceback, unless the environment variable ``HEAVYBALL_DEBUG=1`` is set; a usage
error names the help of the verb it concerns and suggests a close name when there is one
(``heavyball figures rate_mpa`` -> did you mean 'rate_map'?).

Standard output carries the results only; progress (``[3/14] rate_map  1.2 s``) goes to
standard error, and only when standard error is a terminal or ``--progress`` is given, so
piped or redirected output is never interleaved with it.

Importing this module is cheap (argparse only): the heavy modules (matplotlib, sympy,
scipy) are imported inside the verbs that need them, so ``heavyball --help`` is instant.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import math
import os
import shutil
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, NoReturn, TextIO

from . import __version__

__all__ = ["build_parser", "main"]

#: exit statuses
EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
DEBUG_ENV = "HEAVYBALL_DEBUG"
#: `compare` refuses longer runs (1e6 steps take about 10 s here): the command must never hang
MAX_COMPARE_STEPS = 1_000_000
FIGURE_FORMATS = ("pdf", "png", "svg")
#: the error reduction `rates` counts steps to, unless --tol says otherwise
DEFAULT_TOL = 1e-6


class _Exit(Exception):
    """Raised instead of ``sys.exit`` inside the parser, so ``main`` can return a status."""

    def __init__(self, status: int):
        super().__init__(status)
        self.status = status


class UsageError(Exception):
    """Bad usage detected after parsing (e.g. an unknown figure name): exit status 2.

    Parameters
    ----------
    message : str
        One line that names the argument and what is allowed.
    """


class _Failure(Exception):
    """A failure (not bad usage): exit status 1."""


def _one_line(message: object) -> str:
    return " ".join(str(message).split())


def _debug() -> bool:
    return os.environ.get(DEBUG_ENV, "") not in ("", "0")


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """``" (did you mean 'x'?)"`` for the closest of ``choices`` to ``word``, or ``""``.

    Parameters
    ----------
    word : str
        What the user typed.
    choices : iterable of str
        The valid names.

    Returns
    -------
    str
        The suggestion, with a leading space, or the empty string when nothing is close
        (:func:`difflib.get_close_matches` with its default cutoff 0.6).

    Examples
    --------
    >>> did_you_mean("rate_mpa", ["rate_map", "rosenbrock"])
    " (did you mean 'rate_map'?)"
    >>> did_you_mean("zzz", ["rate_map"])
    ''
    """
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _unknown(kind: str, names: Sequence[str], choices: Sequence[str]) -> UsageError:
    """The usage error for unknown names, with a suggestion for the first of them."""
    listed = ", ".join(map(repr, names))
    return UsageError(f"unknown {kind} {listed}{did_you_mean(names[0], choices)}; choose from {', '.join(choices)}")


class _Parser(argparse.ArgumentParser):
    """``ArgumentParser`` whose errors are ONE line on stderr (no usage block), exit 2.

    The line ends with the help command of the parser that failed (``heavyball figures
    --help`` for a sub-command) and, for an unknown verb, option or choice, a close match.
    """

    #: the command line being parsed (set by :func:`main`): a typo in an option name is reported
    #: as such even when argparse first notices a required option as missing
    argv: Sequence[str] = ()

    def error(self, message: str) -> NoReturn:
        if "required" in message:
            unknown = [
                a for a in self.argv if a.startswith("--") and a.split("=")[0] not in self._option_string_actions
            ]
            if unknown:
                message = f"unrecognized arguments: {' '.join(unknown)}"
        message = _one_line(message) + self._suggestion(message)
        sys.stderr.write(f"{self.prog}: error: {message} (see '{self.prog} --help')\n")
        raise _Exit(EXIT_USAGE)

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            sys.stderr.write(_one_line(message) + "\n")
        raise _Exit(status)

    def _suggestion(self, message: str) -> str:
        import re

        choice = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if choice:
            options = [c.strip().strip("'\"") for c in choice.group(2).split(",")]
            return did_you_mean(choice.group(1), options)
        unknown = re.match(r"unrecognized arguments: (\S+)", message)
        if unknown and unknown.group(1).startswith("-"):
            return did_you_mean(unknown.group(1).split("=")[0], self._option_string_actions)
        return ""


# -- argument types: argparse turns ArgumentTypeError into a one-line usage error ----------
def _real(text: str, *, lower: float | None = None, lower_inclusive: bool = True, what: str = "a finite real number") -> float:  # fmt: skip
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
    if lower is not None and (value < lower or (value == lower and not lower_inclusive)):
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
    return value


def _positive(text: str) -> float:
    return _real(text, lower=0.0, lower_inclusive=False, what="a finite real number > 0")


def _nonnegative(text: str) -> float:
    return _real(text, lower=0.0, what="a finite real number >= 0")


def _kappa(text: str) -> float:
    return _real(text, lower=1.0, what="a finite condition number kappa >= 1")


def _tolerance(text: str) -> float:
    value = _real(text, lower=0.0, lower_inclusive=False, what="a tolerance in (0, 1)")
    if value >= 1.0:
        raise argparse.ArgumentTypeError(f"expected a tolerance in (0, 1), got {text!r}")
    return value


def _coordinates(text: str) -> list[float]:
    """One or more comma-separated finite numbers (``--theta0 1,-2`` or ``--theta0 1 -2``)."""
    return [_real(part.strip()) for part in text.split(",") if part.strip()] or [_real(text)]


def _betas(text: str) -> tuple[float, float]:
    """Adam's two averaging factors ``B1,B2``, each in ``[0, 1)``."""
    parts = [_real(part.strip(), what="two numbers in [0, 1)") for part in text.split(",")]
    if len(parts) != 2 or not all(0.0 <= b < 1.0 for b in parts):
        raise argparse.ArgumentTypeError(f"expected two numbers B1,B2 in [0, 1), got {text!r}")
    return parts[0], parts[1]


def _formats(text: str) -> tuple[str, ...]:
    parts = [p.strip().lower() for p in text.split(",")]
    if not parts or any(p not in FIGURE_FORMATS for p in parts):
        raise argparse.ArgumentTypeError(
            f"expected a comma-separated subset of {','.join(FIGURE_FORMATS)}, got {text!r}"
        )
    return tuple(dict.fromkeys(parts))


# -- progress on stderr -------------------------------------------------------------------------
class Progress:
    """Progress lines on standard error, drawn in place, for verbs that take over a second.

    Enabled when ``enabled`` is true, or (``enabled=None``) when ``stream`` is a terminal:
    redirected or piped output never receives it, and the results on standard output never
    mix with it. :meth:`update` redraws one line (``\\r``, padded); :meth:`busy` keeps a line
    with the elapsed time alive while one long call runs; :meth:`done` clears the line.

    Parameters
    ----------
    enabled : bool or None
        ``True`` (``--progress``), ``False``, or ``None`` to follow ``stream.isatty()``.
    stream : file-like, optional
        Default ``sys.stderr``.
    """

    def __init__(self, enabled: bool | None = None, stream: TextIO | None = None):
        self.stream = sys.stderr if stream is None else stream
        if enabled is None:
            isatty = getattr(self.stream, "isatty", None)
            enabled = bool(isatty and isatty())
        self.enabled = enabled
        self._width = 0
        self._lock = threading.Lock()

    def update(self, text: str) -> None:
        """Redraw the progress line with ``text`` (nothing when disabled)."""
        if not self.enabled:
            return
        with self._lock:
            pad = max(self._width - len(text), 0)
            self.stream.write("\r" + text + " " * pad)
            self.stream.flush()
            self._width = len(text)

    def done(self) -> None:
        """Clear the progress line."""
        if self.enabled and self._width:
            with self._lock:
                self.stream.write("\r" + " " * self._width + "\r")
                self.stream.flush()
                self._width = 0

    @contextlib.contextmanager
    def busy(self, text: str, interval: float = 0.25) -> Iterator[None]:
        """Show ``text`` and the elapsed seconds, refreshed every ``interval`` s, while the block runs."""
        if not self.enabled:
            yield
            return
        stop = threading.Event()
        start = time.perf_counter()

        def tick() -> None:
            while not stop.wait(interval):
                self.update(f"{text} {time.perf_counter() - start:.1f} s")

        self.update(f"{text} 0.0 s")
        thread = threading.Thread(target=tick, daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()
            self.done()


def _add_progress(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--progress", action="store_true", default=None,
                        help="show progress on stderr even when it is not a terminal (default: only on a terminal)")  # fmt: skip


_SUBPARSERS: dict[str, argparse.ArgumentParser] = {}


def build_parser() -> argparse.ArgumentParser:
    """The command's argument parser (exposed for documentation and tests).

    Returns
    -------
    argparse.ArgumentParser
        With one sub-parser per verb (``figures``, ``derive``, ``rates``, ``compare``).
    """
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
    _add_progress(fig)
    fig.set_defaults(handler=_cmd_figures)

    der = verbs.add_parser(
        "derive",
        help="check the sympy derivations",
        description="Run each derivation's exact and numerical checks and its numeric twins; print "
        "PASS/FAIL with its claims and findings (--summary: one line each; --latex: the LaTeX alone on "
        "stdout); exit 1 if any fails.",
    )
    der.add_argument("names", nargs="*", metavar="NAME", help="derivations to check (default: all)")
    der.add_argument("--latex", action="store_true",
                     help="print the derivations as LaTeX on stdout (status lines go to stderr)")  # fmt: skip
    der.add_argument("--summary", action="store_true", help="one line per derivation")
    der.add_argument("--list", action="store_true", help="list the derivations and exit")
    _add_progress(der)
    der.set_defaults(handler=_cmd_derive)

    rat = verbs.add_parser(
        "rates",
        help="optimal parameters and rates on a quadratic valley",
        description="Tuned parameters and asymptotic rates for GD, heavy ball (Polyak), Nesterov and "
        "the continuous heavy-ball ODE, for curvatures in [h_min, h_max]. --kappa K means h_min = 1/K, "
        "h_max = 1. 'rate per step' is the factor rho by which the error shrinks per step "
        "asymptotically; the ODE's 'decay rate' lambda is the exponent of e^(-lambda t). Steps (time) "
        "to TOL: the first step k (time t) from which the error stays below TOL times the initial "
        "error, for every initial point on the valley with curvatures h_min and h_max, started at "
        "rest, including the factor k of a repeated root.",
    )
    group = rat.add_mutually_exclusive_group(required=True)
    group.add_argument("--kappa", type=_kappa, metavar="K", help="condition number (h_max = 1, h_min = 1/K)")
    group.add_argument(
        "--h-min", type=_positive, dest="h_min", metavar="A", help="smallest curvature (> 0; with --h-max)"
    )
    rat.add_argument("--h-max", type=_positive, dest="h_max", metavar="B", help="largest curvature (>= --h-min)")
    rat.add_argument("--tol", type=_tolerance, default=DEFAULT_TOL, metavar="TOL",
                     help=f"error reduction for the step counts (default {DEFAULT_TOL:g})")  # fmt: skip
    rat.add_argument("--format", dest="fmt", choices=("table", "json", "latex"), default="table",
                     help="output format (default: table)")  # fmt: skip
    rat.set_defaults(handler=_cmd_rates)

    cmp_ = verbs.add_parser(
        "compare",
        help="discrete heavy ball against the continuous ODE",
        description="Run semi-implicit Euler (mu = 1 - c dt/m, eta = dt/m) on a 2-D valley and compare "
        "it with the exact solution of m theta'' + c theta' + grad f = 0 on [0, T], both from theta0 at rest.",
    )
    cmp_.add_argument("--m", type=_positive, metavar="M", help="mass (> 0; required for the heavy ball)")
    cmp_.add_argument("--c", type=_nonnegative, metavar="C", help="friction (>= 0; required for the heavy ball)")
    cmp_.add_argument("--dt", type=_positive, metavar="DT", help="time step (> 0; required for the heavy ball)")
    cmp_.add_argument("--optimizer", choices=("heavyball", "adam"), default="heavyball",
                      help="the discrete method: the heavy ball (--m --c --dt, default) or torch's Adam "
                      "(--lr --betas --eps) against its ODE, with beta = 1 - (a, b) lr")  # fmt: skip
    cmp_.add_argument("--lr", type=_positive, metavar="LR", help="Adam's learning rate (> 0; required for Adam)")
    cmp_.add_argument("--betas", type=_betas, default=(0.9, 0.999), metavar="B1,B2",
                      help="Adam's betas in [0, 1) (default 0.9,0.999)")  # fmt: skip
    cmp_.add_argument("--eps", type=_positive, default=1e-8, metavar="EPS", help="Adam's eps (> 0, default 1e-8)")
    cmp_.add_argument("--kappa", type=_kappa, default=100.0, metavar="K", help="valley condition number (default 100)")
    cmp_.add_argument(
        "--t-final", type=_positive, dest="t_final", default=20.0, metavar="T", help="final time (default 20)"
    )
    cmp_.add_argument("--theta0", type=_coordinates, nargs="+", default=None, metavar="X",
                      help="initial point: two numbers, '--theta0 1 -2' or '--theta0 1,-2' (default: 1 1)")  # fmt: skip
    _add_progress(cmp_)
    cmp_.set_defaults(handler=_cmd_compare)

    noi = verbs.add_parser(
        "noise",
        help="stationary variance, temperature and loss of SGD with momentum under gradient noise",
        description="torch's SGD(lr, momentum[, nesterov]) on the 2-D valley with curvatures h_min and h_max "
        "(--kappa K: 1/K and 1) and isotropic Gaussian gradient noise of standard deviation SIGMA: the exact "
        "stationary variance per curvature (discrete Lyapunov equation), its small-lr Gibbs value T/h at the "
        "temperature T = lr sigma^2/(2(1 - momentum)), the stationary expected loss E f - f*, and the heavy-ball "
        "SDE (mass 1) the run discretises. Exit 1 when the configuration has no stationary law (unstable).",
    )
    noi.add_argument("--lr", type=_positive, required=True, metavar="LR", help="learning rate (> 0)")
    noi.add_argument("--momentum", type=_nonnegative, default=0.0, metavar="MU", help="momentum in [0, 1) (default 0)")
    noi.add_argument("--sigma", type=_nonnegative, required=True, metavar="S", help="gradient-noise standard deviation")
    ngroup = noi.add_mutually_exclusive_group(required=True)
    ngroup.add_argument("--kappa", type=_kappa, metavar="K", help="condition number (h_max = 1, h_min = 1/K)")
    ngroup.add_argument("--h-min", type=_positive, dest="h_min", metavar="A", help="smallest curvature (with --h-max)")
    noi.add_argument("--h-max", type=_positive, dest="h_max", metavar="B", help="largest curvature (>= --h-min)")
    noi.add_argument("--nesterov", action="store_true", help="torch's Nesterov momentum")
    noi.add_argument("--format", dest="fmt", choices=("table", "json"), default="table",
                     help="output format (default: table)")  # fmt: skip
    noi.set_defaults(handler=_cmd_noise)
    _SUBPARSERS.clear()
    _SUBPARSERS.update(verbs.choices)
    return parser


# -- figures ---------------------------------------------------------------------------------
def _wrapped(name: str, text: str, width: int) -> str:
    """``name`` on its own line, then ``text`` filled to ``width`` columns, indented by 4."""
    body = textwrap.fill(_one_line(text), width=max(width, 20), initial_indent="    ", subsequent_indent="    ",
                         break_on_hyphens=False)  # fmt: skip
    return f"{name}\n{body}"


def _cmd_figures(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .figures import CATALOGUE, FIGURES

    names = list(dict.fromkeys(args.names)) or list(CATALOGUE)
    unknown = [n for n in names if n not in FIGURES]
    if unknown:
        raise _unknown("figure", unknown, CATALOGUE)
    if args.list:
        width = shutil.get_terminal_size((100, 24)).columns - 1
        print("\n\n".join(_wrapped(name, FIGURES[name].CAPTION, width) for name in names))
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
    failures: list[tuple[str, Exception]] = []
    files = 0
    width = len(str(len(names)))
    progress = Progress(args.progress)
    for i, name in enumerate(names, 1):
        module = FIGURES[name]
        t0 = time.perf_counter()
        progress.update(f"[{i:>{width}}/{len(names)}] {name} ...")
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
            progress.done()
            print(f"[{i:>{width}}/{len(names)}] {name:<24} FAILED: {type(exc).__name__}: {_one_line(exc)}", flush=True)
            continue
        files += len(written)
        progress.done()
        shown = ", ".join(p.name for p in written)
        print(f"[{i:>{width}}/{len(names)}] {name:<24} {time.perf_counter() - t0:6.2f} s  {shown}", flush=True)
    total = time.perf_counter() - start
    made = len(names) - len(failures)
    print(f"{made} of {len(names)} figures, {files} files in {out}/ ({total:.1f} s)", flush=True)
    if failures:
        first, error = failures[0]
        more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
        raise _Failure(f"{len(failures)} figure(s) failed; {first}: {type(error).__name__}: {_one_line(error)}{more}")
    return EXIT_OK


# -- derive ------------------------------------------------------------------------------------
def _derivation(entry):
    """A registry entry is a Derivation, or a factory (a callable) that builds one."""
    if callable(entry) and not hasattr(type(entry), "check"):
        return entry()
    return entry


def _cmd_derive(args) -> int:
    from . import symbolic
    from .symbolic.latex import PACKAGES, plain_text

    registry = symbolic.DERIVATIONS
    names = list(dict.fromkeys(args.names)) or list(registry)
    unknown = [n for n in names if n not in registry]
    if unknown:
        raise _unknown("derivation", unknown, list(registry))
    if args.list:
        for name in names:
            print(f"{name:<28} {_one_line(plain_text(getattr(_derivation(registry[name]), 'title', '')))}")
        return EXIT_OK
    # --latex: the LaTeX alone on stdout (a clean fragment); every status line on stderr
    status = sys.stderr if args.latex else sys.stdout
    if args.latex:
        print(f"% heavyball derivations; needs \\usepackage{{{','.join(PACKAGES)}}}")
    elif not args.summary:
        print(
            f"Each claim is checked exactly (its sides' difference reduces to 0) and numerically "
            f"(mpmath, {symbolic.MP_DPS} digits, {symbolic.MIN_POINTS} random points, relative error "
            f"<= {symbolic.RTOL:.0e}); each numeric twin against the library at {symbolic.twins.TWIN_POINTS} points."
        )
    failed = []
    progress = Progress(args.progress)
    for i, name in enumerate(names, 1):
        progress.update(f"[{i}/{len(names)}] {name} ...")
        t0 = time.perf_counter()
        d = report = None
        reason = ""
        try:
            d = _derivation(registry[name])
            report = d.check()
            ok = True
        except Exception as exc:
            if _debug():
                raise
            ok = False
            report = getattr(exc, "report", None)
            # with a report the failed claims say why, below; otherwise the error does, here
            reason = "" if report is not None else f"{type(exc).__name__}: {_one_line(exc)}"
        title = _one_line(plain_text(getattr(d, "title", ""))) if d is not None else ""
        counts = _derive_counts(report)
        seconds = f"{time.perf_counter() - t0:.2f} s"
        progress.done()
        if ok:
            print(f"PASS {name} ({counts}{seconds}): {title}", file=status, flush=True)
        else:
            failed.append(name)
            print(
                f"FAIL {name} ({counts}{seconds}): {title}" + (f" -- {reason}" if reason else ""),
                file=status,
                flush=True,
            )
        if args.latex:
            if ok:
                print(d.latex().rstrip() + "\n", flush=True)
        elif not args.summary or not ok:
            for line in _claim_lines(d, report, findings=not args.summary):
                print(f"     {line}", file=status)
    print(f"{len(names) - len(failed)} of {len(names)} derivations pass", file=status, flush=True)
    if failed:
        raise _Failure(f"{len(failed)} derivation(s) failed: {', '.join(failed)}")
    return EXIT_OK


def _derive_counts(report) -> str:
    """``"16 claims, 2 twins, "`` from a check report (empty without one)."""
    if report is None or not hasattr(report, "claims"):
        return ""
    twins = len(getattr(report, "twins", ()) or ())
    return f"{len(report.claims)} claims, " + (f"{twins} twins, " if twins else "")


def _claim_lines(derivation, report, *, findings: bool = True) -> list[str]:
    """One line per claim (how it was proved, what it says) and twin, then the findings.

    A failed claim or twin says why; the numeric tolerance is said once, at the top.
    """
    from .symbolic.latex import plain_text

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
                f" -- {_one_line(c.detail)}" if c.detail else ""
            )
        lines.append(line + (f" -- {_one_line(plain_text(note))}" if note else ""))
    for t in getattr(report, "twins", None) or ():
        line = f"{'ok  ' if t.held else 'FAIL'} twin {t.name}"
        lines.append(line + (f" -- {_one_line(t.detail)}" if not t.held and t.detail else ""))
    if findings:
        for finding in getattr(derivation, "findings", ()) or ():
            lines.append(f"finding: {_one_line(plain_text(finding))}")
    return lines


# -- rates --------------------------------------------------------------------------------------
#: (JSON key, table label, LaTeX label) of the tunings of :func:`heavyball.rates.optimal_parameters`
_TUNED = (
    ("gd", "GD", "GD"),
    ("heavyball", "heavy ball (Polyak)", "heavy ball (Polyak)"),
    ("nesterov", "Nesterov (lr = 1/h_max)", r"Nesterov ($\gamma = 1/h_{\max}$)"),
    ("nesterov-quadratic", "Nesterov (Lessard et al.)", "Nesterov (Lessard et al.)"),
)
#: significant digits of every number `rates` prints (trailing zeros kept: 1.98020, 3.30579)
DIGITS = 6


def _short(x: float) -> str:
    """``1e-06`` as ``1e-6``: the shortest ``g`` form without exponent padding."""
    return format(x, "g").replace("e-0", "e-").replace("e+0", "e+")


def _g(x: float, digits: int = DIGITS) -> str:
    """``x`` to ``digits`` significant digits, trailing zeros kept (``1.98020``, ``0.00000``)."""
    if x == 0:
        return "0." + "0" * (digits - 1)
    text = format(x, f"#.{digits}g")
    return text[:-1] if text.endswith(".") else text


def _first_below(envelope: Callable[[float], float], tol: float, start: float, *, integer: bool) -> float:
    """The first ``x >= start`` with ``envelope(x) <= tol``, for ``envelope`` decreasing on ``[start, ∞)``.

    Doubling, then bisection: to the integer for step counts, to 1e-9 relative for times.
    ``inf`` when the envelope has not fallen below ``tol`` by 1e18.
    """
    lo = start
    if envelope(lo) <= tol:
        return float(math.ceil(lo)) if integer else lo
    hi = max(2.0 * lo, 1.0)
    while envelope(hi) > tol:
        lo, hi = hi, 2.0 * hi
        if hi > 1e18:
            return math.inf
    if integer:
        lo_i, hi_i = math.ceil(lo), math.ceil(hi)
        while hi_i - lo_i > 1:  # invariant: envelope(hi_i) <= tol, and above tol just before lo_i ... hi_i
            mid_i = (lo_i + hi_i) // 2
            lo_i, hi_i = (lo_i, mid_i) if envelope(mid_i) <= tol else (mid_i, hi_i)
        return float(lo_i if envelope(lo_i) <= tol else hi_i)
    while hi - lo > 1e-9 * hi:
        mid = 0.5 * (lo + hi)
        lo, hi = (lo, mid) if envelope(mid) <= tol else (mid, hi)
    return hi


def _mode_envelope(r1: complex, r2: complex, first: float) -> tuple[Callable[[float], float], float]:
    r"""The bound ``|x_k| <= E(k)`` of a scalar recurrence with roots ``r1, r2``, ``x_0 = 1``, ``x_1 = first``.

    Distinct roots: ``x_k = c_1 r_1^k + c_2 r_2^k`` with ``c_1 + c_2 = 1``, ``c_1 r_1 + c_2 r_2 = x_1``,
    and ``E(k) = |c_1||r_1|^k + |c_2||r_2|^k`` (exact for real roots of one sign pattern, the envelope
    of the oscillation for a complex pair). A repeated root ``r`` (roots within 1e-6 relative, as
    rounding leaves Polyak's): ``x_k = r^k (1 + k(x_1/r − 1))``, ``E(k) = |r|^k (1 + k|x_1/r − 1|)``:
    the factor ``k`` that a plain ``ρ^k`` misses. Returns ``E`` and the step from which ``E``
    decreases.
    """
    rho = max(abs(r1), abs(r2))
    if abs(r1 - r2) <= 1e-6 * rho or rho == 0.0:
        r = 0.5 * (r1 + r2)
        if r == 0:  # both roots zero: x_k = 0 from k = 2 on
            return (lambda k: 1.0 if k < 1 else (abs(first) if k < 2 else 0.0)), 0.0
        slope = abs(first / r - 1.0)
        peak = max(0.0, 1.0 / -math.log(abs(r)) - 1.0 / slope) if slope > 0 and abs(r) < 1 else 0.0
        return (lambda k: abs(r) ** k * (1.0 + k * slope)), peak
    c2 = (first - r1) / (r2 - r1)
    c1 = 1.0 - c2
    a1, a2, m1, m2 = abs(c1), abs(c2), abs(r1), abs(r2)
    return (lambda k: a1 * m1**k + a2 * m2**k), 0.0


def steps_to_tolerance(optimizer: Any, h: Sequence[float], tol: float) -> float:
    """Steps after which a linear optimiser, started at rest, has reduced every mode's error below ``tol``.

    Per curvature ``h`` the error follows ``x_{k+1} = T x_k − D x_{k−1}`` with the roots of
    :func:`heavyball.rates.characteristic_roots`, after the first step from rest
    ``x_1 = (1 − γ₁h)x_0`` (:func:`heavyball.recurrences.first_step`: ``γ₁ = γ`` for heavy ball
    and GD, ``γ(1 + μ)`` for torch's Nesterov). The result is the first ``k`` from which the
    per-mode bound of :func:`_mode_envelope` stays ``<= tol`` for every ``h``: then
    ``‖θ_j − θ*‖ <= tol·‖θ_0 − θ*‖`` for all ``j >= k`` and every ``θ_0`` (the modes are
    orthogonal). With a repeated root (Polyak, Nesterov) the error decays like ``k·ρ^k``,
    so this exceeds ``log tol / log ρ``: Polyak at ``κ = 100`` needs 95 steps, not 68.8.

    Parameters
    ----------
    optimizer : SGD, HeavyBall or NesterovLookahead
        With scalar hyperparameters (:func:`heavyball.recurrences.recurrence_of`).
    h : sequence of float
        The curvatures (the valley's ``h_min`` and ``h_max``).
    tol : float, in (0, 1)

    Returns
    -------
    float
        A whole number of steps, or ``inf`` when some mode does not decay.
    """
    from . import rates
    from .recurrences import first_step, recurrence_of

    rec = recurrence_of(optimizer)
    lr, momentum = float(rec.lr), float(rec.momentum)
    worst = 0.0
    for curvature in h:
        h_eff = float(rec.curvature(curvature))
        roots = rates.characteristic_roots(h_eff, lr=lr, momentum=momentum, family=rec.family)
        r1, r2 = complex(roots[0]), complex(roots[1])
        if max(abs(r1), abs(r2)) >= 1.0:
            return math.inf
        envelope, peak = _mode_envelope(r1, r2, float(first_step(float(rec.first_lr), h_eff)))
        worst = max(worst, _first_below(envelope, tol, math.floor(peak), integer=True))
    return worst


def time_to_tolerance(h: Sequence[float], m: float, c: float, tol: float) -> float:
    r"""Time after which the heavy-ball ODE, started at rest, has reduced every mode below ``tol``.

    Per curvature the mode is ``x(t) = c_1 e^{s_1 t} + c_2 e^{s_2 t}``, ``m s² + c s + h = 0``,
    ``x(0) = 1``, ``x'(0) = 0``: ``c_1 = s_2/(s_2 − s_1)``, ``c_2 = −s_1/(s_2 − s_1)``; at critical
    damping ``x(t) = e^{st}(1 − st)``. The bound ``|c_1|e^{Re s_1 t} + |c_2|e^{Re s_2 t}`` (or
    ``e^{st}(1 + |s|t)``) is solved for the first ``t`` from which it stays ``<= tol``.

    Parameters
    ----------
    h : sequence of float
        The curvatures.
    m, c : float
        Mass and friction.
    tol : float, in (0, 1)

    Returns
    -------
    float
        The time, or ``inf`` when some mode does not decay (``c = 0``).
    """
    import cmath

    worst = 0.0
    for curvature in h:
        disc = complex(c * c - 4.0 * m * curvature)
        if abs(disc) <= 1e-12 * (c * c + 4.0 * m * curvature):
            s = -c / (2.0 * m)
            if s >= 0:
                return math.inf
            worst = max(worst, _first_below(_critical_envelope(-s), tol, 0.0, integer=False))
            continue
        root = cmath.sqrt(disc)
        s1, s2 = (-c + root) / (2.0 * m), (-c - root) / (2.0 * m)
        if max(s1.real, s2.real) >= 0:
            return math.inf
        envelope = _two_exponentials(abs(s2 / (s2 - s1)), s1.real, abs(s1 / (s2 - s1)), s2.real)
        worst = max(worst, _first_below(envelope, tol, 0.0, integer=False))
    return worst


def _critical_envelope(rate: float) -> Callable[[float], float]:
    """``t -> e^{−rate·t}(1 + rate·t)``: a critically damped mode from rest."""
    return lambda t: math.exp(-rate * t) * (1.0 + rate * t)


def _two_exponentials(a1: float, e1: float, a2: float, e2: float) -> Callable[[float], float]:
    """``t -> a1·e^{e1·t} + a2·e^{e2·t}``."""
    return lambda t: a1 * math.exp(e1 * t) + a2 * math.exp(e2 * t)


def _cmd_rates(args: argparse.Namespace) -> int:
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
        rows = rate_rows(h_min, h_max, tol=args.tol)
    except ValueError as exc:  # the library's own range checks (e.g. magnitudes it cannot represent)
        raise UsageError(str(exc)) from None
    if args.fmt == "json":
        doc = {"h_min": h_min, "h_max": h_max, "kappa": h_max / h_min, "tol": args.tol, "methods": rows}
        print(json.dumps(doc, indent=2, allow_nan=False, default=str))
    elif args.fmt == "latex":
        print(rates_latex(rows, h_min, h_max, args.tol))
    else:
        print(rates_table(rows, h_min, h_max, args.tol))
    return EXIT_OK


def rate_rows(h_min: float, h_max: float, *, tol: float = DEFAULT_TOL) -> list[dict[str, Any]]:
    """Tuned parameters from :mod:`heavyball.rates`, one row per method, as ``rates`` prints them.

    Parameters
    ----------
    h_min, h_max : float
        The curvature range, ``0 < h_min <= h_max``.
    tol : float, optional
        The error reduction the step counts and times refer to.

    Returns
    -------
    list of dict
        Discrete methods: ``method``, ``label``, ``lr``, ``momentum``, ``rate_per_step`` (the
        spectral radius ρ: the error shrinks like ρᵏ) and ``steps`` (an int, ``None`` when it
        does not converge; see :func:`steps_to_tolerance`). The ODE (``method = "ode"``):
        ``m``, ``c`` (the fastest uniform friction), ``decay_rate`` (λ: the error shrinks like
        e^(−λt)) and ``time`` (:func:`time_to_tolerance`).
    """
    from . import rates
    from .optimizers import SGD

    rows: list[dict[str, Any]] = []
    for key, label, _ in _TUNED:
        tuned = rates.optimal_parameters(h_min, h_max, key)
        lr, momentum = float(tuned.lr), float(tuned.momentum)
        steps = math.inf  # a rate that rounds to 1 (κ beyond 1e16) never reaches tol
        if float(tuned.rate) < 1.0:
            opt = SGD(lr=lr, momentum=momentum, nesterov=rates.TUNINGS[key] == "nesterov")
            steps = steps_to_tolerance(opt, (h_min, h_max), tol)
        rows.append({"method": key, "label": label, "lr": lr, "momentum": momentum,
                     "rate_per_step": float(tuned.rate), "steps": None if math.isinf(steps) else int(steps)})  # fmt: skip
    # the continuous heavy-ball ODE with m = 1 and the damping that is fastest uniformly
    m = 1.0
    c = float(rates.optimal_damping(m, h_min))
    decay = float(rates.continuous_rate(m, c, [h_min, h_max]))
    t = time_to_tolerance((h_min, h_max), m, c, tol)
    rows.append({"method": "ode", "label": "heavy-ball ODE (m = 1)", "m": m, "c": c, "decay_rate": decay,
                 "time": None if math.isinf(t) else t})  # fmt: skip
    return rows


def _steps_text(steps: int | None) -> str:
    return "never" if steps is None else str(steps)


def rates_table(rows: Sequence[dict[str, Any]], h_min: float, h_max: float, tol: float = DEFAULT_TOL) -> str:
    """The plain-text table of :func:`rate_rows` (every number to :data:`DIGITS` significant digits).

    Parameters
    ----------
    rows : sequence of dict
        :func:`rate_rows`.
    h_min, h_max : float
        The curvature range.
    tol : float, optional
        The error reduction the step counts refer to.

    Returns
    -------
    str
    """
    lines = [
        f"curvatures h in [{_g(h_min)}, {_g(h_max)}], kappa = {_g(h_max / h_min)}",
        f"{'method':<28} {'lr':>12} {'momentum':>12} {'rate/step':>12} {'steps to ' + _short(tol):>14}",
    ]
    ode = None
    for r in rows:
        if r["method"] == "ode":
            ode = r
            continue
        lines.append(f"{r['label']:<28} {_g(r['lr']):>12} {_g(r['momentum']):>12} {_g(r['rate_per_step']):>12} "
                     f"{_steps_text(r['steps']):>14}")  # fmt: skip
    if ode is not None:
        time_text = "never" if ode["time"] is None else _g(ode["time"])
        lines.append(f"{ode['label']:<28} friction c = {_g(ode['c'])}, decay rate {_g(ode['decay_rate'])}, "
                     f"time to {_short(tol)}: {time_text}")  # fmt: skip
    lines.append(
        f"rate/step: the error shrinks like rate^k; decay rate: like e^(-rate t). Steps (time) to {_short(tol)}: "
        f"from then on the error stays below {_short(tol)} of its initial value, from rest (the factor k of a "
        "repeated root included)."
    )
    return "\n".join(lines)


def _tex_number(x: float, digits: int = DIGITS) -> str:
    """``x`` to ``digits`` significant digits as LaTeX maths: ``1.00000{\\cdot}10^{-150}`` for tiny or huge ``x``."""
    if not math.isfinite(x):
        return r"\infty" if x > 0 else r"-\infty"
    if x != 0 and not 1e-4 <= abs(x) < 1e6:
        mantissa, exponent = format(x, f".{digits - 1}e").split("e")
        return rf"{mantissa}{{\cdot}}10^{{{int(exponent)}}}"
    return _g(x, digits)


def rates_latex(rows: Sequence[dict[str, Any]], h_min: float, h_max: float, tol: float = DEFAULT_TOL) -> str:
    r"""A LaTeX ``tabular`` of :func:`rate_rows`; needs ``\usepackage{booktabs}``.

    Every cell is text or inline maths (``$...$``), so the fragment compiles in any
    document that loads booktabs (stated in its first line, a comment); ``\small`` and narrow
    column gaps keep it within the 345 pt text width of a 10 pt ``article``.

    Parameters
    ----------
    rows : sequence of dict
        :func:`rate_rows`.
    h_min, h_max : float
        The curvature range.
    tol : float, optional
        The error reduction the step counts refer to.

    Returns
    -------
    str
    """
    exponent = math.log10(tol)
    tol_tex = f"10^{{{round(exponent)}}}" if abs(exponent - round(exponent)) < 1e-12 else _tex_number(tol, 2)
    lines = [
        r"% heavyball rates: needs \usepackage{booktabs}",
        r"% rho: the error shrinks like rho^k per step; lambda: like e^{-lambda t}; steps and time from rest",
        r"{\small\setlength{\tabcolsep}{4pt}\begin{tabular}{@{}lrrrr@{}}",
        r"\toprule",
        rf"\multicolumn{{5}}{{@{{}}l}}{{$h \in [{_tex_number(h_min)}, {_tex_number(h_max)}]$, "
        rf"$\kappa = {_tex_number(h_max / h_min)}$}} \\",
        rf"\multicolumn{{5}}{{@{{}}l}}{{steps (time): to reduce the error by ${tol_tex}$, from rest}} \\",
        r"\midrule",
        r"method & $\gamma$ & $\mu$ & $\rho$ & steps \\",
        r"\midrule",
    ]
    tex_labels = {key: tex for key, _, tex in _TUNED}
    for r in rows:
        if r["method"] == "ode":
            time_text = "never" if r["time"] is None else f"$t = {_tex_number(r['time'])}$"
            lines += [
                r"\midrule",
                rf"heavy-ball ODE ($m = 1$) & \multicolumn{{2}}{{r}}{{$c = {_tex_number(r['c'])}$}} & "
                rf"$\lambda = {_tex_number(r['decay_rate'])}$ & {time_text} \\",
            ]
        else:
            steps = "never" if r["steps"] is None else str(r["steps"])
            lines.append(rf"{tex_labels[r['method']]} & ${_tex_number(r['lr'])}$ & ${_tex_number(r['momentum'])}$ & "
                         rf"${_tex_number(r['rate_per_step'])}$ & {steps} \\")  # fmt: skip
    lines += [
        r"\bottomrule",
        r"\end{tabular}}",
    ]
    return "\n".join(lines)


# -- compare -------------------------------------------------------------------------------------
def _cmd_compare(args: argparse.Namespace) -> int:
    if args.optimizer == "adam":
        return _compare_adam(args)
    if args.lr is not None:
        raise UsageError("--lr belongs to --optimizer adam; the heavy ball takes --m, --c and --dt")
    missing = [f"--{k.replace('_', '-')}" for k in ("m", "c", "dt") if getattr(args, k) is None]
    if missing:
        raise UsageError(f"the heavy ball needs --m, --c and --dt; missing {', '.join(missing)}")
    if args.t_final < args.dt:
        raise UsageError(f"--t-final must be >= --dt, got --t-final {args.t_final!r} --dt {args.dt!r}")
    if args.t_final / args.dt > MAX_COMPARE_STEPS:
        raise UsageError(
            f"--t-final/--dt must be at most {MAX_COMPARE_STEPS:.0e} steps, got {args.t_final / args.dt:.3g}"
        )
    theta0_list = [x for group in (args.theta0 or [[1.0, 1.0]]) for x in group]
    if len(theta0_list) != 2:
        raise UsageError(f"--theta0 needs 2 numbers (the valley is 2-D), got {len(theta0_list)}: {theta0_list}")
    import numpy as np

    from .discretization import compare
    from .dynamics import HeavyBallODE, damping_regime
    from .problems import Quadratic
    from .status import Status

    q = Quadratic.valley(kappa=args.kappa)
    theta0 = np.array(theta0_list)
    steps = round(args.t_final / args.dt)
    try:
        ode = HeavyBallODE(m=args.m, c=args.c)
        with Progress(args.progress).busy(f"compare: {steps} steps and the exact ODE ..."):
            cmp = compare(ode, q, theta0, dt=args.dt, t_final=args.t_final)
    except ValueError as exc:  # the library's range checks on the user's numbers
        raise UsageError(str(exc)) from None
    regimes = [str(damping_regime(args.m, args.c, h)) for h in q.eigenvalues]
    shown = ", ".join(f"{x:g}" for x in theta0_list)
    print(f"heavy-ball ODE m = {args.m:g}, c = {args.c:g} on a kappa = {args.kappa:g} valley "
          f"(h = {q.h_min:g}, {q.h_max:g}: {', '.join(regimes)}), theta0 = ({shown}), T = {args.t_final:g}")  # fmt: skip
    print(f"semi-implicit Euler, dt = {args.dt:g}: mu = {float(cmp.mu):.6g}, eta = {float(cmp.eta):.6g} "
          f"(torch: lr = {args.dt**2 / args.m:.6g}, momentum = {float(cmp.mu):.6g})")  # fmt: skip
    for label, attr in (("max error", "max_error"), ("final error", "final_error")):
        value = getattr(cmp, attr, None)
        if value is not None:
            print(f"{label:<12} {float(np.max(value)):.6e}")
    status, message = Status(cmp.status), cmp.message
    # a failure's message goes to stderr once (below); a success's message is part of the result
    print(f"status       {status}" + (f": {_one_line(message)}" if message and status.success else ""))
    if not status.success:
        raise _Failure(f"the discrete run did not track the ODE: {_one_line(message or status.message)}")
    return EXIT_OK


def noise_rows(lr: float, momentum: float, sigma: float, h_min: float, h_max: float, *,
               nesterov: bool = False) -> dict[str, Any]:  # fmt: skip
    """The numbers ``heavyball noise`` prints (a ``ValueError`` from the library when there is
    no stationary law or an argument is out of range)."""
    import numpy as np

    from .exact_moments import stationary
    from .noise import GradientNoise
    from .optimizers import SGD
    from .problems import Quadratic

    opt = SGD(lr=lr, momentum=momentum, nesterov=nesterov)
    q = Quadratic(np.diag([h_min, h_max]))
    law = stationary(opt, q, GradientNoise.isotropic(sigma))
    temperature = lr * sigma**2 / (2 * (1 - momentum))
    rows = [{"h": h, "var": float(law.cov[i, i]), "gibbs_var": temperature / h} for i, h in enumerate((h_min, h_max))]
    dt = float(np.sqrt(lr))  # mass 1: lr = dt², momentum = 1 − c·dt
    return {
        "lr": lr, "momentum": momentum, "sigma": sigma, "nesterov": nesterov, "h_min": h_min, "h_max": h_max,
        "temperature": temperature, "expected_loss": float(law.expected_loss), "gibbs_loss": temperature,
        "curvatures": rows,
        "sde": {"m": 1.0, "c": (1 - momentum) / dt, "sigma": sigma * float(np.sqrt(dt)), "dt": dt},
    }  # fmt: skip


def _cmd_noise(args: argparse.Namespace) -> int:
    import json

    if args.momentum >= 1:
        raise UsageError(f"--momentum must be in [0, 1), got {args.momentum!r}")
    if args.nesterov and args.momentum == 0:
        raise UsageError("--nesterov needs --momentum > 0")
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
    from .noise import NoStationaryLawError

    try:
        doc = noise_rows(args.lr, args.momentum, args.sigma, h_min, h_max, nesterov=args.nesterov)
    except NoStationaryLawError as exc:
        raise _Failure(_one_line(exc)) from None
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if args.fmt == "json":
        print(json.dumps(doc, indent=2, allow_nan=False))
        return EXIT_OK
    kind = "Nesterov" if args.nesterov else "heavy ball"
    print(f"SGD({kind}) lr = {args.lr:g}, momentum = {args.momentum:g}, gradient noise sigma = {args.sigma:g}; "
          f"curvatures {h_min:g} and {h_max:g}")  # fmt: skip
    print(f"temperature T = lr*sigma^2/(2(1 - momentum)) = {doc['temperature']:.6g}")
    print(f"{'h':>12}  {'Var theta (exact)':>18}  {'T/h (small lr)':>15}  {'ratio':>8}")
    for row in doc["curvatures"]:
        print(
            f"{row['h']:>12.6g}  {row['var']:>18.6g}  {row['gibbs_var']:>15.6g}  {row['var'] / row['gibbs_var']:>8.4f}"
        )
    print(f"stationary E f - f* = {doc['expected_loss']:.6g}  (small-lr Gibbs value d*T/2 = {doc['gibbs_loss']:.6g})")
    sde = doc["sde"]
    print(f"heavy-ball SDE (m = 1, dt = sqrt(lr) = {sde['dt']:.6g}): c = {sde['c']:.6g}, sigma = {sde['sigma']:.6g}")
    return EXIT_OK


def _compare_adam(args: argparse.Namespace) -> int:
    """``compare --optimizer adam``: torch's Adam against the Adam ODE on the valley."""
    if args.lr is None:
        raise UsageError("--optimizer adam needs --lr")
    given = [f"--{k}" for k in ("m", "c", "dt") if getattr(args, k) is not None]
    if given:
        raise UsageError(f"{', '.join(given)}: for the heavy ball only; Adam takes --lr, --betas and --eps")
    if args.t_final < args.lr:
        raise UsageError(f"--t-final must be >= --lr, got --t-final {args.t_final!r} --lr {args.lr!r}")
    if args.t_final / args.lr > MAX_COMPARE_STEPS:
        raise UsageError(
            f"--t-final/--lr must be at most {MAX_COMPARE_STEPS:.0e} steps, got {args.t_final / args.lr:.3g}"
        )
    theta0_list = [x for group in (args.theta0 or [[1.0, 1.0]]) for x in group]
    if len(theta0_list) != 2:
        raise UsageError(f"--theta0 needs 2 numbers (the valley is 2-D), got {len(theta0_list)}: {theta0_list}")
    import numpy as np

    from .adam_ode import AdamODE
    from .discretization import compare
    from .problems import Quadratic
    from .status import Status

    q = Quadratic.valley(kappa=args.kappa)
    beta1, beta2 = args.betas
    if beta1 == 0.0 or beta2 == 0.0:
        raise UsageError(f"--betas must be > 0 for an ODE limit (a = (1 - beta1)/lr), got {beta1:g},{beta2:g}")
    try:
        ode = AdamODE.from_adam(args.lr, (beta1, beta2), args.eps)
        with Progress(args.progress).busy(f"compare: {round(args.t_final / args.lr)} Adam steps and the ODE ..."):
            cmp = compare(ode, q, np.array(theta0_list), dt=args.lr, t_final=args.t_final)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    shown = ", ".join(f"{x:g}" for x in theta0_list)
    print(f"Adam ODE a = (1 - beta1)/lr = {ode.a:.6g}, b = (1 - beta2)/lr = {ode.b:.6g}, eps = {ode.eps:g} on a "
          f"kappa = {args.kappa:g} valley, theta0 = ({shown}), T = {args.t_final:g}")  # fmt: skip
    print(f"torch's Adam, lr = {args.lr:g}, betas = ({beta1:g}, {beta2:g}): {cmp.steps} steps at t = k lr; "
          f"as a heavy ball: mass lr/(1 - beta1) = {args.lr / (1 - beta1):.6g}, momentum beta1")  # fmt: skip
    print(f"{'max error':<12} {cmp.max_error:.6e}")
    print(f"{'final error':<12} {cmp.final_error:.6e}")
    status, message = Status(cmp.status), cmp.message
    print(f"status       {status}" + (f": {_one_line(message)}" if message and status.success else ""))
    if not status.success:
        raise _Failure(f"the Adam iterates were not compared with the ODE: {_one_line(message or status.message)}")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``heavyball`` command.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments after the program name (default ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status: 0 success, 1 failure, 2 bad usage, 130 interrupted.
    """
    from ._io import sigint_between_writes

    with sigint_between_writes() as interrupts:
        return _main(argv, interrupts)


def _usage(prog: str, verb: str | None, message: str) -> int:
    """Write the one-line usage error, with the help command of ``verb``; return exit status 2."""
    where = f"{prog} {verb}" if verb else prog
    sys.stderr.write(f"{where}: error: {_one_line(message)} (see '{where} --help')\n")
    return EXIT_USAGE


def _main(argv: Sequence[str] | None, interrupts: Any) -> int:
    parser = build_parser()
    prog = parser.prog
    args = None
    try:
        try:
            _Parser.argv = list(sys.argv[1:] if argv is None else argv)
            args, extras = parser.parse_known_args(argv)
            if extras:  # unknown options belong to the verb's parser: its help, its option names
                verb_parser = _SUBPARSERS.get(getattr(args, "verb", None) or "", parser)
                verb_parser.error(f"unrecognized arguments: {' '.join(extras)}")
        except _Exit as stop:
            return stop.status
        if args.verb is None:
            return _usage(prog, None, "a verb is required: figures, derive, rates or compare")
        status: int = args.handler(args)
        return status
    except KeyboardInterrupt:
        sys.stderr.write(f"{prog}: interrupted\n")
        return EXIT_INTERRUPTED
    except UsageError as exc:
        return _usage(prog, getattr(args, "verb", None), str(exc))
    except _Failure as exc:
        if _debug():
            raise
        sys.stderr.write(f"{prog} {args.verb if args else ''}: error: {_one_line(exc)}\n")
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
