"""maestro run PIPELINE [--input FILE|-] [--detach]"""

from __future__ import annotations

import json
import os
import sys
from functools import partial
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from maestro.cli.app import EXIT_FINDINGS
from maestro.cli.output import (
    TEXT_AND_JSON,
    FormatAlias,
    JsonFlag,
    output_option,
    resolve_format,
    write_output,
)
from maestro.cli.output import as_json as json_text
from maestro.cli.reference import examples
from maestro.errors import UsageError

InputOpt = Annotated[str | None, typer.Option("--input", "-i", help="The run input: a JSON file, or - for stdin.")]
OutputOpt = Annotated[str | None, output_option(TEXT_AND_JSON)]
StateUrlOpt = Annotated[
    str | None,
    typer.Option("--state-url", help="Run state database (default: .maestro/runs.sqlite; $MAESTRO_RUNS_URL)."),
]


def leave(code: int = 0) -> NoReturn:
    """End the process now, after DBOS was destroyed, while a run waits for a human.

    A workflow waiting in ``DBOS.recv`` holds an executor thread until its timeout (hours) and DBOS offers no
    way to wake it, so a normal interpreter exit would wait that long. The run is durable (PENDING, its steps
    checkpointed): ending the process here is what a crash would do, and the next launch recovers it.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def read_input(source: str | None) -> dict[str, Any]:
    if source is None:
        return {}
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as e:
        raise UsageError(f"cannot read the input {source}: {e.strerror or e}") from e
    try:
        data = json.loads(text)
    except ValueError as e:
        raise UsageError(f"the input {source} is not JSON: {e}") from e
    if not isinstance(data, dict):
        raise UsageError(f"the input {source} must be a JSON object")
    return data


def _variants(root: Path, pipeline: str, session: str, run_id: str, requester: str) -> dict[str, str]:
    """The versions the running rollouts of ``pipeline`` and of its Agents give this run (none: no store yet)."""
    from maestro import state
    from maestro.delivery.variants import for_run

    where = state.default_path(root)
    if isinstance(where, Path) and not where.exists():
        return {}
    conn = state.connect(where)
    try:
        return for_run(conn, pipeline, run_id, caller=requester, session=session)
    finally:
        conn.close()


def run_command(
    pipeline: Annotated[str, typer.Argument(help="Name of the Pipeline to run.")],
    source: InputOpt = None,
    detach: Annotated[bool, typer.Option("--detach", help="Queue the run for `maestro worker` and return.")] = False,
    state_url: StateUrlOpt = None,
    output: OutputOpt = None,
    as_json: JsonFlag = False,
    format_alias: FormatAlias = None,
) -> None:
    """Start a run: print its id and follow its nodes until it ends or waits for a human."""
    from maestro.manifests.validate import repository_root
    from maestro.runtime import engine, report, runs

    fmt = resolve_format(TEXT_AND_JSON, output, as_json, format_alias)
    root = repository_root()
    data = read_input(source)
    run = runs.new_run(root, pipeline, data, partial(_variants, root, pipeline, str(data.get("session", ""))))
    if detach:
        engine.ensure(root, state_url)
        with engine.client(root, state_url) as client:
            runs.enqueue(client, run)
            queued = runs.get(client, run["id"])
        text = f"run {run['id']} queued; a `maestro worker` runs it (follow with `maestro runs show {run['id']}`)\n"
        write_output(json_text(queued.to_json()) if fmt == "json" else text)
        return
    if fmt == "text":
        typer.echo(f"run {run['id']}: pipeline {pipeline}, manifests sha256:{run['snapshot']['digest'][:12]}")
    with engine.launched(root, state_url), engine.client(root, state_url) as client:
        runs.start(run)
        final = runs.follow(client, run["id"], lambda r: typer.echo(report.node_line(r)) if fmt == "text" else None)
    write_output(json_text(final.to_json()) if fmt == "json" else "\n".join(report.end_lines(final)) + "\n")
    # always leave: this process may have recovered other runs that now wait in DBOS.recv
    leave(EXIT_FINDINGS if final.status in ("failed", "rejected") else 0)


def register(app: typer.Typer) -> None:
    app.command(
        "run",
        epilog=examples(
            "maestro run refund-flow --input examples/refund-request.json",
            "maestro run refund-flow --input - --detach --json < request.json",
        ),
    )(run_command)
