"""maestro schema [KIND]"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from maestro.errors import UsageError
from maestro.manifests.schemas import KINDS, kind_for, schema_text


def schema_command(
    kind: Annotated[
        str | None, typer.Argument(help="A kind (Route, provider, ...), or 'manifest' for the dispatcher.")
    ] = None,
) -> None:
    """Print the JSON Schema of a kind; with no KIND, list the kinds."""
    if kind is None:
        for name, file in KINDS.items():
            title = json.loads(schema_text(file)).get("description", "")
            typer.echo(f"{name:<14} {title}")
        typer.echo("\nPrint one with `maestro schema KIND`; `maestro schema manifest` prints the dispatcher.")
        return
    if kind.lower() == "manifest":
        typer.echo(schema_text("manifest.json"), nl=False)
        return
    found = kind_for(kind)
    if found is None:
        raise UsageError(f"unknown kind '{kind}'; kinds: {', '.join(KINDS)}")
    typer.echo(schema_text(KINDS[found]), nl=False)


def register(app: typer.Typer) -> None:
    app.command("schema")(schema_command)
