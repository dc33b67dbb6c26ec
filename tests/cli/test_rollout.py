from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from helpers.cli import run_cli
from helpers.gateway import ROOT, Up, write_repo

from maestro.delivery.controller import Controller
from maestro.state.weights import LiveWeights

ROUTE = """apiVersion: maestro.dev/v1
kind: Route
metadata: {name: chat-route}
spec:
  alias: chat
  candidates:
    - {provider: alpha, model: m1, weight: 100}
    - {provider: beta, model: m1, weight: 0}
---
apiVersion: maestro.dev/v1
kind: Rollout
metadata: {name: chat-beta}
spec:
  target: {kind: Route, name: chat-route}
  change: {from: alpha/m1, to: beta/m1}
  steps:
    - setWeight: 10
    - analysis: health
    - setWeight: 50
  analysis:
    - name: health
      metrics: [{name: error_rate, source: gateway}]
"""


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    ups = [Up("alpha"), Up("beta")]
    write_repo(tmp_path, {u.name: f"http://{u.name}.invalid" for u in ups}, ups, ROUTE)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _cli(repo: Path, *args: str) -> dict[str, object]:
    result = run_cli("rollout", *args, "--state", str(repo / "state.db"), "--json")
    assert result.exit_code == 0, result.output
    data: dict[str, object] = json.loads(result.output)
    return data


def test_start_status_promote_undo_list_history(repo: Path) -> None:
    manifests = ["-m", str(repo / "manifests"), "-m", str(repo / "policies")]
    started = _cli(repo, "start", "chat-beta", *manifests, "--no-ledger")
    assert {k: started[k] for k in ("name", "phase", "step", "canaryWeight")} == {
        "name": "chat-beta",
        "phase": "Progressing",
        "step": 0,
        "canaryWeight": 0,
    }
    assert str(started["digest"]).startswith("sha256:") and started["verdicts"] == []
    promoted = _cli(repo, "promote", "chat-beta", "--full", "--no-ledger")
    assert promoted["phase"] == "Promoted" and promoted["canaryWeight"] == 100
    undone = _cli(repo, "undo", "chat-beta", "--no-ledger")
    assert undone["phase"] == "RolledBack" and undone["canaryWeight"] == 0
    assert [e["event"] for e in undone["events"]] == ["start", "promoteFull", "undo"]  # type: ignore[union-attr]
    listed = run_cli("rollout", "list", "--state", str(repo / "state.db"), "--json")
    assert json.loads(listed.output) == [
        {"name": "chat-beta", "phase": "RolledBack", "route": "chat-route", "canaryWeight": 0, "run": 1}
    ]
    history = run_cli("rollout", "history", "chat-beta", "--state", str(repo / "state.db"))
    assert "undo: Promoted -> RolledBack, canary 0%" in history.output


def test_a_second_start_and_a_missing_deployment_are_clear_errors(repo: Path) -> None:
    manifests = ["-m", str(repo / "manifests"), "-m", str(repo / "policies")]
    _cli(repo, "start", "chat-beta", *manifests, "--no-ledger")
    again = run_cli("rollout", "start", "chat-beta", *manifests, "--no-ledger", "--state", str(repo / "state.db"))
    assert again.exit_code == 2 and "is Progressing; wait for it to finish" in again.output
    text = (repo / "manifests" / "providers.yaml").read_text().replace("to: beta/m1", "to: beta/m2")
    (repo / "manifests" / "providers.yaml").write_text(text)
    bad = run_cli("rollout", "start", "chat-beta", *manifests, "--no-ledger", "--state", str(repo / "other.db"))
    assert bad.exit_code == 2 and "spec.change.to 'beta/m2' is not a candidate of route 'chat-route'" in bad.output


def test_simulate_promotes_a_healthy_canary_and_rolls_back_a_failing_one(repo: Path) -> None:
    manifests = ["-m", str(repo / "manifests"), "-m", str(repo / "policies")]
    healthy = json.loads(run_cli("rollout", "simulate", "chat-beta", *manifests, "--json").output)
    assert healthy["phase"] == "Promoted" and healthy["mttrS"] is None
    bad = run_cli("rollout", "simulate", "chat-beta", *manifests, "--canary-error-rate", "0.2", "--json")
    failing = json.loads(bad.output)
    assert failing["phase"] == "RolledBack" and failing["events"][-1]["canaryWeight"] == 0
    text = run_cli("rollout", "simulate", "chat-beta", *manifests, "--canary-error-rate", "0.2", "--onset", "30")
    assert "from the fault at 30s: all traffic on stable" in text.output


