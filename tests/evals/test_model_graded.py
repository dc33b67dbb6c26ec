"""Model-graded checks: an LLM judge through its own route (and its noise), groundedness, the SLO forecast."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from helpers.cli import run_cli
from helpers.eval_repo import suite, write
from helpers.eval_upstream import serve
from helpers.evals import card, user_text

from maestro.evals.grounded import claims, unsupported
from maestro.evals.judge import parse_verdict
from maestro.evals.slo import forecast

CASES = "    inline:\n" + "\n".join(f"      - {{id: c{i}, input: 'q {i}', expected: fine}}" for i in range(12)) + "\n"
JUDGE = "    - {name: helpful, type: llm-judge, route: judge-route, rubric: 'Is the answer polite?', threshold: 0.5}\n"


def answers(body: dict[str, Any]) -> str:
    return "Thank you, that is fine." if user_text(body) != "q 4" else "Go away."


def test_a_judge_grades_through_its_route_and_its_noise_is_measured(repo: Path) -> None:
    seen: set[str] = set()

    def judge(body: dict[str, Any]) -> str:
        text = user_text(body)
        polite = "Thank you" in text
        wobble = 0.1 if text in seen else 0.0  # the same answer graded twice gets two different scores
        seen.add(text)
        return json.dumps({"score": (0.8 if polite else 0.1) + wobble, "reason": "tone"})

    with serve(answers) as target, serve(judge) as judge_up:
        write(repo, target.url, suite("polite", CASES, JUDGE), judge_url=judge_up.url)
        assert run_cli("eval").exit_code == 0
        assert target.requests == 12 and judge_up.requests == 12 + 10  # 10 answers graded a second time
        assert "RUBRIC:\nIs the answer polite?" in judge_up.user_messages()[0]
        assert run_cli("eval").exit_code == 0
        assert judge_up.requests == 22  # grades are cached too
    data = card(repo, "polite")
    assert [c["id"] for c in data["cases"] if not c["passed"]] == ["c4"]
    noise = data["metrics"]["helpful"]["judgeNoise"]
    assert noise["n"] == 10 and noise["meanAbsDiff"] == pytest.approx(0.1)
    assert noise["pairVariance"] == pytest.approx(0.005)


def test_a_judge_that_answers_garbage_fails_that_case_with_its_line(repo: Path) -> None:
    def judge(body: dict[str, Any]) -> str:
        return "I think it is quite good!" if "q 2" in user_text(body) else '{"score": 0.9}'

    with serve(answers) as target, serve(judge) as judge_up:
        write(repo, target.url, suite("polite", CASES, JUDGE), judge_url=judge_up.url)
        result = run_cli("eval")
    assert result.exit_code == 1, result.output
    assert "manifests/evals.yaml:10: case 'c2': helpful (llm-judge, line 22): the judge on route 'judge-route'" in (
        result.output
    )
    assert "it said: 'I think it is quite good!'" in result.output
    assert card(repo, "polite")["summary"]["passRate"]["n"] == 11


@pytest.mark.parametrize(
    ("reply", "error"),
    [("nothing", "no JSON object"), ('{"score": 7}', "between 0 and 1"), ('{"score": true}', "between 0 and 1")],
)
def test_judge_replies_that_are_not_a_verdict(reply: str, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        parse_verdict(reply)
    assert parse_verdict('```json\n{"score": 0.25, "reason": "meh"}\n```') == (0.25, "meh")


CONTEXT = "Returns: unused items can be returned within 30 days of delivery; return shipping is free."


def test_groundedness_flags_claims_the_context_does_not_support() -> None:
    grounded = "You can return unused items within 30 days of delivery. Return shipping is free."
    invented = "You can return unused items within 30 days. We also refund 45 dollars for the trouble."
    assert claims("Sorry! You can return unused items within 30 days.") == [
        "You can return unused items within 30 days."
    ]
    assert unsupported(grounded, [CONTEXT]) == []
    assert unsupported(invented, [CONTEXT]) == ["We also refund 45 dollars for the trouble."]
    assert unsupported("Items can be returned within 60 days of delivery.", [CONTEXT])  # a changed number


def test_the_hallucination_rate_and_its_upper_bound(repo: Path) -> None:
    rows = (
        "    inline:\n"
        + "\n".join(f"      - {{id: c{i}, input: 'q {i}', context: '{CONTEXT}'}}" for i in range(20))
        + "\n"
    )

    def answer(body: dict[str, Any]) -> str:
        extra = " We also add a gift card worth 20 dollars." if user_text(body) == "q 0" else ""
        return "Unused items can be returned within 30 days of delivery." + extra

    thresholds = "  thresholds:\n    metrics:\n      hallucination_rate: {max: 0.5}\n"
    with serve(answer) as up:
        write(repo, up.url, suite("grounded", rows, "    - {name: grounded, type: groundedness}\n", thresholds))
        assert run_cli("eval").exit_code == 0
    data = card(repo, "grounded")
    h = data["hallucination"]
    assert (h["events"], h["n"], h["rate"]) == (1, 20, 0.05) and 0.05 < h["upper"] < 0.25
    assert run_cli("gate").exit_code == 0


def test_groundedness_without_context_is_a_case_error(repo: Path) -> None:
    with serve(answers) as up:
        write(repo, up.url, suite("g", CASES, "    - {type: groundedness}\n"))
        result = run_cli("eval")
    assert result.exit_code == 1 and "needs the case's 'context'" in result.output


def test_the_slo_burn_forecast_reaches_the_pr_comment(repo: Path) -> None:
    slo = "  slo: {target: 0.99, window: 30d, requestsPerDay: 10000}\n"

    def flaky(body: dict[str, Any]) -> str | tuple[int, str]:
        return (500, "down") if user_text(body) in ("q 1", "q 2", "q 3") else "fine"

    with serve(flaky) as up:
        write(repo, up.url, suite("slo", CASES, "    - {type: contains}\n", slo))
        assert run_cli("eval").exit_code == 1  # three cases got no answer
    data = card(repo, "slo")
    f = forecast(data)
    assert f is not None
    assert (f["bad"], f["runs"], f["badRate"]) == (3, 12, 0.25)
    assert f["burnRate"] == pytest.approx(25.0) and f["daysToExhaust"] == pytest.approx(1.2)
    assert f["alert"] == "page" and f["badRequestsPerDay"] == pytest.approx(2500)
    comment = run_cli("gate", "--format", "markdown").output
    assert "SLO burn forecast: 3/12 bad runs, burn rate 25.00x" in comment and "**page**" in comment


def test_a_changed_judge_deployment_regrades_without_regenerating(repo: Path) -> None:
    def judge(body: dict[str, Any]) -> str:
        return '{"score": 0.9}'

    with serve(answers) as target, serve(judge) as judge_up:
        write(repo, target.url, suite("polite", CASES, JUDGE), judge_url=judge_up.url)
        assert run_cli("eval").exit_code == 0
        providers = repo / "manifests" / "providers.yaml"
        providers.write_text(
            providers.read_text().replace("metadata: {name: judge}", "metadata: {name: judge, description: v2}"),
            encoding="utf-8",
        )
        assert run_cli("eval").exit_code == 0
        assert target.requests == 12 and judge_up.requests == 2 * 22
