"""A newcomer's first run: a fresh virtual environment, the README's first
command, and the figures it promises.

The test copies the checkout (without generated files and without the committed ``figures/``,
so that nothing is there before the run), creates a virtual environment with
``python -m venv``, and runs the README's first set-up command — ``pip install . && heavyball
figures`` — literally, with that environment first on ``PATH``, inside the copy. pip uses this
machine's configuration (in CI it finds the wheels locally). It then checks that every figure of
the catalogue appeared as a complete PDF and PNG, and that no temporary file was left.

Marked ``slow`` (it installs numpy, scipy, sympy and matplotlib into a new environment and draws
the whole catalogue); it runs in CI. It is skipped only when a virtual environment cannot be
created at all on this machine.
"""

from __future__ import annotations

import os
import pathlib
import re
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
TIMEOUT = 1800  # seconds for the install plus the whole catalogue (batch_size_scaling takes minutes): generous

pytestmark = pytest.mark.slow


def readme_first_command() -> str:
    """The first command of the README's first ``bash`` block, without its comment."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```(?:bash|sh|console)\n(.*?)```", text, re.S)
    assert block, "the README has no bash block with the set-up commands"
    lines = [ln for ln in block.group(1).splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    command = lines[0].split("  #")[0].split(" # ")[0].strip().lstrip("$ ").strip()
    return command


def test_readme_first_command_is_install_and_figures():
    command = readme_first_command()
    assert command.startswith("pip install .") and command.endswith("heavyball figures"), command


IGNORE = shutil.ignore_patterns(".git", ".venv", "venv", "__pycache__", "*.pyc", ".pytest_cache", ".hypothesis",
                                "*.egg-info", "build", "dist", ".*.tmp*", "bench*.json", "_build", "_generated")  # fmt: skip


def _copy_checkout(dest: pathlib.Path) -> pathlib.Path:
    src = dest / "heavyball-checkout"
    shutil.copytree(ROOT, src, ignore=IGNORE, symlinks=False)
    figures = src / "figures"
    if figures.exists():  # the committed figures: remove them, so that the run must make them
        shutil.rmtree(figures)
    return src


def _complete(path: pathlib.Path) -> bool:
    data = path.read_bytes()
    if path.suffix == ".pdf":
        return data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    if path.suffix == ".png":
        return data.startswith(b"\x89PNG\r\n\x1a\n") and data[-8:-4] == b"IEND"
    return bool(data)


def test_fresh_venv_readme_command_makes_every_figure(tmp_path):
    venv = tmp_path / "venv"
    made = subprocess.run([sys.executable, "-m", "venv", str(venv)], capture_output=True, text=True, timeout=300)
    bindir = venv / ("Scripts" if os.name == "nt" else "bin")
    if made.returncode != 0 or (not (bindir / "pip").exists() and not (bindir / "pip.exe").exists()):
        pytest.skip(f"cannot create a virtual environment with pip here: {made.stderr.strip()[-300:]}")

    checkout = _copy_checkout(tmp_path)
    command = readme_first_command()
    env = {
        k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV", "HEAVYBALL_DEBUG", "PYTHONHOME"}
    }
    env.update(PATH=f"{bindir}{os.pathsep}{env.get('PATH', '')}", VIRTUAL_ENV=str(venv), MPLBACKEND="Agg",
               PIP_DISABLE_PIP_VERSION_CHECK="1")  # fmt: skip
    run = subprocess.run(["bash", "-c", f"set -e; {command}"], cwd=checkout, env=env, capture_output=True, text=True,
                         timeout=TIMEOUT)  # fmt: skip
    tail = f"\n--- stdout ---\n{run.stdout[-3000:]}\n--- stderr ---\n{run.stderr[-3000:]}"
    assert run.returncode == 0, f"`{command}` failed with status {run.returncode}{tail}"

    # the installed package is the venv's (not the checkout on sys.path)
    where = subprocess.run(
        [
            str(bindir / "python"),
            "-c",
            "import heavyball, sys; from heavyball.figures import CATALOGUE;"
            "print(heavyball.__file__); print(' '.join(CATALOGUE))",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert where.returncode == 0, where.stderr
    location, names = where.stdout.splitlines()[:2]
    assert pathlib.Path(location).resolve().is_relative_to(venv.resolve()), location
    catalogue = names.split()
    assert len(catalogue) >= 14

    out = checkout / "figures"
    assert out.is_dir(), f"`heavyball figures` wrote no figures/ directory{tail}"
    leftovers = sorted(p.name for p in out.iterdir() if ".tmp" in p.name)
    assert leftovers == []
    for name in catalogue:
        for fmt in ("pdf", "png"):
            path = out / f"{name}.{fmt}"
            assert path.exists(), f"missing {path.name}{tail}"
            assert _complete(path), f"incomplete {path.name}"
