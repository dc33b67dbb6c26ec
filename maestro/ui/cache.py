"""Keeping the last validation of the manifests while none of their files changed, and the runs that ended
for good."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

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


class RunCache:
    """Runs that can no longer change, by id: a run that succeeded or was rejected (DBOS finished the workflow;
    only a cancelled or failed one can be resumed), so its page reads its thousands of node records once."""

    KEPT = 8

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kept: dict[str, Any] = {}

    def get(self, run_id: str) -> Any | None:
        with self._lock:
            return self._kept.get(run_id)

    def keep(self, run_id: str, record: Any) -> None:
        with self._lock:
            self._kept.pop(run_id, None)
            self._kept[run_id] = record
            while len(self._kept) > self.KEPT:
                self._kept.pop(next(iter(self._kept)))
