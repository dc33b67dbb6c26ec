"""The starter repository written by ``maestro init``, shipped as package data."""

from __future__ import annotations

from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

from maestro.errors import UsageError


def _files(root: Traversable, prefix: Path = Path()) -> list[tuple[Path, Traversable]]:
    out = []
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if entry.is_dir():
            out.extend(_files(entry, prefix / entry.name))
        elif entry.name != "__init__.py":
            out.append((prefix / entry.name, entry))
    return out


def write_starter(directory: Path, *, force: bool = False) -> list[Path]:
    """Copy the starter files into ``directory``; refuse to overwrite unless ``force``."""
    files = _files(resources.files("maestro") / "templates" / "init")
    clashes = [directory / rel for rel, _ in files if (directory / rel).exists()]
    if clashes and not force:
        raise UsageError(f"{clashes[0]} already exists; choose an empty folder or pass --force to overwrite")
    written = []
    for rel, entry in files:
        target = directory / rel
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(entry.read_bytes())
        except OSError as e:
            raise UsageError(f"cannot write {target}: {e.strerror or e}") from e
        written.append(target)
    return written
