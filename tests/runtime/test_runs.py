"""Runs end to end in one process: real DBOS on SQLite, the example MCP server over stdio, a fake model."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from helpers.cli import run_cli
from helpers.ledger import key

from maestro.runtime import engine, runs
from maestro.runtime.errors import InterruptError, RunError

BIG = {"order_id": "A10432", "reason": "damaged"}  # 249.0: over 100, needs the approve step
SMALL = {"order_id": "A10001", "reason": "damaged"}  # 40.0


@pytest.fixture
def client(repo) -> Iterator[runs.DBOSClient]:  # type: ignore[no-untyped-def]
    with engine.launched(repo.root), engine.client(repo.root) as c:
        yield c
        finish_waiting(c)


def finish_waiting(client):  # type: ignore[no-untyped-def]
    """Reject what still waits: a run blocked in DBOS.recv would hold its thread past the test."""
    for waiting in runs.list_runs(client, "waiting"):
        run = waiting
        while run.status == "waiting":
            run = approve(client, run, "carol", "reject")


def start(repo, client, data):  # type: ignore[no-untyped-def]
    run_id = runs.start(runs.new_run(repo.root, "refund-flow", data))
    return runs.follow(client, run_id, lambda _: None)


def approve(client, run, who, decision="approve"):  # type: ignore[no-untyped-def]
    interrupt = run.interrupt["interrupt"]
    runs.decide(client, run.id, interrupt, key(who), decision=decision)
    return runs.follow(client, run.id, lambda _: None, seen=len(run.nodes), past=interrupt)


def ledger_actions() -> list[str]:
    """The actions in the repository's ledger (the working folder), after `maestro ledger verify` passed."""
    verified = run_cli("ledger", "verify")
    assert verified.exit_code == 0, verified.output
    shown = run_cli("ledger", "show", "--format", "json")
    return [
        json.loads(line)["statement"]["predicate"]["action"]
        for line in shown.output.splitlines()
        if line.startswith("{")
    ]


def test_a_large_refund_waits_for_the_approve_step_then_the_autonomy_gate_and_refunds_once(repo, client):
    run = start(repo, client, BIG)
    assert run.status == "waiting"
    assert [n["node"] for n in run.nodes] == ["triage", "lookup"]
    assert run.interrupt["interrupt"] == f"{run.id}:approve:0:main"

    run = approve(client, run, "bob")
    assert run.status == "waiting"
    assert run.interrupt["kind"] == "autonomy"
    assert run.interrupt["interrupt"] == f"{run.id}:refund:0:main"
    assert "issue_refund(order_id='A10432', amount=249.0, reason='damaged')" in run.interrupt["what"]
    assert repo.refunds == 0

    run = approve(client, run, "carol")
    assert run.status == "succeeded", run.reason
    assert [n["node"] for n in run.nodes] == ["triage", "lookup", "approve", "refund", "reply"]
    assert run.output == {"text": "Dear customer, about order A10432: done."}
    assert repo.refunds == 1
    refund = run.nodes[3]
    assert refund["calls"][0]["idempotencyKey"] == f"{run.id}:refund:0:0"
    assert run.cost_usd > 0


def test_a_small_refund_skips_the_approve_step(repo, client):
    run = start(repo, client, SMALL)
    assert run.status == "waiting"
    assert run.interrupt["node"] == "refund"  # only the autonomy gate: issue_refund is a write at L2
    run = approve(client, run, "bob")
    assert run.status == "succeeded"
    assert repo.refunds == 1


def test_an_allowed_action_runs_without_waiting(repo):
    repo.write(refund_action="read")
    with engine.launched(repo.root), engine.client(repo.root) as c:
        run = start(repo, c, SMALL)
    assert run.status == "succeeded"
    assert repo.refunds == 1


def test_a_forbidden_action_is_refused_at_call_time(repo):
    """validate rejects a tool its level forbids; the gate refuses it at call time all the same (defence in
    depth), judged on manifests read without validation."""
    from maestro.manifests.loader import SourceFile
    from maestro.manifests.validate import validate_sources
    from maestro.runtime import nodes
    from maestro.runtime.graph import Node

    repo.write(pipeline_level="L0")  # stricter than the Agent's L2: a write is in neither of L0's lists
    manifests = validate_sources([SourceFile("all.yaml", (repo.root / "manifests" / "all.yaml").read_bytes(), "")])
    run = {"id": "run-x", "pipeline": "refund-flow", "root": str(repo.root), "snapshot": {"digest": "d"}}
    node = Node("refund", "tool", agent="support-agent", tool="issue_refund")
    state = {"order_id": "A10001", "amount": 40.0, "reason": "damaged"}
    verdict = nodes.gate(nodes.Context(run, manifests.manifests, node, 0, state))
    assert (verdict["decision"], verdict["level"]) == ("forbid", "L0")
    assert verdict["reason"] == "'write' is forbidden at L0 (in neither of its lists)"


