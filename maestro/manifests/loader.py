"""Reading manifest files into a set of documents, collecting every problem as a diagnostic.

Parsing YAML is most of the time ``validate`` takes, so many files are parsed in worker processes, one per
usable core (``PARALLEL_AT`` files or more); their data and positions come back packed with ``marshal``, in
order. A few files are parsed here, which starts faster.
"""

from __future__ import annotations

import gc
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from maestro.errors import UsageError
from maestro.manifests import yamlio
from maestro.manifests.diagnostics import Diagnostic, Severity, json_path
from maestro.manifests.rules import RULES

if TYPE_CHECKING:
    from maestro.manifests.kinds import Kind
    from maestro.manifests.schemas import SchemaSet

R = TypeVar("R")

YAML_SUFFIXES = (".yaml", ".yml")
# files: below this, one process. Workers cost CPU (starting them, packing each file's data and positions and
# unpacking it here: about a fifth more CPU for 2,000 files); they pay only in wall-clock time, with idle cores,
# on repositories large enough that a few seconds matter
PARALLEL_AT = 5000
_SKIP_DIRS = {"node_modules", "__pycache__"}


@dataclass(frozen=True, slots=True)
class SourceFile:
    """A file's bytes, with the name to show and the folder its relative references start from."""

    name: str
    raw: bytes | None
    base_dir: str
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Source:
    """Where a document sits: its file, its index in the file, its first line and column, its folder."""

    file: str
    index: int
    line: int
    column: int
    base_dir: str
    positions: yamlio.Positions | None = field(default=None, compare=False, repr=False)

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"

    def at(self, path: tuple[str | int, ...], *, key: bool = False) -> tuple[int, int]:
        """The line and column of the field at ``path`` (from the document's root, e.g. ``("spec", "alias")``)."""
        if self.positions is None:
            return self.line, self.column
        return self.positions.locate(path, key=key)


@dataclass(frozen=True, slots=True)
class Document:
    """One schema-valid manifest document. ``data`` is plain JSON-like data; treat it as read-only.

    ``record`` is the kind's typed record (``maestro/manifests/kinds``), built when the document was admitted;
    read a document through it (``ManifestSet.records``) rather than through ``spec``.
    """

    file: str
    index: int
    kind: str
    name: str
    data: Mapping[str, Any]
    line: int
    column: int
    base_dir: str
    record: Any = None

    @property
    def ref(self) -> str:
        return f"{self.kind}/{self.name}"

    @property
    def spec(self) -> Mapping[str, Any]:
        spec: Mapping[str, Any] = self.data["spec"]
        return spec


@dataclass
class Locator:
    """Finds the line and column of a path in a document from the positions recorded when it was parsed.

    ``texts`` keeps each file's text (for excerpts); ``positions`` each valid document's places, keyed by
    file and document index, so no file is parsed twice however many findings it has.
    """

    texts: dict[str, str] = field(default_factory=dict)
    positions: dict[tuple[str, int], yamlio.Positions] = field(default_factory=dict)

    def at(self, doc: Document, path: tuple[str | int, ...], *, key: bool = False) -> tuple[int, int]:
        positions = self.positions.get((doc.file, doc.index))
        if positions is None:
            return doc.line, doc.column
        return positions.locate(path, key=key)

    def update(self, other: Locator) -> None:
        self.texts.update(other.texts)
        self.positions.update(other.positions)

    def diagnostic(
        self, doc: Document, path: tuple[str | int, ...], rule: str, message: str, *, key: bool = False
    ) -> Diagnostic:
        line, column = self.at(doc, path, key=key)
        return Diagnostic(doc.file, line, column, RULES[rule].severity, rule, message, json_path(path))


@dataclass(frozen=True)
class ManifestSet:
    """Every valid document of a repository, indexed by kind and name."""

    documents: tuple[Document, ...]
    locator: Locator
    names: frozenset[tuple[str, str]] = frozenset()  # (kind, name) of every document, valid or not

    @cached_property
    def _by_kind(self) -> dict[str, dict[str, Document]]:
        out: dict[str, dict[str, Document]] = {}
        for d in self.documents:
            out.setdefault(d.kind, {}).setdefault(d.name, d)
        return out

    def of_kind(self, kind: str) -> list[Document]:
        return [d for d in self.documents if d.kind == kind]

    def get(self, kind: str, name: str) -> Document | None:
        return self._by_kind.get(kind, {}).get(name)

    def index(self, kind: str) -> dict[str, Document]:
        return self._by_kind.get(kind, {})

    def exists(self, kind: str, name: str) -> bool:
        return (kind, name) in self.names

    def records(self, of: type[R]) -> list[R]:
        """The records of one kind (``records(Route)``), in document order."""
        return [d.record for d in self.documents if isinstance(d.record, of)]

    def record(self, of: type[R], name: str) -> R | None:
        """The record of one kind named ``name`` (the first when two share it), or None."""
        for d in self.documents:
            if d.name == name and isinstance(d.record, of):
                return d.record
        return None


