"""maestro gateway [--manifests DIR] [--host 127.0.0.1] [--port 8080] [--allow-open]"""

from __future__ import annotations

import getpass
import ipaddress
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from maestro import state
from maestro.cli.reference import examples
from maestro.cli.request_files import load_manifests
from maestro.delivery.controller import Controller
from maestro.delivery.notify import Notifier
from maestro.errors import UsageError
from maestro.gateway import GatewayConfig, create_app, from_manifests
from maestro.gateway.config import api_keys_from_json
from maestro.gateway.recording import change_sink, ledger_sink
from maestro.gateway.serve import run
from maestro.ledger.record import recorder
from maestro.manifests.kinds.policy import Policy
from maestro.manifests.loader import ManifestSet
from maestro.router import build
from maestro.telemetry import from_env

if TYPE_CHECKING:
    from maestro.ledger.writer import Writer


def gateway_command(
    paths: Annotated[list[Path] | None, typer.Option("--manifests", "-m", help="Manifest folders or files.")] = None,
    host: Annotated[str, typer.Option(metavar="HOST", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    state_path: Annotated[
        str | None,
        typer.Option(
            "--state",
            metavar="PATH|URL",
            help="State store (budgets, switches): a SQLite file or a postgresql:// URL; default "
            "$MAESTRO_STATE_URL, else .maestro/state.db.",
        ),
    ] = None,
    max_body: Annotated[int, typer.Option("--max-body-bytes", help="Largest request body accepted.")] = 1024 * 1024,
    stall: Annotated[
        float, typer.Option("--stall-timeout", metavar="SECONDS", help="Seconds a stream may go without a chunk.")
    ] = 10.0,
    body_timeout: Annotated[
        float,
        typer.Option(
            "--body-timeout", metavar="SECONDS", help="Seconds a chat request's body may take to arrive (else 408)."
        ),
    ] = 10.0,
    default_max_tokens: Annotated[
        int, typer.Option(help="Output limit sent upstream when a request sets no max_tokens.", min=1)
    ] = 256,
    max_in_flight: Annotated[
        int, typer.Option(help="Chat requests in progress before new ones get a 503 at once (0: no limit).")
    ] = 1024,
    keys_env: Annotated[
        str,
        typer.Option(
            metavar="VAR",
            help='Variable holding gateway keys: [{"id", "token", "team", "caller"}]; unset: no key needed.',
        ),
    ] = "MAESTRO_GATEWAY_KEYS",
    allow_open: Annotated[
        bool, typer.Option("--allow-open", help="Serve a non-loopback --host with no gateway keys (anyone may call).")
    ] = False,
    admin_env: Annotated[
        str, typer.Option(metavar="VAR", help="Variable holding the admin token.")
    ] = "MAESTRO_ADMIN_TOKEN",
    log_level: Annotated[str, typer.Option(metavar="LEVEL", help="uvicorn log level.")] = "info",
    no_ledger: Annotated[
        bool, typer.Option("--no-ledger", help="Do not record decisions, even where .maestro/keys exists.")
    ] = False,
    key: Annotated[
        Path | None, typer.Option("--key", metavar="FILE", help="Signing key for the ledger (default: yours).")
    ] = None,
) -> None:
    """Serve the OpenAI-compatible gateway: POST /v1/chat/completions, GET /v1/models, /healthz, /metrics.

    Where the repository keeps a ledger (.maestro/keys/) and a signing key is configured, every routing
    decision is recorded in it, signed off the request path; the queue is flushed on shutdown.
    """
    keys_text = os.environ.get(keys_env)
    api_keys = api_keys_from_json(keys_text, f"${keys_env}") if keys_text else {}
    if not api_keys:
        check_open(host, allow_open, keys_env)
    store = state_path or state.default_path(Path.cwd())
    ledger = None if no_ledger else recorder(Path.cwd(), key, store=store)  # refuses an untrusted key
    writer = None if ledger is None else ledger.writer()
    options: dict[str, Any] = {
        "state_path": store,
        "max_body_bytes": max_body,
        "stall_s": stall,
        "body_timeout_s": body_timeout,
        "default_max_tokens": default_max_tokens,
        "max_in_flight": max_in_flight,
        "admin_token_env": admin_env,
        "api_keys": api_keys,
        "tracer_provider": from_env(),
        "record": None if writer is None or ledger is None else ledger_sink(writer, f"gateway:{ledger.signer}"),
        "record_change": None if writer is None or ledger is None else change_sink(writer, ledger.signer),
    }
    manifests = load_manifests(paths)
    options["services"] = (_rollouts(store, ledger.signer if ledger else None, writer), notifier(store, manifests))

    def reload() -> GatewayConfig:
        return from_manifests(load_manifests(paths), **options)

    try:
        config = from_manifests(manifests, reload=reload, **options)
        if not api_keys:
            typer.echo(
                f"gateway: OPEN, no gateway keys (${keys_env} is unset): anyone who reaches {host}:{port} may call "
                "it and name any team or caller",
                err=True,
            )
        if ledger is not None:
            typer.echo(f"ledger: recording every decision in {store}, signed by '{ledger.signer}'", err=True)
        run(create_app(config), host, port, log_level)
    finally:
        if writer is not None:
            writer.close()


def _rollouts(store: str | Path, signer: str | None, writer: Writer | None) -> Controller:
    """The rollout controller, ticking in the gateway's lifespan (it idles while no rollout is active)."""
    actor = f"rollout-controller:{signer or getpass.getuser()}"
    from maestro.ledger.record import trusted_keyring
    from maestro.ledger.roles import trusted_roles

    record = None if writer is None else writer.submit
    root = Path.cwd()
    return Controller(store, actor=actor, record=record, keyring=trusted_keyring(root), roles=trusted_roles(root))


def notifier(store: str | Path, manifests: ManifestSet) -> Notifier:
    """The Policies' webhooks, told what happens in the store (it idles when no Policy names a webhook)."""
    hooks = [hook for policy in manifests.records(Policy) for hook in policy.notifications]
    return Notifier(store, hooks, build(manifests).budgets)


def check_open(host: str, allow_open: bool, keys_env: str) -> None:
    """Refuse to serve a non-loopback address with no keys, unless ``--allow-open`` says so."""
    if allow_open or is_loopback(host):
        return
    raise UsageError(
        f"--host {host} would serve the gateway beyond this machine with no gateway keys: set ${keys_env} "
        '(a JSON list of {"id", "token", "team", "caller"}), or pass --allow-open to serve it open'
    )


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address (127.0.0.0/8, ::1) or ``localhost``."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a name other than localhost may resolve anywhere


def register(app: typer.Typer) -> None:
    app.command(
        "gateway",
        epilog=examples(
            "maestro gateway --port 8080",
            'MAESTRO_GATEWAY_KEYS=\'[{"id": "ci", "token": "t0k3n", "team": "web"}]\' maestro gateway --host 0.0.0.0',
        ),
    )(gateway_command)
