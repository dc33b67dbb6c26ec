"""docs/cli.md: every command and subcommand with its flags and examples, and every example runs as written."""

from __future__ import annotations

import re
import shlex

import pytest
from helpers.cli import leaves
from typer.testing import CliRunner

from maestro.cli.app import app
from maestro.cli.reference import render

LEAVES = dict(leaves())
REFERENCE = render()
SECTIONS = dict(re.findall(r"^## (maestro[^\n]*)\n(.*?)(?=^## |\Z)", REFERENCE, flags=re.M | re.S))
EXAMPLES = [
    (path, line)
    for path, body in SECTIONS.items()
    for block in re.findall(r"Examples:\n\n```bash\n(.*?)```", body, flags=re.S)
    for line in block.splitlines()
]


def test_every_command_and_subcommand_has_a_section() -> None:
    groups = {path.rsplit(" ", 1)[0] for path in LEAVES}
    assert set(SECTIONS) == {"maestro", *groups, *LEAVES}


@pytest.mark.parametrize("path", sorted(LEAVES))
def test_every_subcommand_lists_its_flags_and_has_an_example(path: str) -> None:
    body = SECTIONS[path]
    for param in LEAVES[path].params:
        if not param.hidden and param.param_type_name == "option":
            assert f"`{param.opts[0]}`" in body, (path, param.opts)
    assert "Examples:" in body, path


def test_hidden_aliases_stay_out_of_the_flag_tables() -> None:
    rows = [line for line in REFERENCE.splitlines() if line.startswith("| `")]
    assert rows and not [row for row in rows if "`--format`" in row or "`-f`" in row]


@pytest.mark.parametrize(("path", "example"), EXAMPLES, ids=[e for _, e in EXAMPLES])
def test_every_example_names_its_command_and_only_flags_that_exist(path: str, example: str) -> None:
    commands = []
    for part in example.split("&&"):
        words = shlex.split(part.split(" > ")[0])
        while words and re.match(r"^[A-Z_]+=", words[0]):  # VAR=value before the command
            words.pop(0)
        if words[:1] == ["maestro"]:
            commands.append(words)
    # the first command is the one documented (`maestro eval SUITE` runs `maestro eval run SUITE`)
    assert " ".join(commands[0]).startswith(path.replace("maestro eval run", "maestro eval")), (path, example)
    for words in commands:
        result = CliRunner().invoke(app, [*words[1:], "--help"], prog_name="maestro")
        assert result.exit_code == 0, (example, result.output)
