"""maestro eval [SUITE...] [--target ROUTE] [--repeat N] [--concurrency N] [--baseline REF] [--regrade];
maestro eval plan [SUITE...]"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from maestro.cli.app import EXIT_FINDINGS
from maestro.cli.output import (
    TEXT_JSON_YAML,
    FormatAlias,
    JsonFlag,
    as_data,
    output_option,
    resolve_format,
    write_output,
)
from maestro.cli.output import as_json as json_text
from maestro.cli.recording import record
from maestro.cli.reference import examples
from maestro.errors import UsageError
from maestro.evals import drift
from maestro.evals.cache import Store
from maestro.evals.datasets import load_dataset
from maestro.evals.evidence import eval_action
from maestro.evals.plan import plan
from maestro.evals.runner import CaseRun, Options
from maestro.evals.session import Request, disk_reader, evaluate, usable
from maestro.evals.suite import suites_of
from maestro.manifests.validate import default_paths, repository_root, validate
from maestro.report import scorecard as report


class _RunByDefault(TyperGroup):
    """``maestro eval ARGS`` runs suites unless ARGS starts with a subcommand (``plan``)."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ("-h", "--help")):
            args = ["run", *args]
        return super().parse_args(ctx, args)


eval_app = typer.Typer(
    cls=_RunByDefault,
    help="Run eval suites, write scorecards (`maestro eval SUITE...`); `plan` sizes them, `history` lists runs.",
)

Paths = Annotated[list[Path] | None, typer.Option("--manifests", "-m", help="Manifest folders or files.")]


class _Lines:
    """Plain progress lines (CI, pipes): one per finished case run."""

    def __init__(self) -> None:
        self.done: dict[str, int] = {}
        self.total: dict[str, int] = {}

    def start(self, suite: str, total: int) -> None:
        self.done[suite], self.total[suite] = 0, total

    def advance(self, suite: str, run: CaseRun) -> None:
        self.done[suite] += 1
        state = "error" if run.error else "pass" if run.passed else "fail"
        typer.echo(f"{suite} [{self.done[suite]}/{self.total[suite]}] {run.case}#{run.repeat} {state}", err=True)

    def finish(self, suite: str) -> None:
        typer.echo(f"{suite}: done", err=True)


class _Bar:
    """A rich progress bar on a terminal."""

    def __init__(self) -> None:
        from rich.progress import Progress

        self.progress = Progress(transient=True)
        self.tasks: dict[str, Any] = {}

    def start(self, suite: str, total: int) -> None:
        self.progress.start()
        self.tasks[suite] = self.progress.add_task(suite, total=total)

    def advance(self, suite: str, run: CaseRun) -> None:
        self.progress.advance(self.tasks[suite])

    def finish(self, suite: str) -> None:
        self.progress.stop()


def _progress() -> _Lines | _Bar:
    return _Bar() if sys.stderr.isatty() and not os.environ.get("CI") else _Lines()


def _write(cards: list[dict[str, Any]], out_dir: Path) -> None:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        for card in cards:
            (out_dir / f"{card['suite']}.json").write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    except OSError as e:
        raise typer.BadParameter(f"cannot write scorecards to {out_dir}: {e.strerror or e}") from e


