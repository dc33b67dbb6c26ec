"""The manifest checks of a serve block (maestro/manifests/checks/serve.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.lane import write_repo

from maestro.manifests.checks.serve import flag_names, unknown_arg
from maestro.manifests.validate import validate


def findings(root: Path, rule: str) -> list[str]:
    return [f"{d.line}:{d.message}" for d in validate([root / "manifests"]).diagnostics if d.rule == rule]


def test_served_name_must_be_a_model(tmp_path: Path) -> None:
    found = findings(write_repo(tmp_path, serve="    servedName: tiyn"), "serve.served-name")
    assert found == ["11:servedName 'tiyn' is not one of this provider's models; did you mean 'tiny'?"]


def test_a_good_serve_block_is_clean(tmp_path: Path) -> None:
    root = write_repo(tmp_path, serve='    servedName: tiny\n    extraArgs: ["--enforce-eager", "--seed", "-1"]')
    assert not validate([root / "manifests"]).diagnostics


def test_every_bad_flag_is_reported(tmp_path: Path) -> None:
    root = write_repo(tmp_path, serve='    extraArgs: ["--nope", "1", "--model", "x"]')
    assert len(findings(root, "serve.extra-arg")) == 2


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["--seed", "-1", "--enforce-eager"], ["--seed", "--enforce-eager"]),
        (["--seed=3", "-O", "3"], ["--seed", "-O"]),
        (["value", "-"], []),
    ],
)
def test_flag_names(args: list[str], names: list[str]) -> None:
    assert [n for _, n in flag_names(args)] == names


def test_unknown_arg() -> None:
    assert unknown_arg("--enforce-eager") is None
    assert "serve.dtype" in (unknown_arg("--dtype") or "")
