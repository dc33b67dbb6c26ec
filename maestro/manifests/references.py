"""Files a manifest names (prompts, datasets, Python scorers): they must lie inside the repository.

A path is taken relative to the manifest's folder and resolved with its symbolic links followed, so neither
``../../etc/hostname`` nor a link that points out of the checkout can reach a file of the machine. The
repository is the nearest folder at or above the manifest holding ``manifests/``, ``policies/`` or ``.git``.
A relative ``base_dir`` (a source read from a git revision) is taken from the working directory.
"""

from __future__ import annotations

import os
import posixpath
from pathlib import Path

DEFAULT_DIRS = ("manifests", "policies")


def repository_root(start: Path | None = None) -> Path:
    """The nearest folder at or above ``start`` holding manifests/, policies/ or .git."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if any((folder / name).exists() for name in (*DEFAULT_DIRS, ".git")):
            return folder
    return here


def outside(base_dir: str, relative: str) -> str | None:
    """Why ``relative`` (named by a manifest in ``base_dir``) lies outside the repository; None when inside."""
    if posixpath.isabs(relative) or Path(relative).is_absolute():
        return f"'{relative}' is an absolute path; name the file relative to the manifest, inside the repository"
    base = Path(base_dir or ".").resolve()
    root = repository_root(base)
    target = (base / relative).resolve()
    if target.is_relative_to(root):
        return None
    link = "" if Path(os.path.normpath(base / relative)) == target else " through a symbolic link"
    return f"'{relative}' resolves{link} to {target}, outside the repository {root}; keep the file inside it"


def inside(base_dir: str, relative: str) -> Path | None:
    """The file ``relative`` names, resolved, or None when it lies outside the repository."""
    if outside(base_dir, relative) is not None:
        return None
    return (Path(base_dir) / relative).resolve()
