"""maestro validate [PATH...]"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from maestro.cli.app import EXIT_FINDINGS
from maestro.cli.output import (
    FormatAlias,
    JsonFlag,
    OutFile,
    json_as,
    output_option,
    resolve_format,
    with_yaml,
    write_output,
)
from maestro.cli.recording import record
from maestro.cli.reference import examples
from maestro.manifests import yamlio
from maestro.manifests.evidence import validation_action
from maestro.manifests.validate import default_paths, validate
from maestro.report.diagnostics import FORMATS as REPORT_FORMATS
from maestro.report.diagnostics import render

FORMATS = with_yaml(REPORT_FORMATS)


def validate_command(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Files or folders (default: manifests/ and policies/).")
    ] = None,
    output: Annotated[str | None, output_option(FORMATS)] = None,
    as_json: JsonFlag = False,
    format_alias: FormatAlias = None,
    out_file: OutFile = None,
    strict: Annotated[bool, typer.Option("--strict", help="Warnings fail too.")] = False,
    max_file_size: Annotated[int, typer.Option(help="Largest file read, in bytes.", min=1)] = yamlio.Limits().max_bytes,
    no_ledger: Annotated[bool, typer.Option("--no-ledger", help="Do not record this run in the ledger.")] = False,
    jobs: Annotated[
        int | None,
        typer.Option(
            "--jobs",
            "-j",
            min=1,
            metavar="N",
            help="Processes that parse the files (default: one per core from 5,000 files; 1: no worker processes).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Check manifests: YAML, each kind's schema, and the set as a whole (references, policies, graphs, CEL)."""
    fmt = resolve_format(FORMATS, output, as_json, format_alias)
    result = validate(paths or default_paths(), limits=yamlio.Limits(max_bytes=max_file_size), jobs=jobs)
    shape = "json" if fmt == "yaml" else fmt
    report = render(shape, result.diagnostics, result.summary, result.manifests.locator.texts)
    write_output(json_as(fmt, report), out_file)
    record(validation_action(result), no_ledger=no_ledger)  # only where the repository keeps keys and you have one
    if result.failed(strict):
        raise typer.Exit(EXIT_FINDINGS)


def register(app: typer.Typer) -> None:
    app.command(
        "validate",
        epilog=examples(
            "maestro validate",
            "maestro validate manifests/routes.yaml -o github",
            "maestro validate -o sarif --out-file validate.sarif",
        ),
    )(validate_command)
