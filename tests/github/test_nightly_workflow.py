"""The nightly workflow `maestro init` writes: scheduled evals against the previous night, gated and kept."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from helpers.cli import run_cli

from maestro.manifests import yamlio

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / "maestro" / "templates" / "init" / ".github" / "workflows" / "maestro-nightly.yml"


def _doc() -> dict[str, Any]:
    (doc,) = yamlio.parse(WORKFLOW.read_text(encoding="utf-8"), yamlio.Limits())
    data: dict[str, Any] = dict(doc.data)
    return data


def test_the_workflow_is_valid_for_github() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows", str(WORKFLOW)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_it_runs_every_night_against_the_last_run_and_gates() -> None:
    data = _doc()
    assert data["on"]["schedule"] == [{"cron": "17 3 * * *"}] and "workflow_dispatch" in data["on"]
    assert data["permissions"] == {"contents": "read"}
    steps = data["jobs"]["drift"]["steps"]
    runs = [str(s.get("run", "")) for s in steps]
    evals = next(i for i, r in enumerate(runs) if "maestro eval --against last" in r)
    gate = next(i for i, r in enumerate(runs) if r == "maestro gate")
    restore = next(i for i, s in enumerate(steps) if s.get("uses") == "actions/cache/restore@v4")
    save = next(i for i, s in enumerate(steps) if s.get("uses") == "actions/cache/save@v4")
    assert restore < evals < save < gate and steps[save]["if"] == "always()"
    assert steps[restore]["with"]["path"] == steps[save]["with"]["path"] == ".maestro/state.db"


def test_secrets_reach_only_the_eval_step_and_no_expression_is_pasted_into_a_script() -> None:
    steps = _doc()["jobs"]["drift"]["steps"]
    with_secrets = [s for s in steps if "secrets." in str(s.get("env", {}))]
    assert len(with_secrets) == 1 and "maestro eval" in str(with_secrets[0]["run"])
    assert not [s["run"] for s in steps if "${{" in str(s.get("run", ""))]
    assert steps[0]["with"]["persist-credentials"] is False


def test_maestro_init_writes_it(tmp_path: Path) -> None:
    result = run_cli("init", str(tmp_path / "repo"))
    assert result.exit_code == 0, result.output
    written = tmp_path / "repo" / ".github" / "workflows" / "maestro-nightly.yml"
    assert written.read_text(encoding="utf-8") == WORKFLOW.read_text(encoding="utf-8")
