"""The ``heavyball`` command: usage errors, failures, atomic output, interrupts, and its verbs.

Oracles: exit statuses and stderr text as specified (one line, no traceback), files compared
byte for byte between runs and before/after a failed run, the CSV rebuilt and compared with
the figure's ``data()``, the closed forms of Polyak (1964), GD and Nesterov for the ``rates``
verb and its step counts against iterating the optimisers, ``μ = 1 − cΔt/m``, ``η = Δt/m``
and linearity in ``θ₀`` for ``compare``, and pdflatex for ``rates --format latex``.
"""

import json
import math
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import matplotlib.figure
import numpy as np
import pytest
from _latex import assert_compiles_and_fits, needs_pdflatex

import heavyball as hb
from heavyball import rates
from heavyball.cli import main, rate_rows
from heavyball.figures import CATALOGUE, FIGURES

PY = sys.executable
# two cheap catalogue figures used by the file-level tests
FAST_PAIR = ("momentum_memory", "nesterov_lookahead")


def run(*args, env=None, cwd=None, timeout=300):
    full_env = {k: v for k, v in os.environ.items() if k != "HEAVYBALL_DEBUG"}
    full_env.update(env or {})
    return subprocess.run([PY, "-m", "heavyball.cli", *args], capture_output=True, text=True, env=full_env,
                          cwd=cwd, timeout=timeout)  # fmt: skip


def assert_one_line_error(res, status):
    assert res.returncode == status, (res.returncode, res.stdout, res.stderr)
    lines = res.stderr.splitlines()
    assert len(lines) == 1, res.stderr
    assert "Traceback" not in res.stderr
    assert "error" in lines[0]


def no_temporaries(directory: Path):
    return [p.name for p in directory.iterdir() if ".tmp" in p.name]


