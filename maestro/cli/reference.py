"""The Markdown reference of every command, rendered from its own --help (docs/cli.md)."""

from __future__ import annotations

from typer.testing import CliRunner

from maestro.cli.app import COMMANDS, app

_ENV = {"COLUMNS": "100", "TERM": "dumb", "NO_COLOR": "1", "FORCE_COLOR": None}


def render() -> str:
    parts = [
        "# CLI reference\n",
        "Generated from `--help` by `python scripts/gendocs.py`; a test checks it is current.\n",
    ]
    parts.append(_section("maestro", []))
    for name in sorted(COMMANDS):
        parts.append(_section(f"maestro {name}", [name]))
    return "\n".join(parts)


def _section(title: str, args: list[str]) -> str:
    result = CliRunner().invoke(app, [*args, "--help"], env=_ENV, prog_name="maestro")
    lines = [line.rstrip() for line in result.output.rstrip().splitlines()]
    return f"## {title}\n\n```text\n" + "\n".join(lines) + "\n```\n"
