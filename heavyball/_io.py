"""Atomic file output.

Every file heavyball writes (figures, CSV, JSON, LaTeX) is written to a temporary file in
the destination directory and moved into place with :func:`os.replace`, so an error or an
interruption in the middle never leaves a half-written file and never clobbers a good one.
"""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

__all__ = ["atomic_path", "sigint_between_writes", "write_bytes", "write_text"]


class _Interrupts:
    """State shared by :func:`sigint_between_writes` and :func:`atomic_path`."""

    installed = False  # our SIGINT handler is active
    depth = 0  # atomic writes in progress
    pending = False  # Ctrl-C arrived during a write: raise once the file is in place
    seen = False  # Ctrl-C arrived at all (an error raised after it counts as an interruption)


INTERRUPTS = _Interrupts()


def _on_sigint(signum: int, frame: FrameType | None) -> None:
    INTERRUPTS.seen = True
    if INTERRUPTS.depth:
        INTERRUPTS.pending = True
    else:
        raise KeyboardInterrupt


@contextlib.contextmanager
def sigint_between_writes() -> Iterator[_Interrupts]:
    """Let Ctrl-C interrupt the body, but never in the middle of an atomic write.

    Python raises ``KeyboardInterrupt`` between any two bytecodes, including inside
    :func:`tempfile.mkstemp` or between a ``with`` statement's ``__enter__`` and its cleanup,
    where no handler could remove a temporary file. While this context is active (the
    ``heavyball`` command uses it), SIGINT raises ``KeyboardInterrupt`` as usual except
    during :func:`atomic_path`, where it is held until the file is complete and in place
    (one file: well under a second). Yields :data:`INTERRUPTS`; ``INTERRUPTS.seen`` tells
    whether Ctrl-C was pressed (some C extensions turn the interruption into another
    exception). Outside the main thread it does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield INTERRUPTS
        return
    previous = signal.signal(signal.SIGINT, _on_sigint)
    INTERRUPTS.installed, INTERRUPTS.pending, INTERRUPTS.seen = True, False, False
    try:
        yield INTERRUPTS
    finally:
        signal.signal(signal.SIGINT, previous)
        INTERRUPTS.installed = INTERRUPTS.pending = False


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], *, mode: int = 0o644) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success move it onto ``path``.

    The temporary file lives in the same directory (so ``os.replace`` is atomic), is
    hidden (``.NAME.<random>.tmp``), and is removed if the body raises anything, including
    ``KeyboardInterrupt``. ``path`` itself is only ever replaced by a complete file. Under
    :func:`sigint_between_writes`, Ctrl-C during the write is held back until the file is
    in place, so an interruption never leaves a temporary file behind either.

    Examples
    --------
    >>> with atomic_path("out.csv") as tmp:           # doctest: +SKIP
    ...     numpy.savetxt(tmp, data, delimiter=",")
    """
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    suffix = path.suffix  # keep the extension: savefig infers the format from it
    INTERRUPTS.depth += 1
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.stem}.", suffix=f".tmp{suffix}")
        os.close(fd)
        try:
            yield Path(tmp)
            os.chmod(tmp, mode)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
    finally:
        INTERRUPTS.depth -= 1
    if INTERRUPTS.pending and not INTERRUPTS.depth:
        INTERRUPTS.pending = False
        raise KeyboardInterrupt


def write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (flushed and fsynced before the move)."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    return Path(path)


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8, ``\\n`` newlines) to ``path`` atomically."""
    return write_bytes(path, text.encode("utf-8"))
