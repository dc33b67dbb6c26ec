"""maestro autonomy status | incident | promote"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from maestro.cli.app import EXIT_FINDINGS
from maestro.cli.output import TEXT_AND_JSON, FormatAlias, JsonFlag, resolve_format, say, write_output
from maestro.cli.output import as_json as json_text
from maestro.cli.reference import examples
from maestro.cli.run import OutputOpt, StateUrlOpt

autonomy_app = typer.Typer(
    help="Autonomy earned by metrics: where an agent stands, incidents, and the request to raise its level.",
    no_args_is_help=True,
)

NameArg = Annotated[str, typer.Argument(help="An Agent or Pipeline (Agent/NAME or Pipeline/NAME when both exist).")]
KeyOpt = Annotated[
    Path | None, typer.Option("--key", help="Your signing key (default: $MAESTRO_LEDGER_KEY or ~/.config/maestro).")
]


def _root() -> Path:
    from maestro.manifests.validate import repository_root

    return repository_root()


@autonomy_app.command(
    "status", epilog=examples("maestro autonomy status support-agent", "maestro autonomy status refund-flow --json")
)
def status_command(
    name: NameArg,
    state_url: StateUrlOpt = None,
    output: OutputOpt = None,
    as_json: JsonFlag = False,
    format_alias: FormatAlias = None,
) -> None:
    """Runs at the current level, the eval pass rate with its interval, incidents, and what the next level takes."""
    from maestro.runtime import earned_report
    from maestro.runtime.standing import measure

    fmt = resolve_format(TEXT_AND_JSON, output, as_json, format_alias)
    status = measure(_root(), name, state_url)
    write_output(json_text(status.to_json()) if fmt == "json" else earned_report.status_text(status))


@autonomy_app.command(
    "incident", epilog=examples('maestro autonomy incident support-agent --reason "refunded the wrong order"')
)
def incident_command(
    name: NameArg,
    reason: Annotated[str, typer.Option("--reason", help="What happened; kept in the ledger entry.")],
    key: KeyOpt = None,
    output: OutputOpt = None,
    as_json: JsonFlag = False,
    format_alias: FormatAlias = None,
) -> None:
    """Record an operator incident (a ledger entry); a Policy's demoteOnIncident may demote the subject."""
    from maestro.runtime.standing import incident

    fmt = resolve_format(TEXT_AND_JSON, output, as_json, format_alias)
    recorded = incident(_root(), name, reason, key)
    text = f"recorded incident #{recorded['index']} on {recorded['subject']}"
    if recorded["demotedTo"]:
        text += f"; demoted from {recorded['level']} to {recorded['demotedTo']} (its tools are gated there now)"
    say(fmt, text, recorded)


@autonomy_app.command(
    "promote", epilog=examples("maestro autonomy promote support-agent --out-file raise-support-agent.json")
)
def promote_command(
    name: NameArg,
    out_file: Annotated[Path, typer.Option("--out-file", "--out", metavar="FILE", help="The request file to write.")],
    key: KeyOpt = None,
    state_url: StateUrlOpt = None,
    output: OutputOpt = None,
    as_json: JsonFlag = False,
    format_alias: FormatAlias = None,
) -> None:
    """Open the dual-control request `autonomy.raise` with the measured evidence (exit 1 when not earned)."""
    from maestro.runtime.standing import promote

    fmt = resolve_format(TEXT_AND_JSON, output, as_json, format_alias)
    opened = promote(_root(), name, out_file, key, state_url)
    if not opened["earned"]:
        say(fmt, opened["message"], opened)
        raise typer.Exit(EXIT_FINDINGS)
    say(fmt, opened["message"], opened)


def register(app: typer.Typer) -> None:
    app.add_typer(autonomy_app, name="autonomy")
