"""Reading request files and the manifest set for the router commands."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from maestro.errors import UsageError
from maestro.manifests import yamlio
from maestro.manifests.loader import ManifestSet
from maestro.manifests.validate import default_paths, validate
from maestro.router import Request
from maestro.router.request_data import parse_request


def load_manifests(paths: list[Path] | None) -> ManifestSet:
    """The validated manifest set; refuse to route over a set with errors."""
    result = validate(paths or default_paths())
    if result.summary.errors:
        first = next(d for d in result.diagnostics if d.severity == "error")
        raise UsageError(
            f"the manifests have {result.summary.errors} error(s), first {first.file}:{first.line}:{first.column}: "
            f"{first.message}; run `maestro validate` and fix them"
        )
    return result.manifests


def read_request(path: Path) -> Request:
    """One request from a JSON or YAML file."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise UsageError(f"cannot read {path}: {e.strerror or e}") from e
    try:
        docs = yamlio.parse(yamlio.decode(raw, yamlio.Limits()), yamlio.Limits())
    except yamlio.YamlProblem as p:
        raise UsageError(f"{path}:{p.line}:{p.column}: {p.message}") from p
    if len(docs) != 1:
        raise UsageError(f"{path}: expected one request, found {len(docs)} documents")
    return parse_request(docs[0].data, str(path))


def read_requests(path: Path) -> Iterator[Request]:
    """Requests from a JSONL file, one per line; blank lines are skipped."""
    try:
        handle = path.open(encoding="utf-8")
    except OSError as e:
        raise UsageError(f"cannot read {path}: {e.strerror or e}") from e
    with handle:
        try:
            yield from _lines(path, handle)
        except UnicodeDecodeError as e:
            raise UsageError(f"{path}: not UTF-8 text ({e.reason}); save it as UTF-8 JSONL") from e


def _lines(path: Path, handle: Iterator[str]) -> Iterator[Request]:
    for number, line in enumerate(handle, 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as e:
            raise UsageError(f"{path}:{number}:{e.colno}: not valid JSON: {e.msg}") from e
        yield parse_request(data, f"{path}:{number}")
