"""maestro freeze add NAME (--duration 2h | --until TIME) [--reason TEXT] | list | remove NAME

An ad-hoc freeze window in the state store: while it is open a rollout does not advance or promote (it may
still roll back). The Policy's and the Rollouts' own windows apply besides it.
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Annotated

import typer

from maestro.cli.output import FormatAlias
from maestro.cli.reference import examples
from maestro.cli.rollout import Json, Key, NoLedger, Output, StatePath, controller, output_format
from maestro.delivery.freeze import AdHoc
from maestro.errors import UsageError
from maestro.ledger import Action, Subject
from maestro.manifests.durations import seconds

freeze_app = typer.Typer(help="Ad-hoc freeze windows: rollouts hold (and may roll back) while one is open.")


@freeze_app.command(
    "add",
    epilog=examples(
        'maestro freeze add holidays --duration 3d --reason "end of year"',
        "maestro freeze add release --until 2026-12-28T00:00:00Z",
    ),
)
def add_command(
    name: str,
    duration: Annotated[str | None, typer.Option(help="How long from now (or --start): 30m, 2h, 3d.")] = None,
    until: Annotated[str | None, typer.Option(help="When it ends, RFC 3339 (2026-12-28T00:00:00Z).")] = None,
    start: Annotated[str | None, typer.Option(help="When it begins, RFC 3339 (default: now).")] = None,
    reason: Annotated[str, typer.Option(help="Why changes are frozen.")] = "",
    state_path: StatePath = None,
    key: Key = None,
    no_ledger: NoLedger = False,
    output: Output = None,
    as_json: Json = False,
    format_alias: FormatAlias = None,
) -> None:
    """Open a freeze window now (or from --start) for --duration or until --until."""
    fmt = output_format(output, as_json, format_alias)
    if (duration is None) == (until is None):
        raise UsageError("give exactly one of --duration (e.g. 2h) or --until (e.g. 2026-12-28T00:00:00Z)")
    begin = _time(start, "--start") if start else time.time()
    try:
        end = begin + seconds(duration) if duration is not None else _time(str(until), "--until")
    except ValueError as e:
        raise UsageError(f"--duration: {e}") from e
    with controller(state_path, key, no_ledger, "freeze") as (c, actor):
        window = c.freezes.add(name, begin, end, reason, actor)
        _record(c.record, "freeze.add", window, actor)
    if fmt == "json":
        typer.echo(json.dumps(window.as_json(), indent=2))
    else:
        typer.echo(f"freeze {name}: {window.as_json()['start']} to {window.as_json()['end']}")


@freeze_app.command("list", epilog=examples("maestro freeze list", "maestro freeze list --json"))
def list_command(
    state_path: StatePath = None, output: Output = None, as_json: Json = False, format_alias: FormatAlias = None
) -> None:
    """The ad-hoc freeze windows, open or to come (the Policy's: `maestro explain policy`)."""
    fmt = output_format(output, as_json, format_alias)
    with controller(state_path, None, True, "freeze") as (c, _):
        windows = [w.as_json() for w in c.freezes.all() if w.end > time.time()]
    if fmt == "json":
        typer.echo(json.dumps(windows, indent=2))
        return
    lines = [f"{w['name']}: {w['start']} to {w['end']} by {w['createdBy']} {w['reason']}".rstrip() for w in windows]
    typer.echo("\n".join(lines) or "no freeze windows")


@freeze_app.command("remove", epilog=examples("maestro freeze remove holidays"))
def remove_command(
    name: str,
    state_path: StatePath = None,
    key: Key = None,
    no_ledger: NoLedger = False,
    output: Output = None,
    as_json: Json = False,
    format_alias: FormatAlias = None,
) -> None:
    """Close and delete the ad-hoc freeze window NAME."""
    fmt = output_format(output, as_json, format_alias)
    with controller(state_path, key, no_ledger, "freeze") as (c, actor):
        window = c.freezes.remove(name)
        _record(c.record, "freeze.remove", window, actor)
    typer.echo(json.dumps({"name": name, "removed": True}) if fmt == "json" else f"freeze {name}: removed")


def _record(record: object, name: str, window: AdHoc, actor: str) -> None:
    if callable(record):
        details = window.as_json()
        subject = Subject.of(f"freeze/{window.name}", json.dumps(details, sort_keys=True).encode())
        record(Action(action=name, actor=actor, subjects=[subject], details=details))


def _time(text: str, option: str) -> float:
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as e:
        raise UsageError(f"{option} {text}: not an RFC 3339 time; write it like 2026-12-28T00:00:00Z") from e
    if when.tzinfo is None:
        raise UsageError(f"{option} {text}: give a time zone (Z or +01:00)")
    return when.timestamp()


def register(app: typer.Typer) -> None:
    app.add_typer(freeze_app, name="freeze")
