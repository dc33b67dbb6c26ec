"""maestro chaos drill --scenario NAME|FILE [--scale F] [--json]"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from maestro.chaos import drill, scenario
from maestro.chaos.report import text
from maestro.cli.app import EXIT_FINDINGS
from maestro.cli.output import TEXT_AND_JSON, FormatAlias, JsonFlag, output_option, resolve_format
from maestro.cli.reference import examples

chaos_app = typer.Typer(help="Fault-injection drills against the gateway.", no_args_is_help=True)


@chaos_app.command(
    "drill",
    epilog=examples(
        "maestro chaos drill --scenario primary-down",
        "maestro chaos drill -s manifests/chaos/slow-primary.chaos.json --json",
        "maestro chaos drill -s canary-regression --scale 4   # 4x the rate: a quick run",
    ),
)
def drill_command(
    name: Annotated[
        str,
        typer.Option("--scenario", "-s", metavar="NAME|FILE", help="A scenario name in manifests/chaos/, or a file."),
    ],
    folder: Annotated[Path, typer.Option("--scenarios", metavar="DIR", help="Where named scenarios live.")] = Path(
        "manifests/chaos"
    ),
    output: Annotated[str | None, output_option(TEXT_AND_JSON)] = None,
    as_json: JsonFlag = False,
    format_alias: FormatAlias = None,
    isolate: Annotated[
        bool, typer.Option("--isolate", help="Run each fake upstream and the load in a process of its own.")
    ] = False,
    scale: Annotated[
        float,
        typer.Option(
            "--scale",
            metavar="F",
            help="Run F times faster: F times the rate, a rollout's fault window and time targets divided by F.",
        ),
    ] = 1.0,
) -> None:
    """Start fault-injecting upstreams on 127.0.0.1, run the scenario's load through a gateway, report.

    Exit 1 when a target of the scenario is missed."""
    fmt = resolve_format(TEXT_AND_JSON, output, as_json, format_alias)
    parsed = scenario.load(scenario.find(name, [folder]))
    parsed = parsed if scale == 1.0 else parsed.scaled(scale)
    report = drill.run(parsed, isolate=isolate)
    if fmt == "json":
        typer.echo(json.dumps(report.as_dict(), indent=2))
    else:
        typer.echo(text(report, parsed))
    if report.missed:
        raise typer.Exit(EXIT_FINDINGS)


def register(app: typer.Typer) -> None:
    app.add_typer(chaos_app, name="chaos")
