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
import os
import sys
from collections.abc import Sequence
from typing import Any

from .. import __version__
from . import compare, derive, figures, noise, rates
from ._common import (
    DEBUG_ENV,
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    Failure,
    Progress,
    UsageError,
    debug,
    did_you_mean,
    one_line,
)
from ._parsing import Exit, Parser
from .noise import noise_rows
from .rates import rate_rows, rates_latex, rates_table, steps_to_tolerance, time_to_tolerance

__all__ = [
    "Progress",
    "UsageError",
    "build_parser",
    "did_you_mean",
    "main",
    "noise_rows",
    "rate_rows",
    "rates_latex",
    "rates_table",
    "steps_to_tolerance",
    "time_to_tolerance",
]

#: the verbs, in the order of ``heavyball --help``: the module ``heavyball.cli.NAME`` is the verb NAME,
#: with its ``HELP``, ``DESCRIPTION``, ``add_arguments(parser)`` and ``run(args) -> exit status``
VERBS = (figures, derive, rates, compare, noise)


class _Root(Parser):
    """The top-level parser; ``verbs`` maps each verb to its sub-parser (for errors in its words)."""

    verbs: dict[str, Parser]


def build_parser() -> argparse.ArgumentParser:
    """The command's argument parser (exposed for documentation and tests).

    Returns
    -------
    argparse.ArgumentParser
        With one sub-parser per verb (``figures``, ``derive``, ``rates``, ``compare``, ``noise``).
    """
    return _build()


def _build() -> _Root:
    """The root parser, one sub-parser per module of :data:`VERBS`."""
    parser = _Root(
        prog="heavyball",
        description="The continuous-time view of momentum methods: paper figures, sympy-checked "
        "derivations, optimal rates and discrete-vs-continuous comparisons.",
        epilog=f"Exit status: 0 ok, 1 failure, 2 bad usage, 130 interrupted. Set {DEBUG_ENV}=1 to see tracebacks.",
    )
    parser.add_argument("--version", action="version", version=f"heavyball {__version__}")
    subparsers = parser.add_subparsers(dest="verb", metavar="VERB", parser_class=Parser)
    for module in VERBS:
        verb = subparsers.add_parser(module.__name__.rpartition(".")[2], help=module.HELP,
                                     description=module.DESCRIPTION)  # fmt: skip
        module.add_arguments(verb)
        verb.set_defaults(handler=module.run)
    parser.verbs = dict(subparsers.choices)
    return parser


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
    from .._io import sigint_between_writes

    with sigint_between_writes() as interrupts:
        return _main(argv, interrupts)


def _usage(prog: str, verb: str | None, message: str) -> int:
    """Write the one-line usage error, with the help command of ``verb``; return exit status 2."""
    where = f"{prog} {verb}" if verb else prog
    sys.stderr.write(f"{where}: error: {one_line(message)} (see '{where} --help')\n")
    return EXIT_USAGE


def _parse(parser: _Root, argv: Sequence[str] | None) -> argparse.Namespace:
    """The parsed command line; an unknown option is an error of the verb's parser (its help, its names)."""
    words = list(sys.argv[1:] if argv is None else argv)
    for each in (parser, *parser.verbs.values()):
        each.argv = words
    args, extras = parser.parse_known_args(argv)
    if extras:
        verb_parser = parser.verbs.get(getattr(args, "verb", None) or "", parser)
        verb_parser.error(f"unrecognized arguments: {' '.join(extras)}")
    return args


def _main(argv: Sequence[str] | None, interrupts: Any) -> int:
    parser = _build()
    prog = parser.prog
    args = None
    try:
        try:
            args = _parse(parser, argv)
        except Exit as stop:
            return stop.status
        if args.verb is None:
            names = [verb.__name__.rsplit(".", 1)[-1] for verb in VERBS]
            return _usage(prog, None, f"a verb is required: {', '.join(names[:-1])} or {names[-1]}")
        status: int = args.handler(args)
        return status
    except KeyboardInterrupt:
        sys.stderr.write(f"{prog}: interrupted\n")
        return EXIT_INTERRUPTED
    except UsageError as exc:
        return _usage(prog, getattr(args, "verb", None), str(exc))
    except Failure as exc:
        if debug():
            raise
        sys.stderr.write(f"{prog} {args.verb if args else ''}: error: {one_line(exc)}\n")
        return EXIT_FAILURE
    except BrokenPipeError:  # e.g. `heavyball figures --list | head -1`
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")
        return EXIT_FAILURE
    except Exception as exc:
        if interrupts.seen:  # a C extension turned Ctrl-C into another exception
            sys.stderr.write(f"{prog}: interrupted\n")
            return EXIT_INTERRUPTED
        if debug():
            raise
        sys.stderr.write(f"{prog}: error: {type(exc).__name__}: {one_line(exc)}\n")
        return EXIT_FAILURE
