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
from maestro.manifests.loader import LoadResult, ManifestSet, SourceFile, discover, load, read_files
from maestro.manifests.schemas import SchemaSet

BUILTIN_POLICY = "<builtin>/policies/default.yaml"
DEFAULT_DIRS = ("manifests", "policies")


@dataclass(frozen=True)
class ValidationResult:
    diagnostics: list[Diagnostic]
    summary: Summary
    manifests: ManifestSet

    def failed(self, strict: bool = False) -> bool:
        return self.summary.errors > 0 or (strict and self.summary.warnings > 0)


def repository_root(start: Path | None = None) -> Path:
    """The nearest folder at or above ``start`` holding manifests/, policies/ or .git."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if any((folder / name).exists() for name in (*DEFAULT_DIRS, ".git")):
            return folder
    return here


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


def validate(paths: Sequence[Path], *, limits: yamlio.Limits | None = None) -> ValidationResult:
    """Validate every YAML file at or below ``paths``."""
    return validate_sources(read_files(discover(paths)), limits=limits)


def validate_sources(sources: Iterable[SourceFile], *, limits: yamlio.Limits | None = None) -> ValidationResult:
    """Validate already-read sources (files on disk or at a git revision)."""
    schemas = SchemaSet()
    loaded = load(sources, schemas, limits)
    diagnostics = list(loaded.diagnostics)
    files, documents = loaded.files, len(loaded.manifests.documents)
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
    diagnostics.extend(check_set(loaded.manifests))
    summary = Summary.of(diagnostics, files, documents)
    return ValidationResult(diagnostics, summary, loaded.manifests)


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
