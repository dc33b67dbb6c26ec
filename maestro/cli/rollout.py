"""maestro rollout start|status|promote|pause|resume|abort|undo|list|history|run|simulate NAME

Each command builds a ``Controller`` on the state store and sends it one event; ``run`` ticks it in the
foreground until the rollout ends (``maestro gateway`` runs the same controller in the background).
"""

from __future__ import annotations

import getpass
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from maestro import state
from maestro.cli.output import TEXT_AND_JSON, FormatAlias, JsonFlag, output_option, resolve_format
from maestro.cli.reference import examples
from maestro.cli.request_files import load_manifests
from maestro.delivery import machine
from maestro.delivery.controller import Controller
from maestro.delivery.errors import RolloutError
from maestro.delivery.replay import Replay
from maestro.delivery.replay import read as read_recorded
from maestro.delivery.simulate import Traffic, simulate
from maestro.delivery.spec import resolve
from maestro.delivery.status import render, status
from maestro.errors import UsageError
from maestro.ledger.record import trusted_keyring
from maestro.ledger.roles import trusted_roles

rollout_app = typer.Typer(help="Progressive delivery: run Rollouts that shift a route's traffic step by step.")

Manifests = Annotated[list[Path] | None, typer.Option("--manifests", "-m", help="Manifest folders or files.")]
StatePath = Annotated[
    str | None,
    typer.Option(
        "--state", metavar="PATH|URL", help="State store (default $MAESTRO_STATE_URL, else .maestro/state.db)."
    ),
]
Key = Annotated[Path | None, typer.Option("--key", help="Signing key for the ledger (default: yours).")]
NoLedger = Annotated[bool, typer.Option("--no-ledger", help="Do not record transitions and verdicts in the ledger.")]
Output = Annotated[str | None, output_option(TEXT_AND_JSON)]
Json = JsonFlag


@contextmanager
def controller(
    state_path: str | None, key: Path | None, no_ledger: bool, role: str
) -> Iterator[tuple[Controller, str]]:
    """A controller on the store, recording to the ledger when the repository keeps one; and the actor."""
    from maestro.ledger.record import recorder

    store = state_path or state.default_path(Path.cwd())
    ledger = None if no_ledger else recorder(Path.cwd(), key, store=store)  # refuses an untrusted key
    writer = None if ledger is None else ledger.writer()
    who = ledger.signer if ledger is not None else getpass.getuser()
    record = None if writer is None else writer.submit
    root = Path.cwd()
    c = Controller(
        store, actor=f"{role}:{who}", record=record, keyring=trusted_keyring(root), roles=trusted_roles(root)
    )
    try:
        yield c, f"{role}:{who}"
    finally:
        c.close()
        if writer is not None:
            writer.close()


def output_format(output: str | None, as_json: bool, format_alias: str | None = None) -> str:
    return resolve_format(TEXT_AND_JSON, output, as_json, format_alias)


def _show(c: Controller, name: str, fmt: str) -> None:
    stored = c.store.get(name)
    if stored is None:
        raise RolloutError(f"no rollout named '{name}' has been started; `maestro rollout start {name}`")
    s = status(c.store, stored)
    typer.echo(json.dumps(s, indent=2, default=str) if fmt == "json" else render(s), nl=fmt == "json")


@rollout_app.command(
    "start",
    epilog=examples("maestro rollout start support-chat-gpt4o", "maestro rollout start support-chat-gpt4o --json"),
)
def start_command(
    name: str,
    paths: Manifests = None,
    state_path: StatePath = None,
    key: Key = None,
    no_ledger: NoLedger = False,
    output: Output = None,
    as_json: Json = False,
    format_alias: FormatAlias = None,
) -> None:
    """Start Rollout NAME as committed (pinned by its digest); the controller in `maestro gateway` drives it."""
    spec = resolve(load_manifests(paths), name)
    with controller(state_path, key, no_ledger, "rollout") as (c, actor):
        c.begin(spec, actor)
        _show(c, name, output_format(output, as_json, format_alias))


@rollout_app.command(
    "status",
    epilog=examples("maestro rollout status support-chat-gpt4o", "maestro rollout status support-chat-gpt4o --watch"),
)
def status_command(
    name: str,
    state_path: StatePath = None,
    watch: Annotated[bool, typer.Option("--watch", help="Show it every second until it ends.")] = False,
    output: Output = None,
    as_json: Json = False,
    format_alias: FormatAlias = None,
) -> None:
    """Phase, step, canary weight, why it waits, verdicts (n, estimate, interval, alpha) and transitions."""
    fmt = output_format(output, as_json, format_alias)
    with controller(state_path, None, True, "rollout") as (c, _):
        _show(c, name, fmt)
        while watch and (s := c.store.get(name)) is not None and s.state.phase in machine.ACTIVE:
            time.sleep(1.0)
            _show(c, name, fmt)


