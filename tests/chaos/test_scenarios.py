"""The shipped chaos scenarios meet their targets, and the drill's own checks can fail.

Each shipped scenario runs whole, as `maestro chaos drill --scenario NAME` runs it (about 5-10 s each): its
fake upstreams, the real gateway and the paced load on 127.0.0.1. A rollout scenario runs faster than its 50
requests/s (`--scale F`: F times the rate, its fault window and time targets divided by F), 15-40 s each; the
latency one at only twice the rate, since a busy machine's own latency noise grows with the rate.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from maestro.chaos import drill, scenario

ROOT = Path(__file__).resolve().parents[2]
QUICK = {"canary-regression": 4.0, "canary-slower": 2.0}
SHIPPED = sorted((ROOT / "manifests" / "chaos").glob(f"*{scenario.SUFFIX}"))


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name.removesuffix(scenario.SUFFIX) for p in SHIPPED])
def test_a_shipped_scenario_meets_every_target(path: Path) -> None:
    parsed = scenario.load(path)
    parsed = parsed if parsed.rollout is None else parsed.scaled(QUICK[parsed.name])
    report = drill.run(parsed).as_dict()
    assert report["missed"] == [], report
    if parsed.rollout is None:
        assert report["requests"] == parsed.load.requests
        assert "mttr_s" not in report  # the JSON of a drill without a rollout is as it was
    else:  # the load stops a few seconds after the rollout ended
        assert report["rollout_phase"] == "RolledBack" and report["onset_canary_weight"] == 10
        assert 0 < report["time_to_detect_s"] <= report["mttr_s"] <= parsed.targets["mttr_s"]
        assert report["canary_requests_after_onset"] > 0 and report["requests"] < parsed.load.requests
    for name in parsed.targets:  # every target was measured, none skipped for want of a value
        assert report[name] is not None, (name, report)
    assert report["policy_violations"] == 0 and report["silent_truncations"] == 0
    slowest = max(u.faults.latency_ms for u in parsed.upstreams if u.name in parsed.candidates)
    assert report["p50_added_ms"] >= slowest  # an injected delay shows in what the drill measures


def test_the_issue_targets_are_the_shipped_ones() -> None:
    targets = {p.name.removesuffix(scenario.SUFFIX): scenario.load(p).targets for p in SHIPPED}
    assert targets["brownout"]["success_rate"] >= 0.999
    assert targets["primary-down"]["rescue_p99_ms"] <= 1000 + 1000  # first-token deadline (1 s) + 1 s
    for name in ("primary-down", "eu-outage", "recovery"):
        assert targets[name]["max_attempts_to_down_provider_per_cooldown"] == 1, name
    assert all(t["policy_violations"] == 0 for t in targets.values())  # set, or the default every scenario has
    brownout = scenario.load(ROOT / "manifests" / "chaos" / "brownout.chaos.json")
    assert brownout.upstreams[0].faults.error_rate == 0.3 and len(brownout.fallback) == 1


def _small(**overrides: Any) -> scenario.Scenario:
    data: dict[str, Any] = {
        "name": "small",
        "upstreams": {"primary": {"jurisdiction": "eu"}, "fallback": {"jurisdiction": "eu"}},
        "route": {"candidates": ["primary"], "fallback": ["fallback"], "retries": 0},
        "load": {"requests": 30, "rate_per_s": 100, "concurrency": 8, "stream_share": 0.5},
    }
    data.update(overrides)
    return scenario.parse(data)


def test_a_breaker_that_never_opens_misses_the_down_provider_target() -> None:
    down = _small(
        upstreams={"primary": {"faults": {"error_rate": 1.0, "error_status": 503}}, "fallback": {}},
        breaker={"failures": 1000, "cooldown_s": 1},
        targets={"max_attempts_to_down_provider_per_cooldown": 1},
    )
    report = drill.run(down)
    assert report.success_rate == 1.0  # the fallback served every one
    assert report.max_attempts_to_down_provider_per_cooldown == 30  # every request tried the primary first
    assert report.missed == ["max_attempts_to_down_provider_per_cooldown 30 (target <= 1)"]


def test_an_answer_from_an_upstream_the_scenario_does_not_allow_is_a_violation() -> None:
    # both upstreams are in the EU, so the router allows both for pii.email; the scenario says only the fallback
    tagged = _small(load={"requests": 20, "rate_per_s": 100, "tagged_share": 1.0, "tags": ["pii.email"]})
    strict = _small(
        load={"requests": 20, "rate_per_s": 100, "tagged_share": 1.0, "tags": ["pii.email"]},
        allowed={"pii.email": ["fallback"]},
    )
    assert drill.run(tagged).policy_violations == 0
    report = drill.run(strict)
    assert report.served_by == {"primary/m1": 20}
    assert report.policy_violations == 20
    assert report.missed == ["policy_violations 20 (target <= 0)"]


def test_a_target_with_nothing_to_measure_is_missed() -> None:
    healthy = _small(targets={"rescue_p99_ms": 2000, "time_to_recover_s": 1})
    report = drill.run(healthy)
    assert report.success_rate == 1.0 and report.rescue_p99_ms is None
    assert report.missed == [
        "rescue_p99_ms not measured (no answer needed a second attempt)",
        "time_to_recover_s not measured (the healed upstream served no answer after it healed, or no phase heals one)",
    ]


def test_allowed_must_name_known_upstreams() -> None:
    with pytest.raises(ValueError, match=r"allowed\['pii.email'\] names upstream\(s\) nowhere"):
        _small(allowed={"pii.email": ["nowhere"]})
    with pytest.raises(TypeError, match=r"allowed\['pii.email'\] must be a list of upstream names"):
        _small(allowed={"pii.email": "fallback"})


def test_an_isolated_drill_reads_the_call_logs_of_upstreams_in_processes_of_their_own() -> None:
    down = _small(
        upstreams={"primary": {"faults": {"error_rate": 1.0, "error_status": 503}}, "fallback": {}},
        breaker={"failures": 1, "cooldown_s": 60},
    )
    report = drill.run(down, isolate=True)
    assert report.success_rate == 1.0 and report.served_by == {"fallback/m1": 30}
    # the primary's calls came back over HTTP from its process: those before its circuit opened, and none after
    # (one of two open is panic at the default threshold, but the open primary goes after the healthy fallback)
    assert report.attempts_before_open["primary"] >= 1
    assert report.max_attempts_to_down_provider_per_cooldown == 0
    assert report.panic_decisions > 0


def test_the_rollout_scenarios_are_the_issue_drill() -> None:
    errors = scenario.load(ROOT / "manifests" / "chaos" / "canary-regression.chaos.json")
    slower = scenario.load(ROOT / "manifests" / "chaos" / "canary-slower.chaos.json")
    for s in (errors, slower):
        assert s.rollout is not None and s.load.rate_per_s == 50 and s.rollout.first_weight == 10
    assert errors.rollout is not None and slower.rollout is not None
    assert (errors.upstreams[1].faults.error_rate, errors.rollout.fault.error_rate) == (0.01, 0.06)
    assert slower.rollout.fault.latency_ms == 1.3 * slower.upstreams[1].faults.latency_ms
    quick = errors.scaled(4)
    assert quick.load.rate_per_s == 200 and quick.targets["mttr_s"] == errors.targets["mttr_s"] / 4
    assert quick.rollout is not None and quick.rollout.onset_within == (0.25, 5.0)


def test_a_rollout_needs_upstreams_it_names_and_a_weight_step() -> None:
    base = {"from": "primary", "to": "fallback", "steps": [{"setWeight": 10}]}
    assert _small(rollout=base).rollout is not None
    with pytest.raises(ValueError, match=r"rollout\.to must name one of the upstreams"):
        _small(rollout={**base, "to": "nope"})
    with pytest.raises(ValueError, match="needs a setWeight step"):
        _small(rollout={**base, "steps": [{"analysis": "health"}]})
    with pytest.raises(ValueError, match="unknown key"):
        _small(rollout={**base, "fautl": {}})
