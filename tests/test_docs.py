"""Generated docs are current; the README starts with its two set-up commands."""

from __future__ import annotations

from pathlib import Path

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


def test_the_readme_main_job_runs(monkeypatch):
    from helpers.cli import run_cli

    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    main_job = lines[lines.index("```bash") + 1]
    commands = [c.split() for c in main_job.split(" && ") if c.startswith("maestro ")]
    assert len(commands) >= 4
    monkeypatch.chdir(ROOT)
    for command in commands:
        result = run_cli(*command[1:])
        assert result.exit_code == 0, (command, result.output)
