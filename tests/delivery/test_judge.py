from __future__ import annotations

import dataclasses

from helpers.delivery import CANARY, STABLE, spec

from maestro.delivery.analysis import CHANGE_METRIC, Arm, Outcome, Second
from maestro.delivery.judge import Measured, Settings, judge
from maestro.delivery.machine import Phase, State
from maestro.delivery.simulate import Traffic, simulate
from maestro.delivery.spec import Metric

AT_ANALYSIS = State("r1", Phase.PROGRESSING, 1, 10, 0.0)  # step 1 of the helper's spec is `analysis: health`


def _measured(canary_errors: float, n: int = 1000, canary_ms: float = 200.0) -> Measured:
    errors = {CANARY: Arm(n, canary_errors, canary_errors * (1 - canary_errors)), STABLE: Arm(n, 0.01, 0.0099)}
    latency = {CANARY: Arm(n, canary_ms, 100.0), STABLE: Arm(n, 200.0, 100.0)}
    return Measured(errors, latency)


def test_a_change_in_the_canary_errors_rolls_back_whatever_the_step() -> None:
    seconds = [Second(5, 0, 45, 0)] * 30 + [Second(5, 2, 45, 0)] * 10
    for step in (0, 1, 2):
        m = dataclasses.replace(_measured(0.01), seconds=seconds)
        failures, _ = judge(spec(), dataclasses.replace(AT_ANALYSIS, step=step), m, Settings())
        assert [v.metric for v in failures] == [CHANGE_METRIC]
    failures, _ = judge(spec(), AT_ANALYSIS, dataclasses.replace(_measured(0.01), seconds=seconds[:30]), Settings())
    assert failures == ()


def test_a_slower_canary_fails_its_latency_analysis_and_rolls_back() -> None:
    s = dataclasses.replace(spec(), analyses={"health": (Metric("latency_ms", "gateway"),)})
    failures, verdicts = judge(s, AT_ANALYSIS, _measured(0.01, n=2000, canary_ms=260.0), Settings())
    assert [(v.metric, v.outcome) for v in failures] == [("latency_ms", Outcome.FAIL)]
    assert verdicts[0].outcome is Outcome.FAIL and verdicts[0].low > 20.0
    failures, verdicts = judge(s, AT_ANALYSIS, _measured(0.01, n=2000, canary_ms=201.0), Settings())
    assert failures == () and verdicts[0].outcome is Outcome.PASS


def test_a_true_rollback_condition_fails_and_one_reading_an_unmeasured_metric_never_does() -> None:
    s = dataclasses.replace(spec(), rollback_when=("metrics.error_rate > 0.015", "metrics.p95 > 1.5 * baseline.p95"))
    failures, _ = judge(s, AT_ANALYSIS, _measured(0.02), Settings())
    assert [(v.metric, v.outcome) for v in failures] == [("rollback.when[0]", Outcome.FAIL)]
    assert "metrics error_rate=0.02, latency_ms=200" in failures[0].reason
    failures, _ = judge(s, AT_ANALYSIS, _measured(0.01), Settings())
    assert failures == ()


def test_the_success_condition_must_hold_besides_the_sequential_test() -> None:
    s = dataclasses.replace(spec(), conditions={"health": ("metrics.latency_ms < 150", "")})
    _, verdicts = judge(s, AT_ANALYSIS, _measured(0.01, n=20_000), Settings())
    assert [(v.metric, v.outcome) for v in verdicts] == [
        ("error_rate", Outcome.PASS),
        ("successCondition", Outcome.INCONCLUSIVE),
    ]
    s = dataclasses.replace(spec(), conditions={"health": ("metrics.latency_ms < 250", "")})
    _, verdicts = judge(s, AT_ANALYSIS, _measured(0.01, n=20_000), Settings())
    assert all(v.outcome is Outcome.PASS for v in verdicts)
    _, verdicts = judge(s, AT_ANALYSIS, _measured(0.01, n=50), Settings())
    assert verdicts[-1].outcome is Outcome.INCONCLUSIVE and "too little data" in verdicts[-1].reason


def test_a_failure_condition_fails_only_in_its_analysis_step() -> None:
    s = dataclasses.replace(spec(), conditions={"health": ("", "metrics.error_rate > 1.5 * baseline.error_rate")})
    failures, _ = judge(s, AT_ANALYSIS, _measured(0.02), Settings())
    assert [v.metric for v in failures] == ["failureCondition"]
    failures, _ = judge(s, dataclasses.replace(AT_ANALYSIS, step=2), _measured(0.02), Settings())
    assert failures == ()


def test_the_simulator_assumes_what_it_cannot_measure_and_says_so() -> None:
    s = dataclasses.replace(spec(), conditions={"health": ("metrics.p95_latency_ms < 4000", "")})
    run = simulate(s, Traffic(), seed=1)
    assert run.phase is Phase.PROMOTED
    assert any("successCondition" in note and "assumed to pass" in note for note in run.assumed)
