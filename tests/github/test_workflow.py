"""The reusable workflow: a valid workflow_call that runs maestro eval against the base and gates with --github."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from maestro.manifests import yamlio

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "maestro-eval.yml"


def test_the_workflow_is_valid_for_github() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows", str(WORKFLOW)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_workflow_is_callable_and_runs_eval_then_gate() -> None:
    (doc,) = yamlio.parse(WORKFLOW.read_text(encoding="utf-8"), yamlio.Limits())
    data = doc.data
    assert "workflow_call" in data["on"]
    assert data["permissions"] == {"contents": "read", "pull-requests": "write", "checks": "write"}
    steps = data["jobs"]["eval"]["steps"]
    runs = [s.get("run", "") for s in steps]
    assert any("maestro eval" in r and "--baseline" in r for r in runs)
    gate = next(s for s in steps if "maestro gate --github" in s.get("run", ""))
    assert gate["if"] == "always()" and gate["env"]["GITHUB_TOKEN"] == "${{ github.token }}"
    checkout = steps[0]
    assert checkout["with"]["fetch-depth"] == 0  # the base revision is read from git


def _steps() -> list[dict[str, object]]:
    (doc,) = yamlio.parse(WORKFLOW.read_text(encoding="utf-8"), yamlio.Limits())
    steps: list[dict[str, object]] = doc.data["jobs"]["eval"]["steps"]
    return steps


def test_the_checkout_leaves_no_token_in_git_config() -> None:
    checkout = _steps()[0]
    assert checkout["uses"] == "actions/checkout@v4"
    assert checkout["with"]["persist-credentials"] is False  # type: ignore[index]


def test_provider_keys_reach_only_the_eval_step() -> None:
    (doc,) = yamlio.parse(WORKFLOW.read_text(encoding="utf-8"), yamlio.Limits())
    assert "env" not in doc.data["jobs"]["eval"] and "env" not in doc.data
    with_secrets = [s for s in _steps() if "secrets." in str(s.get("env", {}))]
    assert len(with_secrets) == 1 and "maestro eval" in str(with_secrets[0]["run"])
    gate = next(s for s in _steps() if "maestro gate" in str(s.get("run", "")))
    assert set(gate["env"]) == {"GITHUB_TOKEN", "STRICT"}  # type: ignore[arg-type]


def test_code_runs_only_when_asked_and_never_for_a_fork() -> None:
    step = next(s for s in _steps() if "maestro eval" in str(s.get("run", "")))
    allow = str(step["env"]["ALLOW_CODE"])  # type: ignore[index]
    assert "inputs.allow-code" in allow
    assert "github.event.pull_request.head.repo.full_name == github.repository" in allow
    assert '"$ALLOW_CODE" = "true"' in str(step["run"]) and "--allow-code" in str(step["run"])


def test_no_expression_is_pasted_into_a_shell_script() -> None:
    # inputs and refs reach the shell through env only, so a branch name cannot become a command
    assert not [s["run"] for s in _steps() if "${{" in str(s.get("run", ""))]
