"""The engine's launches: only a worker takes queued runs (`maestro run` runs its own and leaves the queue), and
only runs of this runtime version (an older maestro's runs are left as they are)."""

from __future__ import annotations

from dbos import EnqueueOptions
from helpers.cli import run_cli

from maestro.runtime import engine, runs
from maestro.runtime.workflow import QUEUE, WORKFLOW

SMALL = {"order_id": "A10001", "reason": "damaged"}  # 40.0: no approval, the run ends on its own
OLD_VERSION = "maestro-runtime-1"  # the version before the agent loop, map and sub-pipeline nodes


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


def test_a_run_queued_by_an_older_runtime_version_is_left_alone_and_can_be_cancelled(repo):  # type: ignore[no-untyped-def]
    assert engine.APP_VERSION != OLD_VERSION
    repo.write(refund_action="read")
    engine.ensure(repo.root)
    run = runs.new_run(repo.root, "refund-flow", SMALL)
    with engine.client(repo.root) as client:
        options: EnqueueOptions = {
            "queue_name": QUEUE,
            "workflow_name": WORKFLOW,
            "workflow_id": run["id"],
            "app_version": OLD_VERSION,
        }
        client.enqueue(options, dict(run))
        ours = runs.enqueue(client, runs.new_run(repo.root, "refund-flow", SMALL))
    with engine.launched(repo.root, queue=True), engine.client(repo.root) as client:  # a worker of this version
        assert runs.follow(client, ours, lambda _: None).status == "succeeded"
        assert runs.get(client, run["id"]).status == "queued"
    assert repo.refunds == 1
    cancelled = run_cli("runs", "cancel", run["id"])
    assert cancelled.exit_code == 0 and f"run {run['id']}: cancelled" in cancelled.output
