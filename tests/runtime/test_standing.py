"""maestro.runtime.standing at call time: the gate judges at the level a demotion left, and a refusal demotes
where a Policy says so (the runtime test repository, its real ledger, no engine needed for the gate)."""

from __future__ import annotations

from typing import Any

import pytest

from maestro.evidence import Action, Subject
from maestro.ledger.record import record
from maestro.manifests.loader import SourceFile
from maestro.manifests.validate import validate_sources
from maestro.runtime import earned, nodes, standing
from maestro.runtime.graph import Node

STATE = {"order_id": "A10001", "amount": 40.0, "reason": "damaged"}
DEMOTING_POLICY = """---
apiVersion: maestro.dev/v1
kind: Policy
metadata: {name: demote}
spec:
  demoteOnIncident: {atOrAbove: 2, to: L0}
"""


def gate(repo: Any) -> dict[str, Any]:
    text = (repo.root / "manifests" / "all.yaml").read_bytes()
    manifests = validate_sources([SourceFile("all.yaml", text, "")]).manifests
    run = {"id": "run-x", "pipeline": "refund-flow", "root": str(repo.root), "snapshot": {"digest": "d"}}
    node = Node("refund", "tool", agent="support-agent", tool="issue_refund")
    return nodes.gate(nodes.Context(run, manifests, node, 0, dict(STATE)))


def test_the_gate_judges_a_demoted_agent_at_the_level_it_was_demoted_to(repo: Any) -> None:
    before = gate(repo)
    assert (before["decision"], before["level"]) == ("approval", "L2")
    details = {"subject": "Agent/support-agent", "from": "L2", "to": "L0", "reason": "refunded twice"}
    demote = Action("autonomy.demote", "alice", [Subject.of("Agent/support-agent", b"demote")], details=details)
    record(repo.root, lambda actor: demote)
    verdict = gate(repo)
    assert (verdict["decision"], verdict["level"]) == ("forbid", "L0")


def test_a_refusal_demotes_once_where_a_policy_says_so(repo: Any) -> None:
    repo.write(pipeline_level="L0")  # the write is forbidden at the pipeline's L0: refused at call time
    path = repo.root / "manifests" / "all.yaml"
    path.write_text(path.read_text(encoding="utf-8") + DEMOTING_POLICY, encoding="utf-8")
    assert gate(repo)["decision"] == "forbid"
    gate(repo)  # refused again: the demotion is recorded once
    demotions = standing.read_entries(repo.root / ".maestro" / "state.db", (earned.DEMOTE,))
    assert [(d.details["subject"], d.details["from"], d.details["to"]) for d in demotions] == [
        ("Agent/support-agent", "L2", "L0")  # the pipeline is at L0 already: nothing lower to go to
    ]
    assert standing.demoted_levels(repo.root, [("Agent/support-agent", "L2")]) == ["L0"]


def test_status_counts_the_runs_pinned_at_the_level_the_manifest_names_now(repo: Any) -> None:
    from maestro.runtime import engine, runs

    repo.write(refund_action="read")  # nothing to approve: the run ends on its own
    with engine.launched(repo.root), engine.client(repo.root) as client:
        run_id = runs.start(runs.new_run(repo.root, "refund-flow", {"order_id": "A10001", "reason": "damaged"}))
        assert runs.follow(client, run_id, lambda _: None).status == "succeeded"
    assert dict(standing.measure(repo.root, "support-agent").runs) == {"succeeded": 1}
    with pytest.raises(earned.AutonomyError, match="names no autonomyLevel of its own"):
        standing.measure(repo.root, "refund-flow")
    path = repo.root / "manifests" / "all.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("  autonomyLevel: L2\n", "  autonomyLevel: L0\n"))
    moved = standing.measure(repo.root, "support-agent")
    assert moved.target.level.name == "L0" and dict(moved.runs) == {}  # that run was pinned at L2
