"""Generated docs are current; the README starts with its two set-up commands."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

import maestro.cli.main  # noqa: F401  (registers the commands)
from maestro.cli.reference import render as render_cli
from maestro.manifests.rules import RULES
from maestro.report.rules import render as render_rules

ROOT = Path(__file__).resolve().parents[1]


def test_rules_doc_is_current():
    text = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert text == render_rules(), "run `python scripts/gendocs.py`"
    assert all(f"`{rule}`" in text for rule in RULES)


def test_cli_doc_is_current():
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert text == render_cli(), "run `python scripts/gendocs.py`"
    for command in ("validate", "explain", "diff", "schema", "init"):
        assert f"## maestro {command}" in text


def test_readme_starts_with_exactly_two_setup_commands():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    start = lines.index("```bash")
    end = lines.index("```", start + 1)
    commands = lines[start + 1 : end]
    assert len(commands) == 2
    assert commands[0].endswith("&& maestro tour")
    assert "pytest" in commands[1]
    assert commands[1] in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()


def test_the_tour_lists_its_steps_with_their_commands():
    from helpers.cli import run_cli

    from maestro.cli.tour import STEPS

    result = run_cli("tour", "--list")
    assert result.exit_code == 0, result.output
    for step in STEPS:
        assert f"$ {step.command}" in result.output
    assert [s.argv[0] for s in STEPS if s.lane][:2] == ["lane", "lane"]


def _tour(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "maestro.cli.main", "tour", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env=None if env is None else {**os.environ, **env},
    )


def test_the_readme_main_job_runs_without_the_lane():
    from maestro.cli.tour import STEPS

    result = _tour("--skip-lane")
    assert result.returncode == 0, result.stdout + result.stderr
    shown = [s for s in STEPS if not s.lane]
    assert len(shown) >= 4
    for number, step in enumerate(shown, 1):
        assert f"{number}/{len(shown)}  {step.title}" in result.stdout
        assert f"$ {step.command}" in result.stdout
    assert "targets: all met" in result.stdout  # the brownout drill
    assert "lane" not in [s.argv[0] for s in shown]
    assert f"Done: {len(shown)} steps." in result.stdout


@pytest.fixture
def keys_left_as_found():
    """The tour trusts an approver key in the checkout (.maestro/keys/, roles.json): take away what it added, so
    the tests after it meet the repository as it was."""
    keys = ROOT / ".maestro" / "keys"
    before = {p: p.read_bytes() for p in keys.glob("*")} if keys.is_dir() else {}
    existed = keys.is_dir()
    ignore = ROOT / ".maestro" / ".gitignore"  # `maestro keys init` writes it where it is missing
    had_ignore = ignore.exists()
    yield
    if not had_ignore:
        ignore.unlink(missing_ok=True)
    for path in keys.glob("*") if keys.is_dir() else ():
        if path not in before:
            path.unlink()
    for path, data in before.items():
        path.write_bytes(data)
    if not existed and keys.is_dir() and not any(keys.iterdir()):
        keys.rmdir()


@pytest.mark.lane
@pytest.mark.usefixtures("keys_left_as_found")
def test_the_readme_main_job_brings_the_lane_up_asks_it_and_gates_an_eval_on_it(tmp_path):
    """Then runs the refund flow on the lane: paused at approve, approved from the CLI, refunded once."""
    if os.environ.get("MAESTRO_LANE_TESTS") == "0":
        pytest.skip("MAESTRO_LANE_TESTS=0")
    refund_state = tmp_path / "refunds.db"  # the example MCP server counts its calls and refunds here
    result = _tour(env={"MAESTRO_REFUND_STATE": str(refund_state)})
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert "served by    local-lane/smollm2-135m-instruct" in out
    assert "Paris" in out and "$OPENAI_API_KEY is empty" in out
    assert "local-smoke" in out and "pass rate" in out
    assert "gate:" in out

    # the refund flow: triage on the lane (held to its schema), paused at approve, approved, refunded once
    run_id = re.search(r"^run (run-[0-9a-f]{12}): pipeline refund-flow", out, re.MULTILINE)
    assert run_id is not None, out
    run = run_id.group(1)
    assert "triage#0 (model): succeeded" in out
    assert f"interrupt: {run}:approve:0:main" in out
    assert f"tour-approver approved {run}:approve:0:main" in out
    assert f"tour-approver approved {run}:refund:0:main" in out
    assert f"$ maestro runs resume {run}" in out
    assert f"run {run}: succeeded" in out
    with sqlite3.connect(refund_state) as db:
        assert db.execute("SELECT order_id, amount, key FROM refunds").fetchall() == [
            ("A10432", 249.0, f"{run}:refund:0:0")
        ]
    assert "$ maestro lane down" in out  # the tour always brings its lane down
