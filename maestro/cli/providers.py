"""maestro providers status | test [NAME]"""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from maestro.cli.app import EXIT_FINDINGS
from maestro.cli.output import TEXT_JSON_YAML, FormatAlias, JsonFlag, as_data, output_option, resolve_format
from maestro.cli.reference import examples
from maestro.cli.request_files import load_manifests
from maestro.errors import UsageError
from maestro.providers import ProviderSpec, probe, specs_of

providers_app = typer.Typer(help="Check the upstream providers the manifests name.", no_args_is_help=True)
Paths = Annotated[list[Path] | None, typer.Option("--manifests", "-m", help="Manifest folders or files.")]
Output = Annotated[str | None, output_option(TEXT_JSON_YAML)]


@providers_app.command("status", epilog=examples("maestro providers status", "maestro providers status --json"))
def status_command(
    paths: Paths = None, output: Output = None, as_json: JsonFlag = False, format_alias: FormatAlias = None
) -> None:
    """Reachability, latency and whether each key is set (never its value): one GET /models per provider."""
    fmt = resolve_format(TEXT_JSON_YAML, output, as_json, format_alias)
    results = asyncio.run(probe.status(_specs(paths, None)))
    _print(results, fmt, test=False)


@providers_app.command("test", epilog=examples("maestro providers test openai-us --model gpt-4o-mini"))
def test_command(
    name: Annotated[str | None, typer.Argument(help="One provider (default: all).")] = None,
    model: Annotated[
        str | None, typer.Option(metavar="MODEL", help="Model to call (default: the provider's first).")
    ] = None,
    paths: Paths = None,
    output: Output = None,
    as_json: JsonFlag = False,
    format_alias: FormatAlias = None,
) -> None:
    """Make one real, small chat call per provider and show the answer, latency, tokens and cost."""
    fmt = resolve_format(TEXT_JSON_YAML, output, as_json, format_alias)
    specs = _specs(paths, name)
    if model is not None and name is None:
        raise typer.BadParameter("--model needs a provider NAME", param_hint="--model")
    if model is not None and name is not None and model not in specs[name].prices:
        raise UsageError(f"provider '{name}' offers no model '{model}'; it offers {', '.join(specs[name].prices)}")
    results = asyncio.run(probe.test(specs, {name: model} if name and model else {}))
    _print(results, fmt, test=True)


def _specs(paths: list[Path] | None, name: str | None) -> dict[str, ProviderSpec]:
    specs = specs_of(load_manifests(paths))
    if name is None:
        return specs
    if name not in specs:
        raise UsageError(f"no provider named '{name}'; known: {', '.join(sorted(specs)) or 'none'}")
    return {name: specs[name]}


def _print(results: list[probe.Probe], fmt: str, *, test: bool) -> None:
    if fmt != "text":
        typer.echo(as_data(fmt, [{**asdict(r), "ok": r.ok} for r in results]), nl=False)
    else:
        for r in results:
            secret = (
                "no key needed" if r.secret_set is None else f"${r.secret_env} {'set' if r.secret_set else 'NOT SET'}"
            )
            latency = f"{r.latency_ms:.0f} ms" if r.latency_ms is not None else "-"
            reach = "not called" if r.outcome == "no-key" else "reachable" if r.reachable else "UNREACHABLE"
            line = f"{'ok ' if r.ok else 'ERR'} {r.provider:<16} {r.type:<18} {reach:<12} {latency:>8}  {secret}"
            if r.outcome == "no-key":
                line += f"  {r.detail}"
            elif r.outcome != "ok":
                line += f"  {r.outcome}: {r.detail}"
            elif test:
                tokens = f"{r.usage.input_tokens}+{r.usage.output_tokens} tokens" if r.usage else "usage unknown"
                cost = f"${r.cost_usd:.6f}" if r.cost_usd is not None else "-"
                line += f"  {r.model}: {r.answer!r} ({tokens}, {cost})"
            typer.echo(line)
    if not all(r.ok for r in results):
        raise typer.Exit(EXIT_FINDINGS)


def register(app: typer.Typer) -> None:
    app.add_typer(providers_app, name="providers")