def _event_command(event: Callable[[float, str, frozenset[int]], machine.Event], doc: str) -> Callable[..., None]:
    def command(
        name: str,
        state_path: StatePath = None,
        key: Key = None,
        no_ledger: NoLedger = False,
        output: Output = None,
        as_json: Json = False,
        format_alias: FormatAlias = None,
    ) -> None:
        with controller(state_path, key, no_ledger, "rollout") as (c, actor):
            c.send(name, event, actor)
            _show(c, name, output_format(output, as_json, format_alias))

    command.__doc__ = doc
    return command


@rollout_app.command(
    "promote",
    epilog=examples("maestro rollout promote support-chat-gpt4o", "maestro rollout promote support-chat-gpt4o --full"),
)
def promote_command(
    name: str,
    full: Annotated[bool, typer.Option("--full", help="Skip every remaining step: all traffic to the canary.")] = False,
    state_path: StatePath = None,
    key: Key = None,
    no_ledger: NoLedger = False,
    output: Output = None,
    as_json: Json = False,
    format_alias: FormatAlias = None,
) -> None:
    """Skip the current step (a pause or an analysis), or with --full promote at once; refused in a freeze."""
    with controller(state_path, key, no_ledger, "rollout") as (c, actor):
        c.send(name, lambda now, frozen, ok: machine.Promote(now, full, frozen, ok), actor)
        _show(c, name, output_format(output, as_json, format_alias))


rollout_app.command("pause", epilog=examples("maestro rollout pause support-chat-gpt4o"))(
    _event_command(lambda now, frozen, ok: machine.Pause(now), "Pause: hold the current step.")
)
rollout_app.command("resume", epilog=examples("maestro rollout resume support-chat-gpt4o"))(
    _event_command(lambda now, frozen, ok: machine.Resume(now, ok), "Resume a paused rollout.")
)
rollout_app.command("abort", epilog=examples("maestro rollout abort support-chat-gpt4o"))(
    _event_command(
        lambda now, frozen, ok: machine.Abort(now), "Abort: the canary's weight to 0 at once (also in a freeze)."
    )
)
rollout_app.command("undo", epilog=examples("maestro rollout undo support-chat-gpt4o"))(
    _event_command(
        lambda now, frozen, ok: machine.Undo(now), "Undo: back to the previous stable, even after promotion."
    )
)


@rollout_app.command(
    "approve",
    epilog=examples(
        "maestro rollout approve support-chat-gpt4o",
    ),
)
def approve_command(
    name: str,
    state_path: StatePath = None,
    key: Key = None,
    output: Output = None,
    as_json: Json = False,
    format_alias: FormatAlias = None,
) -> None:
    """Sign rollout NAME's current gate (a manual pause, else its promotion) with your ledger key."""
    from maestro.ledger.record import trusted_key

    signing = trusted_key(Path.cwd(), key)
    if signing is None:
        raise UsageError(
            "approving needs your ledger key: `maestro keys init`, or --key FILE, in a repository with .maestro/keys"
        )
    with controller(state_path, key, False, "rollout") as (c, _):
        who = c.approve(name, signing)
        _show(c, name, output_format(output, as_json, format_alias))
    typer.echo(f"approved by {signing.name}; approvals that count for this gate: {', '.join(who) or 'none'}", err=True)


@rollout_app.command(
    "list",
    epilog=examples(
        "maestro rollout list",
        "maestro rollout list --json",
    ),
)
def list_command(
    state_path: StatePath = None, output: Output = None, as_json: Json = False, format_alias: FormatAlias = None
) -> None:
    """Every rollout in the store, with its phase and canary weight."""
    fmt = output_format(output, as_json, format_alias)
    with controller(state_path, None, True, "rollout") as (c, _):
        rows = [
            {
                "name": s.spec.name,
                "phase": str(s.state.phase),
                "route": s.spec.route,
                "canaryWeight": s.state.canary_weight,
                "run": s.run,
            }
            for s in c.store.all()
        ]
    if fmt == "json":
        typer.echo(json.dumps(rows, indent=2))
    else:
        typer.echo(
            "\n".join(f"{r['name']}: {r['phase']}, canary {r['canaryWeight']}% on {r['route']}" for r in rows)
            or "no rollouts"
        )


