"""Atomic file output.

Every file heavyball writes (figures, CSV, JSON, LaTeX) is written to a temporary file in
the destination directory and moved into place with :func:`os.replace`, so an error or an
interruption in the middle never leaves a half-written file and never clobbers a good one.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

__all__ = ["atomic_path", "write_text", "write_bytes"]


@contextlib.contextmanager
def atomic_path(path, *, mode: int = 0o644):
    """Yield a temporary path beside ``path``; on success move it onto ``path``.

    The temporary file lives in the same directory (so ``os.replace`` is atomic), is
    hidden (``.NAME.XXXX.tmp``), and is removed if the body raises anything, including
    ``KeyboardInterrupt``. ``path`` itself is only ever replaced by a complete file.

    Examples
    --------
    >>> with atomic_path("out.csv") as tmp:           # doctest: +SKIP
    ...     numpy.savetxt(tmp, data, delimiter=",")
    """
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    suffix = path.suffix  # keep the extension: savefig infers the format from it
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


def write_bytes(path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (flushed and fsynced before the move)."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    return Path(path)


def write_text(path, text: str) -> Path:
    """Write ``text`` (UTF-8, ``\\n`` newlines) to ``path`` atomically."""
    return write_bytes(path, text.encode("utf-8"))