# -- help, version, cheap start -------------------------------------------------------------
def test_help_imports_nothing_heavy():
    # `heavyball --help` must answer at once: beyond the package itself (numpy), it may not import
    # matplotlib, sympy or scipy (the verbs import what they need)
    code = (
        "import sys\n"
        "from heavyball.cli import main\n"
        "status = main(['--help'])\n"
        "heavy = {'matplotlib', 'sympy', 'scipy'} & {m.split('.')[0] for m in sys.modules}\n"
        "assert status == 0 and not heavy, (status, heavy)\n"
    )
    res = subprocess.run([PY, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert "figures" in res.stdout and "derive" in res.stdout and "rates" in res.stdout and "compare" in res.stdout


@pytest.mark.parametrize("verb", ["figures", "derive", "rates", "compare"])
def test_help_on_every_verb(verb, capsys):
    assert main([verb, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: heavyball {verb}")


def test_version(capsys):
    import heavyball

    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"heavyball {heavyball.__version__}"


def test_script_entry_point_runs():
    res = run("--version")
    assert res.returncode == 0 and res.stdout.startswith("heavyball ")


# -- bad usage: exit 2, one line on stderr --------------------------------------------------------
BAD_USAGE = [
    [],
    ["frobnicate"],
    ["figures", "no_such_figure"],
    ["figures", "--format", "jpg"],
    ["figures", "--format", "pdf,,png"],
    ["rates"],
    ["rates", "--kappa", "0"],
    ["rates", "--kappa", "0.5"],
    ["rates", "--kappa", "nan"],
    ["rates", "--kappa", "inf"],
    ["rates", "--kappa", "-3"],
    ["rates", "--kappa", "1e400"],
    ["rates", "--kappa", "ten"],
    ["rates", "--kappa", "10", "--h-min", "0.1"],
    ["rates", "--h-min", "0.1"],
    ["rates", "--h-min", "1", "--h-max", "0.5"],
    ["rates", "--h-min", "0", "--h-max", "1"],
    ["rates", "--kappa", "10", "--format", "xml"],
    ["compare", "--m", "1", "--c", "1"],
    ["compare", "--m", "0", "--c", "1", "--dt", "0.1"],
    ["compare", "--m", "1", "--c", "-1", "--dt", "0.1"],
    ["compare", "--m", "1", "--c", "1", "--dt", "nan"],
    ["compare", "--m", "1", "--c", "1", "--dt", "0.5", "--t-final", "0.1"],
    ["derive", "no_such_derivation"],
    ["figures", "--unknown-flag"],
    ["\u00e9t\u00e9", "\u2603"],
]


@pytest.mark.parametrize("argv", BAD_USAGE, ids=lambda a: " ".join(a) or "<empty>")
def test_bad_usage_is_one_line_exit_2(argv, capsys):
    status = main(argv)
    err = capsys.readouterr().err
    assert status == 2, err
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert "usage:" not in err  # one line, not argparse's usage block


def test_no_verb_names_every_verb(capsys):
    from heavyball.cli import build_parser

    assert main([]) == 2
    err = capsys.readouterr().err
    verbs = list(build_parser().verbs)  # argparse's own list of the sub-commands
    assert len(verbs) >= 5 and all(f" {verb}" in err for verb in verbs), err


def test_bad_usage_in_a_subprocess():
    res = run("rates", "--kappa", "0")
    assert_one_line_error(res, 2)
    assert "--kappa" in res.stderr and "'0'" in res.stderr


# -- failures: exit 1, nothing half-written -------------------------------------------------------
def test_unwritable_out_fails_with_one_line_and_writes_nothing(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a directory")
    res = run("figures", FAST_PAIR[0], "--fast", "--out", str(blocker / "out"))
    assert_one_line_error(res, 1)
    assert "cannot create output directory" in res.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file"]


def test_debug_env_shows_the_traceback(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    res = run("figures", FAST_PAIR[0], "--fast", "--out", str(blocker / "out"), env={"HEAVYBALL_DEBUG": "1"})
    assert res.returncode != 0
    assert "Traceback" in res.stderr


@pytest.mark.parametrize(
    "error", [RuntimeError("boom in the middle of savefig"), OSError(28, "No space left on device")]
)
def test_failed_run_keeps_the_previous_good_figure(tmp_path, monkeypatch, capsys, error):
    name = FAST_PAIR[0]
    assert main(["figures", name, "--fast", "--out", str(tmp_path), "--format", "pdf,svg"]) == 0
    capsys.readouterr()
    good = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert set(good) == {f"{name}.pdf", f"{name}.svg"}

    def broken(self, fname, **kwargs):
        with open(fname, "wb") as fh:  # write half a file into the temporary path, then fail
            fh.write(b"%PDF-1.4\n% half")
        raise error

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", broken)
    status = main(["figures", name, "--fast", "--out", str(tmp_path), "--format", "pdf,svg"])
    err = capsys.readouterr().err
    assert status == 1
    assert len(err.splitlines()) == 1 and name in err and "Traceback" not in err
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == good  # untouched, no temporaries


def test_a_failing_figure_does_not_stop_the_others(tmp_path, monkeypatch, capsys):
    bad, good = FAST_PAIR
    module = FIGURES[bad]

    def boom(*args, **kwargs):
        raise ValueError("synthetic failure")

    monkeypatch.setattr(module, "data", boom)
    status = main(["figures", bad, good, "--fast", "--out", str(tmp_path), "--format", "pdf"])
    captured = capsys.readouterr()
    assert status == 1
    assert len(captured.err.splitlines()) == 1 and "synthetic failure" in captured.err
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{good}.pdf"]
    assert "FAILED" in captured.out and "1 of 2 figures" in captured.out


# -- figures: output, determinism, data ----------------------------------------------------------
@pytest.mark.parametrize("columns", [60, 100])
def test_list_wraps_the_captions_to_the_terminal(columns, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", str(columns))  # shutil.get_terminal_size reads it first
    assert main(["figures", "--list"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert [line for line in lines if line and not line.startswith(" ")] == list(CATALOGUE)
    assert max(len(line) for line in lines) < columns
    for name in CATALOGUE:  # every caption is printed whole (wrapping only moves the line breaks)
        block = out.split(name + "\n", 1)[1].split("\n\n", 1)[0]
        assert " ".join(block.split()) == " ".join(FIGURES[name].CAPTION.split())


def test_figures_are_byte_identical_between_runs(tmp_path):
    outs = []
    for run_name, epoch in (("one", "1"), ("two", "1800000000")):
        out = tmp_path / run_name
        res = run("figures", *FAST_PAIR, "--fast", "--out", str(out), "--format", "pdf,svg,png",
                  env={"SOURCE_DATE_EPOCH": epoch})  # fmt: skip
        assert res.returncode == 0, res.stderr
        assert res.stderr == ""
        outs.append(out)
        lines = res.stdout.splitlines()
        assert len(lines) == len(FAST_PAIR) + 1  # a progress line per figure, then the summary
        assert all(" s " in line for line in lines[:-1])
        assert lines[-1].startswith(f"{len(FAST_PAIR)} of {len(FAST_PAIR)} figures, 6 files")
    names = sorted(p.name for p in outs[0].iterdir())
    assert names == sorted(f"{n}.{f}" for n in FAST_PAIR for f in ("pdf", "svg", "png"))
    for name in names:
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name


def _read_long_csv(path):
    rows = path.read_text().splitlines()
    assert rows[0] == "array,index,value"
    arrays = {}
    for row in rows[1:]:
        name, index, value = row.split(",", 2)
        arrays.setdefault(name, []).append((tuple(int(i) for i in index.split(";")) if index else (), value))
    return arrays


def test_data_csv_matches_data(tmp_path, capsys):
    name = FAST_PAIR[0]
    assert main(["figures", name, "--fast", "--data", "--out", str(tmp_path), "--format", "png"]) == 0
    csv = _read_long_csv(tmp_path / f"{name}.csv")
    data = FIGURES[name].data(fast=True)
    assert list(csv) == list(data)
    for key, array in data.items():
        array = np.asarray(array)
        entries = csv[key]
        assert [idx for idx, _ in entries] == list(np.ndindex(array.shape))
        if array.dtype.kind in "fiub":
            rebuilt = np.array([float(v) for _, v in entries]).reshape(array.shape)
            np.testing.assert_array_equal(rebuilt, array.astype(float))  # repr round-trips exactly
        else:
            assert [v for _, v in entries] == [str(x) for x in array.ravel()]


def _sigint_default() -> None:
    """Ctrl-C as at a terminal: a test run started in the background by a non-interactive shell
    (``cmd &``) inherits SIGINT ignored, and so would the command under test."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_sigint_stops_cleanly_and_keeps_finished_figures(tmp_path):
    env = {**os.environ}
    env.pop("HEAVYBALL_DEBUG", None)
    proc = subprocess.Popen([PY, "-m", "heavyball.cli", "figures", "--fast", "--out", str(tmp_path), "--format", "pdf,png"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            preexec_fn=_sigint_default)  # fmt: skip
    first = proc.stdout.readline()  # the first figure is complete once its progress line is out
    assert first.startswith("[ 1/") or first.startswith("[1/"), first
    time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, (proc.returncode, err)
    assert err.strip().endswith("interrupted") and len(err.splitlines()) == 1
    assert not no_temporaries(tmp_path)
    progress = (re.match(r"^\[\s*\d+/\d+\]\s+(\S+)\s", line) for line in [first, *out.splitlines()])
    done = [m.group(1) for m in progress if m and "FAILED" not in m.string]
    assert done and len(done) < len(CATALOGUE)
    for name in done:  # every figure reported as written is complete
        assert (tmp_path / f"{name}.pdf").read_bytes().rstrip().endswith(b"%%EOF")
        assert (tmp_path / f"{name}.png").read_bytes().endswith(b"IEND\xaeB`\x82")
    # Ctrl-C is held back while one file is being written (heavyball._io.atomic_path), so the
    # figure in progress may have some of its formats written; each of those is complete too
    for path in tmp_path.iterdir():
        data = path.read_bytes()
        assert data.rstrip().endswith(b"%%EOF") if path.suffix == ".pdf" else data.endswith(b"IEND\xaeB`\x82"), (
            path.name
        )


@pytest.mark.slow
def test_whole_catalogue(tmp_path):
    # generous: batch_size_scaling alone takes minutes at paper quality (10⁴ modes over its tuning grid)
    res = run("figures", "--out", str(tmp_path), "--format", "pdf,png", timeout=1500)
    assert res.returncode == 0, res.stderr
    expected = {f"{n}.{f}" for n in CATALOGUE for f in ("pdf", "png")}
    assert {p.name for p in tmp_path.iterdir()} == expected
    assert res.stdout.splitlines()[-1].startswith(f"{len(CATALOGUE)} of {len(CATALOGUE)} figures")


# -- rates -------------------------------------------------------------------------------------
def test_rates_json_against_closed_forms(capsys):
    assert main(["rates", "--kappa", "100", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    rows = {r["method"]: r for r in doc["methods"]}
    assert doc["h_min"] == pytest.approx(0.01, rel=1e-15) and doc["h_max"] == 1.0
    # Polyak (1964): γ* = 4/(√h_max + √h_min)² = 400/121, μ* = 81/121, ρ = 9/11
    assert rows["heavyball"]["lr"] == pytest.approx(400 / 121, rel=1e-12)
    assert rows["heavyball"]["momentum"] == pytest.approx(81 / 121, rel=1e-12)
    assert rows["heavyball"]["rate_per_step"] == pytest.approx(9 / 11, rel=1e-12)
    # GD: γ = 2/(h_min + h_max), ρ = (κ−1)/(κ+1)
    assert rows["gd"]["lr"] == pytest.approx(2 / 1.01, rel=1e-12)
    assert rows["gd"]["rate_per_step"] == pytest.approx(99 / 101, rel=1e-12)
    # Nesterov, γ = 1/h_max, μ = (√κ−1)/(√κ+1): ρ = 1 − 1/√κ
    assert rows["nesterov"]["lr"] == pytest.approx(1.0, rel=1e-12)
    assert rows["nesterov"]["momentum"] == pytest.approx(9 / 11, rel=1e-12)
    assert rows["nesterov"]["rate_per_step"] == pytest.approx(0.9, rel=1e-12)
    # GD has simple roots: the steps to 1e-6 are ⌈log 1e-6 / log ρ⌉ exactly
    assert rows["gd"]["steps"] == math.ceil(math.log(1e-6) / math.log(99 / 101)) == 691
    # the ODE m = 1 critically damped at h_min: c = 2√h_min, decay rate √h_min = 0.1 per unit time
    assert rows["ode"]["c"] == pytest.approx(0.2, rel=1e-12)
    # (critical damping: the rate formula loses ~√ε to rounding of c there, hence 1e-7)
    assert rows["ode"]["decay_rate"] == pytest.approx(0.1, rel=1e-7)
    # one meaning per key: a per-step factor and a decay exponent never share a name
    discrete = [r for r in doc["methods"] if r["method"] != "ode"]
    assert all("rate_per_step" in r and "decay_rate" not in r and isinstance(r["steps"], int) for r in discrete)
    assert "rate_per_step" not in rows["ode"] and "rate" not in rows["ode"] and doc["tol"] == 1e-6


def test_rates_polyak_steps_include_the_repeated_root(capsys):
    # Polyak at κ = 100: both modes have a double root ±9/11; from rest the error of the mode
    # h_max is (−r)^k·(1 + (1 + r)k) (solve x_0 = 1, x_1 = (1 − γh_max)x_0 with x_k = (a + bk)(−r)^k),
    # of h_min r^k·(1 + (1 − r)k). log(1e-6)/log(9/11) = 68.8 misses the factor k.
    r = 9 / 11
    worst = max(next(k for k in range(1000) if all(r**j * (1 + s * j) <= 1e-6 for j in range(k, k + 200)))
                for s in (1 + r, 1 - r))  # fmt: skip
    assert worst == 95
    assert main(["rates", "--kappa", "100", "--format", "json"]) == 0
    rows = {r["method"]: r for r in json.loads(capsys.readouterr().out)["methods"]}
    assert rows["heavyball"]["steps"] == worst


@pytest.mark.parametrize("kappa", [10.0, 100.0, 1000.0])
def test_rates_steps_match_iterating_the_optimisers(kappa):
    # iterate torch's SGD (heavyball.SGD, checked against torch elsewhere) from each eigenvector of
    # the valley at rest; the step count is the first k after which ‖θ_j‖ <= 1e-6‖θ_0‖ for all j
    # that were run (half as many again): it must equal the CLI's count exactly.
    q = hb.Quadratic.valley(kappa=kappa)
    for r in rate_rows(1.0 / kappa, 1.0):
        if r["method"] == "ode":
            continue
        nesterov = rates.TUNINGS[r["method"]] == "nesterov"
        opt = hb.SGD(lr=r["lr"], momentum=r["momentum"], nesterov=nesterov)
        measured = 0
        for theta0 in np.eye(2):
            tr = hb.iterate(opt, q, theta0, steps=int(1.5 * r["steps"]) + 10, tol=1e-300)
            above = np.flatnonzero(np.linalg.norm(tr.theta, axis=-1) > 1e-6)
            measured = max(measured, int(above[-1]) + 1 if above.size else 0)
        assert r["steps"] == measured, (kappa, r["method"])


def test_rates_ode_time_against_the_exact_solution():
    # the ODE row's time: from rest, the critically damped slow mode is e^{−λt}(1 + λt) (λ = 0.1 at
    # κ = 100), the fast mode underdamped; hb.exact on the valley from each eigenvector
    ode_row = rate_rows(0.01, 1.0)[-1]
    q = hb.Quadratic.valley(kappa=100.0)
    t = np.linspace(0.0, 1.2 * ode_row["time"], 200001)  # grid step 1e-3: the crossing to ~1e-3
    last = 0.0
    for theta0 in np.eye(2):
        sol = hb.exact(hb.HeavyBallODE(1.0, ode_row["c"]), q, theta0, t)
        above = np.flatnonzero(np.linalg.norm(sol.theta, axis=-1) > 1e-6)
        last = max(last, t[above[-1]])
    assert ode_row["time"] == pytest.approx(last, abs=2e-3)


def test_rates_table_has_one_precision_and_no_exponent_soup(capsys):
    assert main(["rates", "--kappa", "100"]) == 0
    table = capsys.readouterr().out
    # every decimal number has 6 significant digits (1.98020 beside 3.30579, not 1.9802)
    numbers = re.findall(r"(?<![\w.])\d+\.\d+(?:e[-+]\d+)?", table)
    significant = [n.split("e")[0].replace(".", "").lstrip("0") or "0" * 6 for n in numbers]  # 0.00000: 6 zeros
    assert numbers and all(len(d) == 6 for d in significant), numbers
    assert "1.98020" in table and "3.30579" in table and " 95" in table
    assert main(["rates", "--h-min", "1e-300", "--h-max", "1"]) == 0
    tiny = capsys.readouterr().out
    assert "e^-" not in tiny and "1.00000e-150" in tiny and "never" in tiny


def test_rates_h_range_table_and_latex(capsys):
    assert main(["rates", "--h-min", "0.04", "--h-max", "4"]) == 0
    table = capsys.readouterr().out
    assert "kappa = 100" in table and "heavy ball" in table and "Nesterov" in table and "ODE" in table
    # Polyak with h ∈ [0.04, 4]: γ* = 4/(2 + 0.2)² , ρ = 9/11 (scale-free)
    assert f"{4 / 2.2**2:.6g}" in table and f"{9 / 11:.6g}" in table
    assert main(["rates", "--kappa", "100", "--format", "latex"]) == 0
    latex = capsys.readouterr().out
    assert r"\begin{tabular}" in latex and latex.strip().endswith(r"\end{tabular}}")
    assert latex.count(r"\\") >= 6 and "h_max" not in latex.replace("h_{\\max}", "")


@needs_pdflatex
@pytest.mark.parametrize(
    "argv",
    [["--kappa", "100"], ["--kappa", "1e6"], ["--h-min", "1e-300", "--h-max", "1e10"],
     ["--h-min", "1e-3", "--h-max", "1e10", "--tol", "3.3e-7"]],
    ids=lambda a: " ".join(a),
)  # fmt: skip
def test_rates_latex_compiles_and_fits(argv, capsys, tmp_path):
    assert main(["rates", *argv, "--format", "latex"]) == 0
    assert_compiles_and_fits(capsys.readouterr().out, tmp_path)


# -- compare -----------------------------------------------------------------------------------
def test_compare_reports_the_discretisation(capsys):
    assert main(["compare", "--m", "2", "--c", "0.5", "--dt", "0.1", "--t-final", "10"]) == 0
    out = capsys.readouterr().out
    # μ = 1 − cΔt/m = 0.975, η = Δt/m = 0.05, torch lr = Δt²/m = 0.005
    assert "mu = 0.975" in out and "eta = 0.05" in out and "lr = 0.005" in out
    err_line = next(line for line in out.splitlines() if line.startswith("max error"))
    assert 0 < float(err_line.split()[-1]) < 0.5


def test_compare_theta0_scales_the_error(capsys):
    # the problem and both dynamics are linear with θ* = 0: doubling θ₀ doubles every error
    errors = []
    for theta0 in (["1", "-2"], ["2,-4"]):
        assert main(["compare", "--m", "1", "--c", "0.5", "--dt", "0.1", "--t-final", "5", "--theta0", *theta0]) == 0
        out = capsys.readouterr().out
        errors.append(float(next(x for x in out.splitlines() if x.startswith("max error")).split()[-1]))
    assert "theta0 = (2, -4)" in out
    assert errors[1] == pytest.approx(2 * errors[0], rel=1e-6)  # printed with 7 digits
    assert main(["compare", "--m", "1", "--c", "0.5", "--dt", "0.1", "--theta0", "1", "2", "3"]) == 2
    assert "--theta0 needs 2 numbers" in capsys.readouterr().err


def test_compare_diverged_says_it_once(capsys):
    status = main(["compare", "--m", "1", "--c", "0.5", "--dt", "2.5"])
    captured = capsys.readouterr()
    assert status == 1
    assert "status       diverged" in captured.out
    assert len(captured.err.splitlines()) == 1 and "stability" in captured.err
    assert "stability" not in captured.out  # the long message once, on stderr


def test_compare_error_shrinks_with_dt(capsys):
    errors = []
    for dt in ("0.1", "0.05"):
        assert main(["compare", "--m", "1", "--c", "0.5", "--dt", dt, "--kappa", "10", "--t-final", "10"]) == 0
        line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("max error"))
        errors.append(float(line.split()[-1]))
    # first-order scheme: halving Δt roughly halves the error (ratio in [1.6, 2.4]: pre-asymptotic)
    assert 1.6 < errors[0] / errors[1] < 2.4


# -- derive -------------------------------------------------------------------------------------
def test_derive_lists_and_passes(capsys):
    from heavyball import symbolic

    assert main(["derive", "--list"]) == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert listed == list(symbolic.DERIVATIONS)
    name = "weight_decay" if "weight_decay" in symbolic.DERIVATIONS else listed[0]
    assert main(["derive", name]) == 0
    out = capsys.readouterr().out
    assert f"\nPASS {name}" in out and "1 of 1 derivations pass" in out
    assert "numeric max rel. error" not in out and out.count("random points") == 1  # the tolerance, said once
    assert main(["derive", name, "--latex"]) == 0
    captured = capsys.readouterr()
    assert r"\begin{dmath*}" in captured.out and "PASS" not in captured.out
    assert captured.err.startswith(f"PASS {name}")
    assert main(["derive", "--summary"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(symbolic.DERIVATIONS) + 1 and all(line.startswith("PASS ") for line in lines[:-1])


def test_derive_failure_exits_1(monkeypatch, capsys):
    from heavyball import symbolic

    class Wrong:
        title = "a deliberately wrong claim"
        result = {"claim": "1 = 2"}

        def check(self):
            raise symbolic.DerivationError("claim `claim` does not hold: 1 - 2 != 0")

    monkeypatch.setitem(symbolic.DERIVATIONS, "wrong", Wrong())
    status = main(["derive", "wrong"])
    captured = capsys.readouterr()
    assert status == 1
    assert "\nFAIL wrong" in captured.out and "claim" in captured.out
    assert len(captured.err.splitlines()) == 1 and "wrong" in captured.err


# -- usage hints, did you mean, python -m, progress ----------------------------------------------
@pytest.mark.parametrize(
    ("argv", "hint", "suggestion"),
    [
        (["figures", "--fomat", "png"], "heavyball figures --help", "'--format'"),
        (["figures", "rate_mpa"], "heavyball figures --help", "'rate_map'"),
        (["derive", "discretisation"], "heavyball derive --help", "'discretization'"),
        (["figurs"], "heavyball --help", "'figures'"),
        (["rates", "--kapa", "10"], "heavyball rates --help", "'--kappa'"),
        (["rates", "--kappa", "10", "--format", "jsn"], "heavyball rates --help", "'json'"),
        (["compare", "--m", "1", "--c", "1", "--dt", "0.1", "--theta0", "1"], "heavyball compare --help", None),
    ],
    ids=lambda x: " ".join(x) if isinstance(x, list) else None,
)
def test_usage_errors_name_the_verbs_help_and_a_close_name(argv, hint, suggestion, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1
    assert err.rstrip().endswith(f"(see '{hint}')")
    if suggestion:
        assert f"did you mean {suggestion}?" in err
    else:
        assert "did you mean" not in err


def test_python_dash_m_heavyball():
    res = subprocess.run([PY, "-m", "heavyball", "rates", "--kappa", "4"], capture_output=True, text=True)
    assert res.returncode == 0 and res.stderr == ""
    assert "heavy ball (Polyak)" in res.stdout and "0.333333" in res.stdout  # Polyak: (√4 − 1)/(√4 + 1)


def test_progress_goes_to_stderr_only_when_asked(tmp_path):
    quiet = run("figures", FAST_PAIR[0], "--fast", "--format", "svg", "--out", str(tmp_path))
    assert quiet.returncode == 0 and quiet.stderr == ""  # piped: no progress
    loud = run("figures", FAST_PAIR[0], "--fast", "--format", "svg", "--out", str(tmp_path), "--progress")
    # (text mode turns the progress line's carriage returns into newlines)
    assert loud.returncode == 0 and f"[1/1] {FAST_PAIR[0]}" in loud.stderr
    assert len(loud.stdout.splitlines()) == len(quiet.stdout.splitlines()) == 2  # stdout untouched
    res = run("compare", "--m", "1", "--c", "0.5", "--dt", "0.01", "--progress")
    assert res.returncode == 0 and "compare: 2000 steps" in res.stderr and "compare:" not in res.stdout
    quiet = run("derive", "momentum_sum", "--summary")
    assert quiet.returncode == 0 and quiet.stderr == ""  # piped: no progress
    loud = run("derive", "momentum_sum", "--summary", "--progress")
    assert loud.returncode == 0 and "[1/1] momentum_sum" in loud.stderr
    heads = [[line.split(" (")[0] for line in r.stdout.splitlines()] for r in (quiet, loud)]
    assert heads[0] == heads[1] == ["PASS momentum_sum", "1 of 1 derivations pass"]  # stdout untouched


def test_progress_class_follows_the_terminal():
    import io

    from heavyball.cli import Progress

    class Tty(io.StringIO):
        def isatty(self):
            return True

    pipe, tty = io.StringIO(), Tty()
    for stream in (pipe, tty):
        p = Progress(stream=stream)
        p.update("[1/2] a")
        p.update("[2/2] b")
        p.done()
    assert pipe.getvalue() == ""
    assert tty.getvalue() == "\r[1/2] a\r[2/2] b\r       \r"


def test_record_torch_reference_without_torch_is_one_line(tmp_path):
    script = Path(__file__).resolve().parents[1] / "analysis" / "record_torch_reference.py"
    code = (
        "import runpy, sys\n"
        "sys.modules['torch'] = None  # import torch now raises ImportError\n"
        f"sys.argv = ['record_torch_reference.py', '--out', {str(tmp_path / 'ref.npz')!r}]\n"
        f"runpy.run_path({str(script)!r}, run_name='__main__')\n"
    )
    res = subprocess.run([PY, "-c", code], capture_output=True, text=True)
    assert res.returncode == 1, res.stderr
    assert len(res.stderr.splitlines()) == 1 and "torch" in res.stderr and "Traceback" not in res.stderr
    assert list(tmp_path.iterdir()) == []


# -- noise -----------------------------------------------------------------------------------
def test_noise_prints_the_closed_form_stationary_variance():
    import json

    res = run("noise", "--lr", "0.1", "--momentum", "0.5", "--sigma", "1", "--h-min", "2", "--h-max", "4",
              "--format", "json")  # fmt: skip
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    for row in doc["curvatures"]:  # torch's heavy ball: γσ²(1+μ)/(h(1−μ)(2(1+μ) − γh))
        h = row["h"]
        assert row["var"] == pytest.approx(0.1 * 1.5 / (h * 0.5 * (3 - 0.1 * h)), rel=1e-12)
    assert doc["temperature"] == pytest.approx(0.1 / (2 * 0.5), rel=1e-15)
    table = run("noise", "--lr", "0.1", "--momentum", "0.9", "--sigma", "0.1", "--kappa", "10")
    assert table.returncode == 0 and "temperature T" in table.stdout and "0.0501319" in table.stdout


def test_noise_without_a_stationary_law_fails_and_bad_usage_exits_2():
    res = run("noise", "--lr", "3.9", "--momentum", "0.9", "--sigma", "0.1", "--kappa", "10")
    assert res.returncode == 1 and "no stationary law" in res.stderr and "Traceback" not in res.stderr
    assert res.stderr.count("\n") == 1
    bad = run("noise", "--lr", "0.1", "--momentum", "1.5", "--sigma", "0.1", "--kappa", "10")
    assert bad.returncode == 2 and "--momentum" in bad.stderr


# -------------------------------------------------------------------------------------------
# the command line, in a subprocess
# -------------------------------------------------------------------------------------------
def _heavyball(*argv, debug=False, cwd=None):
    env = {**os.environ, "MPLBACKEND": "Agg"}
    env.pop("HEAVYBALL_DEBUG", None)
    if debug:
        env["HEAVYBALL_DEBUG"] = "1"
    code = "import sys; from heavyball.cli import main; sys.exit(main())"
    return subprocess.run(
        [sys.executable, "-c", code, *argv], capture_output=True, text=True, timeout=300, env=env, cwd=cwd
    )


@pytest.mark.parametrize(
    "argv, code",
    [
        ([], 2),
        (["bogus"], 2),
        (["rates", "--kappa", "nan"], 2),
        (["rates", "--kappa", "1e999"], 2),
        (["rates", "--kappa", "0"], 2),
        (["rates", "--kappa", "-5"], 2),
        (["rates", "--kappa", "10", "--kappa", "ΔΘ"], 2),
        (["rates", "--h-min", "1", "--h-max", "0.5"], 2),
        (["figures", "日本", "--list"], 2),
        (["compare", "--m", "1", "--c", "0.5", "--dt", "5", "--t-final", "2000"], 1),  # unstable: a failure, not usage
        (["rates", "--kappa", "1e300"], 0),
    ],
)
def test_cli_subprocess_one_line_errors(argv, code, tmp_path):
    proc = _heavyball(*argv, cwd=tmp_path)
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    if code:
        assert len(proc.stderr.splitlines()) == 1, proc.stderr


def test_cli_debug_shows_the_traceback(tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    argv = ["figures", "momentum_memory", "--fast", "--out", str(blocker / "sub")]
    quiet = _heavyball(*argv, cwd=tmp_path)
    assert quiet.returncode == 1 and len(quiet.stderr.splitlines()) == 1 and "Traceback" not in quiet.stderr
    loud = _heavyball(*argv, debug=True, cwd=tmp_path)
    assert loud.returncode != 0 and "Traceback" in loud.stderr
