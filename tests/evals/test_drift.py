"""maestro eval --against last: each suite against its previous run, case by case, with fresh answers."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from helpers.cli import run_cli
from helpers.delivery import Hook
from helpers.eval_repo import write
from helpers.eval_upstream import serve
from helpers.evals import ROOT, card, user_text

from maestro.evals import drift
from maestro.evals.cache import Store
from maestro.gateway.serve import Background

SUITE = """apiVersion: maestro.dev/v1
kind: EvalSuite
metadata: {name: intents}
spec:
  target:
    prompt: {route: chat-route, system: "answer", template: "{{input}}"}
  dataset: {file: cases.jsonl}
  assertions:
    - {name: right, type: equals}
"""
HOOK = "  notifications:\n    - {name: evals, url: {env: DRIFT_HOOK}, events: [eval]}\n"


def _repo(repo: Path, url: str) -> None:
    write(repo, url, SUITE)
    rows = "".join(f'{{"id": "c{i}", "input": "case {i}", "expected": "yes"}}\n' for i in range(30))
    (repo / "manifests" / "cases.jsonl").write_text(rows, encoding="utf-8")
    shutil.copytree(ROOT / "policies", repo / "policies")
    policy = repo / "policies" / "default.yaml"
    policy.write_text(policy.read_text(encoding="utf-8").replace("  dualControl:\n", HOOK + "  dualControl:\n", 1))


def test_a_night_that_answers_worse_is_a_drop_the_gate_fails_and_the_webhook_hears(
    repo: Path, monkeypatch: Any
) -> None:
    night = {"n": 1}

    def answer(body: dict[str, Any]) -> str:  # the second night the model gets cases 0-9 wrong
        return "no" if night["n"] == 2 and int(user_text(body).split()[1]) < 10 else "yes"

    receiver = Hook(fail=0)
    with serve(answer) as up, Background(receiver.app()) as hook:
        monkeypatch.setenv("DRIFT_HOOK", hook + "/hook")
        _repo(repo, up.url)
        first = run_cli("eval", "--against", "last")
        assert first.exit_code == 0, first.output
        assert card(repo, "intents")["baseline"] == {"ref": "last", "revision": "", "missing": True}
        night["n"] = 2
        second = run_cli("eval", "--against", "last")
        assert second.exit_code == 0, second.output
        assert up.requests == 60  # the second night asked again: no cached answer hides a drift
    data = card(repo, "intents")
    assert data["baseline"]["ref"] == "last" and data["baseline"]["summary"]["passRate"]["value"] == 1.0
    assert (data["comparison"]["passRate"]["worse"], data["comparison"]["passRate"]["better"]) == (10, 0)
    assert "drift: intents: pass_rate vs last: regressed by -0.3333" in second.output
    gate = run_cli("gate")
    assert gate.exit_code == 1 and "intents: pass_rate vs last: fail (regressed by -0.3333" in gate.output
    assert len(receiver.seen) == 1 and receiver.seen[0]["kind"] == "eval"
    assert receiver.seen[0]["title"].startswith("eval drift: intents dropped since the last run")


def test_two_stored_scorecards_compare_case_by_case(repo: Path) -> None:
    with serve(lambda body: "yes") as up:
        _repo(repo, up.url)
        assert run_cli("eval").exit_code == 0
    good = card(repo, "intents")
    worse = {**good, "cases": [{**c, "passed": c["id"] not in {"c1", "c2"}} for c in good["cases"]]}
    store = Store.open(str(repo / "state.db"))
    store.put_scorecard("intents", good["digest"], "abc123", good)
    store.put_scorecard("intents", good["digest"], "abc123", worse)
    newest, previous = store.history("intents", 2)
    store.close()
    tonight = dict(newest[3])
    drift.against_last(tonight, previous)
    assert tonight["comparison"]["paired"] == 30 and tonight["comparison"]["passRate"]["worse"] == 2
    assert tonight["baseline"]["revision"] == "abc123" and tonight["baseline"]["created"].endswith("Z")
    assert drift.drops([tonight]) == []  # two cases of thirty: not a significant drop
    same = dict(previous[3])
    drift.against_last(same, previous)
    assert same["comparison"]["passRate"]["worse"] == 0
