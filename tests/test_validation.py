"""The shared validation helpers: the momentum check and the renamed-keyword helper."""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest

from heavyball._validation import MAX_MOMENTUM, check_momentum, renamed_keyword


def test_momentum_rates_rule_accepts_any_real_within_range():
    mu = check_momentum([-0.5, 0.0, 1.5])
    assert mu.dtype == np.float64
    np.testing.assert_array_equal(mu, [-0.5, 0.0, 1.5])
    assert check_momentum(0.9).shape == ()
    with pytest.raises(ValueError, match="`momentum`"):
        check_momentum(2 * MAX_MOMENTUM)
    with pytest.raises(ValueError, match="`momentum`"):
        check_momentum(float("nan"))
    with pytest.raises(TypeError, match="`momentum`"):
        check_momentum("0.9")


def test_momentum_limit_rule_is_a_scalar_in_0_1():
    assert check_momentum(0.9, limit=True) == 0.9 and isinstance(check_momentum(0, limit=True), float)
    for bad in (1.0, -0.1, 1.5):
        with pytest.raises(ValueError, match=r"`momentum` must be a real number >= 0 and < 1, got"):
            check_momentum(bad, limit=True)
    with pytest.raises(TypeError, match="`momentum` must be a real scalar"):
        check_momentum([0.5, 0.6], limit=True)


def test_momentum_of_gradient_descent_must_be_zero():
    np.testing.assert_array_equal(check_momentum([0.0, 0.0], family="gd"), [0.0, 0.0])
    with pytest.raises(ValueError, match=r"`momentum` must be 0 for family 'gd'.*got 0\.5"):
        check_momentum(0.5, family="gd")
    with pytest.raises(ValueError, match="family 'gd'"):
        check_momentum(0.5, family="gd", limit=True)


@renamed_keyword("method", "family")
def _rate(h, *, family="heavyball"):
    """A stand-in for a function whose keyword was renamed."""
    return h, family


def test_renamed_keyword_keeps_the_old_spelling_with_a_warning():
    assert _rate(1.0) == (1.0, "heavyball")
    assert _rate(1.0, family="nesterov") == (1.0, "nesterov")
    with pytest.warns(DeprecationWarning, match=r"_rate: the keyword `method` is deprecated; use `family`") as rec:
        assert _rate(2.0, method="nesterov") == (2.0, "nesterov")
    assert len(rec) == 1 and rec[0].filename == __file__  # attributed to the caller's line


def test_renamed_keyword_refuses_both_spellings_and_keeps_the_signature():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning before the error
        with pytest.raises(TypeError, match=r"_rate\(\) got both `family` and its deprecated spelling `method`"):
            _rate(1.0, method="gd", family="gd")
    assert list(inspect.signature(_rate).parameters) == ["h", "family"]
    assert _rate.__doc__ == "A stand-in for a function whose keyword was renamed."
