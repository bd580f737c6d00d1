"""What every verb of the ``heavyball`` command shares: exit statuses, errors, one-line text, progress."""

from __future__ import annotations

import contextlib
import difflib
import os
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TextIO, TypeVar

__all__ = [
    "DEBUG_ENV",
    "EXIT_FAILURE",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "Failure",
    "Progress",
    "UsageError",
    "debug",
    "did_you_mean",
    "one_line",
    "select",
]

#: exit statuses
EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
DEBUG_ENV = "HEAVYBALL_DEBUG"

T = TypeVar("T")


class UsageError(Exception):
    """Bad usage detected after parsing (e.g. an unknown figure name): exit status 2.

    Parameters
    ----------
    message : str
        One line that names the argument and what is allowed.
    """


class Failure(Exception):
    """A failure (not bad usage): exit status 1."""


def one_line(message: object) -> str:
    """``message`` as text on one line, runs of white space (newlines included) made one space."""
    return " ".join(str(message).split())


def debug() -> bool:
    """Whether ``HEAVYBALL_DEBUG`` asks for tracebacks instead of one-line errors."""
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


def select(kind: str, names: Sequence[str], registry: Mapping[str, T], order: Sequence[str]) -> list[str]:
    """The ``names`` asked for, without repeats (all of ``order`` when none is given).

    Raises
    ------
    UsageError
        For names not in ``registry``: the first one gets a suggestion, and the message
        lists ``order``.
    """
    chosen = list(dict.fromkeys(names)) or list(order)
    unknown = [n for n in chosen if n not in registry]
    if unknown:
        listed = ", ".join(map(repr, unknown))
        raise UsageError(f"unknown {kind} {listed}{did_you_mean(unknown[0], order)}; choose from {', '.join(order)}")
    return chosen


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
