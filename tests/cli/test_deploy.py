from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from helpers.cli import run_cli
from helpers.delivery import Hook
from helpers.gateway import Up, write_repo

from maestro.gateway.serve import Background

ROUTE = """apiVersion: maestro.dev/v1
kind: Route
metadata: {name: chat-route}
spec:
  alias: chat
  candidates:
    - {provider: alpha, model: m1, weight: 100}
"""


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    write_repo(tmp_path, {"alpha": "http://alpha.invalid"}, [Up("alpha")], ROUTE)
    for args in (
        ["init", "-q"],
        ["add", "-A"],
        ["-c", "user.name=t", "-c", "user.email=t@e.invalid", "commit", "-qm", "1"],
    ):
        subprocess.run(["git", *args], cwd=tmp_path, check=True)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_dry_run_prints_the_plan_and_deploy_applies_it(repo: Path) -> None:
    state = ["--state", str(repo / "state.db"), "--no-ledger"]
    plan = run_cli("deploy", "--dry-run", *state, "--json")
    assert plan.exit_code == 0, plan.output
    data = json.loads(plan.output)
    assert data["previous"] is None and data["risk"] == "medium" and data["waitsFor"] == ""
    assert "Route/chat-route" in {c["ref"] for c in data["changes"]}
    done = run_cli("deploy", *state)
    assert done.exit_code == 0, done.output
    assert "over nothing deployed yet: risk medium" in done.output and "deployed (deployment 1)" in done.output
    again = json.loads(run_cli("deploy", "--dry-run", *state, "--json").output)
    assert again["previous"] == data["commit"] and again["changes"] == []


def test_an_unknown_revision_and_approving_without_a_key_are_clear_errors(repo: Path) -> None:
    result = run_cli("deploy", "nope", "--dry-run", "--state", str(repo / "state.db"))
    assert result.exit_code == 2 and "'nope' is neither a file or folder nor a git revision" in result.output
    result = run_cli("deploy", "--approve", "--state", str(repo / "state.db"))
    assert result.exit_code == 2 and "approving needs your ledger key" in result.output


def test_a_deploy_tells_the_policys_webhook(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    policy = repo / "policies" / "default.yaml"
    hooks = "  notifications:\n    - {name: oncall, url: {env: DEPLOY_HOOK}, format: slack, events: [deploy]}\n"
    policy.write_text(policy.read_text(encoding="utf-8").replace("  dualControl:\n", hooks + "  dualControl:\n", 1))
    for args in (["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@e.invalid", "commit", "-qm", "2"]):
        subprocess.run(["git", *args], cwd=repo, check=True)
    receiver = Hook(fail=1)
    with Background(receiver.app()) as url:
        monkeypatch.setenv("DEPLOY_HOOK", url + "/hook")
        done = run_cli("deploy", "--state", str(repo / "state.db"), "--no-ledger")
    assert done.exit_code == 0, done.output
    assert len(receiver.seen) == 1 and receiver.seen[0]["text"].startswith("[maestro] deployed HEAD (")
    assert "risk medium" in receiver.seen[0]["text"]
