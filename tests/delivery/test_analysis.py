from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from maestro.delivery.analysis import (
    CHANGE_METRIC,
    Arm,
    Outcome,
    Second,
    change_log_evalue,
    compare,
    error_rate_test,
    guard,
    half_width,
    harm,
)


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


def _seconds(
    rng: np.random.Generator, count: int, share: float, p_canary: float, p_stable: float, rate: int = 50
) -> list[Second]:
    out = []
    for _ in range(count):
        n = int(rng.poisson(rate))
        nc = int(rng.binomial(n, share))
        out.append(Second(nc, int(rng.binomial(nc, p_canary)), n - nc, int(rng.binomial(n - nc, p_stable))))
    return out


def _first_alarm(seconds: list[Second], alpha: float = 0.01) -> int | None:
    """The first second at which the change detector, read after every second, fails the canary."""
    for t in range(1, len(seconds) + 1):
        if harm(seconds[:t], alpha).outcome is Outcome.FAIL:
            return t
    return None


def test_the_change_detector_read_every_second_keeps_false_alarms_under_alpha() -> None:
    rng = np.random.default_rng(3)
    alarms = [_first_alarm(_seconds(rng, 120, 0.1, 0.01, 0.01)) for _ in range(200)]
    assert sum(a is not None for a in alarms) <= 4  # alpha 0.01 over the whole run, however often it is read


def test_a_fault_that_starts_late_is_judged_on_the_requests_after_it() -> None:
    rng = np.random.default_rng(5)
    delays = []
    for _ in range(30):
        seconds = _seconds(rng, 100, 0.1, 0.01, 0.01) + _seconds(rng, 150, 0.1, 0.06, 0.01)
        alarm = _first_alarm(seconds)
        delays.append(math.inf if alarm is None else alarm - 100)
    assert min(delays) > 0  # no alarm before the fault
    assert float(np.percentile(delays, 80)) <= 60  # 5 canary requests a second, 1% -> 6%: caught within a minute


def test_errors_that_rise_on_both_sides_alike_are_no_sign_against_the_canary() -> None:
    rng = np.random.default_rng(9)
    seconds = _seconds(rng, 60, 0.1, 0.01, 0.01) + _seconds(rng, 120, 0.1, 0.2, 0.2)  # a provider-wide incident
    verdict = harm(seconds, 0.01)
    assert verdict.outcome is Outcome.INCONCLUSIVE and verdict.metric == CHANGE_METRIC
    assert "no sign" in verdict.reason


def test_the_change_detector_never_passes_and_names_where_the_change_began() -> None:
    quiet = [Second(5, 0, 45, 1)] * 30  # stable fails now and then, the canary not more often
    bad = [Second(5, 3, 45, 1)] * 10
    assert harm(quiet, 0.01).outcome is Outcome.INCONCLUSIVE
    verdict = harm(quiet + bad, 0.01)
    assert verdict.outcome is Outcome.FAIL and "since second 30" in verdict.reason
    assert (verdict.n_canary, verdict.n_stable) == (50, 450) and verdict.estimate == pytest.approx(0.6 - 1 / 45)
    assert change_log_evalue([])[0] == 0.0  # no data, no evidence
