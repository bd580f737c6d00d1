"""``analysis/benchmarks.py --smoke`` runs every section and writes JSON of the documented shape.

The smoke run's times mean nothing (tiny sizes, a shared machine) and are never asserted; what
is checked is the JSON: the machine and its load, one entry per section, every target row's
verdict consistent with its own ratio, and — where JAX is installed — the agreement of the final
iterates of heavyball and optax (an independent implementation of the same optimisers).
"""

import importlib.util
import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ENGINES = {"numpy", "compiled"} if importlib.util.find_spec("numba") is not None else {"numpy"}
SECTIONS = ["1 SGD", "2 Adam", "3 closed form", "4 rate map", "5 exact vs simulate", "6 startup", "6 memory",
            "7 noise", "8 JAX", "9 threads", "10 dask sweep"]  # fmt: skip


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    path = tmp_path_factory.mktemp("bench") / "smoke.json"
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run(
        [sys.executable, str(ROOT / "analysis" / "benchmarks.py"), "--smoke", "--json", str(path)],
        capture_output=True, text=True, env=env, timeout=900, cwd=path.parent,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(path.read_text()), proc.stdout


def _load(x):
    return isinstance(x, list) and len(x) == 3 and all(isinstance(v, float) and v >= 0 for v in x)


@pytest.mark.slow
def test_smoke_records_the_machine_and_its_load(smoke):
    data, stdout = smoke
    meta = data["meta"]
    assert meta["profile"] == "smoke"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", meta["date"])  # a date, no time of day
    assert isinstance(meta["cpu_model"], str) and meta["cpu_model"]
    assert meta["cores"] == os.cpu_count()
    assert meta["versions"]["numpy"] == __import__("numpy").__version__
    assert _load(meta["load_average_start"]) and _load(meta["load_average_end"])
    assert [s["section"] for s in data["sections"]] == SECTIONS
    assert all(_load(s["load_before"]) and _load(s["load_after"]) for s in data["sections"])
    assert "load average" in stdout


@pytest.mark.slow
def test_smoke_runs_every_section(smoke):
    data, _ = smoke
    rows = data["rows"]
    assert all({"section", "case", "note"} <= set(r) for r in rows)
    for name in SECTIONS:
        mine = [r for r in rows if r["section"].startswith(name)]
        assert mine, name  # a measurement or a skipped row saying why
    # the sections whose libraries are installed here measure something
    measured = {r["section"] for r in rows if r["case"] != "skipped"}
    assert {"1 SGD", "2 Adam", "3 closed form", "4 rate map", "7 noise", "9 threads"} <= measured


@pytest.mark.slow
def test_every_target_row_says_met_or_by_how_much_it_missed(smoke):
    data, _ = smoke
    targets = [r for r in data["rows"] if "target" in r]
    assert {r["section"] for r in targets} >= {"2 Adam", "7 noise", "9 threads"}
    for r in targets:
        ratio, required = r["ratio"], r["target"]
        assert ratio == pytest.approx(r["baseline_s"] / r["heavyball_s"], rel=1e-12)
        if ratio >= required:
            assert r["verdict"] == "met"
        else:
            x = 100 * (1 - ratio / required)
            assert r["verdict"] == f"missed by {x:.0f}%"
        assert r["verdict"] in r["note"]
    # the thread targets are measured for both engines (numpy's alone without numba)
    assert {r["engine"] for r in targets if r["section"] == "9 threads"} == ENGINES


@pytest.mark.slow
def test_jax_rows_report_the_agreement_of_the_final_iterates(smoke):
    data, _ = smoke
    rows = [r for r in data["rows"] if r["section"] == "8 JAX"]
    if importlib.util.find_spec("jax") is None or importlib.util.find_spec("optax") is None:
        assert [r["case"] for r in rows] == ["skipped"] and "not installed" in rows[0]["note"]
        return
    rows = [r for r in rows if r["case"] != "skipped"]  # (engine="compiled" without numba)
    kinds = {r["case"].split(" B=")[0] for r in rows}
    assert kinds == {"SGD", "SGD nesterov", "HeavyBall", "NesterovLookahead", "Adam", "AdamW"}
    for r in rows:
        assert math.isfinite(r["agreement"])
        if "target" not in r:  # the closed form is shown beside JAX, it is not a target
            assert "closed form" in r["case"]
        # optax and heavyball run the same recurrences in float64 (40 steps): the fast path's
        # documented 1e-12 relative agreement, with a factor 100 for optax's different rounding
        assert r["agreement"] <= 1e-10, r
    assert {r["engine"] for r in rows if "target" in r} == ENGINES
