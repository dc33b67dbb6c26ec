"""maestro eval plan: how many cases the thresholds need."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from helpers.cli import run_cli
from helpers.eval_repo import suite, write

from maestro.evals.plan import runs_to_prove_at_least
from maestro.evals.stats import lower_bound

ROOT = Path(__file__).resolve().parents[2]


def cases(n: int) -> str:
    return "    inline:\n" + "\n".join(f"      - {{id: c{i}, input: 'q {i}'}}" for i in range(n)) + "\n"


def test_runs_to_prove_a_pass_rate_is_the_smallest_that_works() -> None:
    for rate, failures in ((0.9, 0), (0.9, 2), (0.95, 1), (0.5, 0)):
        n = runs_to_prove_at_least(rate, failures)
        assert lower_bound(n - failures, n) >= rate > lower_bound(n - 1 - failures, n - 1)
    assert runs_to_prove_at_least(0.9) == 29


def test_plan_says_hallucination_at_most_one_percent_needs_299_and_warns(repo: Path) -> None:
    extra = (
        "  thresholds:\n    passRate: 0.9\n    metrics:\n      hallucination_rate: {max: 0.01}\n"
        "  baseline: {ref: main}\n"
    )
    write(repo, "http://127.0.0.1:9/v1", suite("small", cases(50), "    - {type: contains, value: x}\n", extra))
    result = run_cli("eval", "plan", "small")
    assert result.exit_code == 0
    assert "small: 50 cases x 1 repeat(s) = 50 runs" in result.output
    assert "pass_rate >= 0.9: needs >= 29 runs (ok)" in result.output
    assert "hallucination_rate <= 0.01: needs >= 299 runs (too few)" in result.output
    assert "regression detect -0.05 vs main: needs >= " in result.output
    assert "maestro: warning: small: hallucination_rate <= 0.01 needs >= 299 runs and the suite has 50" in result.output


def test_the_example_suites_plan(monkeypatch: object) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "maestro.cli.main", "eval", "plan"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "support-quality:" in done.stdout and "triage-intent: 4 cases x 3 repeat(s) = 12 runs" in done.stdout


def test_gate_power_benchmark_meets_its_targets() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "gate_power.py"), "--json", "--sims", "300"],
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(done.stdout)
    assert result["power_3pt"] >= 0.8
    assert result["false_fail_rate"] <= 0.05
    assert result["unpaired_power_3pt"] < result["power_3pt"]
