"""maestro runs list | show | logs | approve | reject | resume | cancel, and maestro worker"""

from __future__ import annotations

import contextlib
import signal
import threading
from pathlib import Path
from typing import Annotated

import typer

from maestro.cli.app import EXIT_FINDINGS
from maestro.cli.output import TEXT_AND_JSON, FormatAlias, JsonFlag, resolve_format, write_output
from maestro.cli.output import as_json as json_text
from maestro.cli.reference import examples
from maestro.cli.run import OutputOpt, StateUrlOpt, leave

runs_app = typer.Typer(
    help="Runs of Pipelines: list, show, logs, approve, reject, resume, cancel.", no_args_is_help=True
)

RunArg = Annotated[str, typer.Argument(help="The run id (from `maestro run` or `maestro runs list`).")]
InterruptArg = Annotated[str, typer.Argument(help="The interrupt id the run waits on (from `maestro runs show`).")]
KeyOpt = Annotated[
    Path | None, typer.Option("--key", help="Your signing key (default: $MAESTRO_LEDGER_KEY or ~/.config/maestro).")
]
CommentOpt = Annotated[str, typer.Option("--comment", help="Why; kept with the decision.")]
Options = tuple[str | None, str | None, bool, str | None]  # --state-url, -o, --json, --format


def _root() -> Path:
    from maestro.manifests.validate import repository_root

    return repository_root()


@runs_app.command("list", epilog=examples("maestro runs list", "maestro runs list --status waiting --json"))
def list_command(
    status: Annotated[str | None, typer.Option("--status", help="Only runs in this state.")] = None,
    state_url: StateUrlOpt = None,
    output: OutputOpt = None,
    as_json: JsonFlag = False,
    format_alias: FormatAlias = None,
) -> None:
    """The latest runs, newest first."""
    from maestro.runtime import engine, report, runs

    fmt = resolve_format(TEXT_AND_JSON, output, as_json, format_alias)
    with engine.client(_root(), state_url) as client:
        found = runs.list_runs(client, status)
    write_output(json_text([r.to_json() for r in found]) if fmt == "json" else report.list_text(found))


@runs_app.command("show", epilog=examples("maestro runs show RUN", "maestro runs show RUN --json"))
def show_command(
    run_id: RunArg,
    state_url: StateUrlOpt = None,
    output: OutputOpt = None,
    as_json: JsonFlag = False,
    format_alias: FormatAlias = None,
) -> None:
    """A run's timeline: each node's start, end, attempts, calls, tokens, cost and output; pending interrupts."""
    from maestro.runtime import engine, report, runs

    fmt = resolve_format(TEXT_AND_JSON, output, as_json, format_alias)
    with engine.client(_root(), state_url) as client:
        run = runs.get(client, run_id)
    write_output(json_text(run.to_json()) if fmt == "json" else report.show_text(run))


@runs_app.command(
    "logs", epilog=examples("maestro runs logs RUN", "maestro runs logs RUN refund", "maestro runs logs RUN --json")
)
def logs_command(
    run_id: RunArg,
    node: Annotated[str | None, typer.Argument(help="Only this node (and its map branches).")] = None,
    state_url: StateUrlOpt = None,
    output: OutputOpt = None,
    as_json: JsonFlag = False,
    format_alias: FormatAlias = None,
) -> None:
    """Each node's log lines, oldest first: start, failed attempts, model and tool calls, refusals, errors, end."""
    from maestro.runtime import engine, logs, report, runs

    fmt = resolve_format(TEXT_AND_JSON, output, as_json, format_alias)
    with engine.client(_root(), state_url) as client:
        lines = logs.log(runs.get(client, run_id), node)
    write_output(json_text([x.to_json() for x in lines]) if fmt == "json" else report.log_text(lines))


def _decide(run_id: str, interrupt: str, key: Path | None, decision: str, comment: str, opts: Options) -> None:
    from maestro.ledger.keys import key_path, read_signing_key
    from maestro.runtime import engine, runs

    fmt = resolve_format(TEXT_AND_JSON, *opts[1:])
    signing = read_signing_key(key_path(key))
    with engine.client(_root(), opts[0]) as client:
        runs.decide(client, run_id, interrupt, signing, decision=decision, comment=comment, root=_root())
    text = (
        f"{signing.name} {decision}d {interrupt}; a running `maestro worker` continues the run, "
        f"or `maestro runs resume {run_id}`\n"
    )
    data = {"run": run_id, "interrupt": interrupt, "decision": decision, "by": signing.name, "comment": comment}
    write_output(json_text(data) if fmt == "json" else text)


