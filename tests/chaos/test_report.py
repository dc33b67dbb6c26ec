"""`maestro chaos drill`'s report for people: a table with units and targets, no Python reprs."""

from __future__ import annotations

import json
import re
from pathlib import Path

from helpers.cli import run_cli

ROOT = Path(__file__).resolve().parents[2]


def test_the_text_report_is_a_table_with_units_and_targets_and_json_stays_flat(tmp_path: Path) -> None:
    small = {
        "name": "small-down",
        "upstreams": {"primary": {"faults": {"error_rate": 1.0}}, "fallback": {}},
        "route": {"candidates": ["primary"], "fallback": ["fallback"], "retries": 0},
        "breaker": {"failures": 1, "cooldown_s": 5},
        "load": {"requests": 30, "rate_per_s": 100, "concurrency": 8},
        "targets": {"success_rate": 0.999, "max_attempts_to_down_provider_per_cooldown": 1},
    }
    path = tmp_path / "small.chaos.json"
    path.write_text(json.dumps(small), encoding="utf-8")
    result = run_cli("chaos", "drill", "-s", str(path))
    assert result.exit_code == 0, result.output
    text = result.output
    assert re.search(r"complete answers\s+100\.00 %\s+>= 99\.9 %", text), text
    assert re.search(r"added by the gateway under faults, p99\s+[\d,.]+ ms", text), text
    assert re.search(r"calls to a down upstream per cooldown, most\s+\d+\s+<= 1", text), text
    assert "answers by deployment: fallback/m1: 30" in text
    assert "None" not in text and "{" not in text and "'" not in text
    assert text.rstrip().endswith("targets: all met")
    data = json.loads(run_cli("chaos", "drill", "-s", str(path), "--json").output)
    assert data["served_by"] == {"fallback/m1": 30} and data["missed"] == [] and "mttr_s" not in data
