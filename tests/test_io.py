"""Atomic output and interruptions: a failure or Ctrl-C in the middle of a write never clobbers
the previous file and never leaves a temporary file; every write of the package and the
analysis scripts goes through ``heavyball._io``.

Oracles: the bytes of the previous file (fault injection) and the PDF/PNG/SVG file formats
(complete files after Ctrl-C).
"""

from __future__ import annotations

import ast
import errno
import os
import pathlib
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from conftest import leftovers, snapshot
from heavyball import _io

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "heavyball"


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


def test_ctrl_c_inside_an_atomic_write_is_held_until_the_file_is_in_place(tmp_path):
    """Under the command's SIGINT handler, Ctrl-C that arrives while a file is being written
    (here: sent to ourselves half-way through) is raised only once the complete file has
    been moved into place, so no temporary file can be stranded in a window no handler
    covers (inside mkstemp, between __enter__ and the cleanup)."""
    import os
    import signal

    from heavyball._io import INTERRUPTS, atomic_path, sigint_between_writes

    target = tmp_path / "figure.pdf"
    before = signal.getsignal(signal.SIGINT)  # default_int_handler, or SIG_IGN in a background run
    with pytest.raises(KeyboardInterrupt):
        with sigint_between_writes():
            with atomic_path(target) as tmp:
                tmp.write_bytes(b"first half ")
                os.kill(os.getpid(), signal.SIGINT)
                tmp.write_bytes(b"first half and second half")  # still running: held back
            pytest.fail("the held-back interruption was not raised after the write")  # pragma: no cover
    assert target.read_bytes() == b"first half and second half"
    assert [p.name for p in tmp_path.iterdir()] == ["figure.pdf"]
    assert signal.getsignal(signal.SIGINT) is before  # handler restored
    assert INTERRUPTS.depth == 0 and not INTERRUPTS.pending
