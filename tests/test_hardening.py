"""Hardening (issue "Hardening"): atomic writes under injected faults, Ctrl-C, hostile formulas,
the command line in a subprocess, and numerical edge cases.

Oracles: the bytes of the previous file (fault injection), the PDF/PNG file formats (complete
files after Ctrl-C), closed forms written in the tests (saddle growth ``cosh``, linear drift
along a flat direction, the rotation of symplectic Euler at ``c = 0``, torch's update rule for
one step), Polyak's rate ``(√κ−1)/(√κ+1)`` and the Jury conditions for the stability boundary.
Formula injection beyond ``tests/test_problems.py``: denial of service (powers of constants,
deep nesting), Unicode look-alikes, other syntax.
"""

from __future__ import annotations

import ast
import errno
import math
import os
import pathlib
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import heavyball as hb
from heavyball import _io, rates

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "heavyball"


def leftovers(directory) -> list[str]:
    """Temporary files left by an atomic write (``.NAME.XXXX.tmp.EXT``)."""
    return sorted(p.name for p in pathlib.Path(directory).iterdir() if ".tmp" in p.name)


def snapshot(directory) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(pathlib.Path(directory).iterdir()) if p.is_file()}


# -------------------------------------------------------------------------------------------
# atomic writes: a failure in the middle never clobbers the previous file, never leaves a temp
# -------------------------------------------------------------------------------------------
def test_write_text_full_disk_keeps_previous_file(tmp_path, monkeypatch):
    target = tmp_path / "table.tex"
    _io.write_text(target, "previous contents\n")
    before = target.read_bytes()

    def full_disk(fd):  # the data went to the temporary file; the flush to disk fails
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OSError) as info:
        _io.write_text(target, "new contents that never land\n" * 1000)
    assert info.value.errno == errno.ENOSPC
    assert target.read_bytes() == before
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("exc", [OSError(errno.ENOSPC, "No space left on device"), KeyboardInterrupt()])
def test_atomic_path_interrupted_mid_write(tmp_path, exc):
    target = tmp_path / "data.csv"
    target.write_bytes(b"a,b\n1,2\n")
    before = target.read_bytes()
    with pytest.raises(type(exc)):
        with _io.atomic_path(target) as tmp:
            assert tmp.parent == target.parent and tmp.suffix == ".csv"  # same directory, same format
            with open(tmp, "wb") as fh:
                fh.write(b"half a fi")
            raise exc
    assert target.read_bytes() == before
    assert leftovers(tmp_path) == []


def test_atomic_path_failed_replace_removes_temp(tmp_path, monkeypatch):
    target = tmp_path / "x.json"
    target.write_text("{}")

    def cross_device(src, dst):
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "replace", cross_device)
    with pytest.raises(OSError):
        _io.write_text(target, '{"new": 1}')
    assert target.read_text() == "{}" and leftovers(tmp_path) == []


def _plotting():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    from heavyball import plotting

    return plotting


def _small_figure():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1], [1, 0])
    return fig


