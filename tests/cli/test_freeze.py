from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers.cli import run_cli


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)
    return str(tmp_path / "state.db")


def test_add_list_remove(store: str) -> None:
    added = run_cli("freeze", "add", "release", "--duration", "2h", "--reason", "release night", "--state", store)
    assert added.exit_code == 0, added.output
    listed = json.loads(run_cli("freeze", "list", "--json", "--state", store).output)
    assert [(w["name"], w["reason"]) for w in listed] == [("release", "release night")]
    again = run_cli("freeze", "add", "release", "--duration", "1h", "--state", store)
    assert again.exit_code == 2 and "a freeze named 'release' exists" in again.output
    assert run_cli("freeze", "remove", "release", "--state", store).exit_code == 0
    assert run_cli("freeze", "list", "--state", store).output.strip() == "no freeze windows"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give exactly one of --duration"),
        (["--duration", "2h", "--until", "2026-12-28T00:00:00Z"], "give exactly one of --duration"),
        (["--until", "2026-12-28"], "give a time zone"),
        (["--until", "tomorrow"], "not an RFC 3339 time"),
        (["--duration", "soon"], "--duration: 'soon' is not a duration"),
        (["--start", "2026-12-28T00:00:00Z", "--until", "2026-12-27T00:00:00Z"], "would end before it starts"),
    ],
)
def test_bad_input_is_a_clear_error(store: str, args: list[str], message: str) -> None:
    result = run_cli("freeze", "add", "w", *args, "--state", store)
    assert result.exit_code == 2 and message in result.output, result.output


def test_remove_names_the_freezes_there_are(store: str) -> None:
    result = run_cli("freeze", "remove", "nope", "--state", store)
    assert result.exit_code == 2 and "no freeze named 'nope'; freezes: none" in result.output
