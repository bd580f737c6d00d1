"""Every public docstring is valid reStructuredText, as the documentation site renders it.

The site (``sphinx-build -W``) fails on any docstring that docutils cannot parse: a table
whose text runs into the column margin, a definition list with a two-line term, an
unclosed ``*``. This test finds those in a second, without building the site: it renders
each public docstring with numpydoc as Sphinx does, applies the site's own escaping of
shape and absolute-value notation (``docs/_ext/docstrings.py``), and parses the result
with docutils, Sphinx's roles and directives standing in as plain literals.
"""

from __future__ import annotations

import importlib
import inspect
import io
import sys
from pathlib import Path

import pytest

docutils_core = pytest.importorskip("docutils.core", reason="docutils is not installed (the `docs` extra)")
docscrape = pytest.importorskip("numpydoc.docscrape_sphinx", reason="numpydoc is not installed (the `docs` extra)")

from docutils import nodes
from docutils.parsers.rst import Directive, directives, roles
from test_docstrings import PUBLIC, _public_modules

DOCS = Path(__file__).resolve().parents[1] / "docs"

#: Sphinx roles the docstrings use; docutils alone does not know them
SPHINX_ROLES = (
    "func class meth mod data attr obj exc ref doc term any numref envvar file samp kbd abbr"
    " py:func py:class py:meth py:mod py:data py:attr py:obj py:exc"
).split()
#: Sphinx directives numpydoc's output or the docstrings may contain
SPHINX_DIRECTIVES = (
    "seealso autosummary versionadded versionchanged deprecated only index plot currentmodule"
    " code-block highlight doctest testcode testoutput"
).split()


def _literal_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    return [nodes.literal(rawtext, text)], []


class _AnyOptions(dict):
    def __contains__(self, key):
        return True

    def __getitem__(self, key):
        return directives.unchanged


class _Skip(Directive):
    has_content = True
    optional_arguments = 16
    final_argument_whitespace = True
    option_spec = _AnyOptions()

    def run(self):
        return []


@pytest.fixture(scope="module")
def parse():
    for name in SPHINX_ROLES:
        roles.register_local_role(name, _literal_role)
    for name in SPHINX_DIRECTIVES:
        directives.register_directive(name, _Skip)
    sys.path.insert(0, str(DOCS))
    try:
        escape_notation = importlib.import_module("_ext.docstrings").escape_notation
    finally:
        sys.path.remove(str(DOCS))

    def messages(text: str) -> str:
        lines = text.splitlines()
        escape_notation(lines)
        stream = io.StringIO()
        settings = {"warning_stream": stream, "report_level": 2, "halt_level": 5, "input_encoding": "unicode"}
        docutils_core.publish_doctree("\n".join(lines), settings_overrides=settings)
        return stream.getvalue()

    return messages


def _rendered(obj) -> str:
    if inspect.ismodule(obj):
        return inspect.getdoc(obj) or ""
    config = {"xref_param_type": False, "show_class_members": False}
    return str(docscrape.get_doc_object(obj, config=config))


def test_the_parser_reports_what_sphinx_would_refuse(parse):
    # independent of heavyball: docutils' own verdict on known-bad and known-good text
    assert "Malformed table" in parse("=====  ===\nlong text  x\n=====  ===\n")
    assert "Inline strong" in parse("**strong and never closed")
    assert parse("shapes (n, *batch, d) and |x| are notation; *emphasis* stays") == ""


OBJECTS = {**{m.__name__: m for m in _public_modules()}, **PUBLIC}


@pytest.mark.parametrize("name", list(OBJECTS))
def test_docstring_is_valid_restructuredtext(parse, name):
    messages = parse(_rendered(OBJECTS[name]))
    assert not messages, f"the docstring of `{name}` does not render:\n{messages}"
