"""maestro run, runs and worker through the real CLI: run and resume in a child process (they end the process
while a run waits in DBOS.recv), the read-only commands in-process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import eval_upstream, runtime_repo
from helpers.cli import run_cli

MAESTRO = [sys.executable, "-c", "import sys; from maestro.cli.main import main; sys.exit(main())"]


def maestro(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.run(
        [*MAESTRO, *args], cwd=root, env=env, capture_output=True, text=True, timeout=300, check=False
    )


@pytest.fixture
def repo(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    with eval_upstream.serve(runtime_repo.answer) as up:
        monkeypatch.chdir(tmp_path)
        monkeypatch.setenv("MAESTRO_REFUND_STATE", str(tmp_path / "refunds.db"))
        monkeypatch.setenv("MAESTRO_LEDGER_KEY", str(tmp_path / "alice.key"))
        runtime_repo.write(tmp_path, up.url)
        (tmp_path / "in.json").write_text(json.dumps({"order_id": "A10001", "reason": "damaged"}))
        yield tmp_path


def test_run_waits_then_approve_and_resume_finish_it(repo):  # type: ignore[no-untyped-def]
    started = maestro(repo, "run", "refund-flow", "--input", "in.json")
    assert started.returncode == 0, started.stderr
    run_id = started.stdout.split()[1].rstrip(":")
    assert "lookup#0 (tool): succeeded" in started.stdout
    interrupt = f"{run_id}:refund:0:main"
    assert f"interrupt: {interrupt}" in started.stdout
    assert "issue_refund(order_id='A10001', amount=40.0, reason='damaged')" in started.stdout

    listed = json.loads(run_cli("runs", "list", "--status", "waiting", "--json").output)
    assert [r["id"] for r in listed] == [run_id]
    shown = json.loads(run_cli("runs", "show", run_id, "--json").output)
    assert shown["pendingInterrupts"][0]["interrupt"] == interrupt
    assert [n["node"] for n in shown["nodes"]] == ["triage", "lookup"]

    own = run_cli("runs", "approve", run_id, interrupt, "--key", "alice.key")
    assert own.exit_code == 2 and "cannot approve it" in own.output
    stale = run_cli("runs", "approve", run_id, f"{run_id}:refund:7:main", "--key", "bob.key")
    assert stale.exit_code == 2 and "no pending interrupt" in stale.output
    assert run_cli("runs", "approve", run_id, interrupt, "--key", "bob.key", "--comment", "ok").exit_code == 0

    resumed = maestro(repo, "runs", "resume", run_id)
    assert resumed.returncode == 0, resumed.stderr
    assert "refund#0 (tool): succeeded" in resumed.stdout
    assert f"run {run_id}: succeeded" in resumed.stdout
    assert runtime_repo.refunds(repo / "refunds.db") == 1
    text = run_cli("runs", "show", run_id).output
    assert f"tool call issue_refund (idempotency key {run_id}:refund:0:0)" in text

    logged = run_cli("runs", "logs", run_id, "refund")
    assert logged.exit_code == 0, logged.output
    events = [line.split()[2] for line in logged.output.splitlines()]
    assert events == ["start", "tool", "end"]
    assert f"tool issue_refund called, idempotency key {run_id}:refund:0:0" in logged.output
    every = json.loads(run_cli("runs", "logs", run_id, "--json").output)
    assert [x["node"] for x in every if x["event"] == "start"] == ["triage", "lookup", "refund", "reply"]
    assert [x["at"] for x in every] == sorted(x["at"] for x in every)
    unknown = run_cli("runs", "logs", run_id, "nope")
    assert unknown.exit_code == 2 and "has no node 'nope'; its nodes: triage, lookup, refund, reply" in unknown.output


def test_bad_input_and_an_unknown_pipeline_are_usage_errors(repo):  # type: ignore[no-untyped-def]
    (repo / "bad.json").write_text("[1, 2")
    bad = run_cli("run", "refund-flow", "--input", "bad.json")
    assert bad.exit_code == 2 and "is not JSON" in bad.output
    unknown = run_cli("run", "nope")
    assert unknown.exit_code == 2 and "no Pipeline named 'nope'" in unknown.output
    none = run_cli("runs", "list")
    assert none.exit_code == 2 and "no runs here yet" in none.output


def test_a_detached_run_is_queued_and_can_be_cancelled(repo):  # type: ignore[no-untyped-def]
    queued = run_cli("run", "refund-flow", "--input", "in.json", "--detach")
    assert queued.exit_code == 0, queued.output
    run_id = queued.output.split()[1]
    assert run_cli("runs", "list", "--status", "queued").output.count(run_id) == 1
    cancelled = run_cli("runs", "cancel", run_id)
    assert cancelled.exit_code == 0 and f"run {run_id}: cancelled" in cancelled.output
