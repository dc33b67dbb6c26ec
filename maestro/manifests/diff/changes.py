"""The changes from one set of manifests to another, document by document."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from maestro.manifests import yamlio
from maestro.manifests.diff.documents import Ctx, Sides, match, read_side
from maestro.manifests.diff.files import file_changes
from maestro.manifests.diff.model import Change, DiffResult, FileReader
from maestro.manifests.diff.risk import added_document, change, removed_document, renamed
from maestro.manifests.diff.walk import compare
from maestro.manifests.loader import SourceFile


def diff_sources(
    old: Iterable[SourceFile],
    new: Iterable[SourceFile],
    *,
    old_files: FileReader | None = None,
    new_files: FileReader | None = None,
    limits: yamlio.Limits | None = None,
) -> DiffResult:
    """Every change from ``old`` to ``new``, grouped by document (sorted by kind and name)."""
    limits = limits or yamlio.Limits()
    sides = Sides(read_side(old, limits), read_side(new, limits))
    return DiffResult(tuple(_changes(sides, old_files, new_files)))


def _changes(sides: Sides, old_files: FileReader | None, new_files: FileReader | None) -> Iterator[Change]:
    matching = match(sides)
    groups: list[tuple[tuple[str, str], list[Change]]] = []
    for ctx in matching.pairs:
        groups.append(((ctx.new.kind, ctx.new.name), _document_changes(ctx, old_files, new_files)))
    groups.extend(((d.kind, d.name), [removed_document(d)]) for d in matching.removed)
    groups.extend(((d.kind, d.name), [added_document(d, sides)]) for d in matching.added)
    for _, changes in sorted(groups, key=lambda g: g[0]):
        yield from changes


def _document_changes(ctx: Ctx, old_files: FileReader | None, new_files: FileReader | None) -> list[Change]:
    out: list[Change] = []
    if ctx.old.name != ctx.new.name:
        out.append(renamed(ctx))
    for delta in compare(ctx.new.kind, _body(ctx.old.data), _body(ctx.new.data), ()):
        out.append(change(ctx, delta))
    if old_files is not None and new_files is not None:
        out.extend(file_changes(ctx, old_files, new_files))
    return out


def _body(data: Mapping[str, Any]) -> dict[str, Any]:
    """The document without ``metadata.name`` (matched already; a rename is its own change)."""
    body = dict(data)
    if isinstance(body.get("metadata"), dict):
        body["metadata"] = {k: v for k, v in body["metadata"].items() if k != "name"}
    return body
