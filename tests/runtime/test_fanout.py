"""The map node end to end: a fan-out over a list in child workflows, joined in order, with keys unique per
branch; a list that cannot be read and a branch that would need approval fail the node with the reason."""

from __future__ import annotations

from helpers import runtime_repo
from helpers.cli import run_cli

from maestro.runtime import engine, report, runs

ORDERS = [{"order_id": "A10432"}, {"order_id": "A10001"}, {"order_id": "A20002"}]


def run_map_flow(repo, data, **options):  # type: ignore[no-untyped-def]
    repo.write(**options)
    with engine.launched(repo.root), engine.client(repo.root) as client:
        run_id = runs.start(runs.new_run(repo.root, "map-flow", data))
        return runs.follow(client, run_id, lambda _: None)


def test_each_item_runs_in_its_own_branch_and_the_outputs_join_in_order(repo):
    run = run_map_flow(repo, {"orders": ORDERS})
    assert run.status == "succeeded", run.reason
    assert [o["order_id"] for o in run.output["orders"]] == ["A10432", "A10001", "A20002"]
    assert [o["amount"] for o in run.output["orders"]] == [249.0, 40.0, 120.0]
    (node,) = run.nodes
    assert node["type"] == "map"
    assert [b["node"] for b in node["branches"]] == ["lookups[0]", "lookups[1]", "lookups[2]"]
    keys = [b["calls"][0]["idempotencyKey"] for b in node["branches"]]
    assert keys == [f"{run.id}:lookups[{i}]:0:0" for i in range(3)]
    assert runtime_repo.calls(repo.refund_state, "lookup_order") == 3
    shown = report.show_text(run)
    assert (
        f"branch lookups[2]: succeeded, $0.000000\n        tool call lookup_order (idempotency key {keys[2]})" in shown
    )


def test_explain_says_what_a_map_does(repo):
    explained = run_cli("explain", "Pipeline/map-flow")
    assert explained.exit_code == 0, explained.output
    assert "lookups: for each item of `state.orders` (2 at a time): tool lookup_order of agent support-agent" in (
        explained.output
    )


def test_a_list_that_cannot_be_read_fails_the_node_with_the_expression(repo):
    run = run_map_flow(repo, {"orders": "A10432"})
    assert run.status == "failed"
    assert run.reason == "node 'lookups': map.over `state.orders` gave str 'A10432', not a list"


def test_a_branch_never_waits_for_people_and_the_map_fails_naming_it(repo):
    items = [{"order_id": "A10001", "amount": 40.0, "reason": "damaged"}]
    run = run_map_flow(repo, {"orders": items}, map_tool="issue_refund")
    assert run.status == "failed"
    assert run.reason is not None and run.reason.startswith("node 'lookups': branch lookups[0] refused: not run:")
    assert "a map branch does not wait for people" in run.reason
    assert repo.refunds == 0
