"""maestro.manifests.loader: many files parsed in worker processes give exactly what one process gives."""

from __future__ import annotations

import gc
from pathlib import Path

from maestro.manifests.loader import LoadResult, SourceFile, discover, load, read_files
from maestro.manifests.schemas import SchemaSet

ROOT = Path(__file__).resolve().parents[2]
BROKEN = [
    SourceFile("syntax.yaml", b"kind: Route\nmetadata: {name: [x\n", "."),
    SourceFile("latin1.yaml", b"kind: Route\nmetadata:\n  name: caf\xe9\n", "."),
    SourceFile("gone.yaml", None, ".", "cannot read the file: No such file or directory"),
    SourceFile("empty.yaml", b"", "."),
    SourceFile(
        "two.yaml", b"apiVersion: maestro.dev/v1\nkind: Route\nmetadata: {name: r}\nspec: {wieght: 1}\n---\n", "."
    ),
]


def _sources() -> list[SourceFile]:
    example = list(read_files(discover([ROOT / "manifests", ROOT / "policies"])))
    return [*example, *BROKEN, *example]  # names repeat, as in a copied repository


def _places(result: LoadResult) -> dict[tuple[str, int], list[tuple[int, int]]]:
    """Every key's and value's place in every kept document, as the locator answers."""
    out = {}
    for key, positions in result.manifests.locator.positions.items():
        found: list[tuple[int, int]] = []
        stack: list[tuple[object, tuple[str | int, ...]]] = [(positions.root, ())]
        while stack:
            here, path = stack.pop()
            found += [positions.locate(path), positions.locate(path, key=True)]
            items = here.items() if isinstance(here, dict) else enumerate(here) if isinstance(here, list) else ()
            stack += [(value, (*path, part)) for part, value in items]
        out[key] = found
    return out


def test_worker_processes_give_the_same_documents_diagnostics_and_places() -> None:
    sources, schemas = _sources(), SchemaSet()
    alone = load(sources, schemas, jobs=1)
    pooled = load(sources, schemas, jobs=2)
    assert pooled.files == alone.files == len(sources)
    assert pooled.diagnostics == alone.diagnostics
    assert {d.rule for d in alone.diagnostics} >= {"yaml.syntax", "file.encoding", "file.unreadable"}
    assert [(d.file, d.index, d.data) for d in pooled.manifests.documents] == [
        (d.file, d.index, d.data) for d in alone.manifests.documents
    ]
    assert pooled.manifests.locator.texts == alone.manifests.locator.texts
    assert _places(pooled) == _places(alone)
    assert len(_places(alone)) > 10


def test_few_files_are_read_in_this_process_and_findings_keep_their_places() -> None:
    found = load([BROKEN[-1]], SchemaSet()).diagnostics
    unknown = [(d.line, d.column) for d in found if d.rule == "schema.unknown-key"]
    assert unknown == [(4, 8)]


def test_the_default_from_parallel_at_files_gives_the_same() -> None:
    sources, schemas = _sources(), SchemaSet()
    assert load(sources, schemas, parallel_at=1).diagnostics == load(sources, schemas, parallel_at=10**9).diagnostics


def test_the_collector_runs_again_after_loading() -> None:
    """The cyclic collector is paused while files load, and switched back on afterwards, even after problems."""
    assert gc.isenabled()
    result = load(_sources(), SchemaSet(), jobs=1)
    assert result.diagnostics
    assert gc.isenabled()
