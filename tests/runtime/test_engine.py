"""The engine's launches: only a worker takes queued runs; `maestro run` runs its own run and leaves the queue."""

from __future__ import annotations

from maestro.runtime import engine, runs

SMALL = {"order_id": "A10001", "reason": "damaged"}  # 40.0: no approval, the run ends on its own


def test_a_launch_without_queue_leaves_other_runs_queued_and_a_worker_launch_takes_them(repo):  # type: ignore[no-untyped-def]
    repo.write(refund_action="read")  # no autonomy gate: each run ends on its own
    with engine.launched(repo.root, queue=True):  # a worker once ran here: the queue is in the run state
        pass
    with engine.client(repo.root) as client:
        queued = runs.enqueue(client, runs.new_run(repo.root, "refund-flow", SMALL))
    with engine.launched(repo.root), engine.client(repo.root) as client:  # what `maestro run` does
        own = runs.follow(client, runs.start(runs.new_run(repo.root, "refund-flow", SMALL)), lambda _: None)
        assert own.status == "succeeded"
        assert runs.get(client, queued).status == "queued"
    assert repo.refunds == 1
    with engine.launched(repo.root, queue=True), engine.client(repo.root) as client:  # what `maestro worker` does
        taken = runs.follow(client, queued, lambda _: None)
    assert taken.status == "succeeded"
    assert repo.refunds == 2
