"""maestro ask PROMPT [--model ALIAS] [--gateway URL]: one request through the gateway, and who served it, why."""

from __future__ import annotations

import json
from contextlib import nullcontext
from pathlib import Path
from typing import Annotated

import typer

from maestro import calls, state
from maestro.cli.app import EXIT_FINDINGS
from maestro.cli.output import TEXT_AND_JSON, FormatAlias, JsonFlag, output_option, resolve_format
from maestro.cli.reference import examples
from maestro.cli.request_files import load_manifests
from maestro.errors import UsageError
from maestro.gateway import from_manifests
from maestro.gateway.client import Answer, ask, local
from maestro.manifests.loader import ManifestSet
from maestro.telemetry import from_env


def ask_command(
    prompt: Annotated[str, typer.Argument(help="What to ask.")],
    model: Annotated[
        str | None, typer.Option("--model", metavar="ALIAS", help="A route's alias or name (default: the only route).")
    ] = None,
    paths: Annotated[list[Path] | None, typer.Option("--manifests", "-m", help="Manifest folders or files.")] = None,
    gateway: Annotated[
        str | None,
        typer.Option(metavar="URL", help="A running gateway's URL (default: one started here for this request)."),
    ] = None,
    max_tokens: Annotated[int, typer.Option(min=1, max=4096, help="Largest answer, in tokens.")] = 64,
    timeout: Annotated[float, typer.Option(min=1, help="Seconds to wait for the answer.")] = 300.0,
    output: Annotated[str | None, output_option(TEXT_AND_JSON)] = None,
    as_json: JsonFlag = False,
    format_alias: FormatAlias = None,
) -> None:
    """Send one chat request through the gateway; say which deployment served it, and why.

    It names why the deployments before it did not (key unset, circuit open, lane saturated, a fault).
    Without --gateway, a gateway for the manifests is served on 127.0.0.1 for this one request.
    Exit 1 when no deployment answered."""
    fmt = resolve_format(TEXT_AND_JSON, output, as_json, format_alias)
    manifests = load_manifests(paths)
    alias = _alias(manifests, model)
    served = (
        nullcontext(gateway)
        if gateway
        else local(from_manifests(manifests, state_path=state.default_path(Path.cwd()), tracer_provider=from_env()))
    )
    with served as url:
        answer = ask(url, alias, prompt, max_tokens=max_tokens, timeout_s=timeout)
    typer.echo(json.dumps(answer.as_dict(), indent=2) if fmt == "json" else _text(answer))
    if not answer.ok:
        raise typer.Exit(EXIT_FINDINGS)


def _alias(manifests: ManifestSet, model: str | None) -> str:
    routes = calls.aliases(manifests)
    if model is None:
        if len(routes) != 1:
            raise UsageError(f"name the route to ask with --model ALIAS; the manifests have: {calls.known(routes)}")
        return next(iter(routes.values()))
    if model in routes.values():
        return model
    if model in routes:
        return routes[model]
    raise UsageError(f"no route has the alias or name '{model}'; the manifests have: {calls.known(routes)}")


def _text(a: Answer) -> str:
    if a.ok:
        plural = "" if a.attempts == 1 else "s"
        lines = [
            a.text.strip(),
            "",
            f"served by    {a.served_by}  (route {a.route}, {a.attempts} attempt{plural}, ${a.cost_usd:.6f})",
        ]
    else:
        lines = [f"no answer ({a.status}): {a.text}", "", f"route        {a.route}"]
    for label, rows in (("passed over", a.passed_over), ("unavailable", a.unavailable)):
        for i, (deployment, why) in enumerate(rows):
            lines.append(f"{label if i == 0 else '':<12} {deployment}: {why}")
    if a.ok and not a.passed_over:
        lines.append("why          it came first in the router's order (maestro explain route traces the decision)")
    lines.append(f"decision     {a.decision_id}")
    return "\n".join(lines)


def register(app: typer.Typer) -> None:
    app.command(
        "ask",
        epilog=examples(
            'maestro ask "What is the capital of France?"',
            'maestro ask "Hi" --model chat --gateway http://127.0.0.1:8080 --json',
        ),
    )(ask_command)
