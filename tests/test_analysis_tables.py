"""The analysis scripts' LaTeX tables compile with pdflatex and fit a page.

Each table is the script's own output on its full default inputs (the widest rows included),
wrapped by :func:`_latex.standalone` in a 10 pt ``article`` that loads only the packages the
table's first line names; pdflatex must report no error and no overfull box over 10 pt.
"""

import importlib.util
from pathlib import Path

import pytest
from _latex import assert_compiles_and_fits, needs_pdflatex, required_packages

ROOT = Path(__file__).resolve().parents[1]


def _script(name):
    spec = importlib.util.spec_from_file_location(f"{name}_tables", ROOT / "analysis" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tables():
    """The LaTeX of every analysis table, computed once (about 10 s)."""
    rates_table, order = _script("rates_table"), _script("discretization_order")
    return {"rates_table": rates_table.latex(rates_table.rows()), "discretization_order": order.latex(order.rows())}


@pytest.mark.parametrize("name", ["rates_table", "discretization_order"])
def test_each_table_names_the_packages_it_needs(name, tables):
    tex = tables[name]
    assert required_packages(tex) == [r"\usepackage{booktabs}"]
    assert r"\toprule" in tex and r"\bottomrule" in tex


@needs_pdflatex
@pytest.mark.parametrize("name", ["rates_table", "discretization_order"])
def test_each_table_compiles_and_fits_the_text_width(name, tables, tmp_path):
    result = assert_compiles_and_fits(tables[name], tmp_path, name)
    assert not result.overfull  # not even a small overfull box: the tables leave room


def test_every_analysis_script_that_prints_latex_is_compiled_here():
    # derivations.py's document is compiled by the symbolic tests; every other script printing a
    # tabular must be listed above
    printing = sorted(p.stem for p in (ROOT / "analysis").glob("*.py") if r"\begin{tabular}" in p.read_text())
    assert printing == ["discretization_order", "rates_table"]
