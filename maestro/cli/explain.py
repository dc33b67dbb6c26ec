"""maestro explain TARGET"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from maestro.cli.output import (
    FormatAlias,
    JsonFlag,
    OutFile,
    json_as,
    output_option,
    resolve_format,
    with_yaml,
    write_output,
)
from maestro.cli.reference import examples
from maestro.cli.request_files import load_manifests, read_request
from maestro.errors import UsageError
from maestro.explain import explain, resolve
from maestro.manifests.validate import default_paths, validate
from maestro.report import decision as decision_report
from maestro.report import explain as report
from maestro.router import build, decide

FORMATS = with_yaml(report.FORMATS)


def explain_command(
    target: Annotated[str, typer.Argument(help="A manifest file, KIND/NAME (Route/support-chat), or KIND NAME.")],
    name: Annotated[str | None, typer.Argument(help="The NAME, when KIND and NAME are given apart.")] = None,
    request: Annotated[
        Path | None,
        typer.Option(
            "--request", metavar="FILE", help="A request file (JSON/YAML): trace the route's decision for it."
        ),
    ] = None,
    output: Annotated[str | None, output_option(FORMATS)] = None,
    as_json: JsonFlag = False,
    format_alias: FormatAlias = None,
    paths: Annotated[
        list[Path] | None, typer.Option("--manifests", "-m", help="Where the rest of the set lives.")
    ] = None,
    out_file: OutFile = None,
) -> None:
    """Say in plain words what a manifest does and what follows from it."""
    fmt = resolve_format(FORMATS, output, as_json, format_alias)
    if name is not None:
        target = f"{target}/{name}"
    if request is not None:
        write_output(_trace(target, request, paths, fmt), out_file)
        return
    roots = list(paths or default_paths())
    target_file = Path(target)
    if target_file.is_file() and not any(_inside(target_file, r) for r in roots):
        roots.append(target_file)
    result = validate(roots)
    docs = resolve(result.manifests, target, result.diagnostics)
    explanations = [explain(result.manifests, d) for d in docs]
    if fmt == "mermaid":
        text = report.mermaid(explanations)
        if not text:
            raise UsageError(f"{target} has no graph; Mermaid output exists for Route and Pipeline")
    else:
        text = report.text(explanations) if fmt == "text" else json_as(fmt, report.as_json(explanations))
    write_output(text, out_file)


def _trace(target: str, request_file: Path, paths: list[Path] | None, fmt: str) -> str:
    manifests = load_manifests(paths)
    route = resolve(manifests, target)[0]
    if route.kind != "Route":
        raise UsageError(f"--request traces a Route's decision; {route.ref} is a {route.kind}")
    request = read_request(request_file)
    alias = route.record.alias
    if request.alias != alias:
        request = replace(request, alias=alias)
    decision = decide(build(manifests), request)
    if fmt == "mermaid":
        raise UsageError("a decision trace has no Mermaid form; use -o text, -o json or -o yaml")
    if fmt == "text":
        return decision_report.decision_text(decision)
    return json_as(fmt, decision_report.decision_json(decision))


def _inside(path: Path, root: Path) -> bool:
    return path.resolve() == root.resolve() or root.resolve() in path.resolve().parents


def register(app: typer.Typer) -> None:
    app.command(
        "explain",
        epilog=examples(
            "maestro explain Route/support-chat",
            "maestro explain Pipeline/refund-flow -o mermaid",
            "maestro explain Route/support-chat --request request.json --json",
        ),
    )(explain_command)
