"""maestro autonomy status | incident | promote on a copy of the example repository, with a real ledger."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers.cli import run_cli

from maestro.runtime import standing


def outside(tmp_path: Path) -> Path:
    return tmp_path.parent / f"{tmp_path.name}-outside"


@pytest.fixture
def repo(example_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(example_repo)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(outside(tmp_path) / "config"))
    for name in ("MAESTRO_LEDGER_KEY", "MAESTRO_STATE_URL", "MAESTRO_RUNS_URL"):
        monkeypatch.delenv(name, raising=False)
    return example_repo


@pytest.fixture
def keyed(repo: Path) -> Path:
    assert run_cli("keys", "init", "--name", "alice").exit_code == 0
    return repo


def edit(repo: Path, file: str, old: str, new: str) -> None:
    path = repo / file
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_status_says_what_l3_takes_and_how_far_it_is(repo: Path) -> None:
    result = run_cli("autonomy", "status", "support-agent")
    assert result.exit_code == 0, result.output
    assert "Agent/support-agent: L2 (level 2)" in result.output
    assert "L3 (level 3) takes:" in result.output
    assert "[ ] runs at this level >= 200 (now 0): 200 more run(s) at this level" in result.output
    assert "at least 99 cases, all passing" in result.output
    assert "[?] evidence: rollback drill record" in result.output
    assert "L3: not earned yet" in result.output
    data = json.loads(run_cli("autonomy", "status", "support-agent", "--json").output)
    assert (data["subject"], data["next"]["name"], data["earned"]) == ("Agent/support-agent", "L3", False)
    assert [c["name"] for c in data["criteria"]][:3] == ["minEvalPassRate", "minRunsAtLowerLevel", "maxIncidents"]


def test_an_unknown_subject_is_a_clear_error(repo: Path) -> None:
    result = run_cli("autonomy", "status", "refund-bot")
    assert result.exit_code == 2
    assert "no Agent or Pipeline named 'refund-bot'; known: Agent/support-agent, Pipeline/refund-flow" in result.output


def test_an_incident_needs_a_ledger(repo: Path) -> None:
    result = run_cli("autonomy", "incident", "support-agent", "--reason", "refunded twice")
    assert result.exit_code == 2 and "keeps no ledger" in result.output


def test_an_incident_at_l3_demotes_to_l2_and_the_gate_uses_l2(keyed: Path) -> None:
    at_l2 = run_cli("autonomy", "incident", "support-agent", "--reason", "answered rudely", "--json")
    assert at_l2.exit_code == 0, at_l2.output
    assert json.loads(at_l2.output)["demotedTo"] is None  # the Policy demotes from L3 and above
    edit(keyed, "manifests/agents.yaml", "  autonomyLevel: L2 ", "  autonomyLevel: L3 ")
    at_l3 = run_cli("autonomy", "incident", "support-agent", "--reason", "refunded the wrong order")
    assert at_l3.exit_code == 0, at_l3.output
    assert "demoted from L3 to L2" in at_l3.output
    assert standing.demoted_levels(keyed, [("Agent/support-agent", "L3"), ("Pipeline/refund-flow", "L2")]) == ["L2"]
    status = run_cli("autonomy", "status", "support-agent")
    assert "demoted to L2 after an incident" in status.output
    assert "operator: refunded the wrong order" in status.output and "incidents: 2" in status.output
    shown = run_cli("ledger", "show").output
    assert "autonomy.incident" in shown and "autonomy.demote" in shown
    assert run_cli("ledger", "verify").exit_code == 0


def test_promote_refuses_until_earned(keyed: Path) -> None:
    request = keyed / "raise.json"
    result = run_cli("autonomy", "promote", "support-agent", "--out-file", str(request))
    assert result.exit_code == 1
    assert "Agent/support-agent has not earned L3 yet" in result.output and "200 more run(s)" in result.output
    assert not request.exists()


def test_an_earned_level_opens_the_dual_control_request_that_two_others_approve(keyed: Path, tmp_path: Path) -> None:
    edit(keyed, "manifests/autonomy.yaml", "minRunsAtLowerLevel: 200", "minRunsAtLowerLevel: 0")
    edit(keyed, "manifests/autonomy.yaml", "minEvalPassRate: 0.97", "minEvalPassRate: 0.90")
    cards = keyed / ".maestro" / "evals"
    cards.mkdir(parents=True)
    card = {
        "suite": "support-quality",
        "created": "2027-01-15T09:00:00+00:00",
        "summary": {"passRate": {"n": 40, "sum": 40.0}},
    }
    (cards / "support-quality.json").write_text(json.dumps(card), encoding="utf-8")
    request = tmp_path / "raise.json"
    opened = run_cli("autonomy", "promote", "support-agent", "--out-file", str(request))
    assert opened.exit_code == 0, opened.output
    assert "2 approver(s) other than you run `maestro ledger approve" in opened.output
    assert "set autonomyLevel: L3 on Agent/support-agent in a reviewed change" in opened.output
    for name in ("bob", "carol"):
        path = outside(tmp_path) / f"{name}.key"
        assert run_cli("keys", "init", "--name", name, "--key", str(path)).exit_code == 0
        assert run_cli("ledger", "approve", str(request), "--key", str(path)).exit_code == 0
    submitted = run_cli("ledger", "submit", str(request))
    assert submitted.exit_code == 0, submitted.output
    shown = run_cli("ledger", "show", "--format", "json").output.splitlines()
    entries = [json.loads(line)["statement"] for line in shown]
    (raised,) = [e for e in entries if e["predicate"]["action"] == "autonomy.raise"]
    assert raised["predicate"]["autonomyLevel"] == "L3"
    assert raised["predicate"]["details"]["evalPassRate"]["n"] == 40
    assert raised["subject"][0]["name"] == "Agent/support-agent"
