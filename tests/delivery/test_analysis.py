from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from maestro.delivery.analysis import Arm, Outcome, compare, error_rate_test, guard, half_width


def _look_every(rng: np.random.Generator, p_canary: float, p_stable: float, weight: float, total: int) -> Outcome:
    """Requests on a route in batches of 50, the test read after each batch; the first decisive outcome."""
    test, nc = error_rate_test(), np.zeros(2, dtype=int)
    ns = np.zeros(2, dtype=int)
    for _ in range(total // 50):
        to_canary = rng.binomial(50, weight)
        nc += (to_canary, rng.binomial(to_canary, p_canary))
        ns += (50 - to_canary, rng.binomial(50 - to_canary, p_stable))
        v = compare("error_rate", Arm.of_sums(nc[0], nc[1], nc[1]), Arm.of_sums(ns[0], ns[1], ns[1]), test)
        if v.outcome is not Outcome.INCONCLUSIVE:
            return v.outcome
    return Outcome.INCONCLUSIVE


def test_peeking_after_every_batch_keeps_false_aborts_under_alpha() -> None:
    rng = np.random.default_rng(7)
    outcomes = [_look_every(rng, 0.01, 0.01, 0.5, 20_000) for _ in range(300)]
    false_aborts = outcomes.count(Outcome.FAIL) / len(outcomes)
    assert false_aborts <= 0.02  # alpha 0.01, always valid: a bound that holds however often it is read
    assert outcomes.count(Outcome.PASS) > 250  # and a healthy canary does pass


def test_a_five_point_regression_at_ten_percent_is_caught_within_5200_requests() -> None:
    rng = np.random.default_rng(11)
    caught = [_look_every(rng, 0.06, 0.01, 0.1, 5200) for _ in range(100)]
    assert caught.count(Outcome.FAIL) >= 90
    assert Outcome.PASS not in caught


def test_too_little_data_holds_and_never_passes() -> None:
    perfect, stable = Arm(99, 0.0, 0.0), Arm(10_000, 0.01, 0.0099)
    v = compare("error_rate", perfect, stable, error_rate_test())
    assert v.outcome is Outcome.INCONCLUSIVE and "too little data" in v.reason
    assert (v.n_canary, v.n_stable, v.alpha) == (99, 10_000, 0.01)
    assert math.isinf(v.low) and math.isinf(v.high)


def test_the_variance_floor_keeps_the_interval_open_without_errors() -> None:
    none_failed = Arm(100, 0.0, 0.0)
    v = compare("error_rate", none_failed, none_failed, error_rate_test())
    assert v.high - v.low == pytest.approx(2 * half_width(0.0099 * 2 / 100, 0.05, 0.01))
    assert v.outcome is Outcome.INCONCLUSIVE  # 100 successes on each side are not yet proof within 2 points


@given(st.integers(20, 500), st.integers(0, 500))
def test_the_hard_guard_fires_exactly_over_half_after_twenty(n: int, failed: int) -> None:
    failed = min(failed, n)
    v = guard(Arm.of_sums(n, failed, failed))
    assert (v is not None) == (failed / n > 0.5)
    assert guard(Arm.of_sums(19, 19, 19)) is None


@given(st.floats(1e-6, 1.0), st.floats(0.01, 0.2))
def test_the_interval_narrows_as_the_variance_falls(v: float, tau: float) -> None:
    assert half_width(v / 2, tau, 0.01) < half_width(v, tau, 0.01)
