"""maestro validate [PATH...]"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from maestro.cli.app import EXIT_FINDINGS
from maestro.cli.output import write_output
from maestro.cli.recording import record_validation
from maestro.manifests import yamlio
from maestro.manifests.validate import default_paths, validate
from maestro.report.diagnostics import FORMATS, render


def validate_command(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Files or folders (default: manifests/ and policies/).")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help=f"Output: {', '.join(FORMATS)}.")] = "text",
    strict: Annotated[bool, typer.Option("--strict", help="Warnings fail too.")] = False,
    max_file_size: Annotated[int, typer.Option(help="Largest file read, in bytes.", min=1)] = yamlio.Limits().max_bytes,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the report to this file.")] = None,
    no_ledger: Annotated[bool, typer.Option("--no-ledger", help="Do not record this run in the ledger.")] = False,
) -> None:
    """Check manifests: YAML, each kind's schema, and the set as a whole (references, policies, graphs, CEL)."""
    if fmt not in FORMATS:
        raise typer.BadParameter(f"unknown format '{fmt}'; use one of {', '.join(FORMATS)}", param_hint="--format")
    result = validate(paths or default_paths(), limits=yamlio.Limits(max_bytes=max_file_size))
    report = render(fmt, result.diagnostics, result.summary, result.manifests.locator.texts)
    write_output(report, output)
    if not no_ledger:
        record_validation(result)  # only where the repository keeps keys in .maestro/keys/ and you have one
    if result.failed(strict):
        raise typer.Exit(EXIT_FINDINGS)


def register(app: typer.Typer) -> None:
    app.command("validate")(validate_command)
