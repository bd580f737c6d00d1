"""
Checking the derivations
========================

``analysis/derivations.py`` builds and checks every sympy derivation of
:mod:`heavyball.symbolic` (each claim exactly and at random points), prints a table of the
claims and how each was verified, lists the findings, and writes the LaTeX document of all
derivations (here into a temporary directory). See :doc:`/derivations`.
"""

import runpy
import tempfile
from pathlib import Path

import heavyball

script = Path(heavyball.__file__).resolve().parents[1] / "analysis" / "derivations.py"
main = runpy.run_path(str(script), run_name="derivations")["main"]

# %%
# Run it as ``python analysis/derivations.py OUT/derivations.tex`` does:

with tempfile.TemporaryDirectory() as out:
    status = main([str(Path(out) / "derivations.tex")])
print("exit status", status)
