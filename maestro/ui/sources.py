"""What the views read: the repository's validated manifests and connections to its state store."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from maestro import state
from maestro.manifests.loader import ManifestSet
from maestro.manifests.validate import ValidationResult, default_paths
from maestro.ui.config import UiConfig
from maestro.ui.pages import UiError


def validated(config: UiConfig) -> ValidationResult:
    """The manifests as ``maestro validate`` sees them now (an edit shows on the next page)."""
    return config.manifest_cache.get(list(config.manifest_paths) or default_paths(config.root))


def manifests(config: UiConfig) -> ManifestSet:
    """The validated manifest set; a UiError naming the first error when the set has errors."""
    result = validated(config)
    if result.summary.errors:
        first = next(d for d in result.diagnostics if d.severity == "error")
        raise UiError(
            f"the manifests have {result.summary.errors} error(s), first {first.file}:{first.line}:{first.column}: "
            f"{first.message}; see /manifests"
        )
    return result.manifests


@contextmanager
def store(config: UiConfig) -> Iterator[sqlite3.Connection]:
    """A connection to the state store, closed afterwards."""
    conn = state.connect(config.state_path)
    try:
        yield conn
    finally:
        conn.close()
