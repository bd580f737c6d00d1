"""Shared fixtures (a seeded generator, the Agg backend, the torch switch) and helpers."""

import os
import pathlib

os.environ.setdefault("MPLBACKEND", "Agg")  # before anything can import matplotlib
# The tests use small matrices: BLAS threads only contend for the 2 cores (each tiny LAPACK
# call can take ~1000× longer under load). One thread; results are compared with tolerances.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

import heavyball as hb

# Property tests: a fixed, CI-friendly profile (deterministic, bounded per example).
settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def rng():
    """A seeded generator: every test that draws numbers is reproducible."""
    return np.random.default_rng(20250915)


def _torch_or_none():
    try:
        import torch
    except ImportError:
        return None
    return torch


@pytest.fixture(scope="session")
def torch():
    """The live torch module; tests that need it skip cleanly when it is not installed."""
    module = _torch_or_none()
    if module is None:
        pytest.skip("torch is not installed (CI installs torch==2.13.0 for the parity tests)")
    return module


# ---------------------------------------------------------------------------------------------
# helpers shared by the test modules (import them with `from conftest import ...`)
# ---------------------------------------------------------------------------------------------
def leftovers(directory) -> list[str]:
    """Temporary files left by an atomic write (``.NAME.XXXX.tmp.EXT``)."""
    return sorted(p.name for p in pathlib.Path(directory).iterdir() if ".tmp" in p.name)


def snapshot(directory) -> dict[str, bytes]:
    """The bytes of every file in ``directory``, by name."""
    return {p.name: p.read_bytes() for p in sorted(pathlib.Path(directory).iterdir()) if p.is_file()}


#: every flag combination of torch's Adam and AdamW (the fast kernels' and compiled kernels' grid)
ADAM_FLAGS = [
    dict(cls=cls, amsgrad=ams, maximize=mx, weight_decay=wd)
    for cls in (hb.Adam, hb.AdamW)
    for ams in (False, True)
    for mx in (False, True)
    for wd in (0.0, 0.2)
]
