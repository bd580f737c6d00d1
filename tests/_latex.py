"""Compile LaTeX with pdflatex and read its log: the helper every LaTeX test shares.

A fragment (a ``tabular``, an ``align*`` block) states the packages it needs in comment lines
``% ... needs \\usepackage{booktabs}``; :func:`standalone` wraps it in a plain ``article``
(10 pt, the class's default text width of 345 pt) loading exactly those packages, so a
fragment that needs a package without saying so fails to compile. :func:`compile_latex` runs
pdflatex in batch mode and returns the log's errors and overfull boxes.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

PDFLATEX = shutil.which("pdflatex")
#: skip a test when TeX is absent (CI installs TeX Live: .ci/run)
needs_pdflatex = pytest.mark.skipif(PDFLATEX is None, reason="pdflatex is not installed")
#: the largest overfull box tolerated, in pt
MAX_OVERFULL_PT = 10.0

_NEEDS = re.compile(r"^%.*?needs\s+(.*)$", re.MULTILINE)
_PACKAGE = re.compile(r"\\usepackage(?:\[[^\]]*\])?\{([^}]*)\}")
_OVERFULL = re.compile(r"Overfull \\[hv]box \(([\d.]+)pt too (?:wide|high)\)")


def required_packages(fragment: str) -> list[str]:
    r"""The ``\usepackage{...}`` lines a fragment's ``% ... needs ...`` comments ask for, in order."""
    found = []
    for line in _NEEDS.findall(fragment):
        found += [m.group(0) for m in _PACKAGE.finditer(line)]
    return list(dict.fromkeys(found))


def standalone(fragment: str, *, preamble: str = "") -> str:
    """``fragment`` in an ``article`` document that loads only the packages the fragment names."""
    packages = "\n".join(required_packages(fragment))
    return (
        "\\documentclass{article}\n\\usepackage[utf8]{inputenc}\n\\usepackage[T1]{fontenc}\n"
        f"{packages}\n{preamble}\n\\begin{{document}}\n\\noindent\n{fragment}\n\\end{{document}}\n"
    )


@dataclass
class Compiled:
    """pdflatex's verdict: exit status, the ``!`` error lines and every overfull box (pt)."""

    returncode: int
    errors: list[str]
    overfull: list[float]
    log: str

    @property
    def worst_overfull(self) -> float:
        return max(self.overfull, default=0.0)


def compile_latex(source: str, directory: Path, name: str = "doc") -> Compiled:
    """Run ``pdflatex -halt-on-error`` on ``source`` (a whole document) in ``directory``."""
    tex = Path(directory) / f"{name}.tex"
    tex.write_text(source, encoding="utf-8")
    res = subprocess.run(
        [PDFLATEX or "pdflatex", "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape", tex.name],
        cwd=directory, capture_output=True, text=True, errors="replace", timeout=120,
    )  # fmt: skip
    log_path = tex.with_suffix(".log")
    log = log_path.read_text(errors="replace") if log_path.exists() else res.stdout
    errors = [line for line in log.splitlines() if line.startswith("!")]
    overfull = [float(x) for x in _OVERFULL.findall(log)]
    return Compiled(res.returncode, errors, overfull, log)


def assert_compiles_and_fits(fragment: str, directory: Path, name: str = "doc") -> Compiled:
    """Compile ``standalone(fragment)``: no error, and no overfull box over :data:`MAX_OVERFULL_PT`."""
    result = compile_latex(standalone(fragment), directory, name)
    assert result.returncode == 0 and not result.errors, (result.errors, result.log[-2000:])
    assert result.worst_overfull <= MAX_OVERFULL_PT, (result.overfull, fragment)
    return result