@dataclass(frozen=True)
class LoadResult:
    manifests: ManifestSet
    diagnostics: list[Diagnostic]
    files: int


def discover(paths: Iterable[Path]) -> list[Path]:
    """Every YAML file at or below ``paths``, in a stable order; a named file is taken whatever its suffix."""
    found: list[Path] = []
    for path in paths:
        if path.is_file():
            found.append(path)
        elif path.is_dir():
            found.extend(_walk(path))
        else:
            raise UsageError(f"{path}: no such file or directory; name a manifest file or a folder of them")
    seen: set[Path] = set()
    unique = []
    resolve = resolver()
    for p in found:
        key = resolve(p)
        if key not in seen:
            seen.add(key)
            unique.append(p)
    return unique


def _walk(root: Path) -> Iterator[Path]:
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIP_DIRS)
        for name in sorted(files):
            if name.endswith(YAML_SUFFIXES):
                yield Path(folder, name)


def read_files(paths: Iterable[Path]) -> Iterator[SourceFile]:
    cwd = Path.cwd().resolve()
    resolve = resolver()
    for path in paths:
        name = display_name(path, cwd, resolve)
        base = str(path.parent)
        try:
            yield SourceFile(name, path.read_bytes(), base)
        except OSError as e:
            yield SourceFile(
                name, None, base, f"cannot read the file: {e.strerror or e}; check it exists and is readable"
            )


def display_name(path: Path, cwd: Path | None = None, resolve: Callable[[Path], Path] = Path.resolve) -> str:
    """``path`` relative to the working directory when it lies below it (pass ``cwd`` and a ``resolver()``
    when naming many)."""
    try:
        return str(resolve(path).relative_to(cwd or Path.cwd().resolve()))
    except ValueError:
        return str(path)


def resolver() -> Callable[[Path], Path]:
    """``Path.resolve`` for many files, each folder resolved once: a file that is not a symbolic link resolves
    to its resolved folder joined with its name, as ``resolve`` finds it (which looks at every component of
    every path again). Folders are remembered for the resolver's life only."""
    folders: dict[Path, Path] = {}

    def resolve(path: Path) -> Path:
        name = path.name
        if name in ("", ".", "..") or path.is_symlink():
            return path.resolve()
        parent = path.parent
        folder = folders.get(parent)
        if folder is None:
            folder = folders[parent] = parent.resolve()
        return folder / name

    return resolve


