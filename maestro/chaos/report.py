"""What a drill measured, worked out from the outcomes, the upstreams' call logs and the breakers' openings.

- ``success_rate``: answers that are complete (a 200, and for a stream its ``[DONE]``) over all requests;
- ``attempts_per_request``: upstream attempts (``x-maestro-attempts``) per request;
- ``p50_added_ms`` / ``p99_added_ms``: latency through the gateway under faults minus the median of the same
  requests sent straight to a healthy upstream;
- ``rescue_p99_ms``: p99 latency of the answers that needed more than one attempt;
- ``time_to_recover_s``: from a phase that heals an upstream to the end of its first answer served again;
- ``policy_violations``: answers served by a deployment the request's tags do not allow: one outside the
  router's allowed set for the tags alone (without live state), or outside the scenario's own ``allowed``
  upstreams for one of its tags;
- ``silent_truncations``: streams that ended without ``[DONE]`` and without an error event;
- ``panic_decisions``: decisions that ignored open circuits because fewer than the route's panic threshold of
  its deployments had a closed one (``maestro_gateway_panic_decisions_total``);
- ``max_attempts_to_down_provider_per_cooldown``: for an upstream that fails every call, the most calls it
  received in one window between two openings of its circuit (each at least a cooldown long); the calls
  that reached it before its circuit first opened are counted in ``attempts_before_open``. An upstream whose
  circuit never opened counts all its failed calls as one window (a breaker that never trips misses the
  target); one that received no call counts 0.
- for a scenario with a ``rollout``: ``time_to_detect_s``, ``mttr_s``, ``canary_requests_after_onset``,
  ``canary_failed_after_onset`` (``chaos.canary``), the rollout's last phase and the canary's weight at the onset.

``text`` renders a report for people: one row per measure with its unit and the scenario's target.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from maestro.chaos.load import ALIAS, MESSAGES, Outcome, quantile
from maestro.chaos.scenario import Scenario
from maestro.chaos.upstream import Faults
from maestro.gateway.runtime import Runtime
from maestro.router import Request, RouterTable, decide

_IN_FLIGHT_S = 0.05  # a call received this soon after an opening was admitted before it


@dataclass
class DrillReport:
    scenario: str
    requests: int
    success_rate: float
    attempts_per_request: float
    baseline_p50_ms: float
    p50_added_ms: float
    p99_added_ms: float
    rescue_p99_ms: float | None
    time_to_recover_s: float | None
    policy_violations: int
    silent_truncations: int
    max_attempts_to_down_provider_per_cooldown: int | None
    panic_decisions: int = 0
    attempts_before_open: dict[str, int] = field(default_factory=dict)
    served_by: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    refusals: dict[str, int] = field(default_factory=dict)
    missed: list[str] = field(default_factory=list)
    rollout: dict[str, Any] | None = None  # the rollout drill's measures (chaos.canary), or None

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON: a rollout drill's measures at the top level, beside the others."""
        data = asdict(self)
        rollout = data.pop("rollout")
        return data if rollout is None else {**data, **rollout}


def report(
    scenario: Scenario,
    outcomes: list[Outcome],
    *,
    baseline: Mapping[bool, float],
    calls: Mapping[str, Sequence[tuple[float, str]]],
    runtime: Runtime,
    table: RouterTable,
    started: float,
    rollout: dict[str, Any] | None = None,
) -> DrillReport:
    n = len(outcomes) or 1
    added = [o.ms - baseline[o.stream] for o in outcomes if o.complete]
    rescued = [o.ms for o in outcomes if o.complete and o.attempts > 1]
    per_window, before = _down_attempts(scenario, calls, runtime)
    report = DrillReport(
        scenario=scenario.name,
        requests=len(outcomes),
        success_rate=round(sum(o.complete for o in outcomes) / n, 6),
        attempts_per_request=round(sum(o.attempts for o in outcomes) / n, 4),
        baseline_p50_ms=round(max(baseline.values()), 3),
        p50_added_ms=round(quantile(added, 0.5) or 0.0, 3),
        p99_added_ms=round(quantile(added, 0.99) or 0.0, 3),
        rescue_p99_ms=_round(quantile(rescued, 0.99)),
        time_to_recover_s=_recovery(scenario, outcomes, started),
        policy_violations=_violations(scenario, outcomes, table),
        silent_truncations=sum(o.silent_truncation for o in outcomes),
        max_attempts_to_down_provider_per_cooldown=per_window,
        attempts_before_open=before,
        panic_decisions=int(
            runtime.metrics.registry.get_sample_value("maestro_gateway_panic_decisions_total", {"route": "drill"}) or 0
        ),
        served_by=dict(Counter(o.served_by for o in outcomes)),
        statuses=dict(sorted(Counter(str(o.status or o.client_error) for o in outcomes).items())),
        refusals=dict(Counter(o.refusal for o in outcomes if o.refusal).most_common()),
        rollout=rollout,
    )
    report.missed = scenario.missed({k: v for k, v in report.as_dict().items() if isinstance(v, int | float)})
    return report


def _down(faults: Faults) -> bool:
    return faults.error_rate >= 1 or faults.hang_rate >= 1 or faults.rate_limit_rate >= 1