def test_the_example_rollout_starts_and_its_first_step_gives_gpt4o_ten_percent_of_mini(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("manifests", "policies"):
        shutil.copytree(ROOT / name, tmp_path / name)
    monkeypatch.chdir(tmp_path)
    db = tmp_path / "s.db"
    result = run_cli("rollout", "start", "support-chat-gpt4o", "--no-ledger", "--state", str(db))
    assert result.exit_code == 0, result.output
    controller = Controller(db, actor="test")
    try:
        assert [t.event for t in controller.tick()] == ["setWeight"]
        weights = LiveWeights(controller.conn).current()["support-chat"]
        haiku = "anthropic-us/claude-3-5-haiku-20241022"
        assert weights == {"openai-us/gpt-4o-mini": 81.0, "openai-us/gpt-4o": 9.0, haiku: 10.0}  # haiku keeps its
    finally:
        controller.close()
    status = run_cli("rollout", "status", "support-chat-gpt4o", "--state", str(db), "--json")
    assert status.exit_code == 0, status.output
    shown = json.loads(status.output)
    assert (shown["phase"], shown["canaryWeight"]) == ("Progressing", 10)
    again = run_cli("rollout", "start", "support-chat-gpt4o", "--no-ledger", "--state", str(db))
    assert again.exit_code == 2 and "support-chat-gpt4o" in again.output


def test_every_transition_and_weight_change_is_a_signed_ledger_entry(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path.parent / f"{tmp_path.name}-config"))
    monkeypatch.delenv("MAESTRO_LEDGER_KEY", raising=False)
    assert run_cli("keys", "init", "--name", "alice").exit_code == 0
    manifests = ["-m", str(repo / "manifests"), "-m", str(repo / "policies")]
    for args in (["start", "chat-beta", *manifests], ["promote", "chat-beta", "--full"], ["undo", "chat-beta"]):
        result = run_cli("rollout", *args)
        assert result.exit_code == 0, result.output
    shown = run_cli("ledger", "show", "--format", "json")
    entries = [json.loads(line) for line in shown.output.splitlines()]
    predicates = [e["statement"]["predicate"] for e in entries]
    actions = [(p["action"], p["details"].get("event"), p["actor"]) for p in predicates]
    assert actions == [
        ("rollout.transition", "start", "rollout:alice"),
        ("weights.set", None, "rollout:alice"),
        ("rollout.transition", "promoteFull", "rollout:alice"),
        ("weights.set", None, "rollout:alice"),
        ("rollout.transition", "undo", "rollout:alice"),
    ]
    assert run_cli("ledger", "verify").exit_code == 0


def test_a_bad_cron_in_a_rollout_window_is_a_validation_error(repo: Path) -> None:
    path = repo / "manifests" / "providers.yaml"
    path.write_text(
        path.read_text() + "  freezeWindows:\n    - {name: weekly, cron: '0 18 * *', duration: 2h, timeZone: UTC}\n"
    )
    result = run_cli("validate", str(repo / "manifests"), str(repo / "policies"))
    assert result.exit_code == 1
    assert "policy.freeze-window" in result.output and "not a five-field cron expression" in result.output


def test_approving_needs_a_ledger_key(repo: Path) -> None:
    manifests = ["-m", str(repo / "manifests"), "-m", str(repo / "policies")]
    _cli(repo, "start", "chat-beta", *manifests, "--no-ledger")
    result = run_cli("rollout", "approve", "chat-beta", "--state", str(repo / "state.db"))
    assert result.exit_code == 2 and "approving needs your ledger key" in result.output


def test_approve_refuses_a_key_holder_without_one_of_the_rollouts_roles(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = repo / "manifests" / "providers.yaml"
    text = path.read_text()
    path.write_text(text.replace("    - setWeight: 50\n", "    - pause: manual\n    - setWeight: 50\n", 1))
    path.write_text(
        path.read_text().replace(
            "  change: {from: alpha/m1, to: beta/m1}\n",
            "  change: {from: alpha/m1, to: beta/m1}\n  approvals: {required: 1, roles: [platform-oncall]}\n",
        )
    )
    monkeypatch.delenv("MAESTRO_LEDGER_KEY", raising=False)
    keys = {who: tmp_path.parent / f"{tmp_path.name}-{who}.key" for who in ("alice", "bob", "carol")}
    assert run_cli("keys", "init", "--name", "alice", "--key", str(keys["alice"])).exit_code == 0
    assert run_cli("keys", "init", "--name", "bob", "--key", str(keys["bob"]), "--role", "support-lead").exit_code == 0
    oncall = ["--role", "platform-oncall"]
    assert run_cli("keys", "init", "--name", "carol", "--key", str(keys["carol"]), *oncall).exit_code == 0
    manifests = ["-m", str(repo / "manifests"), "-m", str(repo / "policies")]
    _cli(repo, "start", "chat-beta", *manifests, "--key", str(keys["alice"]))
    state_db = ["--state", str(repo / "state.db")]
    refused = run_cli("rollout", "approve", "chat-beta", *state_db, "--key", str(keys["bob"]))
    assert refused.exit_code == 2, refused.output
    assert "'bob' holds support-lead; this needs one of platform-oncall" in refused.output
    approved = run_cli("rollout", "approve", "chat-beta", *state_db, "--key", str(keys["carol"]))
    assert approved.exit_code == 0 and "approvals that count for this gate: carol" in approved.output
    promoted = run_cli("rollout", "promote", "chat-beta", "--full", *state_db, "--key", str(keys["alice"]))
    assert promoted.exit_code == 0, promoted.output
    verified = run_cli(
        "ledger", "verify", *manifests, *state_db
    )  # checks the promotion's sign-offs against the pinned Rollout
    assert verified.exit_code == 0, verified.output
