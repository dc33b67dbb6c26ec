"""Changes in the contents of files a manifest refers to, such as a prompt file or an eval dataset."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Final

from maestro.manifests.diff.documents import Ctx
from maestro.manifests.diff.model import MEDIUM, Change, FileReader, Op

_FILE_FIELDS: Final[Mapping[str, tuple[tuple[tuple[str, ...], str], ...]]] = {
    "Agent": ((("spec", "prompt", "file"), "prompt file"),),
    "EvalSuite": ((("spec", "target", "prompt", "file"), "prompt file"), (("spec", "dataset", "file"), "dataset file")),
}


def file_changes(ctx: Ctx, old_files: FileReader, new_files: FileReader) -> Iterator[Change]:
    """Changed contents of files referred to by the same path on both sides (best effort: unreadable is skipped)."""
    for path, what in _FILE_FIELDS.get(ctx.new.kind, ()):
        ref = _dig(ctx.old.data, path)
        if not isinstance(ref, str) or ref != _dig(ctx.new.data, path):
            continue
        before, after = old_files(ctx.old.base_dir, ref), new_files(ctx.new.base_dir, ref)
        if before is None or after is None or before == after:
            continue
        yield ctx.new.change(
            ".".join(path),
            Op.CHANGED,
            old=f"{ref} ({_digest(before)})",
            new=f"{ref} ({_digest(after)})",
            risk=MEDIUM,
            reason=f"{what} content changed ({ref})",
        )


def _dig(data: Any, path: Sequence[str]) -> Any:
    for part in path:
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data


def _digest(raw: bytes) -> str:
    return "sha256:" + hashlib.sha256(raw).hexdigest()[:12]