@rollout_app.command(
    "history",
    epilog=examples(
        "maestro rollout history support-chat-gpt4o",
    ),
)
def history_command(
    name: str,
    state_path: StatePath = None,
    output: Output = None,
    as_json: Json = False,
    format_alias: FormatAlias = None,
) -> None:
    """Every transition and verdict of every run of NAME."""
    fmt = output_format(output, as_json, format_alias)
    with controller(state_path, None, True, "rollout") as (c, _):
        data: dict[str, Any] = {"name": name, "events": c.store.events(name), "verdicts": c.store.verdicts(name)}
    if fmt == "json":
        typer.echo(json.dumps(data, indent=2, default=str))
        return
    for e in data["events"]:
        typer.echo(
            f"run {e['run']} {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(e['at']))} {e['event']}: "
            f"{e['from']} -> {e['to']}, canary {e['canaryWeight']}% by {e['actor']}: {e['reason']}"
        )


@rollout_app.command(
    "run",
    epilog=examples(
        "maestro rollout run support-chat-gpt4o",
    ),
)
def run_command(name: str, state_path: StatePath = None, key: Key = None, no_ledger: NoLedger = False) -> None:
    """Drive rollout NAME in the foreground until it ends (what `maestro gateway` does in the background)."""
    with controller(state_path, key, no_ledger, "rollout-controller") as (c, _):
        end = c.run_until_done(
            name, lambda t: typer.echo(f"{t.event}: {t.before} -> {t.after}, canary {t.canary_weight}%: {t.reason}")
        )
        typer.echo(f"rollout {name}: {end.state.phase}")


@rollout_app.command(
    "simulate",
    epilog=examples(
        "maestro rollout simulate support-chat-gpt4o",
        "maestro rollout simulate support-chat-gpt4o --json",
        "maestro rollout simulate support-chat-gpt4o --replay --since 7d   # the decisions the gateway recorded",
        "maestro rollout simulate support-chat-gpt4o --replay --canary-error-rate 0.06 --onset 60",
    ),
)
def simulate_command(
    name: str,
    paths: Manifests = None,
    rate: Annotated[float, typer.Option(help="Requests per second on the route.")] = 50.0,
    error_rate: Annotated[float, typer.Option(help="Stable's error rate.")] = 0.01,
    canary_error_rate: Annotated[
        float | None, typer.Option(help="The canary's error rate after --onset (default: stable's).")
    ] = None,
    onset: Annotated[float, typer.Option(help="Second at which the canary's error rate changes.")] = 0.0,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic traffic.")] = 0,
    replay: Annotated[
        bool, typer.Option("--replay", help="Replay the route's decisions recorded in the ledger instead.")
    ] = False,
    since: Annotated[
        str | None, typer.Option("--since", metavar="WHEN", help="With --replay: from this date/time or age (7d).")
    ] = None,
    state_path: StatePath = None,
    output: Output = None,
    as_json: Json = False,
    format_alias: FormatAlias = None,
) -> None:
    """Run Rollout NAME on synthetic traffic, or on the route's recorded decisions (--replay), through the live
    statistics and state machine; send nothing."""
    fmt = output_format(output, as_json, format_alias)
    spec = resolve(load_manifests(paths), name)
    traffic = Traffic(rate, error_rate, error_rate if canary_error_rate is None else canary_error_rate, onset)
    recorded = None
    if replay:
        from maestro.ledger.query import parse_since

        store = state_path or state.default_path(Path.cwd())
        recorded = read_recorded(store, spec, parse_since(since) if since else None)
    elif since is not None:
        raise UsageError("--since reads the ledger: pass it with --replay")
    source = None if recorded is None else Replay(spec, recorded, canary_error_rate, onset)
    run = simulate(spec, traffic, seed, replay=source)
    if fmt == "json":
        typer.echo(json.dumps(run.as_json(), indent=2))
        return
    for at, event, weight in run.events:
        typer.echo(f"{at:>7.0f}s  {event} (canary {weight}%)")
    if recorded is not None:
        typer.echo(f"replayed {len(recorded.times)} recorded requests of route {spec.route} ({recorded.seconds:.0f}s)")
    ending = "would end" if run.phase not in machine.ACTIVE else "would still be running (the recording ended)"
    typer.echo(f"rollout {name} {ending} {run.phase} after {run.seconds:.0f}s and {run.requests} requests")
    if run.detected_s is not None:
        typer.echo(
            f"  from the fault at {run.onset_s:g}s: all traffic on stable {run.detected_s:.0f}s later, after "
            f"{run.requests_to_detect} requests on the route; the canary failed {run.canary_failed} of them"
        )
    for note in run.assumed:
        typer.echo(f"  assumed: {note}")


def register(app: typer.Typer) -> None:
    app.add_typer(rollout_app, name="rollout")
