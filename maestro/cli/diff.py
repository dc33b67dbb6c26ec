"""maestro diff OLD [NEW]"""

from __future__ import annotations

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
from maestro.cli.reference import examples
from maestro.manifests.diff import Risk, diff_sources
from maestro.manifests.sources import resolve_sides
from maestro.report.diff import FORMATS as REPORT_FORMATS
from maestro.report.diff import render

_RISKS = tuple(r.value for r in Risk)
FORMATS = with_yaml(REPORT_FORMATS)


def diff_command(
    old: Annotated[str, typer.Argument(help="A folder, a file or a git revision (main, HEAD~1, a tag).")],
    new: Annotated[
        str | None, typer.Argument(help="A folder, a file or a git revision (default: the working tree).")
    ] = None,
    output: Annotated[str | None, output_option(FORMATS)] = None,
    as_json: JsonFlag = False,
    format_alias: FormatAlias = None,
    fail_on: Annotated[
        str | None,
        typer.Option(
            "--fail-on",
            metavar="low|medium|high",
            help=f"Exit 1 when a change is at least this risky: {', '.join(_RISKS)}.",
        ),
    ] = None,
    out_file: OutFile = None,
) -> None:
    """Compare two versions of the manifests and say how risky each change is, and why."""
    fmt = resolve_format(FORMATS, output, as_json, format_alias)
    if fail_on is not None and fail_on not in _RISKS:
        raise typer.BadParameter(f"unknown risk '{fail_on}'; use one of {', '.join(_RISKS)}", param_hint="--fail-on")
    before, after = resolve_sides(old, new)
    result = diff_sources(before.sources, after.sources, old_files=before.files, new_files=after.files)
    write_output(json_as(fmt, render("json" if fmt == "yaml" else fmt, result, before.label, after.label)), out_file)
    if fail_on is not None and result.reaches(Risk(fail_on)):
        raise typer.Exit(EXIT_FINDINGS)


def register(app: typer.Typer) -> None:
    app.command("diff", epilog=examples("maestro diff main", "maestro diff HEAD~1 HEAD -o markdown --fail-on high"))(
        diff_command
    )
