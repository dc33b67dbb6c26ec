"""maestro init and maestro schema."""

from __future__ import annotations

import json

from typer.testing import CliRunner

import maestro.cli.main  # noqa: F401  (registers the commands)
from maestro.cli.app import app
from maestro.manifests.schemas import KINDS


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def test_init_writes_a_repository_that_validates(tmp_path, monkeypatch):
    target = tmp_path / "repo"
    result = invoke("init", str(target))
    assert result.exit_code == 0, result.output
    assert (target / "manifests" / "routes.yaml").is_file()
    assert (target / ".pre-commit-config.yaml").is_file()
    monkeypatch.chdir(target)
    checked = invoke("validate", "--strict")
    assert checked.exit_code == 0, checked.output
    assert "0 error(s), 0 warning(s)" in checked.output


def test_init_refuses_to_overwrite_without_force(tmp_path):
    assert invoke("init", str(tmp_path)).exit_code == 0
    again = invoke("init", str(tmp_path))
    assert again.exit_code == 2
    assert "--force" in again.output
    assert invoke("init", str(tmp_path), "--force").exit_code == 0


def test_schema_prints_each_kind(tmp_path):
    for kind, file in KINDS.items():
        result = invoke("schema", kind.lower())
        assert result.exit_code == 0
        schema = json.loads(result.output)
        assert schema["properties"]["kind"]["const"] == kind, file


def test_schema_lists_kinds_and_rejects_unknown():
    listing = invoke("schema")
    assert all(kind in listing.output for kind in KINDS)
    bad = invoke("schema", "Rotue")
    assert bad.exit_code == 2
    assert "unknown kind 'Rotue'" in bad.output