@eval_app.command(
    "run",
    epilog=examples(
        "maestro eval",
        "maestro eval refunds --repeat 3 --baseline main --junit eval.xml",
        "maestro eval run refunds -o markdown",
    ),
)
def run_command(
    suites: Annotated[list[str] | None, typer.Argument(help="EvalSuite names (default: all).")] = None,
    target: Annotated[
        str | None, typer.Option(metavar="ROUTE", help="Evaluate this Route instead of each suite's target.")
    ] = None,
    repeat: Annotated[int | None, typer.Option("--repeat", min=1, max=100, help="Repeats per case.")] = None,
    concurrency: Annotated[int | None, typer.Option(min=1, max=256, help="Cases in flight.")] = None,
    baseline: Annotated[
        str | None, typer.Option(metavar="REV", help="Git revision to compare with, case by case.")
    ] = None,
    against: Annotated[
        str | None,
        typer.Option(
            metavar="last",
            help="Compare each suite with its previous run, case by case, asking the routes afresh (drift); "
            "a significant drop notifies the Policy's webhooks.",
        ),
    ] = None,
    regrade: Annotated[
        bool, typer.Option("--regrade", help="Score cached answers again (no new generations).")
    ] = False,
    executor: Annotated[
        str, typer.Option(metavar="local|ray", help="local (asyncio) or ray (model calls on Ray actors).")
    ] = "local",
    ray_address: Annotated[
        str | None, typer.Option(metavar="ADDRESS", help="Ray cluster to join (e.g. auto); default: start a local one.")
    ] = None,
    out_dir: Annotated[
        Path, typer.Option("--out-dir", "--out", metavar="DIR", help="Folder for the JSON scorecards.")
    ] = Path(".maestro/evals"),
    junit: Annotated[Path | None, typer.Option(metavar="FILE", help="Also write JUnit XML to FILE.")] = None,
    html: Annotated[
        Path | None, typer.Option(metavar="FILE", help="Also write a self-contained HTML report to FILE.")
    ] = None,
    markdown: Annotated[Path | None, typer.Option(metavar="FILE", help="Also write a Markdown report to FILE.")] = None,
    output: Annotated[str | None, output_option(RUN_FORMATS)] = None,
    as_json: JsonFlag = False,
    format_alias: FormatAlias = None,
    state: Annotated[Path | None, typer.Option(metavar="FILE", help="State store (default .maestro/state.db).")] = None,
    paths: Paths = None,
    no_ledger: Annotated[bool, typer.Option("--no-ledger", help="Do not record this run in the ledger.")] = False,
    allow_code: Annotated[
        bool, typer.Option("--allow-code", help="Run python checks (code from the repository): trusted code only.")
    ] = False,
) -> None:
    """Run eval suites through their routes; write scorecards. Exit 1 when a case could not be run or graded.

    Where the repository keeps a ledger (.maestro/keys/) and a signing key is configured, the run is recorded.
    """
    fmt = resolve_format(RUN_FORMATS, output, as_json, format_alias)
    if against is not None and against != drift.LAST:
        raise typer.BadParameter(f"'{against}': use --against last (a git revision: --baseline REV)")
    if against is not None and baseline is not None:
        raise typer.BadParameter("give --against last or --baseline REV, not both", param_hint="--against")
    root = repository_root()
    request = Request(
        paths=paths or default_paths(),
        suites=suites or [],
        target=target,
        options=Options(
            repeats=repeat, concurrency=concurrency, regrade=regrade, allow_code=allow_code, fresh=against is not None
        ),
        baseline=baseline,
        against=against,
        state_path=str(state or root / ".maestro" / "state.db"),
        executor=executor,
        ray_address=ray_address,
    )
    cards = evaluate(request, _progress())
    _write(cards, out_dir)
    for kind, where in (("junit", junit), ("html", html), ("markdown", markdown)):
        if where is not None:
            write_output(report.FORMATS[kind](cards), where)
    write_output(_rendered(fmt, cards))
    record(eval_action(cards), no_ledger=no_ledger)
    if against is not None:
        _tell_drops(cards, request.paths, request.state_path)
    if any(card["problems"] for card in cards):
        raise typer.Exit(EXIT_FINDINGS)


RUN_FORMATS = ("text", "json", "markdown", "junit", "html")


def _tell_drops(cards: list[dict[str, Any]], paths: Sequence[Path], store: str) -> None:
    """Say which suites dropped since their previous run, and tell the Policies' webhooks."""
    from maestro.delivery.notify import Notice, Notifier
    from maestro.manifests.kinds.policy import Policy

    found = drift.drops(cards)
    for f in found:
        typer.echo(f"drift: {f.suite}: {f.metric}: {f.reason}", err=True)
    hooks = [h for p in validate(list(paths)).manifests.records(Policy) for h in p.notifications]
    if not found or not hooks:
        return
    suites = sorted({f.suite for f in found})
    title = f"eval drift: {', '.join(suites)} dropped since the last run ({found[0].metric}: {found[0].reason})"
    runs = {c["suite"]: c.get("baseline", {}).get("created") for c in cards}
    data = {"suites": suites, "findings": [f"{f.suite}: {f.metric}: {f.reason}" for f in found], "since": runs}
    notifier = Notifier(store, hooks)
    notifier.notify(Notice("eval", f"eval-drift/{time.time()}", title, data))
    notifier.flush()
    notifier.stop()


