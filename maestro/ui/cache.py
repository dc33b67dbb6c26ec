"""Keeping the last validation of the manifests while none of their files changed."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

from maestro.manifests.validate import ValidationResult, validate


class ManifestCache:
    """The last validation, kept while no file under the manifest folders changed (same names, sizes and
    modification times), so a page costs a few ``stat`` calls instead of parsing every manifest again."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kept: tuple[tuple[tuple[str, int, int], ...], ValidationResult] | None = None

    def get(self, paths: Sequence[Path]) -> ValidationResult:
        stamp = _fingerprint(paths)
        with self._lock:
            if self._kept is not None and self._kept[0] == stamp:
                return self._kept[1]
        result = validate(list(paths))
        with self._lock:
            self._kept = (stamp, result)
        return result


def _fingerprint(paths: Sequence[Path]) -> tuple[tuple[str, int, int], ...]:
    files: list[Path] = []
    for path in paths:
        files += sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    out = []
    for f in files:
        try:
            st = f.stat()
        except OSError:
            continue
        out.append((str(f), st.st_mtime_ns, st.st_size))
    return tuple(out)
