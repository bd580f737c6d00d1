"""Docstring notation that reStructuredText would misread, made literal before Sphinx parses it.

The docstrings write array shapes as ``shape (n, *batch, d)`` and absolute values as
``|T² − 4D|``, as a reader of ``help()`` expects. In reStructuredText a ``*`` before a word
opens emphasis and ``|word|`` is a substitution, so Sphinx would warn and drop them. This
hook, run after numpydoc, escapes exactly those characters outside inline literals and
mathematics; real emphasis (``*word*``) and tables are left alone.
"""

from __future__ import annotations

import re

__all__ = ["escape_notation", "setup"]

# inline literals, roles with backquoted content (:math:`...`, :func:`...`) and interpreted text
_PROTECTED = re.compile(r"(``.+?``|:[\w:+-]+:`[^`]*`|`[^`]*`_{0,2})")
# a star that opens a shape's starred axis: "(n, *batch)", "(*batch, d)", "*batch" at a word start
_STAR = re.compile(r"(?<![\w*\\])\*(?=[A-Za-z_]\w*(?:[,)\]]|\s|$))(?![A-Za-z_]\w*\*)")
# a bar that would open a substitution reference: "|x|" with no space after the first bar
_BAR = re.compile(r"(?<![\\|])\|(?=\S)")
# a numpydoc parameter line after numpydoc's rendering: "**name** : type"
_PARAM = re.compile(r"^(\s*\*\*[^*]+\*\* : )(.*)$")


def _escape(text: str, *, bars: bool) -> str:
    parts = _PROTECTED.split(text)
    for i in range(0, len(parts), 2):  # the even parts are outside literals and roles
        part = _STAR.sub(r"\\*", parts[i])
        if bars:
            part = _BAR.sub(r"\\|", part)
        parts[i] = part
    return "".join(parts)


def escape_notation(lines: list[str]) -> None:
    """Escape shape stars and absolute-value bars in ``lines`` (in place)."""
    in_math = False
    math_indent = 0
    for i, line in enumerate(lines):
        stripped = line.lstrip()
        indent = len(line) - len(stripped)
        if in_math:
            if stripped and indent <= math_indent:
                in_math = False
            else:
                continue
        if stripped.startswith((".. math::", ">>>", "...")) or stripped.endswith("::"):
            in_math = stripped.startswith(".. math::") or stripped.endswith("::")
            math_indent = indent
            continue
        if stripped.startswith(("|", "+-", "+=", "=", "-")):  # tables and rules
            continue
        match = _PARAM.match(line)
        if match:
            head, kind = match.groups()
            lines[i] = head + kind.replace("*", r"\*").replace("|", r"\|")
            continue
        lines[i] = _escape(line, bars=True)


def _process(app, what, name, obj, options, lines):
    escape_notation(lines)


def setup(app):
    app.connect("autodoc-process-docstring", _process, priority=900)  # after numpydoc
    return {"parallel_read_safe": True}
