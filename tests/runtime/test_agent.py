"""The agent node's tool loop end to end: real DBOS on SQLite, the example MCP server over stdio, a fake model
upstream that asks for tool calls in the OpenAI streaming format; each call through the autonomy gate."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from helpers.ledger import key

from maestro.runtime import engine, runs

ORDER = {"order_id": "A10432"}  # 249.0 at the example server


@pytest.fixture
def client(repo) -> Iterator[runs.DBOSClient]:  # type: ignore[no-untyped-def]
    with engine.launched(repo.root), engine.client(repo.root) as c:
        yield c
        for waiting in runs.list_runs(c, "waiting"):
            run = waiting
            while run.status == "waiting":
                run = decide(c, run, "carol", "reject")


def start(repo, pipeline="agent-flow", data=ORDER):  # type: ignore[no-untyped-def]
    with engine.client(repo.root) as c:
        run_id = runs.start(runs.new_run(repo.root, pipeline, data))
        return runs.follow(c, run_id, lambda _: None)


def decide(client, run, who, decision="approve"):  # type: ignore[no-untyped-def]
    interrupt = run.interrupt["interrupt"]
    runs.decide(client, run.id, interrupt, key(who), decision=decision)
    return runs.follow(client, run.id, lambda _: None, seen=len(run.nodes), past=interrupt)


def test_the_agent_calls_its_tools_through_the_gate_and_answers_with_their_results(repo, client):
    run = start(repo)
    assert run.status == "waiting"  # lookup_order (read) ran; issue_refund (write at L2) waits for a human
    assert run.interrupt["interrupt"] == f"{run.id}:work:0:call1"
    assert "issue_refund(order_id='A10432', amount=249.0, reason='damaged')" in run.interrupt["what"]
    assert repo.refunds == 0

    run = decide(client, run, "bob")
    assert run.status == "succeeded", run.reason
    assert repo.refunds == 1
    (node,) = run.nodes
    kinds = [(c["kind"], c.get("tool")) for c in node["calls"]]
    assert kinds == [
        ("model", None),
        ("tool", "lookup_order"),
        ("model", None),
        ("tool", "issue_refund"),
        ("model", None),
    ]
    assert [c["idempotencyKey"] for c in node["calls"] if c["kind"] == "tool"] == [
        f"{run.id}:work:0:0",
        f"{run.id}:work:0:1",
    ]
    assert run.output == {"order_id": "A10432", "refund": {**run.output["refund"], "refunded": 249.0}}
    model_tokens = [c["tokens"] for c in node["calls"] if c["kind"] == "model"]
    assert model_tokens[:2] == [110, 110] and node["tokens"] == sum(model_tokens)  # the usage the upstream reported
    assert node["costUsd"] == pytest.approx(run.cost_usd) and run.cost_usd > 0


def test_a_refused_call_goes_back_to_the_model_which_answers_without_it(repo):
    with engine.launched(repo.root):
        run = start(repo, data={"order_id": "A20002"})  # the model asks for wipe_orders, a tool it does not have
    assert run.status == "succeeded", run.reason
    (node,) = run.nodes
    refused = [c for c in node["calls"] if c.get("refused")]
    assert [c["tool"] for c in refused] == ["wipe_orders"]
    reason = "Agent 'refund-agent' has no tool 'wipe_orders'; its tools: issue_refund, lookup_order"
    assert refused[0]["refused"] == reason
    assert run.output["refund"] == {"error": reason}  # what the model was told
    assert repo.refunds == 0


@pytest.mark.parametrize(
    ("limits", "reason"),
    [
        ("limits: {maxSteps: 2}", "stopped after maxSteps 2 model turns without a final answer"),
        ("limits: {maxTokensPerStep: 50}", "turn 1 used 110 tokens, over the Agent's maxTokensPerStep 50"),
        ("limits: {maxCostUsdPerStep: 0.00001}", "turn 1 cost $0.000120, over the Agent's maxCostUsdPerStep $1e-05"),
    ],
)
def test_the_agent_limits_stop_the_node_with_the_reason(repo, limits, reason):
    repo.write(agent_limits=limits, refund_action="read")
    with engine.launched(repo.root):
        run = start(repo)
    assert run.status == "failed"
    assert run.reason == f"node 'work': {reason}"
    assert run.nodes[0]["attempts"] == 1  # a limit is not retried