def test_an_approval_step_with_roles_counts_only_holders_of_one(repo):
    repo.write(approve_roles="refund-approver")
    (repo.root / ".maestro" / "keys" / "roles.json").write_text('{"carol": ["refund-approver"]}')
    with engine.launched(repo.root), engine.client(repo.root) as c:
        run = start(repo, c, BIG)
        assert run.interrupt["roles"] == ["refund-approver"]
        runs.decide(c, run.id, run.interrupt["interrupt"], key("bob"), decision="approve")  # bob holds no role
        run = approve(c, run, "carol")
        assert run.interrupt["node"] == "refund"  # carol's approval counted; the autonomy gate is next
        approve_node = next(n for n in run.nodes if n["node"] == "approve")
        assert approve_node["output"]["approvers"] == ["carol"]
        assert approve_node["output"]["refusedSignatures"] == [
            "'bob' holds no role; this needs one of refund-approver (.maestro/keys/roles.json gives roles)"
        ]
        finish_waiting(c)


def test_a_decision_the_run_would_not_count_is_refused_before_it_is_sent_and_following_never_hangs(repo):
    repo.write(approve_roles="refund-approver")
    (repo.root / ".maestro" / "keys" / "roles.json").write_text('{"carol": ["refund-approver"]}')
    with engine.launched(repo.root), engine.client(repo.root) as c:
        run = start(repo, c, BIG)
        interrupt = run.interrupt["interrupt"]
        with pytest.raises(InterruptError, match=r"would not count this approve: 'bob' holds no role"):
            runs.decide(c, run.id, interrupt, key("bob"), decision="approve", root=repo.root)
        assert runs.refused(c, run, interrupt) == []  # nothing was sent
        runs.decide(c, run.id, interrupt, key("bob"), decision="approve")  # no root: sent unchecked, then refused
        followed = runs.follow(c, run.id, lambda _: None, seen=len(run.nodes), past=interrupt, settle_s=3)
        assert followed.status == "waiting" and followed.interrupt["interrupt"] == interrupt  # it returned
        assert runs.refused(c, followed, interrupt) == [
            "'bob' holds no role; this needs one of refund-approver (.maestro/keys/roles.json gives roles)"
        ]
        finish_waiting(c)


def test_a_rejection_stops_the_refund(repo, client):
    run = start(repo, client, BIG)
    run = approve(client, run, "bob", "reject")
    assert run.status == "succeeded"  # approve -> reply when not approved
    assert [n["node"] for n in run.nodes] == ["triage", "lookup", "approve", "reply"]
    assert repo.refunds == 0


def test_a_stale_or_unknown_interrupt_and_the_requester_are_refused(repo, client):
    run = start(repo, client, BIG)
    with pytest.raises(InterruptError, match="no pending interrupt"):
        runs.decide(client, run.id, f"{run.id}:approve:1:main", key("bob"), decision="approve")
    with pytest.raises(InterruptError, match="cannot approve"):
        runs.decide(client, run.id, run.interrupt["interrupt"], key("alice"), decision="approve")
    assert runs.get(client, run.id).status == "waiting"


def test_a_run_keeps_the_manifests_it_started_with(repo, client):
    run = start(repo, client, BIG)
    manifest = repo.root / "manifests" / "all.yaml"
    text = manifest.read_text().replace("output.amount > 100", "output.amount > 1000")
    manifest.write_text(text.replace("output.amount <= 100", "output.amount <= 1000"))  # still exhaustive
    run = approve(client, run, "bob")
    assert run.interrupt["node"] == "refund"  # the pinned graph still went through approve
    fresh = runs.new_run(repo.root, "refund-flow", BIG)
    assert fresh["snapshot"]["digest"] != run.digest


def test_arguments_that_fail_the_tool_schema_fail_the_node_with_the_reason(repo, client):
    run = start(repo, client, {"order_id": "nope", "reason": "damaged"})
    assert run.status == "failed"
    assert "node 'lookup'" in run.reason
    assert "order_id" in run.reason and "does not match" in run.reason


def test_an_unknown_pipeline_is_a_clear_error(repo):
    known = "agent-flow, map-flow, model-flow, parent-flow, refund-flow"
    with pytest.raises(RunError, match=f"no Pipeline named 'nope'; known pipelines: {known}"):
        runs.new_run(repo.root, "nope", {})


def test_the_ledger_holds_every_step_and_verifies(repo, client):
    run = approve(client, approve(client, start(repo, client, BIG), "bob"), "carol")
    assert run.status == "succeeded"
    actions = ledger_actions()
    assert all(node["ledger"] for node in run.nodes)  # runs show names each node's entries
    approve_node = next(n for n in run.nodes if n["node"] == "approve")
    assert "ledger" not in approve_node["output"]
    for action in ("run.node.start", "run.node.end", "run.model.call", "run.tool.call", "run.approval", "run.end"):
        assert action in actions
