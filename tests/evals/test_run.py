"""maestro eval end to end: real HTTP upstreams on 127.0.0.1, the real CLI, the state store on disk."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from helpers.cli import run_cli
from helpers.eval_repo import suite, write
from helpers.eval_upstream import serve
from helpers.evals import ROOT, card, user_text

CASES = "\n".join(
    f"      - {{id: c{i}, input: 'question {i} about a refund', expected: refund, vars: {{n: '{i}'}}}}"
    for i in range(6)
)
DATASET = "    inline:\n" + CASES + "\n"
ASSERTIONS = """    - {name: says-refund, type: contains}
    - {name: has-number, type: cel, value: "output.contains(vars.n)"}
    - {name: short, type: regex, value: '^.{1,200}$', weight: 0.5}
"""


def echo(body: dict[str, Any]) -> str:
    """Answers 'refund N' for 'question N', except question 5, which gets a wrong answer."""
    number = user_text(body).split()[1]
    return "no idea" if number == "5" else f"We will refund you, case {number}."


def test_a_suite_runs_through_its_route_and_writes_a_scorecard(repo: Path) -> None:
    with serve(echo) as up:
        write(repo, up.url, suite("refunds", DATASET, ASSERTIONS, "  thresholds: {passRate: 0.5}\n"))
        result = run_cli("eval", "refunds")
        assert result.exit_code == 0, result.output
        assert up.requests == 6
    data = card(repo, "refunds")
    assert data["summary"]["passRate"]["value"] == 5 / 6
    assert data["metrics"]["says-refund"]["passRate"] == 5 / 6
    failed = [c for c in data["cases"] if not c["passed"]]
    assert [(c["id"], c["line"]) for c in failed] == [("c5", 13)]  # line of the case in manifests/evals.yaml
    assert data["cost"]["totalUsd"] > 0 and data["latency"]["p95Ms"] >= data["latency"]["p50Ms"]
    assert "manifests/evals.yaml:13: case 'c5' failed" in result.output
    assert "refunds [6/6]" in result.output and "refunds: done" in result.output  # plain progress lines, no tty


def test_an_unchanged_suite_makes_no_model_call_the_second_time_and_regrade_only_grades(repo: Path) -> None:
    with serve(echo) as up:
        write(repo, up.url, suite("refunds", DATASET, ASSERTIONS))
        assert run_cli("eval").exit_code == 0
        assert up.requests == 6
        assert run_cli("eval").exit_code == 0
        assert up.requests == 6  # every generation and grade came from the state store
        second = card(repo, "refunds")["calls"]
        assert second == {"generated": 0, "generationsCached": 6, "graded": 0, "gradesCached": 18, "workers": 0}
        assert run_cli("eval", "--regrade").exit_code == 0
        assert up.requests == 6
        assert card(repo, "refunds")["calls"]["graded"] == 18
        # one changed case generates once; the five others stay cached
        (repo / "manifests" / "evals.yaml").write_text(
            (repo / "manifests" / "evals.yaml").read_text().replace("question 0 about", "question 0 on"), "utf-8"
        )
        assert run_cli("eval").exit_code == 0
        assert up.requests == 7


def test_repeats_and_concurrency_from_the_command_line(repo: Path) -> None:
    with serve(echo) as up:
        write(repo, up.url, suite("refunds", DATASET, ASSERTIONS))
        assert run_cli("eval", "--repeat", "3", "--concurrency", "2").exit_code == 0
        assert up.requests == 18
    data = card(repo, "refunds")
    assert data["repeats"] == 3 and data["summary"]["runs"] == 18 and data["summary"]["cases"] == 6


def test_a_provider_fault_falls_back_to_the_next_deployment_in_the_decision(repo: Path) -> None:
    with serve(lambda body: (503, "overloaded")) as down, serve(echo) as backup:
        write(repo, down.url, suite("refunds", DATASET, ASSERTIONS), backup_url=backup.url)
        assert run_cli("eval").exit_code == 0
        assert down.requests == 6 and backup.requests == 6
    assert {c["deployment"] for c in card(repo, "refunds")["cases"]} == {"backup/m1"}


def test_a_provider_whose_key_is_unset_is_never_called_and_the_next_one_serves(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FAKE_API_KEY")
    with serve(echo) as keyed, serve(echo) as backup:
        write(repo, keyed.url, suite("refunds", DATASET, ASSERTIONS), backup_url=backup.url)
        assert run_cli("eval").exit_code == 0
        assert keyed.requests == 0 and backup.requests == 6
    assert {c["deployment"] for c in card(repo, "refunds")["cases"]} == {"backup/m1"}


def test_a_target_that_fails_everywhere_is_an_error_on_each_case_not_a_traceback(repo: Path) -> None:
    with serve(lambda body: (500, "boom")) as down:
        write(repo, down.url, suite("refunds", DATASET, ASSERTIONS))
        result = run_cli("eval")
    assert result.exit_code == 1
    data = card(repo, "refunds")
    assert data["summary"]["errors"] == 6 and data["summary"]["passRate"]["value"] == 0
    assert all(p["kind"] == "target" and "HTTP 500" in p["message"] for p in data["problems"])
    assert "Traceback" not in result.output


def test_a_case_missing_a_field_the_assertions_read_is_reported_with_its_line_and_the_rest_are_kept(
    repo: Path,
) -> None:
    dataset = DATASET + "      - {id: no-vars, input: 'question 7 about a refund', expected: refund}\n"
    with serve(echo) as up:
        write(repo, up.url, suite("refunds", dataset, ASSERTIONS))
        result = run_cli("eval")
    assert result.exit_code == 1
    assert "manifests/evals.yaml:14: case 'no-vars': has-number (cel, line 18) reads 'n'" in result.output
    data = card(repo, "refunds")
    assert data["summary"]["runs"] == 7 and len([c for c in data["cases"] if c["passed"]]) == 5
    assert data["summary"]["passRate"]["n"] == 6  # the case that could not be graded is not counted


def test_a_python_scorer_that_raises_fails_only_its_case(repo: Path) -> None:
    (repo / "manifests").mkdir()
    (repo / "manifests" / "score.py").write_text(
        "def check(output, case):\n    if case['id'] == 'c2':\n        raise ValueError('cannot score c2')\n"
        "    return {'score': 0.9, 'reason': 'fine'}\n",
        encoding="utf-8",
    )
    assertions = "    - {name: custom, type: python, value: 'score.py:check', threshold: 0.5}\n"
    with serve(echo) as up:
        write(repo, up.url, suite("refunds", DATASET, assertions))
        result = run_cli("eval", "--allow-code")
    assert result.exit_code == 1
    assert "case 'c2': custom (python, line 16) raised ValueError: cannot score c2" in result.output
    data = card(repo, "refunds")
    assert [c["scores"] for c in data["cases"] if c["id"] == "c0"] == [{"custom": 0.9}]


def test_an_unknown_target_or_suite_is_a_usage_error(repo: Path) -> None:
    with serve(echo) as up:
        write(repo, up.url, suite("refunds", DATASET, ASSERTIONS))
        unknown_route = run_cli("eval", "--target", "nope")
        unknown_suite = run_cli("eval", "nope")
        assert up.requests == 0
    assert unknown_route.exit_code == 2
    assert "--target 'nope' is not a Route; known routes: chat-route, judge-route" in unknown_route.output
    assert unknown_suite.exit_code == 2 and "no EvalSuite named nope; known: refunds" in unknown_suite.output


def test_junit_html_and_markdown_reports(repo: Path) -> None:
    with serve(echo) as up:
        write(repo, up.url, suite("refunds", DATASET, ASSERTIONS))
        args = ["eval", "--junit", "r.xml", "--html", "r.html", "--markdown", "r.md"]
        assert run_cli(*args).exit_code == 0
    suite_el = ET.parse(repo / "r.xml").getroot().find("testsuite")
    assert suite_el is not None and suite_el.get("tests") == "6" and suite_el.get("failures") == "1"
    failure = suite_el.find("testcase[@name='c5']/failure")
    assert failure is not None and "says-refund" in failure.get("message", "")
    assert suite_el.find("testcase[@name='c5']").get("line") == "13"  # type: ignore[union-attr]
    page = (repo / "r.html").read_text()
    assert "<td>c5</td>" in page and "src=" not in page and "<link" not in page  # self-contained
    assert json.loads(page.split("id='scorecards'>")[1].split("</script>")[0].replace("&quot;", '"'))[0]["suite"]
    assert "| pass rate | 83.3% [" in (repo / "r.md").read_text()


def test_an_agent_target_says_what_can_run_instead(repo: Path) -> None:
    agent = suite("refunds", DATASET, ASSERTIONS).replace("target: {route: chat-route}", "target: {agent: helper}")
    agent_doc = (
        "apiVersion: maestro.dev/v1\nkind: Agent\nmetadata: {name: helper}\nspec:\n  route: chat-route\n"
        "  prompt: {system: Help.}\n  autonomyLevel: L2\n---\n"
        + (ROOT / "manifests" / "autonomy.yaml").read_text(encoding="utf-8")
    )
    with serve(echo) as up:
        write(repo, up.url, agent)
        validated = run_cli("validate")
        (repo / "manifests" / "agents.yaml").write_text(agent_doc, encoding="utf-8")
        result = run_cli("eval")
        assert up.requests == 0
    assert validated.exit_code == 1  # the agent does not exist yet: validation names it
    assert result.exit_code == 2, result.output
    assert "refunds targets agent 'helper'; maestro eval runs route and prompt targets" in result.output
    assert "pass --target ROUTE" in result.output


def test_history_lists_each_run_newest_first(repo: Path) -> None:
    assert run_cli("eval", "history", "refunds").exit_code == 2  # nothing run yet
    with serve(echo) as up:
        write(repo, up.url, suite("refunds", DATASET, ASSERTIONS))
        assert run_cli("eval").exit_code == 0
        assert run_cli("eval", "--repeat", "2").exit_code == 0
    result = run_cli("eval", "history", "refunds")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].startswith("created") and len(lines) == 3 and all("83.3%" in line for line in lines[1:])
    runs = json.loads(run_cli("eval", "history", "refunds", "--format", "json").output)
    assert [r["scorecard"]["repeats"] for r in runs] == [2, 1]
    assert run_cli("eval", "history", "other").exit_code == 2
