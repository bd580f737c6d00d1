"""The command's argument parsing: a parser whose errors are one line, and the argument types.

Every argument type raises :class:`argparse.ArgumentTypeError`, which argparse turns into a
one-line usage error naming the option (``argument --kappa: expected ...``).
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from collections.abc import Sequence
from typing import NoReturn

from ._common import EXIT_USAGE, UsageError, did_you_mean, one_line

__all__ = [
    "FIGURE_FORMATS",
    "Exit",
    "Parser",
    "add_curvature_range",
    "add_progress",
    "betas",
    "coordinates",
    "curvature_range",
    "figure_formats",
    "kappa",
    "nonnegative",
    "positive",
    "tolerance",
]

FIGURE_FORMATS = ("pdf", "png", "svg")


class Exit(Exception):
    """Raised instead of ``sys.exit`` inside the parser, so ``main`` can return a status."""

    def __init__(self, status: int):
        super().__init__(status)
        self.status = status


class Parser(argparse.ArgumentParser):
    """``ArgumentParser`` whose errors are ONE line on stderr (no usage block), exit 2.

    The line ends with the help command of the parser that failed (``heavyball figures
    --help`` for a sub-command) and, for an unknown verb, option or choice, a close match.
    """

    #: the command line being parsed (set on each parser by :func:`heavyball.cli.main`): a typo in
    #: an option name is reported as such even when argparse first notices a required option as missing
    argv: Sequence[str] = ()

    def error(self, message: str) -> NoReturn:
        """Write ``message`` as one line, with a suggestion and the help command; raise :class:`Exit`."""
        if "required" in message:
            unknown = [
                a for a in self.argv if a.startswith("--") and a.split("=")[0] not in self._option_string_actions
            ]
            if unknown:
                message = f"unrecognized arguments: {' '.join(unknown)}"
        message = one_line(message) + self._suggestion(message)
        sys.stderr.write(f"{self.prog}: error: {message} (see '{self.prog} --help')\n")
        raise Exit(EXIT_USAGE)

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        """Write ``message`` (if any) as one line and raise :class:`Exit` instead of exiting."""
        if message:
            sys.stderr.write(one_line(message) + "\n")
        raise Exit(status)

    def _suggestion(self, message: str) -> str:
        choice = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if choice:
            options = [c.strip().strip("'\"") for c in choice.group(2).split(",")]
            return did_you_mean(choice.group(1), options)
        unknown = re.match(r"unrecognized arguments: (\S+)", message)
        if unknown and unknown.group(1).startswith("-"):
            return did_you_mean(unknown.group(1).split("=")[0], self._option_string_actions)
        return ""


def add_progress(parser: argparse.ArgumentParser) -> None:
    """The ``--progress`` flag of the verbs that report progress on stderr."""
    parser.add_argument("--progress", action="store_true", default=None,
                        help="show progress on stderr even when it is not a terminal (default: only on a terminal)")  # fmt: skip


def add_curvature_range(parser: argparse.ArgumentParser, h_min_help: str) -> None:
    """``--kappa K`` or ``--h-min A --h-max B`` (one of ``--kappa``, ``--h-min`` required)."""
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--kappa", type=kappa, metavar="K", help="condition number (h_max = 1, h_min = 1/K)")
    group.add_argument("--h-min", type=positive, dest="h_min", metavar="A", help=h_min_help)
    parser.add_argument("--h-max", type=positive, dest="h_max", metavar="B", help="largest curvature (>= --h-min)")


def curvature_range(args: argparse.Namespace) -> tuple[float, float]:
    """``(h_min, h_max)`` from the options of :func:`add_curvature_range` (``--kappa K``: ``1/K, 1``)."""
    if args.kappa is not None:
        if args.h_max is not None:
            raise UsageError("--kappa and --h-max are exclusive: give --kappa K, or --h-min A --h-max B")
        return 1.0 / args.kappa, 1.0
    if args.h_max is None:
        raise UsageError("--h-min needs --h-max")
    if args.h_max < args.h_min:
        raise UsageError(f"--h-max must be >= --h-min, got --h-min {args.h_min!r} --h-max {args.h_max!r}")
    return args.h_min, args.h_max


# -- argument types ---------------------------------------------------------------------------
def real(text: str, *, lower: float | None = None, lower_inclusive: bool = True, what: str = "a finite real number") -> float:  # fmt: skip
    """``text`` as a finite float, at least (or above) ``lower`` when given."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
    if lower is not None and (value < lower or (value == lower and not lower_inclusive)):
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
    return value


def positive(text: str) -> float:
    """A finite number ``> 0``."""
    return real(text, lower=0.0, lower_inclusive=False, what="a finite real number > 0")


def nonnegative(text: str) -> float:
    """A finite number ``>= 0``."""
    return real(text, lower=0.0, what="a finite real number >= 0")


def kappa(text: str) -> float:
    """A finite condition number ``>= 1``."""
    return real(text, lower=1.0, what="a finite condition number kappa >= 1")


def tolerance(text: str) -> float:
    """A number in the open interval ``(0, 1)``."""
    value = real(text, lower=0.0, lower_inclusive=False, what="a tolerance in (0, 1)")
    if value >= 1.0:
        raise argparse.ArgumentTypeError(f"expected a tolerance in (0, 1), got {text!r}")
    return value


def coordinates(text: str) -> list[float]:
    """One or more comma-separated finite numbers (``--theta0 1,-2`` or ``--theta0 1 -2``)."""
    return [real(part.strip()) for part in text.split(",") if part.strip()] or [real(text)]


def betas(text: str) -> tuple[float, float]:
    """Adam's two averaging factors ``B1,B2``, each in ``[0, 1)``."""
    parts = [real(part.strip(), what="two numbers in [0, 1)") for part in text.split(",")]
    if len(parts) != 2 or not all(0.0 <= b < 1.0 for b in parts):
        raise argparse.ArgumentTypeError(f"expected two numbers B1,B2 in [0, 1), got {text!r}")
    return parts[0], parts[1]


def figure_formats(text: str) -> tuple[str, ...]:
    """A comma-separated subset of :data:`FIGURE_FORMATS`, without repeats, in the order given."""
    parts = [p.strip().lower() for p in text.split(",")]
    if not parts or any(p not in FIGURE_FORMATS for p in parts):
        raise argparse.ArgumentTypeError(
            f"expected a comma-separated subset of {','.join(FIGURE_FORMATS)}, got {text!r}"
        )
    return tuple(dict.fromkeys(parts))
