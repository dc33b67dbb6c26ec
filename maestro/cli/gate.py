"""maestro gate [SCORECARD...] [--github] [--strict]"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer

from maestro.cli.app import EXIT_FINDINGS
from maestro.cli.output import FormatAlias, JsonFlag, OutFile, output_option, resolve_format, write_output
from maestro.cli.recording import record
from maestro.cli.reference import examples
from maestro.errors import UsageError
from maestro.evals.evidence import gate_action
from maestro.evals.gate import judge
from maestro.evals.slo import forecast
from maestro.report import gate as report

FORMATS = ("text", "json", "markdown")


def read_cards(paths: list[Path]) -> list[dict[str, Any]]:
    missing = [str(p) for p in paths if not p.exists()]
    if missing and len(missing) < len(paths):
        raise UsageError(f"no such scorecard file or folder: {', '.join(missing)}")
    files = [f for p in paths if p.exists() for f in (sorted(p.glob("*.json")) if p.is_dir() else [p])]
    if not files:
        raise UsageError(f"no scorecards in {', '.join(map(str, paths))}; run `maestro eval` first")
    cards = []
    for f in files:
        try:
            card = json.loads(f.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise UsageError(f"{f}: not a readable scorecard ({e}); run `maestro eval` to write it again") from e
        if not isinstance(card, dict) or card.get("schema") != "maestro.dev/scorecard/v1":
            raise UsageError(f"{f}: not a maestro scorecard (no schema maestro.dev/scorecard/v1)")
        cards.append(card)
    return cards


def gate_command(
    scorecards: Annotated[list[Path] | None, typer.Argument(help="Scorecard files or folders.")] = None,
    output: Annotated[str | None, output_option(FORMATS)] = None,
    as_json: JsonFlag = False,
    format_alias: FormatAlias = None,
    strict: Annotated[bool, typer.Option("--strict", help="Fail on inconclusive verdicts too.")] = False,
    github: Annotated[
        bool, typer.Option("--github", help="In GitHub Actions: PR comment, check run, step summary.")
    ] = False,
    out_file: OutFile = None,
    no_ledger: Annotated[bool, typer.Option("--no-ledger", help="Do not record the verdict in the ledger.")] = False,
    report_url: Annotated[
        str | None,
        typer.Option(
            "--report-url", metavar="URL", help="With --github: link the comment to the pages of `maestro ui export`."
        ),
    ] = None,
) -> None:
    """Verdict per metric (pass, fail, inconclusive) against thresholds and the baseline. Exit 1 on fail.

    Where the repository keeps a ledger (.maestro/keys/) and a signing key is configured, the verdict is recorded.
    """
    fmt = resolve_format(FORMATS, output, as_json, format_alias)
    cards = read_cards(scorecards or [Path(".maestro/evals")])
    result = judge(cards)
    forecasts = {c["suite"]: f for c in cards if (f := forecast(c)) is not None}
    text = report.markdown(result, cards, forecasts) if fmt == "markdown" else report.FORMATS[fmt](result, cards)
    write_output(text, out_file)
    record(gate_action(result, cards), no_ledger=no_ledger)  # before GitHub: recorded whatever the API answers
    if github:
        from maestro.github.publish import publish_from_environment

        for line in publish_from_environment(
            os.environ, result, cards, forecasts, strict=strict, report_url=report_url
        ):
            typer.echo(line, err=True)
    if result.failed(strict):
        raise typer.Exit(EXIT_FINDINGS)


def register(app: typer.Typer) -> None:
    app.command("gate", epilog=examples("maestro gate", "maestro gate .maestro/evals -o markdown --strict"))(
        gate_command
    )
