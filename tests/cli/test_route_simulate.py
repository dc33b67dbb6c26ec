"""maestro route simulate --fail-on: a replay can fail CI when a tag class is not always served."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers.cli import run_cli

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = ("-m", str(ROOT / "manifests"), "-m", str(ROOT / "policies"))
PLAIN = {"model": "chat", "request_id": "p", "caller": "web", "messages": [{"role": "user", "content": "Hours?"}]}


@pytest.mark.parametrize(("fail_on", "code"), [("unserved", 1), ("never", 0)])
def test_unserved_rows_fail_only_when_asked(fail_on: str, code: int) -> None:
    result = run_cli(
        "route", "simulate", "-r", str(ROOT / "examples" / "requests.jsonl"), *MANIFESTS, "--fail-on", fail_on
    )
    assert "NOT ALWAYS SERVED" in result.output
    assert result.exit_code == code, result.output


def test_every_class_served_passes(tmp_path: Path) -> None:
    requests = tmp_path / "requests.jsonl"
    requests.write_text(json.dumps(PLAIN) + "\n", encoding="utf-8")
    result = run_cli("route", "simulate", "-r", str(requests), *MANIFESTS, "--fail-on", "unserved")
    assert result.exit_code == 0, result.output
    assert "NOT ALWAYS SERVED" not in result.output


def test_an_unknown_fail_on_is_a_usage_error() -> None:
    result = run_cli("route", "simulate", "-r", str(ROOT / "examples" / "requests.jsonl"), "--fail-on", "sometimes")
    assert result.exit_code == 2
    assert "unknown value 'sometimes'" in result.output
