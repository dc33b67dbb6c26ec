"""Entry point of the ``maestro`` console script."""

from __future__ import annotations

import gc
import sys

import typer

from maestro import __version__
from maestro.cli.app import app  # commands: add yours to maestro.cli.app.COMMANDS (each loads on demand)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"maestro {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", "-V", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    """The control plane around AI systems: validate, explain and diff GitOps manifests."""


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code instead of raising SystemExit."""
    gc.freeze()  # the objects imported so far live for the whole run: keep the collector off them
    try:
        app(args=argv, prog_name="maestro")
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
