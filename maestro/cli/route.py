"""maestro route simulate --requests FILE.jsonl [--outage PROVIDER]..."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from maestro.cli.app import EXIT_FINDINGS
from maestro.cli.output import (
    TEXT_JSON_YAML,
    FormatAlias,
    JsonFlag,
    OutFile,
    as_data,
    output_option,
    resolve_format,
    write_output,
)
from maestro.cli.reference import examples
from maestro.cli.request_files import load_manifests, read_requests
from maestro.report import decision as report
from maestro.router import build
from maestro.router.simulate import FAIL_ON, simulate

route_app = typer.Typer(help="Replay requests through the router.", no_args_is_help=True)


@route_app.command(
    "simulate",
    epilog=examples(
        "maestro route simulate --requests requests.jsonl",
        "maestro route simulate -r requests.jsonl --outage openai-us --json",
    ),
)
def simulate_command(
    requests: Annotated[
        Path, typer.Option("--requests", "-r", metavar="FILE", help="JSONL file, one request per line.")
    ],
    outage: Annotated[
        list[str] | None, typer.Option("--outage", metavar="PROVIDER", help="A provider that is down (repeatable).")
    ] = None,
    output: Annotated[str | None, output_option(TEXT_JSON_YAML)] = None,
    as_json: JsonFlag = False,
    format_alias: FormatAlias = None,
    paths: Annotated[list[Path] | None, typer.Option("--manifests", "-m", help="Manifest folders or files.")] = None,
    seed: Annotated[int, typer.Option(help="Seed for weighted picks and shadow sampling.")] = 0,
    out_file: OutFile = None,
    fail_on: Annotated[
        str,
        typer.Option(
            "--fail-on", metavar="never|unserved", help="Exit 1 when: never, unserved (a tag class NOT ALWAYS SERVED)."
        ),
    ] = "never",
) -> None:
    """Replay many requests, optionally under outages: does every tag class keep an allowed provider?"""
    fmt = resolve_format(TEXT_JSON_YAML, output, as_json, format_alias)
    if fail_on not in FAIL_ON:
        raise typer.BadParameter(f"unknown value '{fail_on}'; use {' or '.join(FAIL_ON)}", param_hint="--fail-on")
    table = build(load_manifests(paths))
    result = simulate(table, read_requests(requests), outage or [], seed=seed)
    text = report.simulation_text(result) if fmt == "text" else as_data(fmt, report.simulation_dict(result))
    write_output(text if text.endswith("\n") else text + "\n", out_file)
    if result.fails(fail_on):
        raise typer.Exit(EXIT_FINDINGS)


def register(app: typer.Typer) -> None:
    app.add_typer(route_app, name="route")
