"""The outcome vocabulary: heavyball.Status and the results that carry it."""

from __future__ import annotations

import json

import numpy as np
import pytest

import heavyball as hb
from heavyball.status import (
    COMPARE_STATUSES,
    ITERATE_STATUSES,
    RATE_STATUSES,
    SIMULATE_STATUSES,
    Status,
    succeeded,
)


def test_status_is_its_word():
    assert hb.Status is Status
    for s in Status:
        assert s == s.value and isinstance(s, str)
        assert str(s) == s.value and f"{s}" == s.value and f"{s:>12}" == f"{s.value:>12}"
        assert json.dumps(s) == json.dumps(s.value)
        assert Status(s.value) is s
    assert np.array([Status.CONVERGED, Status.MAX_STEPS]).tolist() == ["converged", "max_steps"]


def test_every_outcome_has_a_one_line_message():
    for s in Status:
        assert s.message and "\n" not in s.message


def test_success_is_defined_once_and_matches_each_producer():
    # the failures of each producer, as its documentation states them
    failures = {"diverged", "failed", "cycle", "no-window"}
    for s in Status:
        assert s.success is (s.value not in failures)
        assert succeeded(s.value) is s.success
    words = np.array([[s.value for s in Status]])
    np.testing.assert_array_equal(succeeded(words), [[s.success for s in Status]])
    # each producer has at least one success and one failure, and no word twice
    for group in (ITERATE_STATUSES, SIMULATE_STATUSES, COMPARE_STATUSES, RATE_STATUSES):
        assert len(set(group)) == len(group)
        assert any(s.success for s in group) and not all(s.success for s in group)


def test_unknown_word_is_refused_by_name():
    with pytest.raises(ValueError, match=r"`status` must be one of .*'converged'.*got 'convergd'"):
        succeeded("convergd")
    with pytest.raises(ValueError, match="`status`"):
        succeeded(np.array(["converged", "nope"]))


def test_simulate_exact_and_compare_report_a_status():
    q = hb.Quadratic.valley(kappa=10)
    ode = hb.HeavyBallODE(m=1.0, c=0.5)
    sol = hb.simulate(ode, q, [1.0, 1.0], (0.0, 2.0))
    assert sol.status is Status.SUCCESS and sol.success is True and sol.status == "success"
    ev = hb.simulate(ode, q, [1.0, 1.0], (0.0, 1e3), gtol=1e-6)
    assert ev.status is Status.EVENT and ev.success
    ex = hb.exact(ode, q, [1.0, 1.0], np.linspace(0.0, 1.0, 3))
    assert ex.status is Status.SUCCESS and "status='success'" in repr(ex)
    ok = hb.compare(ode, q, [1.0, 1.0], dt=0.01, t_final=1.0)
    assert ok.status is Status.COMPLETED and ok.success and "status='completed'" in repr(ok)
    # dt = 3 with m = 1, c = 0.5: γh = dt²·h = 9·1 > 2(1 + μ), an unstable heavy ball
    bad = hb.compare(ode, q, [1.0, 1.0], dt=3.0, t_final=30.0)
    assert bad.status is Status.DIVERGED and bad.success is False
