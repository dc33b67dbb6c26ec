"""The one output convention: -o/--output FORMAT, --json, the hidden --format; words for metavars; flags
of one shape; grouped help; -V; shell completion."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from helpers.cli import leaves, run_cli
from typer.testing import CliRunner

from maestro import __version__
from maestro.cli.app import COMMANDS, PANELS, app
from maestro.cli.output import resolve_format

# Commands that print no result of their own: the gateway serves until stopped (uvicorn logs its requests);
# the tour relays the output of the commands it runs; the worker runs queued runs until stopped; the UI serves
# pages (each with its JSON twin) until stopped.
NO_OUTPUT_FORMAT = {"maestro gateway", "maestro tour", "maestro worker", "maestro ui", "maestro rollout run"}
PYTHON_TYPE = re.compile(r"<(bool|str|int|float|path|file|list\[[^\]]*\]|int range|float range|[a-z]+\[.*?\])>")


LEAVES = dict(leaves())


@pytest.fixture
def repo(example_repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(example_repo)
    return example_repo


def test_dash_o_json_prints_json_and_writes_no_file(repo: Path) -> None:
    before = set(repo.iterdir())
    result = run_cli("validate", "-o", "json", "--no-ledger")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["summary"]["errors"] == 0
    assert set(repo.iterdir()) == before  # no file named `json`


@pytest.mark.parametrize("spelling", [["--json"], ["--format", "json"], ["-f", "json"], ["--output", "json"]])
def test_every_spelling_of_json_prints_what_dash_o_json_prints(repo: Path, spelling: list[str]) -> None:
    expected = run_cli("validate", "-o", "json", "--no-ledger")
    result = run_cli("validate", *spelling, "--no-ledger")
    assert result.exit_code == expected.exit_code == 0
    assert result.stdout == expected.stdout


def test_out_file_writes_the_report_and_prints_nothing(repo: Path, tmp_path: Path) -> None:
    target = tmp_path / "report.sarif"
    result = run_cli("validate", "-o", "sarif", "--out-file", str(target), "--no-ledger")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert json.loads(target.read_text(encoding="utf-8"))["version"] == "2.1.0"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["validate", "-o", "toml"], "unknown format 'toml'; choose one of text, json, yaml, sarif, junit, github"),
        (["validate", "--format", "xml"], "unknown format 'xml'; choose one of text, json, yaml, sarif, junit, github"),
        (["validate", "-o", "report.json"], "-o names a format, not a file"),
        (["validate", "-o", "text", "--json"], "conflicting output formats (-o text, --json)"),
        (["ledger", "show", "-o", "sarif"], "unknown format 'sarif'; choose one of text, json, yaml"),
        (["ledger", "export", "x.jsonl", "-o", "yaml"], "unknown format 'yaml'; choose one of text, json"),
        (["gate", "-o", "html"], "unknown format 'html'; choose one of text, json, markdown"),
    ],
)
def test_a_bad_format_is_a_usage_error_that_names_the_choices(repo: Path, args: list[str], message: str) -> None:
    before = set(repo.iterdir())
    result = run_cli(*args)
    assert result.exit_code == 2
    assert message in " ".join(result.output.replace("│", " ").split())
    assert "Traceback" not in result.output
    assert set(repo.iterdir()) == before


def test_the_resolver_defaults_to_the_first_format_and_accepts_agreeing_spellings() -> None:
    assert resolve_format(("text", "json"), None) == "text"
    assert resolve_format(("markdown", "json"), None) == "markdown"
    assert resolve_format(("text", "json"), "json", True, "json") == "json"


@pytest.mark.parametrize("path", sorted(set(LEAVES) - NO_OUTPUT_FORMAT))
def test_every_command_that_prints_a_report_takes_the_output_options(path: str) -> None:
    params = {p.name: p for p in LEAVES[path].params}
    assert {"output", "as_json", "format_alias"} <= set(params), path
    assert params["output"].opts == ["--output", "-o"]
    assert params["as_json"].opts == ["--json"] and params["format_alias"].hidden


@pytest.mark.parametrize("path", sorted(LEAVES))
def test_no_option_takes_a_file_name_through_dash_o(path: str) -> None:
    for param in LEAVES[path].params:
        if "-o" in param.opts:
            assert param.name == "output" and param.metavar == "FORMAT", (path, param.name)


@pytest.mark.parametrize("path", sorted(LEAVES))
def test_boolean_options_are_plain_flags(path: str) -> None:
    flags = [p for p in LEAVES[path].params if getattr(p, "is_flag", False)]
    assert all(not p.secondary_opts for p in flags), [p.opts + p.secondary_opts for p in flags]


@pytest.mark.parametrize("path", ["maestro", *sorted({p.rsplit(" ", 1)[0] for p in LEAVES} - {"maestro"}), *LEAVES])
def test_help_shows_words_not_python_types(path: str) -> None:
    result = CliRunner().invoke(app, [*path.split()[1:], "--help"], env={"COLUMNS": "200"}, prog_name="maestro")
    assert result.exit_code == 0, result.output
    assert not PYTHON_TYPE.findall(result.output), (path, PYTHON_TYPE.findall(result.output))


def test_top_level_help_is_grouped_into_panels() -> None:
    result = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "120"}, prog_name="maestro")
    panels = [line for line in result.output.splitlines() if line.startswith("╭─ ")]
    titles = [line.removeprefix("╭─ ").split(" ─")[0] for line in panels]
    assert titles == ["Options", "Authoring", "Routing and serving", "Evals", "Evidence", "Operations", "Agent graphs"]
    assert set(PANELS) == set(COMMANDS)


@pytest.mark.parametrize("flag", ["-V", "--version"])
def test_version(flag: str) -> None:
    result = run_cli(flag)
    assert result.exit_code == 0 and result.output == f"maestro {__version__}\n"


def test_shell_completion_completes_commands_subcommands_and_options() -> None:
    def complete(line: str) -> list[str]:
        words = line.split(" ")
        env = {"_MAESTRO_COMPLETE": "complete_bash", "COMP_WORDS": line, "COMP_CWORD": str(len(words) - 1)}
        result = CliRunner().invoke(app, [], env=env, prog_name="maestro")
        return result.output.split()

    assert complete("maestro val") == ["validate"]
    assert complete("maestro ledger s") == ["show", "submit"]
    assert "--output" in complete("maestro validate --o") and "--format" not in complete("maestro validate --")
    script = CliRunner().invoke(app, ["--show-completion", "bash"], prog_name="maestro")
    assert "_MAESTRO_COMPLETE=complete_bash" in script.output
