"""Resume exactly once: a worker SIGKILLed while a run waits for approval, and again right after the refund
was paid but before its answer was recorded, is restarted; the refund happens once and the output is the
same as an uninterrupted run's."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from helpers import runtime_repo
from helpers.ledger import key

from maestro.runtime import engine, runs

WORKER = [sys.executable, "-c", "import sys; from maestro.cli.main import main; sys.exit(main())", "worker"]
UNINTERRUPTED = {"text": "Dear customer, about order A10432: done."}  # what test_runs' uninterrupted run answers


def worker(root: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.Popen(WORKER, cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def kill(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)


def until(check: Callable[[], object], timeout: float = 120.0) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out waiting")


def waiting_on(root: Path, run_id: str, node: str) -> runs.Run | None:
    with engine.client(root) as client:
        run = runs.get(client, run_id)
    return run if run.interrupt and run.interrupt["node"] == node else None


def test_a_killed_worker_resumes_and_refunds_once(repo, monkeypatch):
    monkeypatch.setenv("MAESTRO_REFUND_DELAY_S", "3")  # the refund is paid, then the answer waits 3 s
    run = runs.new_run(repo.root, "refund-flow", {"order_id": "A10432", "reason": "damaged"})
    engine.ensure(repo.root)
    with engine.client(repo.root) as client:
        runs.enqueue(client, run)
    run_id = run["id"]

    proc = worker(repo.root)
    until(lambda: waiting_on(repo.root, run_id, "approve"))
    kill(proc)  # 1: killed while the run waits for a human
    with engine.client(repo.root) as client:
        runs.decide(client, run_id, f"{run_id}:approve:0:main", key("bob"), decision="approve")

    proc = worker(repo.root)
    until(lambda: waiting_on(repo.root, run_id, "refund"))
    with engine.client(repo.root) as client:
        runs.decide(client, run_id, f"{run_id}:refund:0:main", key("carol"), decision="approve")
    until(lambda: repo.refunds == 1)
    kill(proc)  # 2: killed after the refund was paid, before its answer came back
    assert runtime_repo.calls(repo.refund_state, "issue_refund") == 1

    proc = worker(repo.root)
    try:
        with engine.client(repo.root) as client:
            final = until(lambda: (r := runs.get(client, run_id)).status in runs.FINAL and r)
    finally:
        kill(proc)
    assert isinstance(final, runs.Run)
    assert final.status == "succeeded", final.reason
    assert final.output == UNINTERRUPTED
    assert repo.refunds == 1  # paid once
    assert runtime_repo.calls(repo.refund_state, "issue_refund") == 2  # retried once, with the same key
    assert runtime_repo.calls(repo.refund_state, "lookup_order") == 1  # a finished step never runs again


def test_a_worker_killed_inside_an_agent_loop_resumes_at_the_call_in_flight(repo, monkeypatch):
    """The agent's lookup_order finished before the kill and never runs again; its issue_refund was paid but
    not answered, and is repeated once with the same key; the run ends as an uninterrupted one."""
    monkeypatch.setenv("MAESTRO_REFUND_DELAY_S", "3")
    repo.write(refund_action="read")  # no approval: the loop runs straight through
    run = runs.new_run(repo.root, "agent-flow", {"order_id": "A10432"})
    engine.ensure(repo.root)
    with engine.client(repo.root) as client:
        runs.enqueue(client, run)
    run_id = run["id"]

    proc = worker(repo.root)
    until(lambda: repo.refunds == 1)
    kill(proc)  # the refund is paid; its answer (and the agent's next turn) are not recorded
    proc = worker(repo.root)
    try:
        with engine.client(repo.root) as client:
            final = until(lambda: (r := runs.get(client, run_id)).status in runs.FINAL and r)
    finally:
        kill(proc)
    assert isinstance(final, runs.Run)
    assert final.status == "succeeded", final.reason
    assert final.output["refund"]["refunded"] == 249.0
    assert repo.refunds == 1
    assert runtime_repo.calls(repo.refund_state, "lookup_order") == 1
    assert runtime_repo.calls(repo.refund_state, "issue_refund") == 2
    keys = [c["idempotencyKey"] for c in final.nodes[0]["calls"] if c["kind"] == "tool"]
    assert keys == [f"{run_id}:work:0:0", f"{run_id}:work:0:1"]
