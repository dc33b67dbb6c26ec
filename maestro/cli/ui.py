"""maestro ui [--host 127.0.0.1] [--port 8090] [--keys-env MAESTRO_UI_KEYS]; maestro ui export DIR [--run RUN]
[--scorecard FILE]"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from maestro import state
from maestro.cli.output import TEXT_JSON_YAML, FormatAlias, JsonFlag, as_data, output_option, resolve_format
from maestro.cli.reference import examples
from maestro.errors import UsageError

ui_app = typer.Typer(help="The evidence UI: serve it, or export its pages as static HTML.")

StatePath = Annotated[Path | None, typer.Option("--state", help="State store (default: .maestro/state.db).")]
ManifestPaths = Annotated[list[Path] | None, typer.Option("--manifests", "-m", help="Manifest folders or files.")]


def ui_command(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8090,
    keys_env: Annotated[
        str,
        typer.Option(help='Variable holding the login keys: [{"id", "token", "role"}], role viewer|approver|operator.'),
    ] = "MAESTRO_UI_KEYS",
    state_path: StatePath = None,
    key: Annotated[Path | None, typer.Option("--key", help="Ledger signing key for actions (default: yours).")] = None,
    manifests: ManifestPaths = None,
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
    if ctx.invoked_subcommand is not None:
        return
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


FORMATS = TEXT_JSON_YAML


def export_command(
    folder: Annotated[Path, typer.Argument(metavar="DIR", help="Folder to write the pages into (created).")],
    run: Annotated[str | None, typer.Option("--run", metavar="RUN", help="Also export this run's page.")] = None,
    scorecard: Annotated[
        Path | None,
        typer.Option("--scorecard", metavar="FILE", help="Also export this scorecard against its suite's latest."),
    ] = None,
    state_path: StatePath = None,
    manifests: ManifestPaths = None,
    output: Annotated[str | None, output_option(FORMATS)] = None,
    as_json: JsonFlag = False,
    format_alias: FormatAlias = None,
) -> None:
    """Write the UI's pages as static HTML for a CI artifact: the manifests and each Pipeline, a run, a scorecard.

    The same templates as `maestro ui`, with relative links and the front-end files copied, each page beside its
    JSON twin; open DIR/index.html from disk or publish the folder, and pass its URL to `maestro gate
    --report-url` so the pull request's comment links to it.
    """
    fmt = resolve_format(FORMATS, output, as_json, format_alias)
    from maestro.ui.config import UiConfig
    from maestro.ui.export import export

    root = Path.cwd()
    config = UiConfig(
        root=root,
        state_path=state_path or state.default_path(root),
        keys={},
        manifest_paths=tuple(manifests or ()),
    )
    done = export(config, folder, run=run, scorecard=scorecard)
    if fmt == "text":
        typer.echo(f"wrote {len(done.pages)} pages into {done.folder}: open {done.folder / 'index.html'}")
        for page in done.pages:
            typer.echo(f"  {page}")
        return
    typer.echo(as_data(fmt, {"folder": str(done.folder), "pages": list(done.pages)}), nl=False)


def register(app: typer.Typer) -> None:
    ui_app.callback(
        invoke_without_command=True,
        epilog=examples(
            'MAESTRO_UI_KEYS=\'[{"id": "olga", "token": "ui-olga-123", "role": "operator"}]\' maestro ui',
            "maestro ui --host 127.0.0.1 --port 8090 --keys-env TEAM_UI_KEYS",
            "maestro ui export evidence --run run-4f2a9c1e --scorecard scorecard.json",
        ),
    )(ui_command)
    ui_app.command(
        "export",
        epilog=examples(
            "maestro ui export evidence",
            "maestro ui export evidence --run run-4f2a9c1e --scorecard scorecard.json --json",
        ),
    )(export_command)
    app.add_typer(ui_app, name="ui")
