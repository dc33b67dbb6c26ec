"""maestro gate and maestro.evals.gate: verdicts from scorecards written by real runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from helpers.cli import run_cli
from helpers.eval_repo import suite, write
from helpers.eval_upstream import serve
from helpers.evals import card, user_text

from maestro.evals.gate import Verdict, judge


def cases(n: int, salt: str = "") -> str:
    rows = (f"      - {{id: c{i}, input: 'q {i} {salt}', expected: ok}}" for i in range(n))
    return "    inline:\n" + "\n".join(rows) + "\n"


def answer_failing(failing: set[int]) -> Any:
    return lambda body: "bad" if int(user_text(body).split()[1]) in failing else "ok"


def run(repo: Path, n: int, failing: set[int], thresholds: str, name: str = "s") -> dict[str, Any]:
    """A fresh run (distinct inputs, so no answer comes from an earlier run's cache)."""
    with serve(answer_failing(failing)) as up:
        salt = ",".join(map(str, sorted(failing)))
        write(repo, up.url, suite(name, cases(n, salt), "    - {name: right, type: equals}\n", thresholds))
        assert run_cli("eval").exit_code == 0
    return card(repo, name)


def verdicts(data: dict[str, Any]) -> dict[str, Verdict]:
    return {f.metric: f.verdict for f in judge([data]).findings}


@pytest.mark.parametrize(
    ("n", "failing", "verdict"),
    [
        (40, set(), Verdict.PASS),  # 40/40: the lower bound 0.928 >= 0.9
        (10, set(), Verdict.INCONCLUSIVE),  # 10/10: the lower bound 0.74 < 0.9, cannot tell yet
        (40, set(range(12)), Verdict.FAIL),  # 28/40: the upper bound 0.83 < 0.9
    ],
)
def test_a_pass_rate_bound_is_pass_fail_or_inconclusive(
    repo: Path, n: int, failing: set[int], verdict: Verdict
) -> None:
    data = run(repo, n, failing, "  thresholds: {passRate: 0.9}\n")
    assert verdicts(data) == {"pass_rate": verdict}


def test_a_pass_rate_of_one_means_every_case(repo: Path) -> None:
    assert verdicts(run(repo, 5, set(), "  thresholds: {passRate: 1.0}\n")) == {"pass_rate": Verdict.PASS}
    assert verdicts(run(repo, 5, {3}, "  thresholds: {passRate: 1.0}\n")) == {"pass_rate": Verdict.FAIL}


def test_metric_bounds_on_a_check_latency_and_cost(repo: Path) -> None:
    thresholds = (
        "  thresholds:\n    metrics:\n      right: {min: 0.5}\n      latency_ms_p95: {max: 60000}\n"
        "      cost_usd: {max: 0.000001}\n"
    )
    found = verdicts(run(repo, 30, set(), thresholds))
    assert found == {"right": Verdict.PASS, "latency_ms_p95": Verdict.PASS, "cost_usd": Verdict.FAIL}


def test_an_unknown_metric_in_the_thresholds_is_a_usage_error(repo: Path) -> None:
    run(repo, 3, set(), "  thresholds:\n    metrics:\n      rigth: {min: 0.5}\n")
    result = run_cli("gate")
    assert result.exit_code == 2
    assert "thresholds name the metric 'rigth', which the suite does not have; known: right" in result.output


def test_gate_exit_codes_and_formats(repo: Path) -> None:
    run(repo, 40, set(range(12)), "  thresholds: {passRate: 0.9}\n")
    failing = run_cli("gate")
    assert failing.exit_code == 1 and "s: pass_rate: fail" in failing.output
    as_json = json.loads(run_cli("gate", "--format", "json").output)
    assert as_json["verdict"] == "fail" and as_json["findings"][0]["metric"] == "pass_rate"
    markdown = run_cli("gate", "--format", "markdown").output
    assert markdown.startswith("<!-- maestro-eval-gate -->") and "| s | pass_rate | ❌ fail |" in markdown


def test_inconclusive_passes_unless_strict(repo: Path) -> None:
    run(repo, 10, set(), "  thresholds: {passRate: 0.9}\n")
    assert run_cli("gate").exit_code == 0
    assert run_cli("gate", "--strict").exit_code == 1


def test_gate_without_scorecards_or_with_a_broken_one_is_a_usage_error(repo: Path) -> None:
    assert "run `maestro eval` first" in run_cli("gate").output
    (repo / "x.json").write_text("{not json", encoding="utf-8")
    result = run_cli("gate", "x.json")
    assert result.exit_code == 2 and "x.json: not a readable scorecard" in result.output


def test_cases_that_could_not_be_graded_fail_the_gate_at_their_line(repo: Path) -> None:
    (repo / "manifests").mkdir()
    (repo / "manifests" / "check.py").write_text("def check(output, case):\n    return 1 / 0\n", encoding="utf-8")
    with serve(answer_failing(set())) as up:
        write(repo, up.url, suite("s", cases(3), "    - {type: python, value: 'check.py:check'}\n"))
        assert run_cli("eval", "--allow-code").exit_code == 1
    (finding,) = judge([card(repo, "s")]).findings
    assert (finding.metric, finding.verdict, finding.file, finding.line) == (
        "errors",
        Verdict.FAIL,
        "manifests/evals.yaml",
        8,
    )
    assert "3 case(s) could not be read or graded" in finding.reason and "ZeroDivisionError" in finding.reason
    assert run_cli("gate").exit_code == 1
