"""Validation of a repository of manifests: read, parse, schema-check, then check the set as a whole."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from maestro.errors import UsageError
from maestro.manifests import yamlio
from maestro.manifests.checks import check_set
from maestro.manifests.diagnostics import Diagnostic, Severity, Summary
from maestro.manifests.loader import (
    LoadResult,
    ManifestSet,
    SourceFile,
    collector_paused,
    discover,
    load,
    read_files,
    resolver,
)
from maestro.manifests.references import DEFAULT_DIRS, repository_root
from maestro.manifests.schemas import SchemaSet

BUILTIN_POLICY = "<builtin>/policies/default.yaml"

__all__ = [
    "BUILTIN_POLICY",
    "DEFAULT_DIRS",
    "ValidationResult",
    "builtin_policy",
    "default_paths",
    "load_validated",
    "repository_root",
    "validate",
    "validate_sources",
]


@dataclass(frozen=True)
class ValidationResult:
    diagnostics: list[Diagnostic]
    summary: Summary
    manifests: ManifestSet

    def failed(self, strict: bool = False) -> bool:
        return self.summary.errors > 0 or (strict and self.summary.warnings > 0)


def default_paths(root: Path | None = None) -> list[Path]:
    root = repository_root(root)
    paths = [root / d for d in DEFAULT_DIRS if (root / d).is_dir()]
    if not paths:
        raise UsageError(
            f"no manifests/ or policies/ folder in {root}; pass the paths to validate, or create a repository "
            "with `maestro init DIR`"
        )
    return paths


def builtin_policy() -> SourceFile:
    raw = (resources.files("maestro") / "builtin" / "policies" / "default.yaml").read_bytes()
    return SourceFile(BUILTIN_POLICY, raw, "")


def validate(
    paths: Sequence[Path], *, limits: yamlio.Limits | None = None, jobs: int | None = None
) -> ValidationResult:
    """Validate every YAML file at or below ``paths``.

    A file named on its own is checked against the repository it belongs to: the rest of that repository's
    manifests are read so that its references resolve, and findings are reported for the named files only.
    """
    named = discover(paths)
    context = _context(paths, named)
    return validate_sources(read_files(named), limits=limits, context=read_files(context), jobs=jobs)


def _context(paths: Sequence[Path], named: Sequence[Path]) -> list[Path]:
    """The other manifest files of the repositories that the files named in ``paths`` belong to."""
    roots = {repository_root(p.parent) for p in paths if p.is_file()}
    folders = [root / d for root in sorted(roots) for d in DEFAULT_DIRS if (root / d).is_dir()]
    if not folders:  # only folders named (the usual case): nothing to add, and no path to resolve again
        return []
    resolve = resolver()
    seen = {resolve(p) for p in named}
    return [p for p in discover(folders) if resolve(p) not in seen]


def validate_sources(
    sources: Iterable[SourceFile],
    *,
    limits: yamlio.Limits | None = None,
    context: Iterable[SourceFile] = (),
    jobs: int | None = None,
) -> ValidationResult:
    """Validate already-read sources (files on disk or at a git revision).

    ``context`` sources are read only to resolve references: their documents join the set, but their own
    findings are not reported and they are not counted. ``jobs``: processes that parse (see ``loader.load``).
    """
    with collector_paused():
        return _validate_sources(sources, limits, context, jobs)


def load_validated(sources: Iterable[SourceFile]) -> ManifestSet:
    """The manifest set of sources that were validated as a whole before (a run's snapshot, pinned by digest).

    Each document still passes its schema and becomes its record (with the built-in policy when the sources
    have no Policy), but the whole-set checks are not run again: a worker that recovers a run loads it faster.
    """
    with collector_paused():
        schemas = SchemaSet()
        return _with_default_policy(load(sources, schemas), schemas, []).manifests


def _validate_sources(
    sources: Iterable[SourceFile], limits: yamlio.Limits | None, context: Iterable[SourceFile], jobs: int | None
) -> ValidationResult:
    schemas = SchemaSet()
    loaded = load(sources, schemas, limits, jobs=jobs)
    diagnostics = list(loaded.diagnostics)
    files, documents = loaded.files, len(loaded.manifests.documents)
    reported = set(loaded.manifests.locator.texts) | {d.file for d in diagnostics}
    loaded = _with_context(loaded, load(context, schemas, limits, jobs=jobs))
    if files == 0 or not loaded.manifests.names:
        diagnostics.append(
            Diagnostic(
                ".",
                1,
                1,
                Severity.WARNING,
                "set.no-documents",
                "no manifest documents found; check the paths",
            )
        )
    loaded = _with_default_policy(loaded, schemas, diagnostics)
    diagnostics.extend(d for d in check_set(loaded.manifests) if d.file in reported or d.file == ".")
    summary = Summary.of(diagnostics, files, documents)
    return ValidationResult(diagnostics, summary, loaded.manifests)


def _with_context(loaded: LoadResult, extra: LoadResult) -> LoadResult:
    """``loaded`` with the documents of ``extra`` first (so a duplicate name is reported in a named file)."""
    if not extra.files:
        return loaded
    locator = loaded.manifests.locator
    locator.positions.update(extra.manifests.locator.positions)
    merged = ManifestSet(
        extra.manifests.documents + loaded.manifests.documents,
        locator,
        loaded.manifests.names | extra.manifests.names,
    )
    return LoadResult(merged, loaded.diagnostics, loaded.files)


def _with_default_policy(loaded: LoadResult, schemas: SchemaSet, diagnostics: list[Diagnostic]) -> LoadResult:
    if any(kind == "Policy" for kind, _ in loaded.manifests.names):
        return loaded
    extra = load([builtin_policy()], schemas)
    loaded.manifests.locator.update(extra.manifests.locator)
    merged = ManifestSet(
        loaded.manifests.documents + extra.manifests.documents,
        loaded.manifests.locator,
        loaded.manifests.names | extra.manifests.names,
    )
    if loaded.manifests.names:
        diagnostics.append(
            Diagnostic(
                ".",
                1,
                1,
                Severity.INFO,
                "set.default-policy",
                "no Policy in these manifests: maestro's built-in default policy applies",
            )
        )
    return LoadResult(merged, loaded.diagnostics, loaded.files)
