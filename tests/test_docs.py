"""Generated docs are current; the README starts with its two set-up commands."""

from __future__ import annotations

import shlex
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
    assert "maestro validate" in commands[0]
    assert "pytest" in commands[1]
    assert commands[1] in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()


def _main_job() -> tuple[list[list[str]], list[list[str]]]:
    """The README main job's maestro commands: those before the lane comes up, and the rest."""
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    main_job = lines[lines.index("```bash") + 1]
    commands = [shlex.split(c) for c in main_job.split(" && ") if c.startswith("maestro ")]
    first_lane = next(i for i, c in enumerate(commands) if c[1] == "lane")
    return commands[:first_lane], commands[first_lane:]


def test_the_readme_main_job_runs(monkeypatch):
    from helpers.cli import run_cli

    before_lane, _ = _main_job()
    assert len(before_lane) >= 4
    monkeypatch.chdir(ROOT)
    for command in before_lane:
        result = run_cli(*command[1:])
        assert result.exit_code == 0, (command, result.output)


@pytest.mark.lane
def test_the_readme_main_job_brings_the_lane_up_asks_it_and_gates_an_eval_on_it(monkeypatch):
    from helpers.cli import run_cli

    _, with_lane = _main_job()
    assert [c[1] for c in with_lane][:3] == ["lane", "lane", "lane"] and with_lane[-1][1:] == ["lane", "down"]
    monkeypatch.chdir(ROOT)
    outputs = {}
    try:
        for command in with_lane:
            result = run_cli(*command[1:])
            assert result.exit_code == 0, (command, result.output)
            outputs[command[1]] = result.output
    finally:
        run_cli("lane", "down")
    assert "served by    local-lane/smollm2-135m-instruct" in outputs["ask"]
    assert "Paris" in outputs["ask"] and "$OPENAI_API_KEY is empty" in outputs["ask"]
    assert "local-smoke" in outputs["eval"] and "pass rate" in outputs["eval"]
    assert "gate:" in outputs["gate"]
