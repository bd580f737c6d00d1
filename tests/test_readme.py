"""The README is part of the product: its example runs, its catalogue matches the code."""

import contextlib
import io
import re
from pathlib import Path

import numpy as np

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_the_two_setup_commands_are_at_the_top():
    top = README[: README.index("## Example")]
    assert "pip install . && heavyball figures" in top
    test_command = 'pip install -e ".[test]" && pytest -n auto'
    assert test_command in top
    # CI runs the README's test command: the same install and the same pytest invocation
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text(encoding="utf-8")
    install, run = test_command.split(" && ")
    assert install in ci and f"\n{run} " in ci


def test_the_example_runs_and_prints_what_its_comments_say():
    code = re.search(r"## Example\n\n```python\n(.*?)```", README, re.S).group(1)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md example", "exec"), {})
    status, gap = out.getvalue().splitlines()[0].split()
    assert status == "converged"
    # the comment says "0.0499": semi-implicit Euler at Δt = 0.1 against the exact ODE
    assert abs(float(gap) - 0.0499) < 5e-5
    # Polyak's tuning for κ = 100 (Polyak 1964): 400/121, 81/121, 9/11
    tuned = out.getvalue().splitlines()[1]
    lr, mom, rate = (float(x) for x in re.findall(r"=([0-9.]+)", tuned))
    np.testing.assert_allclose([lr, mom, rate], [400 / 121, 81 / 121, 9 / 11], rtol=1e-12)


def test_the_figure_section_shows_every_figure_with_its_caption():
    from heavyball.figures import FIGURES

    for i, (name, module) in enumerate(FIGURES.items(), 1):
        assert f"### {i}. `{name}`\n\n![{name}](figures/{name}.png)" in README, name
        assert " ".join(module.CAPTION.split()) in README, f"caption of {name} differs from the README"
        assert (Path(__file__).resolve().parents[1] / "figures" / f"{name}.png").is_file()


def test_every_analysis_script_is_listed():
    scripts = sorted(p.name for p in (Path(__file__).resolve().parents[1] / "analysis").glob("*.py"))
    assert scripts, "analysis/ has no scripts"
    for script in scripts:
        assert f"`analysis/{script}" in README, script
