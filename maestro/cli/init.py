"""maestro init DIR"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from maestro.cli.output import TEXT_AND_JSON, FormatAlias, JsonFlag, output_option, resolve_format
from maestro.cli.output import as_json as json_text
from maestro.cli.reference import examples
from maestro.manifests.scaffold import write_starter


def init_command(
    directory: Annotated[Path, typer.Argument(help="Folder to create the repository in.")],
    force: Annotated[bool, typer.Option("--force", help="Overwrite files that already exist.")] = False,
    output: Annotated[str | None, output_option(TEXT_AND_JSON)] = None,
    as_json: JsonFlag = False,
    format_alias: FormatAlias = None,
) -> None:
    """Write a small working repository of manifests (a local model lane, one route, two autonomy levels)."""
    fmt = resolve_format(TEXT_AND_JSON, output, as_json, format_alias)
    written = write_starter(directory, force=force)
    if fmt == "json":
        typer.echo(
            json_text({"written": [str(p) for p in written], "next": f"cd {directory} && maestro validate"}), nl=False
        )
        return
    for path in written:
        typer.echo(f"wrote {path}")
    typer.echo(f"\nNext: cd {directory} && maestro validate")


def register(app: typer.Typer) -> None:
    app.command("init", epilog=examples("maestro init my-repo && cd my-repo && maestro validate"))(init_command)
