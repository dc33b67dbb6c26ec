"""/manifests: the validate findings with their source lines, the explanation of each document, and the
diff between two revisions (``?old=main&new=HEAD``; ``new`` defaults to the working tree) with risk classes."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from maestro.errors import MaestroError
from maestro.explain import explain
from maestro.manifests.diagnostics import Diagnostic
from maestro.manifests.diff import diff_sources
from maestro.manifests.sources import resolve_sides
from maestro.report import diagnostics as diagnostics_report
from maestro.report import diff as diff_report
from maestro.report import explain as explain_report
from maestro.ui import sources
from maestro.ui.config import UiConfig
from maestro.ui.graphs import pipeline_graph
from maestro.ui.pages import NotFound, Page, UiError


def view(config: UiConfig, params: Mapping[str, str]) -> Page:
    result = sources.validated(config)
    findings = json.loads(diagnostics_report.as_json(result.diagnostics, result.summary, {}))
    for finding, d in zip(findings["diagnostics"], result.diagnostics, strict=True):
        finding["source"] = _source_line(config.root, d)
        finding["file"] = shown_path(config.root, d.file)
    documents = [
        {"ref": d.ref, "file": shown_path(config.root, d.file), "line": d.line} for d in result.manifests.documents
    ]
    data: dict[str, Any] = {**findings, "documents": documents}
    old, new = params.get("old", "").strip(), params.get("new", "").strip()
    if old:
        data["diff"] = _diff(config, old, new or None)
    return Page("manifests.html", "Manifests", data, extra={"old": old, "new": new})


def document(config: UiConfig, ref: str) -> Page:
    """/manifests/KIND/NAME: one document's explanation."""
    result = sources.validated(config)
    docs = [d for d in result.manifests.documents if d.ref == ref]
    if not docs:
        raise NotFound(f"no manifest {ref}", [f"/manifests/{d.ref}" for d in result.manifests.documents])
    explanations = [explain(result.manifests, d) for d in docs]
    data = json.loads(explain_report.as_json(explanations))
    for e in data["explanations"]:
        e["file"] = shown_path(config.root, e["file"])
    if docs[0].kind == "Pipeline":
        data["graph"] = pipeline_graph(docs[0])
    return Page("manifest.html", ref, data, extra={"ref": ref})


def _diff(config: UiConfig, old: str, new: str | None) -> dict[str, Any]:
    try:
        before, after = resolve_sides(old, new, cwd=config.root)
        result = diff_sources(before.sources, after.sources, old_files=before.files, new_files=after.files)
    except MaestroError as e:
        raise UiError(f"cannot compare {old} with {new or 'the working tree'}: {e}") from e
    return dict(json.loads(diff_report.as_json(result, before.label, after.label)))


def shown_path(root: Path, file: str) -> str:
    """``file`` relative to the repository when it is inside it (pages never show the server's folders)."""
    try:
        return str(Path(file).resolve().relative_to(root.resolve()))
    except ValueError:
        return file


def _source_line(root: Path, d: Diagnostic) -> str:
    path = Path(d.file)
    path = path if path.is_absolute() else root / path
    try:
        lines: Sequence[str] = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return ""
    return lines[d.line - 1] if 0 < d.line <= len(lines) else ""
