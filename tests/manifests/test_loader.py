"""maestro.manifests.loader: many files parsed in worker processes give exactly what one process gives."""

from __future__ import annotations

import gc
import subprocess
import sys
import threading
from pathlib import Path

from maestro.manifests.loader import (
    LoadResult,
    SourceFile,
    collector_paused,
    discover,
    load,
    read_files,
    resolver,
)
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


def test_the_resolver_gives_what_path_resolve_gives(tmp_path: Path) -> None:
    """Each folder resolved once, and a file that is a symbolic link (or a folder reached through one) still
    resolves to its target, as ``Path.resolve`` resolves it."""
    real = tmp_path / "real"
    (real / "sub").mkdir(parents=True)
    (real / "a.yaml").write_text("a: 1\n")
    (real / "sub" / "b.yaml").write_text("b: 1\n")
    (tmp_path / "linked").symlink_to(real, target_is_directory=True)
    (real / "link.yaml").symlink_to(real / "sub" / "b.yaml")
    (real / "dangling.yaml").symlink_to(tmp_path / "nowhere.yaml")
    paths = [
        real / "a.yaml",
        real / "link.yaml",
        real / "dangling.yaml",
        real / "missing.yaml",
        tmp_path / "linked" / "sub" / "b.yaml",
        tmp_path / "linked" / "link.yaml",
        tmp_path / "linked" / "sub" / "..",
        Path("relative.yaml"),
    ]
    resolve = resolver()
    assert [resolve(p) for p in paths] == [p.resolve() for p in paths]
    assert resolve(real / "link.yaml") == real / "sub" / "b.yaml"


def test_a_file_named_twice_is_read_once(tmp_path: Path) -> None:
    (tmp_path / "manifests").mkdir()
    (tmp_path / "manifests" / "a.yaml").write_text("a: 1\n")
    (tmp_path / "alias.yaml").symlink_to(tmp_path / "manifests" / "a.yaml")
    found = discover([tmp_path / "manifests", tmp_path / "manifests" / "a.yaml", tmp_path / "alias.yaml"])
    assert found == [tmp_path / "manifests" / "a.yaml"]


PAUSED = """
import gc
from maestro.manifests.loader import collector_paused
try:
    with collector_paused():
        assert not gc.isenabled()
        raise ValueError("inside")
except ValueError:
    pass
assert gc.isenabled()
print("ok")
"""


def test_the_collector_is_paused_inside_and_back_on_after_an_error() -> None:
    # in a process of its own: with another thread alive (earlier tests may leave some) it is left alone
    result = subprocess.run([sys.executable, "-c", PAUSED], capture_output=True, text=True, check=False)
    assert result.stdout.strip() == "ok", result.stderr


def test_with_another_thread_alive_the_collector_is_left_on() -> None:
    stop = threading.Event()
    other = threading.Thread(target=stop.wait, daemon=True)
    other.start()
    try:
        with collector_paused():
            assert gc.isenabled()
    finally:
        stop.set()
        other.join()


def test_what_the_paused_work_left_is_still_collected() -> None:
    """On leaving the pause, what was kept moves to the oldest generation: not frozen, still collectable."""
    with collector_paused():
        cycle: list[object] = []
        cycle.append(cycle)
        del cycle
    assert gc.get_freeze_count() == 0
    assert gc.collect() >= 1
