"""The pipeline node: a child run of another Pipeline, pinned by digest when the parent starts; its approvals
are shown on and sent through the parent; its output and cost become the node's."""

from __future__ import annotations

from helpers.ledger import key

from maestro.runtime import engine, runs, snapshot, subpipeline

BIG = {"order_id": "A10432", "reason": "damaged"}


def test_a_sub_pipeline_runs_as_a_child_pinned_by_digest_and_waits_through_its_parent(repo):
    with engine.launched(repo.root), engine.client(repo.root) as c:
        started = runs.new_run(repo.root, "parent-flow", BIG)
        manifests = snapshot.manifests(snapshot.Snapshot.from_json(started["snapshot"]))
        assert started["pins"] == {"refund-flow": subpipeline.digest(manifests, "refund-flow")}
        run = runs.follow(c, runs.start(started), lambda _: None)
        child = f"{run.id}.sub.0"
        assert run.status == "waiting"
        assert run.interrupt["interrupt"] == f"{child}:approve:0:main"  # the child's, shown on the parent
        for _ in range(2):  # the child's approve step, then its autonomy gate on issue_refund
            interrupt = run.interrupt["interrupt"]
            runs.decide(c, run.id, interrupt, key("bob"), decision="approve")
            run = runs.follow(c, run.id, lambda _: None, past=interrupt)
        assert run.status == "succeeded", run.reason
    (node,) = run.nodes
    assert (node["type"], node["child"], node["digest"]) == ("pipeline", child, started["pins"]["refund-flow"])
    assert run.output == {"text": "Dear customer, about order A10432: done."}
    assert node["costUsd"] == run.cost_usd > 0
    assert repo.refunds == 1
