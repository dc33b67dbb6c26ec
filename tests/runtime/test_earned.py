"""maestro.runtime.earned: where an agent stands against its next level, measured from runs, scorecards and
ledger entries (the example repository's manifests, real statistics)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers.repo import example_paths

from maestro.manifests.kinds.autonomylevel import AutonomyLevel
from maestro.manifests.loader import ManifestSet
from maestro.manifests.validate import validate
from maestro.runtime import earned
from maestro.runtime.earned import AutonomyError, Entry, RunSeen

T0 = 1_800_000_000.0  # 2027-01-15T08:00:00Z
LATER, EARLIER = "2027-01-16T00:00:00.000000Z", "2027-01-01T00:00:00.000000Z"


@pytest.fixture(scope="module")
def manifests(tmp_path_factory: pytest.TempPathFactory) -> ManifestSet:
    import shutil

    root = tmp_path_factory.mktemp("example")
    for name in ("manifests", "policies"):
        shutil.copytree(Path(__file__).resolve().parents[2] / name, root / name)
    return validate(example_paths(root)).manifests


def card(passes: int, n: int) -> dict[str, Any]:
    return {"created": "2027-01-15T09:00:00+00:00", "summary": {"passRate": {"n": n, "sum": float(passes)}}}


def runs(*statuses: str, level: str | None = "L2") -> list[RunSeen]:
    return [RunSeen(f"run-{i}", "refund-flow", s, T0 + i, level) for i, s in enumerate(statuses)]


def test_an_agent_is_measured_at_its_level_with_its_routes_and_tool_steps(manifests: ManifestSet) -> None:
    agent = earned.target(manifests, "support-agent")
    assert (agent.ref, agent.level.name, agent.routes) == ("Agent/support-agent", "L2", frozenset({"support-chat"}))
    assert agent.steps == {  # refund-flow's triage is a model step (an agent step's tool loop would count too)
        ("refund-flow", "lookup"): "read",
        ("refund-flow", "refund"): "write",
    }
    assert earned.target(manifests, "Pipeline/refund-flow").ref == "Pipeline/refund-flow"
    with pytest.raises(AutonomyError, match="no Agent or Pipeline named 'refund-bot'; known: Agent/support-agent"):
        earned.target(manifests, "refund-bot")


def test_only_finished_runs_at_the_current_level_count(manifests: ManifestSet) -> None:
    agent = earned.target(manifests, "support-agent")
    seen = [
        *runs("succeeded", "succeeded", "failed", "rejected", "running", "cancelled"),
        *runs("succeeded", level="L1"),
    ]
    status = earned.status(manifests, agent, seen, {}, [])
    assert dict(status.runs) == {"cancelled": 1, "failed": 1, "rejected": 1, "running": 1, "succeeded": 2}
    (need_runs,) = [c for c in status.criteria if c.name == "minRunsAtLowerLevel"]
    assert (need_runs.needed, need_runs.actual, need_runs.met) == (200, 4, False)
    assert need_runs.gap == "196 more run(s) at this level"
    assert status.next_level is not None and status.next_level.name == "L3"
    assert not status.earned


@pytest.mark.parametrize(
    ("passes", "n", "met", "gap"),
    [
        (100, 100, True, "met"),  # exact 95% lower bound 0.9705
        (99, 100, False, "95% lower bound 0.953 is 0.017 short"),
        (50, 50, False, "even all passing, 99 cases are needed (the scorecard has 50)"),
    ],
)
def test_the_eval_criterion_holds_the_lower_bound_of_the_exact_interval_to_the_floor(
    manifests: ManifestSet, passes: int, n: int, met: bool, gap: str
) -> None:
    agent = earned.target(manifests, "support-agent")
    cards = {"support-quality": card(passes, n), "local-smoke": card(4, 4)}  # the larger scorecard counts
    status = earned.status(manifests, agent, [], cards, [])
    assert status.pass_rate is not None and status.pass_rate.suite == "support-quality"  # the suite of its route
    assert status.pass_rate.low <= status.pass_rate.lower_bound <= status.pass_rate.value <= status.pass_rate.high
    (rate,) = [c for c in status.criteria if c.name == "minEvalPassRate"]
    assert (rate.needed, rate.met) == (0.97, met)
    assert gap in rate.gap


def test_with_no_scorecard_it_says_which_suite_to_run_and_how_many_cases(manifests: ManifestSet) -> None:
    status = earned.status(manifests, earned.target(manifests, "support-agent"), [], {}, [])
    (rate,) = [c for c in status.criteria if c.name == "minEvalPassRate"]
    run = "`maestro eval local-smoke support-quality`"  # the suites of its route
    assert rate.gap == f"no scorecard of its suite yet: run {run}; at least 99 cases, all passing"
    pipeline = earned.status(manifests, earned.target(manifests, "refund-flow"), [], {}, [])
    assert "no EvalSuite targets it" in next(c.gap for c in pipeline.criteria if c.name == "minEvalPassRate")


def entry(index: int, action: str, time: str = LATER, **details: Any) -> Entry:
    return Entry(index, time, action, details)


def test_incidents_are_refusals_failed_side_effects_rollbacks_and_operator_reports(manifests: ManifestSet) -> None:
    agent = earned.target(manifests, "support-agent")
    entries = [
        entry(1, "run.tool.refused", pipeline="refund-flow", node="refund", run="r1", reason="'write' is forbidden"),
        entry(2, "run.node.end", pipeline="refund-flow", node="refund", run="r2", status="failed", error="timeout"),
        entry(3, "run.node.end", pipeline="refund-flow", node="lookup", run="r2", status="failed", error="no order"),
        entry(4, "run.node.end", pipeline="refund-flow", node="refund", run="r3", status="succeeded"),
        entry(5, "rollout.transition", event="rollback", route="support-chat", rollout="canary", reason="p95"),
        entry(6, "rollout.transition", event="rollback", route="batch", rollout="other", reason="p95"),
        entry(7, "autonomy.incident", subject="Agent/support-agent", reason="refunded the wrong order"),
        entry(8, "autonomy.incident", subject="Pipeline/refund-flow", reason="not this agent"),
        entry(9, "autonomy.incident", EARLIER, subject="Agent/support-agent", reason="before the first run"),
    ]
    status = earned.status(manifests, agent, runs("succeeded"), {}, entries)
    assert [(i.index, i.kind) for i in status.incidents] == [
        (1, "refused"),
        (2, "failed-side-effect"),
        (5, "rollback"),
        (7, "operator"),
    ]
    (most,) = [c for c in status.criteria if c.name == "maxIncidents"]
    assert (most.needed, most.actual, most.met) == (0, 4, False)
    assert status.to_json()["incidents"][3]["what"] == "refunded the wrong order"


def test_a_policy_demotes_from_l3_and_above_and_the_demotion_holds_while_the_manifest_names_that_level(
    manifests: ManifestSet,
) -> None:
    levels = {lv.name: lv for lv in manifests.records(AutonomyLevel)}
    assert earned.demotion(manifests, levels["L2"]) is None
    assert earned.demotion(manifests, levels["L3"]) == levels["L2"]
    assert earned.demotion(manifests, levels["L5"]) == levels["L2"]
    demoted = [entry(1, "autonomy.demote", subject="Agent/support-agent", **{"from": "L3", "to": "L2"})]
    assert earned.demoted_to(demoted, "Agent/support-agent", "L3") == "L2"
    assert earned.demoted_to(demoted, "Agent/support-agent", "L4") is None  # a reviewed change named another level
    assert earned.demoted_to(demoted, "Pipeline/refund-flow", "L3") is None


def test_the_raise_request_carries_the_status_as_its_subject(manifests: ManifestSet) -> None:
    status = earned.status(manifests, earned.target(manifests, "support-agent"), runs("succeeded"), {}, [])
    action = earned.raise_action(status, "alice")
    assert (action.action, action.actor, action.autonomy_level) == ("autonomy.raise", "alice", "L3")
    assert [s.name for s in action.subjects] == ["Agent/support-agent"]
    assert action.details["from"] == "L2" and action.details["runs"] == {"succeeded": 1}
