"""maestro ui [--host 127.0.0.1] [--port 8090] [--keys-env MAESTRO_UI_KEYS]"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from maestro import state
from maestro.cli.reference import examples
from maestro.errors import UsageError


def ui_command(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8090,
    keys_env: Annotated[
        str,
        typer.Option(help='Variable holding the login keys: [{"id", "token", "role"}], role viewer|approver|operator.'),
    ] = "MAESTRO_UI_KEYS",
    state_path: Annotated[
        Path | None, typer.Option("--state", help="State store (default: .maestro/state.db).")
    ] = None,
    key: Annotated[Path | None, typer.Option("--key", help="Ledger signing key for actions (default: yours).")] = None,
    manifests: Annotated[
        list[Path] | None,
        typer.Option("--manifests", "-m", help="Manifest folders or files."),
    ] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
    grafana_url: Annotated[
        str | None,
        typer.Option(envvar="MAESTRO_GRAFANA_URL", help="Grafana that /obs links to and embeds panels from."),
    ] = None,
) -> None:
    """Serve the evidence UI: providers, ledger, manifests, Routing Studio, evals and runs, each also as JSON.

    People log in at /login with a token from --keys-env; scripts send Authorization: Bearer TOKEN. Every action
    is signed into the ledger, so a signing key and .maestro/keys/ are needed: the login's own ("ledgerKey": PATH
    in its entry, so two approvers count as two keys), else --key.
    """
    import uvicorn

    from maestro.ledger.record import configured_key
    from maestro.ui.app import create_app
    from maestro.ui.config import UiConfig, keys_from_env, signers_from_env

    root = Path.cwd()
    keys = keys_from_env(keys_env)
    if not keys:
        raise UsageError(
            f"${keys_env} holds no login keys; set it to a JSON list such as "
            f'[{{"id": "alice", "token": "...", "role": "operator"}}] (roles: viewer, approver, operator)'
        )
    signing = configured_key(root, key)
    if signing is None:
        typer.echo(
            "maestro ui: no ledger signing key here (.maestro/keys/ and your key), so actions are refused", err=True
        )
    config = UiConfig(
        root=root,
        state_path=state_path or state.default_path(root),
        keys=keys,
        signing_key=signing,
        signers=signers_from_env(keys_env, base=root),
        manifest_paths=tuple(manifests or ()),
        grafana_url=grafana_url,
    )
    typer.echo(f"maestro ui on http://{host}:{port}/ ({len(keys)} login keys)", err=True)
    uvicorn.run(create_app(config), host=host, port=port, log_level=log_level)


def register(app: typer.Typer) -> None:
    app.command(
        "ui",
        epilog=examples(
            'MAESTRO_UI_KEYS=\'[{"id": "olga", "token": "ui-olga-123", "role": "operator"}]\' maestro ui',
            "maestro ui --host 127.0.0.1 --port 8090 --keys-env TEAM_UI_KEYS",
        ),
    )(ui_command)