def _down_attempts(
    scenario: Scenario, calls: Mapping[str, Sequence[tuple[float, str]]], runtime: Runtime
) -> tuple[int | None, dict[str, int]]:
    """The most calls a failing-every-call upstream received between two openings of its circuit.

    Each opening starts a window that lasts until the next opening (at least one cooldown); a healthy breaker
    lets exactly one call through per window: the half-open probe, whose failure opens the next window. Calls
    received within ``_IN_FLIGHT_S`` of an opening were sent before it and are not counted in that window.
    """
    worst: int | None = None
    before: dict[str, int] = {}
    openings = list(runtime.breakers.openings)
    for name, log in calls.items():
        if not any(_down(f) for f in _faults_over_time(scenario, name)):
            continue
        failed = [t for t, outcome in log if outcome != "ok"]
        opened = [t for t, key in openings if key == f"{name}/m1"]
        before[name] = sum(1 for t in failed if not opened or t < opened[0] + _IN_FLIGHT_S)
        worst = max(worst or 0, 0 if opened else len(failed))
        ends = [*opened[1:], float("inf")] if opened else []
        for start, end in zip(opened, ends, strict=True):
            count = sum(1 for t in failed if start + _IN_FLIGHT_S <= t < end)
            worst = max(worst or 0, count)
    return worst, before


def _faults_over_time(scenario: Scenario, name: str) -> list[Faults]:
    start = next(u.faults for u in scenario.upstreams if u.name == name)
    return [start, *(p.faults[name] for p in scenario.phases if name in p.faults)]


def _recovery(scenario: Scenario, outcomes: list[Outcome], started: float) -> float | None:
    """Seconds from the phase that healed a failing upstream to the end of its first answer after that."""
    out = None
    for phase in scenario.phases:
        for name, faults in phase.faults.items():
            if _down(faults):
                continue
            healed = started + phase.at_s
            served = [
                o.started + o.ms / 1000
                for o in outcomes
                if o.complete and o.served_by == f"{name}/m1" and o.started >= healed
            ]
            if served:
                out = max(out or 0.0, min(served) - healed)
    return None if out is None else round(out, 3)


def _violations(scenario: Scenario, outcomes: list[Outcome], table: RouterTable) -> int:
    allowed: dict[tuple[str, ...], frozenset[str]] = {}
    count = 0
    for o in outcomes:
        if o.status != 200:
            continue
        if o.tags not in allowed:
            request = Request(alias=ALIAS, messages=MESSAGES, tags=frozenset(o.tags))
            allowed[o.tags] = decide(table, request).allowed
        upstream = (o.served_by or "").partition("/")[0]
        stated = all(upstream in scenario.allowed[t] for t in o.tags if t in scenario.allowed)
        if o.served_by not in allowed[o.tags] or not stated:
            count += 1
    return count


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


# measure -> (label, unit); the order of the rows
_ROWS = {
    "requests": ("requests sent", ""),
    "success_rate": ("complete answers", "%"),
    "attempts_per_request": ("upstream attempts per request", ""),
    "baseline_p50_ms": ("healthy upstream, straight, p50", "ms"),
    "p50_added_ms": ("added by the gateway under faults, p50", "ms"),
    "p99_added_ms": ("added by the gateway under faults, p99", "ms"),
    "rescue_p99_ms": ("answers that needed a second attempt, p99", "ms"),
    "time_to_recover_s": ("healed upstream serving again after", "s"),
    "policy_violations": ("answers from a deployment the tags forbid", ""),
    "silent_truncations": ("streams cut without an error", ""),
    "max_attempts_to_down_provider_per_cooldown": ("calls to a down upstream per cooldown, most", ""),
    "panic_decisions": ("panic decisions (open circuits ignored)", ""),
    "rollout_phase": ("rollout ended", ""),
    "onset_canary_weight": ("canary weight when the fault began", "%"),
    "time_to_detect_s": ("fault onset to rollback", "s"),
    "mttr_s": ("fault onset to all traffic on stable (MTTR)", "s"),
    "canary_requests_after_onset": ("canary calls after the onset", ""),
    "canary_failed_after_onset": ("canary calls failed after the onset", ""),
    "attempts_before_open": ("calls to a down upstream before its circuit opened", ""),
    "served_by": ("answers by deployment", ""),
    "statuses": ("answers by status", ""),
    "refusals": ("error answers by reason", ""),
}


def text(report: DrillReport, scenario: Scenario) -> str:
    """The report as a table for people: measure, value with its unit, and the scenario's target."""
    data = report.as_dict()
    rows = [("measure", "value", "target")]
    counts = []  # the breakdowns, one line each under the table
    for key, (label, unit) in _ROWS.items():
        if key not in data:
            continue
        if isinstance(data[key], dict):
            counts.append(f"  {label}: {_value(data[key], unit, key)}")
        else:
            rows.append((label, _value(data[key], unit, key), _target(scenario, key, unit)))
    width = [max(len(r[i]) for r in rows) for i in range(2)]
    lines = [f"drill {report.scenario}"]
    lines += [f"  {a:<{width[0]}}  {b:>{width[1]}}  {c}".rstrip() for a, b, c in rows]
    lines += counts
    lines.append("targets: " + ("all met" if not report.missed else "MISSED " + "; ".join(report.missed)))
    return "\n".join(lines)


def _value(value: Any, unit: str, key: str) -> str:
    if value is None:
        return "not measured"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items()) or "none"
    if unit == "%" and key == "success_rate":
        return f"{100 * value:.2f} %"
    if isinstance(value, float):
        return f"{value:,.1f} {unit}".rstrip() if unit == "ms" else f"{value:,.3g} {unit}".rstrip()
    return f"{value} {unit}".rstrip() if not isinstance(value, str) else value


def _target(scenario: Scenario, key: str, unit: str) -> str:
    if key not in scenario.targets:
        return ""
    target = scenario.targets[key]
    shown = f"{100 * target:g} %" if key == "success_rate" else f"{target:g} {unit}".rstrip()
    return (">= " if key == "success_rate" else "<= ") + shown