@runs_app.command(
    "approve",
    epilog=examples(
        "maestro runs approve RUN RUN:approve:0:main",
        'maestro runs approve RUN RUN:approve:0:main --comment "checked the order"',
    ),
)
def approve_command(
    run_id: RunArg,
    interrupt: InterruptArg,
    key: KeyOpt = None,
    comment: CommentOpt = "",
    state_url: StateUrlOpt = None,
    output: OutputOpt = None,
    as_json: JsonFlag = False,
    format_alias: FormatAlias = None,
) -> None:
    """Approve what the run waits for, signed with your ledger key (not your own run)."""
    _decide(run_id, interrupt, key, "approve", comment, (state_url, output, as_json, format_alias))


@runs_app.command("reject", epilog=examples('maestro runs reject RUN RUN:approve:0:main --comment "too high"'))
def reject_command(
    run_id: RunArg,
    interrupt: InterruptArg,
    key: KeyOpt = None,
    comment: CommentOpt = "",
    state_url: StateUrlOpt = None,
    output: OutputOpt = None,
    as_json: JsonFlag = False,
    format_alias: FormatAlias = None,
) -> None:
    """Reject what the run waits for, signed with your ledger key."""
    _decide(run_id, interrupt, key, "reject", comment, (state_url, output, as_json, format_alias))


@runs_app.command("cancel", epilog=examples("maestro runs cancel RUN"))
def cancel_command(
    run_id: RunArg,
    state_url: StateUrlOpt = None,
    output: OutputOpt = None,
    as_json: JsonFlag = False,
    format_alias: FormatAlias = None,
) -> None:
    """Stop a run; `maestro runs resume` continues it from its last finished node."""
    from maestro.runtime import engine, runs

    fmt = resolve_format(TEXT_AND_JSON, output, as_json, format_alias)
    with engine.client(_root(), state_url) as client:
        run = runs.cancel(client, run_id)
    write_output(json_text(run.to_json()) if fmt == "json" else f"run {run_id}: {run.status}\n")


@runs_app.command("resume", epilog=examples("maestro runs resume RUN"))
def resume_command(
    run_id: RunArg,
    state_url: StateUrlOpt = None,
    output: OutputOpt = None,
    as_json: JsonFlag = False,
    format_alias: FormatAlias = None,
) -> None:
    """Continue a run here (after a crash, a cancel or an approval) until it ends or waits for a human."""
    from maestro.runtime import engine, report, runs

    fmt = resolve_format(TEXT_AND_JSON, output, as_json, format_alias)
    root = _root()
    with engine.client(root, state_url) as client:
        before = runs.get(client, run_id)
        with engine.launched(root, state_url):
            runs.resume(run_id)
            past = before.interrupt["interrupt"] if before.interrupt else None
            final = runs.follow(
                client,
                run_id,
                lambda r: typer.echo(report.node_line(r)) if fmt == "text" else None,
                seen=len(before.nodes),
                past=past,
            )
        why = runs.refused(client, final, past) if final.status == "waiting" and past else []
    if why and fmt == "text":
        typer.echo(f"the decisions on {past} that did not count: " + "; ".join(why), err=True)
    write_output(json_text(final.to_json()) if fmt == "json" else "\n".join(report.end_lines(final)) + "\n")
    # always leave: this process may have recovered other runs that now wait in DBOS.recv
    leave(EXIT_FINDINGS if final.status in ("failed", "rejected") else 0)


def worker_command(state_url: StateUrlOpt = None) -> None:
    """Run queued runs and recover interrupted ones until stopped (Ctrl-C or SIGTERM)."""
    from maestro.runtime import engine

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with engine.launched(_root(), state_url, queue=True):
        typer.echo("maestro worker: taking queued runs and recovering interrupted ones (Ctrl-C stops)", err=True)
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()
    leave(0)  # runs waiting for people hold threads in DBOS.recv; they are durable and recovered next launch


def register(app: typer.Typer) -> None:
    app.add_typer(runs_app, name="runs")
    app.command(
        "worker", epilog=examples("maestro worker", "MAESTRO_RUNS_URL=postgresql://maestro@db/maestro maestro worker")
    )(worker_command)
