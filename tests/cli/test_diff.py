"""maestro diff OLD [NEW]: folders, git revisions of a real throwaway repository, formats and exit codes."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import typer
from helpers.cli import run_cli
from typer.testing import CliRunner, Result

import maestro.cli.diff
from maestro.cli.app import BoundaryGroup

AUTONOMY = """\
apiVersion: maestro.dev/v1
kind: AutonomyLevel
metadata:
  name: L1
  description: Suggest only.
spec:
  level: 1
  allowedWithoutApproval: [read, suggest]
  requiresApproval: [write]
  approvals: {required: 1}
"""
AGENT = """\
apiVersion: maestro.dev/v1
kind: Agent
metadata:
  name: helper
spec:
  route: chat
  prompt: {file: prompts/helper.md}
  autonomyLevel: L1
"""
POLICY = """\
apiVersion: maestro.dev/v1
kind: Policy
metadata:
  name: default
spec:
  rules:
    - {name: no-secrets, when: "'secret' in request.tags", effect: deny}
"""
SECRET = "sk-proj-0123456789abcdefghijklmnop"


def app() -> typer.Typer:
    """A fresh app with only the diff command, behind the real error boundary."""
    fresh = typer.Typer(cls=BoundaryGroup, add_completion=False, pretty_exceptions_enable=False)
    maestro.cli.diff.register(fresh)

    @fresh.command("noop", hidden=True)
    def _noop() -> None:  # a second command keeps `diff` a subcommand
        """Nothing."""

    return fresh


def run(*args: str) -> Result:
    return CliRunner().invoke(app(), ["diff", *args], catch_exceptions=False)


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, timeout=60)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git repository with one commit of manifests/ and policies/; the working directory is inside it."""
    for key, value in {
        "GIT_CONFIG_GLOBAL": str(tmp_path / "gitconfig"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Test",
        "GIT_AUTHOR_EMAIL": "test@example.com",
        "GIT_COMMITTER_NAME": "Test",
        "GIT_COMMITTER_EMAIL": "test@example.com",
    }.items():
        monkeypatch.setenv(key, value)
    root = tmp_path / "repo"
    (root / "manifests" / "prompts").mkdir(parents=True)
    (root / "policies").mkdir()
    (root / "manifests" / "autonomy.yaml").write_text(AUTONOMY, encoding="utf-8")
    (root / "manifests" / "agents.yaml").write_text(AGENT, encoding="utf-8")
    (root / "manifests" / "prompts" / "helper.md").write_text("Be brief.\n", encoding="utf-8")
    (root / "policies" / "default.yaml").write_text(POLICY, encoding="utf-8")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "first")
    monkeypatch.chdir(root)
    return root


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_working_tree_against_head_in_json(repo: Path) -> None:
    edit(repo / "manifests" / "autonomy.yaml", "[read, suggest]", "[read, suggest, write]")
    result = run("HEAD", "--format", "json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert (payload["old"], payload["new"]) == ("HEAD", "working tree")
    (change,) = payload["changes"]
    assert change == {
        "kind": "AutonomyLevel",
        "name": "L1",
        "path": "spec.allowedWithoutApproval",
        "op": "added",
        "old": None,
        "new": "write",
        "risk": "high",
        "reason": "'write' may now run without approval",
        "file": "manifests/autonomy.yaml",
    }
    assert payload["summary"] == {"total": 1, "high": 1, "medium": 0, "low": 0, "max_risk": "high"}


@pytest.mark.parametrize(("fail_on", "code"), [("high", 0), ("medium", 0), ("low", 1)])
def test_fail_on_sets_the_exit_code(repo: Path, fail_on: str, code: int) -> None:
    edit(repo / "manifests" / "autonomy.yaml", "Suggest only.", "Suggestions only.")
    result = run("HEAD", "--fail-on", fail_on)
    assert result.exit_code == code, result.output
    assert "1 change: 0 high, 0 medium, 1 low" in result.stdout


def test_the_real_app_registers_diff(repo: Path) -> None:
    edit(repo / "manifests" / "agents.yaml", "route: chat", "route: chat-large")
    result = run_cli("diff", "HEAD", "--fail-on", "medium")
    assert result.exit_code == 1, result.output
    assert '[MEDIUM] spec.route: "chat" -> "chat-large"' in result.stdout


def test_fail_on_high_fails_for_a_removed_policy(repo: Path) -> None:
    (repo / "policies" / "default.yaml").unlink()
    result = run("main", "--fail-on", "high")
    assert result.exit_code == 1, result.output
    assert "Policy/default  (main:policies/default.yaml)" in result.stdout
    assert "[HIGH]   document removed" in result.stdout


def test_two_revisions(repo: Path) -> None:
    edit(repo / "manifests" / "autonomy.yaml", "approvals: {required: 1}", "approvals: {required: 0}")
    git(repo, "commit", "-q", "-am", "fewer approvals")
    result = run("HEAD~1", "HEAD", "--format", "json", "--fail-on", "high")
    assert result.exit_code == 1, result.output
    (change,) = json.loads(result.stdout)["changes"]
    assert (change["path"], change["old"], change["new"], change["risk"]) == ("spec.approvals.required", 1, 0, "high")
    assert change["file"] == "HEAD:manifests/autonomy.yaml"


def test_a_changed_prompt_file_is_found_at_the_revision(repo: Path) -> None:
    (repo / "manifests" / "prompts" / "helper.md").write_text("Be brief. Ignore the rules.\n", encoding="utf-8")
    result = run("HEAD", "--format", "json", "--fail-on", "medium")
    assert result.exit_code == 1, result.output
    (change,) = json.loads(result.stdout)["changes"]
    assert (change["kind"], change["path"], change["risk"]) == ("Agent", "spec.prompt.file", "medium")
    assert change["reason"] == "prompt file content changed (prompts/helper.md)"


def test_no_changes(repo: Path) -> None:
    result = run("HEAD", "--fail-on", "low")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().endswith("0 changes: 0 high, 0 medium, 0 low")


def test_markdown_lists_high_risk_first(repo: Path) -> None:
    edit(repo / "manifests" / "autonomy.yaml", "Suggest only.", "Suggest | draft.")
    edit(repo / "manifests" / "autonomy.yaml", "level: 1", "level: 2")
    result = run("HEAD", "--format", "markdown")
    assert result.exit_code == 0, result.output
    rows = [line for line in result.stdout.splitlines() if line.startswith("| 🔴") or line.startswith("| 🟢")]
    assert rows[0].startswith("| 🔴 high | AutonomyLevel/L1 | `spec.level` | changed: 1 → 2 |")
    assert "Suggest \\| draft." in rows[1]
    assert "**2 changes: 1 high, 0 medium, 1 low**" in result.stdout


def test_folders_and_output_file(tmp_path: Path) -> None:
    for side, prompt in (("old", "Be brief."), ("new", f"Use {SECRET} and then answer every question at length.")):
        (tmp_path / side).mkdir()
        text = AGENT.replace("prompt: {file: prompts/helper.md}", f"prompt: {{system: {prompt}}}")
        (tmp_path / side / "agents.yaml").write_text(text, encoding="utf-8")
    report = tmp_path / "report.txt"
    result = run(str(tmp_path / "old"), str(tmp_path / "new"), "--out-file", str(report), "--fail-on", "high")
    assert result.exit_code == 0, result.output
    text = report.read_text(encoding="utf-8")
    assert "[MEDIUM] spec.prompt.system" in text and "prompt text changed" in text
    assert SECRET not in text and "<redacted>" in text


def test_long_values_are_cut_to_60_characters(tmp_path: Path) -> None:
    long_prompt = "Answer " + "very " * 40 + "carefully."
    for side, prompt in (("old", "Be brief."), ("new", long_prompt)):
        (tmp_path / side).mkdir()
        text = AGENT.replace("prompt: {file: prompts/helper.md}", f"prompt: {{system: {prompt}}}")
        (tmp_path / side / "agents.yaml").write_text(text, encoding="utf-8")
    result = run(str(tmp_path / "old"), str(tmp_path / "new"), "-f", "json")
    (change,) = json.loads(result.stdout)["changes"]
    assert len(change["new"]) == 60 and change["new"].endswith("…")


def test_a_bad_revision_exits_2_with_what_to_do(repo: Path) -> None:
    result = run("no-such-branch")
    assert result.exit_code == 2
    assert "'no-such-branch' is neither a file or folder nor a git revision" in result.output
    assert "name a branch, tag or commit" in result.output


def test_outside_a_git_repository_a_revision_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    result = run("main")
    assert result.exit_code == 2
    assert "not inside a git repository" in result.output


def test_a_path_without_new_exits_2(repo: Path) -> None:
    result = run("manifests")
    assert result.exit_code == 2
    assert "maestro diff manifests NEW" in result.output


def test_unknown_format_and_risk_are_usage_errors(repo: Path) -> None:
    assert run("HEAD", "--format", "toml").exit_code == 2
    assert run("HEAD", "--fail-on", "critical").exit_code == 2


def test_broken_yaml_exits_2_with_its_place(repo: Path) -> None:
    (repo / "manifests" / "broken.yaml").write_text("kind: Route\nkind: Agent\n", encoding="utf-8")
    result = run("HEAD")
    assert result.exit_code == 2
    assert "manifests/broken.yaml:2:1: key 'kind' appears twice" in result.output
