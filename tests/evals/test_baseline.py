"""maestro eval --baseline REF: the base revision's manifests and files, run case by case, cached by revision."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from helpers.cli import run_cli
from helpers.eval_repo import commit_all, write
from helpers.eval_upstream import serve
from helpers.evals import card, system_text, user_text

SUITE = """apiVersion: maestro.dev/v1
kind: EvalSuite
metadata: {{name: intents}}
spec:
  target:
    prompt: {{route: chat-route, system: "{system}", template: "{{{{input}}}}"}}
  dataset: {{file: cases.jsonl}}
  assertions:
    - {{name: right, type: equals}}
  thresholds: {{passRate: 0.5}}
  baseline: {{ref: main, minDelta: 0}}
"""


def dataset(rows: int, changed: str = "") -> str:
    return "".join(f'{{"id": "c{i}", "input": "case {i}{changed}", "expected": "yes"}}\n' for i in range(rows))


def answer(body: dict[str, Any]) -> str:
    """Prompt v1 answers every case right; prompt v2 gets cases 0-9 wrong."""
    number = int(user_text(body).split()[1])
    return "no" if "v2" in system_text(body) and number < 10 else "yes"


def setup(repo: Path, url: str) -> None:
    write(repo, url, SUITE.format(system="prompt v1"))
    (repo / "manifests" / "cases.jsonl").write_text(dataset(30), encoding="utf-8")
    commit_all(repo, "base")


def test_a_significant_regression_against_the_base_revision_fails_the_gate(repo: Path) -> None:
    with serve(answer) as up:
        setup(repo, up.url)
        (repo / "manifests" / "evals.yaml").write_text(SUITE.format(system="prompt v2"), encoding="utf-8")
        result = run_cli("eval", "--baseline", "main")
        assert result.exit_code == 0, result.output
        assert up.requests == 60  # 30 head + 30 base
        data = card(repo, "intents")
        assert data["baseline"]["ref"] == "main" and data["baseline"]["cached"] is False
        assert data["comparison"]["passRate"]["test"] == "mcnemar-exact"
        assert (data["comparison"]["passRate"]["worse"], data["comparison"]["passRate"]["better"]) == (10, 0)
        gate = run_cli("gate")
        assert gate.exit_code == 1
        assert "intents: pass_rate vs main: fail (regressed by -0.3333 (mcnemar-exact, p=0.00195))" in gate.output
        assert "intents: pass_rate: pass" in gate.output  # 20/30 still clears the 0.5 bound
        comment = run_cli("gate", "--format", "markdown").output
        assert "| metric | main | this change | delta | paired test |" in comment
        assert "| pass rate | 1 | 0.6667 | -0.3333 | mcnemar-exact p=0.00195 |" in comment
        # again: the base revision's scorecard is reused (same revision, same suite hash), nothing is called
        assert run_cli("eval", "--baseline", "main").exit_code == 0
        assert up.requests == 60
        assert card(repo, "intents")["baseline"]["cached"] is True


def test_the_base_side_reads_its_dataset_from_the_revision_not_the_working_tree(repo: Path) -> None:
    with serve(answer) as up:
        setup(repo, up.url)
        (repo / "manifests" / "cases.jsonl").write_text(dataset(30, changed=" (edited)"), encoding="utf-8")
        assert run_cli("eval", "--baseline", "main").exit_code == 0
        texts = up.user_messages()
    assert sum("(edited)" in t for t in texts) == 30 and sum("(edited)" not in t for t in texts) == 30
    data = card(repo, "intents")
    assert data["comparison"]["paired"] == 30
    gate = run_cli("gate")
    assert gate.exit_code == 0 and "pass_rate vs main: pass (no significant regression" in gate.output


def test_an_unknown_base_revision_is_a_usage_error(repo: Path) -> None:
    with serve(answer) as up:
        setup(repo, up.url)
        result = run_cli("eval", "--baseline", "no-such-branch")
    assert result.exit_code == 2
    assert "'no-such-branch' is neither a file or folder nor a git revision" in result.output
