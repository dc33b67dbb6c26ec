"""Entry point of the ``maestro`` console script."""

from __future__ import annotations

import sys

import click
import typer

from maestro import __version__
from maestro.cli import diff, explain, init, schema, validate
from maestro.cli.app import EXIT_USAGE, app

for module in (validate, explain, diff, schema, init):
    module.register(app)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"maestro {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    """The control plane around AI systems: validate, explain and diff GitOps manifests."""


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code instead of raising SystemExit."""
    command = typer.main.get_command(app)
    try:
        result = command.main(args=argv, prog_name="maestro", standalone_mode=False)
    except click.exceptions.Abort:
        typer.echo("maestro: aborted", err=True)
        return EXIT_USAGE
    except click.ClickException as e:
        e.show()
        return EXIT_USAGE
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
