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
