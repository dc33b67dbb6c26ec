"""Running the real CLI in-process."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import typer
from typer.testing import CliRunner, Result

import maestro.cli.main  # noqa: F401  (registers the commands on the app)
from maestro.cli.app import app


def run_cli(*args: str) -> Result:
    """Invoke ``maestro ARGS``; exceptions the error boundary lets through are not swallowed."""
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def leaves() -> Iterator[tuple[str, Any]]:
    """Every command that runs (not a group), with its path: ("maestro ledger show", command)."""
    root = typer.main.get_command(app)
    ctx = root.context_class(root, info_name="maestro", help_option_names=["-h", "--help"])
    stack = [(root, ctx)]
    while stack:
        command, context = stack.pop()
        if not hasattr(command, "list_commands"):
            yield context.command_path, command
            continue
        for name in command.list_commands(context):
            sub = command.get_command(context, name)
            stack.append((sub, sub.context_class(sub, info_name=name, parent=context)))