def test_save_figure_failing_midway_keeps_previous_files(tmp_path, monkeypatch):
    plotting = _plotting()
    from matplotlib.figure import Figure

    fig = _small_figure()
    written = plotting.save(fig, tmp_path / "fig", ("pdf", "png"))
    assert [p.name for p in written] == ["fig.pdf", "fig.png"]
    before = snapshot(tmp_path)
    real_savefig = Figure.savefig

    def broken_savefig(self, fname, *args, **kwargs):
        with open(fname, "wb") as fh:  # some bytes reach the temporary file, then the disk is full
            fh.write(b"%PDF-1.4\n% partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Figure, "savefig", broken_savefig)
    with pytest.raises(OSError):
        plotting.save(fig, tmp_path / "fig", ("pdf", "png"))
    assert snapshot(tmp_path) == before
    assert leftovers(tmp_path) == []

    # the second format fails after the first was written: the first is complete and new, the
    # second is the previous file, untouched
    calls = []

    def fail_second(self, fname, *args, **kwargs):
        calls.append(fname)
        if len(calls) == 2:
            pathlib.Path(fname).write_bytes(b"\x89PNG\r\n")
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_savefig(self, fname, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", fail_second)
    with pytest.raises(OSError):
        plotting.save(fig, tmp_path / "fig", ("pdf", "png"))
    after = snapshot(tmp_path)
    assert after["fig.png"] == before["fig.png"]
    assert after["fig.pdf"].startswith(b"%PDF") and after["fig.pdf"].rstrip().endswith(b"%%EOF")
    assert leftovers(tmp_path) == []
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_write_csv_failing_keeps_previous_file(tmp_path, monkeypatch):
    from heavyball.figures import write_csv

    target = tmp_path / "rate_map.csv"
    write_csv(target, {"x": np.arange(3.0)})
    before = target.read_bytes()
    monkeypatch.setattr(os, "fsync", lambda fd: (_ for _ in ()).throw(OSError(errno.ENOSPC, "No space left on device")))
    with pytest.raises(OSError):
        write_csv(target, {"x": np.arange(1000.0)})
    assert target.read_bytes() == before and leftovers(tmp_path) == []


def test_cli_figure_write_failure_exit_1_keeps_previous(tmp_path, monkeypatch, capsys):
    _plotting()
    from matplotlib.figure import Figure

    from heavyball import cli

    out = tmp_path / "figs"
    assert cli.main(["figures", "momentum_memory", "--fast", "--out", str(out), "--format", "pdf,png"]) == 0
    before = snapshot(out)
    assert set(before) == {"momentum_memory.pdf", "momentum_memory.png"}
    capsys.readouterr()

    def broken_savefig(self, fname, *args, **kwargs):
        pathlib.Path(fname).write_bytes(b"partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Figure, "savefig", broken_savefig)
    monkeypatch.delenv("HEAVYBALL_DEBUG", raising=False)
    assert cli.main(["figures", "momentum_memory", "--fast", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert snapshot(out) == before and leftovers(out) == []


# -------------------------------------------------------------------------------------------
# every write goes through heavyball._io; reference files load without pickle
# -------------------------------------------------------------------------------------------
def _python_files():
    return sorted(PACKAGE.rglob("*.py")) + sorted((ROOT / "analysis").glob("*.py"))


def _write_calls(path: pathlib.Path):
    """Calls in ``path`` that write a file, with the line and whether they sit inside a
    ``with atomic_path(...)`` block."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []

    def visit(node, atomic):
        if isinstance(node, (ast.With, ast.AsyncWith)):
            atomic = atomic or any("atomic_path" in ast.unparse(item.context_expr) for item in node.items)
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            text = ast.unparse(node)
            writes = False
            if name == "open":
                mode = (
                    node.args[1]
                    if len(node.args) > 1
                    else next((k.value for k in node.keywords if k.arg == "mode"), None)
                )
                mode_text = mode.value if isinstance(mode, ast.Constant) else ("?" if mode is not None else "r")
                writes = any(ch in str(mode_text) for ch in "wax+?") and "devnull" not in text
            elif name in {"savefig", "save", "savez", "savez_compressed", "savetxt", "tofile", "dump", "to_csv"}:
                writes = name != "save" or (
                    isinstance(func, ast.Attribute) and ast.unparse(func.value) in {"np", "numpy"}
                )
            elif name in {"write_text", "write_bytes"}:
                # heavyball._io's own functions are the atomic writers; pathlib's methods are not
                target = ast.unparse(func.value) if isinstance(func, ast.Attribute) else ""
                writes = isinstance(func, ast.Attribute) and target not in {"_io", "heavyball._io"}
            if writes:
                found.append((node.lineno, text, atomic))
        for child in ast.iter_child_nodes(node):
            visit(child, atomic)

    visit(tree, False)
    return found


def test_every_file_write_goes_through_io():
    """Grep (by syntax tree) the package and analysis/ for writes outside heavyball/_io.py."""
    offenders = []
    for path in _python_files():
        if path.name == "_io.py":
            continue
        for line, text, atomic in _write_calls(path):
            if not atomic:
                offenders.append(f"{path.relative_to(ROOT)}:{line}: {text}")
    assert offenders == [], "non-atomic writes:\n" + "\n".join(offenders)


def test_recorded_reference_files_load_without_pickle():
    loads = []
    for path in _python_files() + sorted((ROOT / "tests").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and ast.unparse(node.func) in {"np.load", "numpy.load"}:
                loads.append((path.name, node))
    for name, node in loads:
        kw = {k.arg: k.value for k in node.keywords}
        assert (
            "allow_pickle" in kw and isinstance(kw["allow_pickle"], ast.Constant) and kw["allow_pickle"].value is False
        ), name
    data = ROOT / "tests" / "data"
    for npz in sorted(data.glob("*.npz")) if data.exists() else []:
        with np.load(npz, allow_pickle=False) as archive:  # raises if anything in it is pickled
            for key in archive.files:
                assert archive[key].dtype != object


# -------------------------------------------------------------------------------------------
# Ctrl-C during `heavyball figures`
# -------------------------------------------------------------------------------------------
def _complete(path: pathlib.Path) -> bool:
    data = path.read_bytes()
    if path.suffix == ".pdf":
        return data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    if path.suffix == ".png":
        return data.startswith(b"\x89PNG\r\n\x1a\n") and data[-12:-8] == b"\x00\x00\x00\x00" and data[-8:-4] == b"IEND"
    if path.suffix == ".svg":
        return data.lstrip().startswith(b"<?xml") and data.rstrip().endswith(b"</svg>")
    return True


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_during_figures_exits_130_and_leaves_complete_files(tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "figs"
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONUNBUFFERED": "1"}
    env.pop("HEAVYBALL_DEBUG", None)
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys; from heavyball.cli import main; sys.exit(main())",
         "figures", "--fast", "--out", str(out), "--format", "pdf,png,svg"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        first = proc.stdout.readline()  # the first figure's progress line: it is written
        assert first.startswith("[") and "/" in first, first
        time.sleep(0.3)  # now inside the next figure (computing or writing it)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, (proc.returncode, stderr)
    assert len(stderr.splitlines()) == 1 and "Traceback" not in stderr, stderr
    files = sorted(out.iterdir())
    assert leftovers(out) == []
    assert files, "the first figure was reported written"
    for path in files:
        assert _complete(path), path.name
    # every figure reported done has all its formats
    progress = re.compile(r"^\[\s*\d+/\d+\]\s+(\S+)")
    done = [
        m.group(1) for line in [first, *stdout.splitlines()] if (m := progress.match(line)) and "FAILED" not in line
    ]
    assert done, first
    for name in done:
        for fmt in ("pdf", "png", "svg"):
            assert (out / f"{name}.{fmt}").exists(), (name, fmt)


# -------------------------------------------------------------------------------------------
# formulas given as text (beyond tests/test_problems.py: denial of service, look-alikes)
# -------------------------------------------------------------------------------------------
HOSTILE = [
    "9**9**9",  # sympy would compute a 370-million-digit integer
    "10**10**10",
    "2**2**2**2**2**2",
    "x**(10**10**10)",
    "(9**9)**(9**9)",
    "-" * 5000 + "x",  # Python's parser recursion
    "x" + "**x" * 3000,
    "sin(" * 100 + "x" + ")" * 100,  # sympy's chain rule, nested a hundred times
    "ｅｖａｌ('1')",  # NFKC look-alike of eval
    "𝐱.__class__",
    "getattr(x, 'real')",
    "x[0]",
    "(x := 1)",
    "f'{x}'",
    "b'x' * x",
    "1j * x",
    "True * x",
    "x @ y",
    "x // y",
    "x % y",
    "x < y",
    "not x",
    "~x",
    "x << 1",
    "sin(x=1)",
    "sin.__call__(x)",
    "Symbol('os')",
    "Integer(1)",
    "x/0",
    "log(0) * x",
    "sqrt(-1) * x",
    "1e999 * x",
    "sin",
    "sin(x, y)",
]


def test_hostile_formulas_rejected_quickly_and_nothing_runs():
    """All in a fresh interpreter with a timeout, so that a formula that would hang fails the
    test (after 120 s) instead of stalling the suite; os.system and subprocess are tripwires."""
    code = (
        "import json, os, subprocess, sys, heavyball as hb\n"
        "os.system = lambda *a: sys.exit('executed os.system')\n"
        "subprocess.Popen = lambda *a, **k: sys.exit('started a process')\n"
        "out = {}\n"
        "for text in json.loads(sys.stdin.read()):\n"
        "    try:\n"
        "        hb.Objective.from_sympy(text, ['x', 'y'])\n"
        "        out[text] = 'accepted'\n"
        "    except ValueError as exc:\n"
        "        out[text] = 'rejected' if '`expr`' in str(exc) else 'unnamed: ' + str(exc)\n"
        "    except BaseException as exc:\n"
        "        out[text] = type(exc).__name__ + ': ' + str(exc)[:200]\n"
        "print(json.dumps(out))\n"
    )
    import json

    proc = subprocess.run(
        [sys.executable, "-c", code], input=json.dumps(HOSTILE), capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    outcome = json.loads(proc.stdout)
    wrong = {text[:40]: result for text, result in outcome.items() if result != "rejected"}
    assert wrong == {}


def test_formula_limits_leave_ordinary_formulas_alone():
    f = hb.Objective.from_sympy(
        "x**(3**2) + 2**-10*y + sin(cos(tan(exp(log(1 + x**2))))) + " + "+".join(["y"] * 200), ["x", "y"]
    )
    theta = np.array([0.5, 2.0])
    expected = 0.5**9 + 2.0**-10 * 2.0 + math.sin(math.cos(math.tan(1 + 0.25))) + 200 * 2.0
    np.testing.assert_allclose(f.value(theta), expected, rtol=1e-14)


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


# -------------------------------------------------------------------------------------------
# numerical edge cases
# -------------------------------------------------------------------------------------------
def test_kappa_1e12_polyak_rate_and_a_bounded_run():
    kappa = 1e12
    q = hb.Quadratic.valley(kappa=kappa, angle=0.4)
    # eigh recovers h_min = 1e-12 only to ~ε·h_max absolute (2e-4 relative): the oracle uses
    # the exact curvatures
    tuned = rates.optimal_parameters(1.0 / kappa, 1.0, tuning="heavyball")
    polyak = (math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1)  # Polyak (1964): 1 − 2/(1e6 + 1)
    assert tuned.rate == pytest.approx(polyak, rel=1e-12)
    # on the repeated-root curve the radius is exact only to ~√ε (rates docstring): 1e-7 slack
    radius = rates.spectral_radius([1.0 / kappa, 1.0], lr=tuned.lr, momentum=tuned.momentum)
    assert abs(radius - polyak) < 1e-7
    tr = hb.iterate(hb.SGD(lr=tuned.lr, momentum=tuned.momentum), q, [1.0, 1.0], 2000, record="loss")
    assert tr.status == "max_steps" and tr.success
    assert np.all(np.isfinite(tr.distance))
    # the stiff direction (h_max = 1) is gone after a few hundred steps, the flat one has
    # barely moved: its error is within (1 + k)ρᵏ of the start (repeated root)
    k = tr.steps[-1]
    assert tr.distance[-1] <= (1 + k) * polyak**k * tr.distance[0] * 1.01
    sol = hb.exact(hb.HeavyBallODE(m=1.0, c=2 * math.sqrt(q.h_min)), q, [1.0, 1.0], np.linspace(0, 1e7, 50))
    assert sol.status == "success" and np.all(np.diff(sol.energy) <= 1e-15 * abs(sol.energy[0]))


def test_singular_quadratic_with_b_outside_its_range():
    q = hb.Quadratic(np.diag([2.0, 0.0]), [1.0, 0.5])  # f = x² − x − y/2: unbounded below along y
    assert q.minimizer is None and q.kappa == math.inf
    lr, steps = 0.1, 50
    tr = hb.iterate(hb.SGD(lr=lr), q, [0.0, 0.0], steps)
    assert tr.status == "max_steps" and tr.distance is None
    # closed form of GD: x_k = ½(1 − (1 − 2lr)ᵏ), y_k = lr·b₂·k (a constant force along the flat direction)
    k = np.arange(steps + 1)
    np.testing.assert_allclose(tr.theta[:, 0], 0.5 * (1 - (1 - 2 * lr) ** k), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(tr.theta[:, 1], lr * 0.5 * k, rtol=1e-12)
    # the continuous ball drifts: m y'' + c y' = b₂ from rest gives y = (b₂/c)(t − (m/c)(1 − e^{−ct/m}))
    m, c = 2.0, 0.5
    t = np.array([0.0, 0.1, 1.0, 10.0, 1e3])
    sol = hb.exact(hb.HeavyBallODE(m=m, c=c), q, [0.0, 0.0], t)
    drift = (0.5 / c) * (t - (m / c) * (-np.expm1(-c * t / m)))
    np.testing.assert_allclose(sol.theta[:, 1], drift, rtol=1e-12, atol=1e-15)


def test_saddle_iterate_diverges_with_status_and_exact_grows():
    q = hb.Quadratic(np.diag([-1.0, 1.0]))
    theta0 = np.array([1e-3, 1.0])
    lr = 0.1
    tr = hb.iterate(hb.SGD(lr=lr), q, theta0, 1000)
    assert tr.status == "diverged" and not tr.success
    # the first step whose norm passes 1e8·(1 + ‖θ₀‖) (no minimiser: θ* = 0), brute force
    bound = 1e8 * (1 + math.hypot(*theta0))
    k = next(k for k in range(1, 1000) if math.hypot(1e-3 * 1.1**k, 0.9**k) > bound)
    assert tr.diverged_at == k
    assert np.all(np.isnan(tr.theta[k:])) and np.all(np.isfinite(tr.theta[:k]))
    # the continuous saddle: x'' = x from rest grows like cosh(t)
    t = np.array([0.0, 1.0, 10.0, 30.0])
    sol = hb.exact(hb.HeavyBallODE(m=1.0, c=0.0), q, theta0, t)
    np.testing.assert_allclose(sol.theta[:, 0], 1e-3 * np.cosh(t), rtol=1e-12)
    np.testing.assert_allclose(sol.theta[:, 1], np.cos(t), rtol=1e-12, atol=1e-15)
    late = hb.exact(hb.HeavyBallODE(m=1.0, c=0.0), q, theta0, [0.0, 1e4])  # cosh overflows float64
    assert late.status == "diverged" and not late.success and "overflow" in late.message


def test_tiny_mass_simulate_recommends_an_implicit_method():
    """m = 1e-4: the friction rate c/m = 1e4 is stiff next to h/c; DOP853 still finishes (after
    ~1e4 evaluations) and says to use an implicit method; Radau agrees with the closed form."""
    q = hb.Quadratic.valley(kappa=10)
    ode = hb.HeavyBallODE(m=1e-4, c=1.0)
    sol = hb.simulate(ode, q, [1.0, 1.0], (0.0, 5.0))
    assert sol.success and "implicit" in sol.message and "Radau" in sol.message
    t = np.linspace(0.0, 5.0, 6)
    stiff = hb.simulate(ode, q, [1.0, 1.0], (0.0, 5.0), method="Radau", t_eval=t, rtol=1e-8, atol=1e-12)
    ref = hb.exact(ode, q, [1.0, 1.0], t)
    # Radau at rtol=1e-8: the global error is a few times the tolerance
    np.testing.assert_allclose(stiff.theta, ref.theta, rtol=1e-6, atol=1e-9)


def test_tinier_mass_explicit_simulate_is_bounded():
    """m = 1e-8 with an explicit method needs ~1e9 right-hand-side evaluations: simulate must
    stop on its own (a work budget) and recommend an implicit method, not run for hours. Run
    in a subprocess so that a hang fails after 5 minutes instead of stalling the suite (the
    budget of 1e6 evaluations takes ~25 s of CPU here; the bound is loose so that a loaded
    machine does not fail it, while a run of ~1e9 evaluations would still be caught)."""
    code = (
        "import heavyball as hb\n"
        "sol = hb.simulate(hb.HeavyBallODE(m=1e-8, c=1.0), hb.Quadratic.valley(kappa=10), [1.0, 1.0], (0.0, 5.0), throw=False)\n"
        "assert 'implicit' in sol.message, sol.message\n"
        "print(sol.status)\n"
    )
    try:
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired:
        pytest.fail("simulate(HeavyBallODE(m=1e-8), ..., method='DOP853') ran for more than 300 s")
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_no_friction_long_times():
    q = hb.Quadratic.from_eigenvalues([0.5, 2.0], rotation="random", seed=3)
    theta0 = np.array([1.0, -0.5])
    t = np.geomspace(1e-3, 1e6, 200)
    sol = hb.exact(hb.HeavyBallODE(m=1.5, c=0.0), q, theta0, t)
    e0 = 0.5 * theta0 @ q.A @ theta0  # E(0) = f(θ₀), from rest
    np.testing.assert_allclose(sol.energy, e0, rtol=1e-12)
    # the discrete twin: semi-implicit Euler at c = 0 (μ = 1) is symplectic; per mode it is the
    # rotation x_k = x₀cos(kω) + ((x₁ − x₀cos ω)/sin ω)·sin(kω), cos ω = 1 − h·dt²/(2m)
    m, dt, steps = 1.5, 0.3, 100_000
    mu, eta = hb.discretize(m, 0.0, dt)
    assert mu == 1.0
    tr = hb.iterate(hb.HeavyBall(eta=eta, mu=mu, dt=dt), q, theta0, steps, record="all", every=997)
    x = tr.theta @ q.eigenvectors  # modes
    x0 = q.eigenvectors.T @ theta0
    h = q.eigenvalues
    omega = np.arccos(1 - h * dt**2 / (2 * m))
    x1 = x0 - (dt**2 / m) * h * x0  # the first step from rest
    k = tr.steps[:, None]
    closed = x0 * np.cos(k * omega) + (x1 - x0 * np.cos(omega)) / np.sin(omega) * np.sin(k * omega)
    # rounding accumulates as a phase error ~ k·ε over 1e5 steps
    np.testing.assert_allclose(x, closed, atol=1e-9)
    assert tr.status == "max_steps"


def test_dt_at_the_stability_boundary():
    h, mu = 1.0, 0.5
    edge = 2 * (1 + mu) / h  # Jury: heavy ball is stable iff 0 < lr·h < 2(1 + μ)
    assert rates.is_stable(h, lr=np.nextafter(edge, 0), momentum=mu)
    assert not rates.is_stable(h, lr=edge, momentum=mu)
    assert rates.spectral_radius(h, lr=edge, momentum=mu) == pytest.approx(1.0, abs=1e-12)  # roots −1 and −μ
    q = hb.Quadratic([[h]])
    runs = hb.iterate(
        hb.SGD(lr=np.array([[0.99 * edge], [edge], [1.01 * edge]]), momentum=mu), q, [1.0], 5000, record="final"
    )
    # just inside: radius 0.936, so after 5000 steps the iterate is ~1e-145 (its status word is
    # checked in test_status_of_a_converging_run_on_an_axis_aligned_quadratic)
    # on the edge the roots are −1 and −μ: the −μ mode dies out and x_k ∝ (−1)ᵏ remains, a
    # period-2 orbit
    assert runs.status.tolist()[1:] == ["cycle", "diverged"] and runs.status[0] != "diverged"
    assert runs.period.tolist()[1] == 2
    assert abs(runs.theta[-1, 0, 0]) < 0.94**5000 * 10
    # at the edge the roots are −1 and −μ: x_k = A(−1)ᵏ + B(−μ)ᵏ with x₀ = 1 and torch's first
    # step x₁ = (1 − γh)x₀ = −(1 + 2μ): A = (1 + μ)/(1 − μ), a bounded oscillation (3 for μ = ½)
    amplitude = abs(runs.theta[-1, 1, 0])
    assert amplitude == pytest.approx((1 + mu) / (1 - mu), rel=1e-9)
    # discretising the ODE beyond the limit: a diverged comparison with the condition in words
    cmp = hb.compare(hb.HeavyBallODE(m=1.0, c=0.5), hb.Quadratic.valley(kappa=10), [1.0, 1.0], dt=3.0, t_final=300.0)
    assert cmp.status == "diverged" and not cmp.success and "lr·h_max" in cmp.message


def test_zero_and_one_steps():
    q = hb.Quadratic([[3.0, 1.0], [1.0, 2.0]], [1.0, -1.0])
    theta0 = np.array([0.5, -2.0])
    g0 = q.A @ theta0 - q.b
    f0 = 0.5 * theta0 @ q.A @ theta0 - q.b @ theta0
    for record in ("all", "loss", "final"):
        tr = hb.iterate(hb.SGD(lr=0.1, momentum=0.9), q, theta0, 0, record=record)
        np.testing.assert_allclose(tr.theta[-1], theta0, rtol=1e-15)  # exactly: test below
        np.testing.assert_allclose(tr.loss, [f0], rtol=1e-15)
        assert tr.status == "max_steps" and tr.diverged_at == -1
        one = hb.iterate(hb.SGD(lr=0.1, momentum=0.9), q, theta0, 1, record=record)
        np.testing.assert_allclose(one.theta[-1], theta0 - 0.1 * g0, rtol=1e-15)  # torch: b₁ = g₀
    np.testing.assert_allclose(hb.closed_form_iterate(hb.SGD(lr=0.1, momentum=0.9), q, theta0, 0), theta0, rtol=1e-15)
    np.testing.assert_allclose(
        hb.closed_form_iterate(hb.SGD(lr=0.1, momentum=0.9), q, theta0, 1), theta0 - 0.1 * g0, rtol=1e-14
    )
    adam = hb.iterate(hb.Adam(lr=0.01), q, theta0, 1)
    np.testing.assert_allclose(adam.theta[1], theta0 - 0.01 * np.sign(g0), rtol=1e-6)  # |step| = lr·|g|/(|g| + ε)


def test_empty_batch():
    q = hb.Quadratic.valley(kappa=10)
    for method in (hb.SGD(lr=0.1, momentum=0.9), hb.Adam(lr=0.1), hb.NesterovLookahead(eta=0.1, mu=0.5)):
        tr = hb.iterate(method, q, np.zeros((0, 2)), 5)
        assert tr.theta.shape == (6, 0, 2) and tr.loss.shape == (6, 0) and tr.status.shape == (0,)
        assert "0 configurations" in tr.message
    lrs = np.zeros((0, 1))
    tr = hb.iterate(hb.SGD(lr=lrs, momentum=0.5), q, [1.0, 1.0], 3, record="final")
    assert tr.theta.shape == (1, 0, 2)
    assert hb.closed_form_iterate(hb.SGD(lr=lrs), q, [1.0, 1.0], 7).shape == (0, 2)
    assert rates.spectral_radius(q.eigenvalues, lr=np.zeros(0), momentum=0.5).shape == (0,)
    fit = rates.fit_rate(np.ones((5, 0)))
    assert np.shape(fit.rate) == (0,)


def test_huge_step_count_is_refused_by_name():
    """2**70 steps cannot be run: a ValueError naming `steps` (not numpy's OverflowError or
    'Maximum allowed size exceeded')."""
    q = hb.Quadratic.valley(kappa=10)
    for record in ("all", "final"):
        with pytest.raises(ValueError, match="`steps`"):
            hb.iterate(hb.SGD(lr=0.1), q, [1.0, 1.0], 2**70, record=record)


def test_compare_with_a_tiny_dt_is_refused_quickly_by_name():
    """2e8 steps of dt = 1e-7 on [0, 20]: refused before any work, naming `dt` or `t_final`
    (not iterate's `record`/`every`, which the caller of compare never passed)."""
    with pytest.raises(ValueError) as info:
        hb.compare(hb.HeavyBallODE(1.0, 0.5), hb.Quadratic.valley(kappa=100), [1.0, 1.0], dt=1e-7, t_final=20.0)
    assert "`dt`" in str(info.value) or "`t_final`" in str(info.value), str(info.value)


def test_zero_steps_record_theta0_exactly():
    """``theta[0]`` is θ₀ itself (DiscreteTrajectory: ``theta[k]`` is θ_k), not θ₀ rotated into
    the eigenbasis and back (which moves it by an ulp on a rotated quadratic)."""
    q = hb.Quadratic([[3.0, 1.0], [1.0, 2.0]], [1.0, -1.0])
    theta0 = np.array([0.5, -2.0])
    for record in ("all", "loss", "final"):
        for steps in (0, 3):
            tr = hb.iterate(hb.SGD(lr=0.1, momentum=0.9), q, theta0, steps, record=record)
            if record == "all" or steps == 0:
                np.testing.assert_array_equal(tr.theta[0], theta0)
    np.testing.assert_array_equal(hb.closed_form_iterate(hb.SGD(lr=0.1, momentum=0.9), q, theta0, 0), theta0)


@pytest.mark.parametrize("q", [hb.Quadratic([[1.0]]), hb.Quadratic.valley(kappa=10)], ids=["1-D", "axis-aligned"])
def test_status_of_a_converging_run_on_an_axis_aligned_quadratic(q):
    """GD with momentum at lr = 0.5, μ = 0.5 on h ∈ {0.1, 1}: radius <= 0.92, so after 500
    steps the distance is below 0.92⁵⁰⁰·(…) ≪ 1.5e-8 of the start: "converged" (the general
    stepping loop says so too)."""
    from heavyball.iterate import _iterate_general

    opt = hb.SGD(lr=0.5, momentum=0.5)
    theta0 = [1.0] * q.dim
    assert np.max(rates.spectral_radius(q.eigenvalues, lr=0.5, momentum=0.5)) < 0.92
    assert _iterate_general(opt, q, theta0, 500).status == "converged"
    tr = hb.iterate(opt, q, theta0, 500)
    assert tr.status == "converged", tr.message


def test_iterate_with_gradient_norms_beyond_float64():
    """A quadratic whose minimiser overflows (A = 1e-300, b = 1e300: ``minimizer`` is None) and
    whose gradient norm 1e300 squares to inf: a run that does not move (eta = 0) must not be
    called "converged", and no RuntimeWarning may leak (pytest turns warnings into errors)."""
    q = hb.Quadratic([[1e-300]], [1e300])
    assert q.minimizer is None
    tr = hb.iterate(hb.HeavyBall(eta=0.0, mu=0.0), q, [0.0], 3)
    np.testing.assert_array_equal(tr.theta[:, 0], 0.0)
    assert tr.status == "max_steps", tr.message


def test_ctrl_c_inside_an_atomic_write_is_held_until_the_file_is_in_place(tmp_path):
    """Under the command's SIGINT handler, Ctrl-C that arrives while a file is being written
    (here: sent to ourselves half-way through) is raised only once the complete file has
    been moved into place, so no temporary file can be stranded in a window no handler
    covers (inside mkstemp, between __enter__ and the cleanup)."""
    import os
    import signal

    from heavyball._io import INTERRUPTS, atomic_path, sigint_between_writes

    target = tmp_path / "figure.pdf"
    with pytest.raises(KeyboardInterrupt):
        with sigint_between_writes():
            with atomic_path(target) as tmp:
                tmp.write_bytes(b"first half ")
                os.kill(os.getpid(), signal.SIGINT)
                tmp.write_bytes(b"first half and second half")  # still running: held back
            pytest.fail("the held-back interruption was not raised after the write")  # pragma: no cover
    assert target.read_bytes() == b"first half and second half"
    assert [p.name for p in tmp_path.iterdir()] == ["figure.pdf"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handler restored
    assert INTERRUPTS.depth == 0 and not INTERRUPTS.pending