def load(
    sources: Iterable[SourceFile],
    schemas: SchemaSet,
    limits: yamlio.Limits | None = None,
    *,
    jobs: int | None = None,
    parallel_at: int = PARALLEL_AT,
) -> LoadResult:
    """Parse and schema-check every source; keep the valid documents, and a diagnostic for each problem.

    ``jobs`` processes parse the files (1: this one only); by default, with ``parallel_at`` sources or more
    and no other thread running, one worker process per usable core, and this process alone otherwise.
    """
    limits = limits or yamlio.Limits()
    listed = list(sources)
    # imported here, not at the top: each kind names its whole-set checks, and those read this module's Document
    from maestro.manifests.kinds import KINDS

    found = _Found(kinds=KINDS)
    with collector_paused():
        for source, read in zip(listed, _read_all(listed, limits, jobs, parallel_at), strict=True):
            found.add(source, read, schemas)
    manifests = ManifestSet(tuple(found.documents), found.locator, frozenset(found.names))
    return LoadResult(manifests, found.diagnostics, len(listed))


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused while files are loaded and checked, in a process with one thread.

    Loading makes no reference cycles (``yamlio`` frees each file's composer and tree as it goes), but it
    keeps every document's data, and the collector walked that growing heap again and again: a third of
    validate's CPU on 2,000 files; the whole-set checks after it are paused too. Whatever cycles a bounded
    piece of work leaves are collected by the next full collection. With other threads running, the
    collector is left alone (its switch is one for the whole process).
    """
    if threading.active_count() > 1 or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        # what the work kept goes to the oldest generation at once: otherwise, switched back on, the collector
        # walks it all once per generation on its way there (a tenth of validate's CPU on 2,000 files); it is
        # not exempt from later full collections (``unfreeze`` puts it back in the oldest generation)
        gc.freeze()
        gc.unfreeze()
        gc.enable()


def _read_all(
    sources: Sequence[SourceFile], limits: yamlio.Limits, jobs: int | None, parallel_at: int
) -> list[yamlio.ReadFile | None]:
    """Each source read by ``yamlio.read`` (None for one that could not be read from disk), in order."""
    raws = [s.raw for s in sources if s.raw is not None]
    if jobs is None:  # workers are forked: only from a process with no other thread (a server's, say) to copy
        jobs = _usable_cores() if len(raws) >= parallel_at and threading.active_count() == 1 else 1
    reads = iter(_parse(raws, limits, min(jobs, len(raws))))
    return [None if s.raw is None else next(reads) for s in sources]


def _parse(raws: list[bytes], limits: yamlio.Limits, workers: int) -> list[yamlio.ReadFile]:
    if workers >= 2:
        from concurrent.futures.process import BrokenProcessPool, ProcessPoolExecutor  # only when it pays

        # chunks of a few dozen files: each trip to a worker costs; map keeps the order of the files
        chunk = max(1, min(64, len(raws) // (workers * 4)))
        try:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                packed = list(pool.map(partial(yamlio.read_packed, limits=limits), raws, chunksize=chunk))
            return [yamlio.unpack(raw, p) for raw, p in zip(raws, packed, strict=True)]
        except (BrokenProcessPool, OSError):  # no worker processes here (a sandbox): parse in this one
            pass
    return [yamlio.read(raw, limits) for raw in raws]


def _usable_cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


@dataclass
class _Found:
    documents: list[Document] = field(default_factory=list)
    names: set[tuple[str, str]] = field(default_factory=set)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    locator: Locator = field(default_factory=Locator)
    kinds: Mapping[str, Kind] = field(default_factory=dict)

    def add(self, source: SourceFile, read: yamlio.ReadFile | None, schemas: SchemaSet) -> None:
        """One source: a diagnostic when it could not be read or parsed, each document admitted otherwise."""
        if source.raw is None:
            self.diagnostics.append(_diag(source.name, 1, 1, "file.unreadable", source.error or "cannot read"))
            return
        assert read is not None
        if read.text is not None:
            self.locator.texts[source.name] = read.text  # kept for the excerpt under a YAML error too
        if read.problem is not None:
            p = read.problem
            self.diagnostics.append(_diag(source.name, p.line, p.column, p.rule, p.message))
            return
        for doc in read.documents:
            self.admit(source, doc, schemas)

    def admit(self, source: SourceFile, doc: yamlio.ParsedDocument, schemas: SchemaSet) -> None:
        data = doc.data
        if isinstance(data, dict):
            metadata = data.get("metadata")
            name = metadata.get("name") if isinstance(metadata, dict) else None
            if isinstance(data.get("kind"), str) and isinstance(name, str):
                self.names.add((data["kind"], name))
        findings = schemas.check(data)
        for f in findings:
            line, column = doc.positions.locate(f.path, key=f.at_key)
            self.diagnostics.append(_diag(source.name, line, column, f.rule, f.message, path=json_path(f.path)))
        if not findings:
            kind, name = data["kind"], data["metadata"]["name"]
            where = Source(source.name, doc.index, doc.line, doc.column, source.base_dir, doc.positions)
            record = self.kinds[kind].record(name, data["spec"], where)
            self.documents.append(
                Document(source.name, doc.index, kind, name, data, doc.line, doc.column, source.base_dir, record)
            )
            self.locator.positions[source.name, doc.index] = doc.positions


def _diag(file: str, line: int, column: int, rule: str, message: str, *, path: str = "") -> Diagnostic:
    return Diagnostic(file, line, column, RULES[rule].severity, rule, message, path)


__all__ = [
    "Document",
    "LoadResult",
    "Locator",
    "ManifestSet",
    "Severity",
    "Source",
    "SourceFile",
    "collector_paused",
    "discover",
    "load",
    "resolver",
]
