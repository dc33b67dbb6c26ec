"""maestro schema [KIND]"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from maestro.cli.output import TEXT_AND_JSON, FormatAlias, JsonFlag, output_option, resolve_format, write_output
from maestro.cli.output import as_json as json_text
from maestro.cli.reference import examples
from maestro.errors import UsageError
from maestro.manifests.schemas import KINDS, kind_for, schema_text


def schema_command(
    kind: Annotated[
        str | None, typer.Argument(help="A kind (Route, provider, ...), or 'manifest' for the dispatcher.")
    ] = None,
    output: Annotated[str | None, output_option(TEXT_AND_JSON)] = None,
    as_json: JsonFlag = False,
    format_alias: FormatAlias = None,
) -> None:
    """Print the JSON Schema of a kind; with no KIND, list the kinds."""
    fmt = resolve_format(TEXT_AND_JSON, output, as_json, format_alias)
    if kind is None:
        titles = {name: json.loads(schema_text(file)).get("description", "") for name, file in KINDS.items()}
        if fmt == "json":
            write_output(json_text(titles))
            return
        for name, title in titles.items():
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
    app.command("schema", epilog=examples("maestro schema", "maestro schema Route > route.schema.json"))(schema_command)
