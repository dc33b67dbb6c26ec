"""Pinning a run to the manifests it started with.

A run carries a ``Snapshot``: the text of every manifest file (and each Agent's prompt file) as it was when
the run started, with the SHA-256 digest of that content. The snapshot travels in the durable workflow's
input, so a worker that resumes the run next week reads the same graph, tools and levels, whatever the
repository holds by then: changing a Pipeline never alters runs in flight.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from maestro.manifests.kinds.agent import Agent
from maestro.manifests.loader import ManifestSet, SourceFile
from maestro.manifests.validate import default_paths, load_validated, validate
from maestro.runtime.errors import RunError


@dataclass(frozen=True, slots=True)
class Snapshot:
    digest: str
    files: tuple[tuple[str, str, str], ...]  # (name, base folder, text)
    prompts: Mapping[str, str]  # Agent name -> prompt text

    def to_json(self) -> dict[str, Any]:
        return {"digest": self.digest, "files": [list(f) for f in self.files], "prompts": dict(self.prompts)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Snapshot:
        return cls(str(data["digest"]), tuple((a, b, c) for a, b, c in data["files"]), dict(data["prompts"]))


def take(root: Path) -> Snapshot:
    """The manifests of the repository at ``root``; a RunError when they do not validate."""
    result = validate(default_paths(root))
    errors = [d for d in result.diagnostics if str(d.severity) == "error"]
    if errors:
        shown = "; ".join(f"{d.file}:{d.line}:{d.column} {d.message}" for d in errors[:3])
        raise RunError(f"the manifests have {len(errors)} error(s) ({shown}); fix them (`maestro validate`) first")
    texts = result.manifests.locator.texts
    bases = {d.file: d.base_dir for d in result.manifests.documents}
    files = tuple(sorted((name, bases.get(name, ""), text) for name, text in texts.items() if name in bases))
    prompts = {agent.name: _prompt(agent) for agent in result.manifests.records(Agent)}
    body = json.dumps({"files": files, "prompts": prompts}, sort_keys=True).encode()
    return Snapshot(hashlib.sha256(body).hexdigest(), files, prompts)


def manifests(snapshot: Snapshot) -> ManifestSet:
    """The manifest set of a snapshot (read once per process and digest).

    The snapshot was validated as a whole when its run started (``take``), and its digest pins that content,
    so loading it keeps the schema gate and the records but skips the whole-set checks.
    """
    return _load(snapshot.digest, snapshot.files)


@lru_cache(maxsize=16)
def _load(digest: str, files: tuple[tuple[str, str, str], ...]) -> ManifestSet:
    sources = [SourceFile(name, text.encode(), base) for name, base, text in files]
    return load_validated(sources)


def _prompt(agent: Agent) -> str:
    if agent.system is not None:
        return agent.system
    if agent.prompt_file is not None:
        try:
            return (Path(agent.source.base_dir) / agent.prompt_file).read_text(encoding="utf-8")
        except OSError:
            return ""
    return ""
