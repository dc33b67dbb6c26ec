"""maestro explain TARGET"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from maestro.cli.output import write_output
from maestro.errors import UsageError
from maestro.explain import explain, resolve
from maestro.manifests.validate import default_paths, validate
from maestro.report import explain as report


def explain_command(
    target: Annotated[str, typer.Argument(help="A manifest file, or KIND/NAME such as Route/support-chat.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="Output: text, json, mermaid.")] = "text",
    paths: Annotated[
        list[Path] | None, typer.Option("--manifests", "-m", help="Where the rest of the set lives.")
    ] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file.")] = None,
) -> None:
    """Say in plain words what a manifest does and what follows from it."""
    if fmt not in report.FORMATS:
        raise typer.BadParameter(
            f"unknown format '{fmt}'; use one of {', '.join(report.FORMATS)}", param_hint="--format"
        )
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
        text = report.text(explanations) if fmt == "text" else report.as_json(explanations)
    write_output(text, output)


def _inside(path: Path, root: Path) -> bool:
    return path.resolve() == root.resolve() or root.resolve() in path.resolve().parents


def register(app: typer.Typer) -> None:
    app.command("explain")(explain_command)
