"""maestro init DIR"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from maestro.manifests.scaffold import write_starter


def init_command(
    directory: Annotated[Path, typer.Argument(help="Folder to create the repository in.")],
    force: Annotated[bool, typer.Option("--force", help="Overwrite files that already exist.")] = False,
) -> None:
    """Write a small working repository of manifests (a local model lane, one route, two autonomy levels)."""
    written = write_starter(directory, force=force)
    for path in written:
        typer.echo(f"wrote {path}")
    typer.echo(f"\nNext: cd {directory} && maestro validate")


def register(app: typer.Typer) -> None:
    app.command("init")(init_command)
