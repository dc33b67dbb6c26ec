"""Start-up: a command imports only what it runs (``maestro validate`` runs in every pre-commit hook)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from maestro.cli.app import COMMANDS, load_command

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, sys
from maestro.cli.main import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def _modules(*args: str) -> tuple[int, set[str]]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    report = json.loads(done.stderr.strip().splitlines()[-1])
    return report["code"], set(report["modules"])


def test_validate_does_not_import_the_other_commands() -> None:
    code, modules = _modules("validate", "-o", "json", "--out-file", "/dev/null")
    assert code == 0
    assert "maestro.cli.validate" in modules
    unwanted = {"maestro.cli.diff", "maestro.cli.explain", "maestro.cli.route", "maestro.manifests.diff", "httpx"}
    assert not unwanted & modules


def test_validate_of_a_valid_repository_loads_no_python_schema_engine() -> None:
    """jsonschema explains documents the Rust gate rejects, and croniter reads recurring freeze windows: the
    example repository has neither, so neither is imported (0.15 s of start-up)."""
    code, modules = _modules("validate", "-o", "json", "--out-file", "/dev/null")
    assert code == 0
    assert not {"jsonschema", "croniter"} & modules


def test_validate_checks_cel_without_the_cel_package_s_command_line_tool() -> None:
    """The example's Pipeline edges have CEL conditions: the engine is loaded, its REPL (prompt_toolkit) is not."""
    code, modules = _modules("validate", "-o", "json", "--out-file", "/dev/null")
    assert code == 0
    assert "cel.cel" in modules
    assert not {"cel.cli", "prompt_toolkit", "pygments"} & modules


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_listed_command_loads_under_its_name(name: str) -> None:
    command = load_command(name)
    assert command.name == name
    assert command.help
