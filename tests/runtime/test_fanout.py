"""The map node end to end: a fan-out over a list in child workflows, joined in order, with keys unique per
branch; a list that cannot be read and a branch that would need approval fail the node with the reason."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from helpers import runtime_repo
from helpers.cli import run_cli
from helpers.ledger import key

from maestro.runtime import engine, report, runs


def until(check: Callable[[], Any], timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


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


def test_branches_wait_for_people_together_each_on_its_own_interrupt(repo):
    items = [{"order_id": "A10001", "amount": 40.0, "reason": "damaged"}, {"order_id": "A10432", "amount": 9.5}]
    items[1]["reason"] = "goodwill"
    repo.write(map_tool="issue_refund")  # a write at L2: each branch's call needs an approval
    with engine.launched(repo.root), engine.client(repo.root) as client:
        run_id = runs.start(runs.new_run(repo.root, "map-flow", {"orders": items}))
        runs.follow(client, run_id, lambda _: None)
        run = until(lambda: len((r := runs.get(client, run_id)).pending) == 2 and r)  # both branches wait
        ids = sorted(p["interrupt"] for p in run.pending)
        assert ids == [f"{run_id}:lookups[0]:0:main", f"{run_id}:lookups[1]:0:main"]
        assert repo.refunds == 0
        shown = runs.get(client, run_id).to_json()["pendingInterrupts"]
        assert sorted(p["interrupt"] for p in shown) == ids
        for interrupt in reversed(ids):  # either order: each branch has its own mailbox
            runs.decide(client, run_id, interrupt, key("bob"), decision="approve")
        run = until(lambda: (r := runs.get(client, run_id)).status in runs.FINAL and r)
    assert run.status == "succeeded", run.reason
    assert [o["refunded"] for o in run.output["orders"]] == [40.0, 9.5]
    assert repo.refunds == 2