def _rendered(fmt: str, cards: list[dict[str, Any]]) -> str:
    if fmt == "text":
        return report.text(cards)
    if fmt == "json":
        return json_text(cards)
    return report.FORMATS[fmt](cards)


@eval_app.command("plan", epilog=examples("maestro eval plan refunds --repeat 5"))
def plan_command(
    suites: Annotated[list[str] | None, typer.Argument(help="EvalSuite names (default: all).")] = None,
    repeat: Annotated[int | None, typer.Option("--repeat", min=1, max=100, help="Plan for this many repeats.")] = None,
    discordant: Annotated[
        float, typer.Option(metavar="SHARE", help="Share of cases expected to flip between two runs.")
    ] = 0.10,
    paths: Paths = None,
    output: Annotated[str | None, output_option(TEXT_JSON_YAML)] = None,
    as_json: JsonFlag = False,
    format_alias: FormatAlias = None,
) -> None:
    """How many cases and repeats the suite's thresholds need to be decidable; warns when it has too few."""
    fmt = resolve_format(TEXT_JSON_YAML, output, as_json, format_alias)
    manifests = usable(validate(paths or default_paths()), "")
    lines, plans = [], []
    for suite in suites_of(manifests, suites or [], disk_reader):
        dataset = load_dataset(suite, manifests, disk_reader)
        p = plan(suite, len(dataset.cases), repeats=repeat, discordant=discordant)
        plans.append(dataclasses.asdict(p))
        lines.append(f"{suite.name}: {p.cases} cases x {p.repeats} repeat(s) = {p.cases * p.repeats} runs")
        for need in p.needs:
            state = "ok" if need.decidable else "too few"
            lines.append(
                f"  {need.metric} {need.requirement}: needs >= {need.runs_needed} runs ({state})"
                + (f"; {need.note}" if need.note else "")
            )
        if not p.needs:
            lines.append("  no rate threshold or baseline to plan for")
        for warning in p.warnings:
            typer.echo(f"maestro: warning: {warning}", err=True)
    write_output("\n".join(lines) + "\n" if fmt == "text" else as_data(fmt, plans))


@eval_app.command("history", epilog=examples("maestro eval history refunds --limit 5 --json"))
def history_command(
    suite: Annotated[str, typer.Argument(help="EvalSuite name.")],
    limit: Annotated[int, typer.Option(min=1, help="How many runs, newest first.")] = 20,
    state: Annotated[Path | None, typer.Option(metavar="FILE", help="State store (default .maestro/state.db).")] = None,
    output: Annotated[str | None, output_option(TEXT_JSON_YAML)] = None,
    as_json: JsonFlag = False,
    format_alias: FormatAlias = None,
) -> None:
    """The suite's past scorecards kept in the state store (revision + for a working tree on that commit)."""
    fmt = resolve_format(TEXT_JSON_YAML, output, as_json, format_alias)
    path = state or repository_root() / ".maestro" / "state.db"
    if not path.exists():
        raise UsageError(f"{path}: no eval history yet; run `maestro eval` first")
    store = Store.open(str(path))
    try:
        rows = store.history(suite, limit)
    finally:
        store.close()
    if not rows:
        raise UsageError(f"no runs of '{suite}' in {path}; run `maestro eval {suite}`")
    if fmt != "text":
        keep = [{"digest": d, "revision": r, "created": c, "scorecard": card} for d, r, c, card in rows]
        write_output(as_data(fmt, keep), None)
    else:
        write_output(report.history(rows), None)


def register(app: typer.Typer) -> None:
    app.add_typer(eval_app, name="eval")
