"""`heavyball compare --optimizer adam`: torch's Adam against its ODE from the command line."""

import subprocess
import sys

import pytest


def run(*args):
    proc = subprocess.run([sys.executable, "-m", "heavyball", "compare", *args], capture_output=True, text=True)
    return proc.returncode, proc.stdout, proc.stderr


def max_error(out):
    line = next(line for line in out.splitlines() if line.startswith("max error"))
    return float(line.split()[-1])


def test_the_gap_to_the_ode_halves_with_lr_at_fixed_a_and_b():
    # a = (1 − β₁)/lr = 1 and b = (1 − β₂)/lr = 2 for both runs: the same ODE, half the step
    rc1, out1, err1 = run("--optimizer", "adam", "--lr", "0.01", "--betas", "0.99,0.98", "--t-final", "4",
                          "--kappa", "10")  # fmt: skip
    rc2, out2, _ = run("--optimizer", "adam", "--lr", "0.005", "--betas", "0.995,0.99", "--t-final", "4",
                       "--kappa", "10")  # fmt: skip
    assert rc1 == rc2 == 0, err1
    assert "a = (1 - beta1)/lr = 1," in out1 and "status       completed" in out1
    assert 1.9 < max_error(out1) / max_error(out2) < 2.1  # first order in lr


@pytest.mark.parametrize(
    ("args", "word"),
    [
        (("--optimizer", "adam", "--lr", "0.1", "--betas", "1.2,0.9"), "--betas"),
        (("--optimizer", "adam"), "--lr"),
        (("--optimizer", "adam", "--lr", "0.1", "--m", "1"), "--m"),
        (("--optimizer", "adam", "--lr", "0.1", "--eps", "-1"), "--eps"),
        (("--optimizer", "adam", "--lr", "nan"), "--lr"),
        (("--m", "1", "--c", "0.5"), "--dt"),
        (("--m", "1", "--c", "0.5", "--dt", "0.1", "--lr", "0.1"), "--lr"),
    ],
)
def test_bad_usage_exits_2_with_one_line(args, word):
    rc, _out, err = run(*args)
    assert rc == 2 and word in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
