"""``heavyball figures``: regenerate the figure catalogue (and, with ``--data``, its numbers)."""

from __future__ import annotations

import argparse
import os
import shutil
import textwrap
import time
from pathlib import Path

from ._common import EXIT_OK, Failure, Progress, debug, one_line, select
from ._parsing import add_progress, figure_formats

__all__ = ["DESCRIPTION", "HELP", "add_arguments", "run"]


#: the one-line summary in ``heavyball --help``
HELP = "regenerate the figure catalogue"
#: the paragraph of ``heavyball figures --help``
DESCRIPTION = (
    "Write DIR/NAME.FORMAT for each catalogue figure (all when no NAME is given) "
    "and, with --data, DIR/NAME.csv with the numbers behind it (long format: array,index,value)."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``heavyball figures``."""
    parser.add_argument("names", nargs="*", metavar="NAME", help="figures to make (default: the whole catalogue)")
    parser.add_argument("--out", default="figures", metavar="DIR", help="output directory (default: figures)")
    parser.add_argument(
        "--format",
        dest="formats",
        type=figure_formats,
        default=("pdf", "png"),
        metavar="FMT[,FMT...]",
        help="comma-separated formats among pdf, png, svg (default: pdf,png)",
    )
    parser.add_argument("--fast", action="store_true", help="coarser grids and fewer steps (for tests and previews)")
    parser.add_argument("--data", action="store_true", help="also write NAME.csv with the figure's numbers")
    parser.add_argument("--list", action="store_true", help="list the catalogue with captions and exit")
    add_progress(parser)


def _wrapped(name: str, text: str, width: int) -> str:
    """``name`` on its own line, then ``text`` filled to ``width`` columns, indented by 4."""
    body = textwrap.fill(one_line(text), width=max(width, 20), initial_indent="    ", subsequent_indent="    ",
                         break_on_hyphens=False)  # fmt: skip
    return f"{name}\n{body}"


def _output_directory(name: str) -> Path:
    """The directory ``name``, created if need be; a :class:`Failure` when it cannot be written to."""
    out = Path(name)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise Failure(f"cannot create output directory '{out}': {exc.strerror or exc}") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise Failure(f"output directory '{out}' is not writable")
    return out


def run(args: argparse.Namespace) -> int:
    """Run ``heavyball figures``: list the catalogue, or write each figure; one failure does not stop the rest."""
    from ..figures import CATALOGUE, FIGURES

    names = select("figure", args.names, FIGURES, CATALOGUE)
    if args.list:
        width = shutil.get_terminal_size((100, 24)).columns - 1
        print("\n\n".join(_wrapped(name, FIGURES[name].CAPTION, width) for name in names))
        return EXIT_OK
    out = _output_directory(args.out)

    from .._io import INTERRUPTS
    from ..figures import write_csv
    from ..plotting import save

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
            if debug():
                raise
            failures.append((name, exc))
            progress.done()
            print(f"[{i:>{width}}/{len(names)}] {name:<24} FAILED: {type(exc).__name__}: {one_line(exc)}", flush=True)
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
        raise Failure(f"{len(failures)} figure(s) failed; {first}: {type(error).__name__}: {one_line(error)}{more}")
    return EXIT_OK
