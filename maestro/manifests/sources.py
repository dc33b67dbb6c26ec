"""Turning a ``maestro diff`` argument into sources: a file, a folder, or a git revision.

An argument that names an existing file or folder is read from disk. Anything else is taken as a git
revision of the repository around the working directory, whose YAML files under ``manifests/`` and
``policies/`` are read with ``git ls-tree`` and ``git cat-file --batch``; they are shown as
``REV:manifests/routes.yaml``. Git runs without a shell, with its arguments as a list and a timeout.
"""

from __future__ import annotations

import os
import posixpath
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from maestro.errors import SourceError, UsageError
from maestro.manifests.diff import FileReader
from maestro.manifests.loader import YAML_SUFFIXES, SourceFile, discover, read_files
from maestro.manifests.references import outside
from maestro.manifests.validate import DEFAULT_DIRS, default_paths, repository_root

GIT_TIMEOUT_S = 60
MAX_REFERENCED_BYTES = 1 << 20
_SKIP_DIRS = frozenset({"node_modules", "__pycache__"})


@dataclass(frozen=True, slots=True)
class Side:
    """One side of a diff: what to call it, its manifest files, and how to read a file a manifest names."""

    label: str
    sources: tuple[SourceFile, ...]
    files: FileReader


def resolve_sides(old: str, new: str | None, cwd: Path | None = None) -> tuple[Side, Side]:
    """The two sides of ``maestro diff OLD [NEW]``; without NEW, OLD must be a revision (NEW: the working tree)."""
    here = cwd or Path.cwd()
    if new is None:
        if _is_path(old, here):
            raise UsageError(
                f"'{old}' is a file or folder, so name what to compare it with: `maestro diff {old} NEW`; "
                "to compare the working tree with a git revision, name the revision: `maestro diff main`"
            )
        return resolve_side(old, here), working_tree(here)
    return resolve_side(old, here), resolve_side(new, here)


def resolve_side(arg: str, cwd: Path) -> Side:
    """A file or folder when ``arg`` names one (relative to ``cwd``), else a git revision."""
    if _is_path(arg, cwd):
        return Side(arg, _read_paths([cwd / arg]), _disk_reader)
    return git_side(arg, cwd)


def working_tree(cwd: Path) -> Side:
    """The manifests of the working tree: manifests/ and policies/ of the repository around ``cwd``."""
    try:
        paths = default_paths(cwd)
    except UsageError as e:
        raise UsageError(f"{e}; or name both sides: `maestro diff OLD NEW`") from e
    return Side("working tree", _read_paths(paths), _disk_reader)


def _is_path(arg: str, cwd: Path) -> bool:
    return bool(arg) and (cwd / arg).exists()


def _read_paths(paths: Sequence[Path]) -> tuple[SourceFile, ...]:
    return tuple(read_files(discover(paths)))


def _disk_reader(base_dir: str, relative: str) -> bytes | None:
    if outside(base_dir, relative) is not None:
        return None  # never read (or show) a file outside the repository; validate reports it
    path = Path(base_dir) / relative
    try:
        if path.stat().st_size > MAX_REFERENCED_BYTES:
            return None
        return path.read_bytes()
    except OSError:
        return None


# --- git ------------------------------------------------------------------------------------------------


def commit(rev: str, cwd: Path) -> str:
    """The full commit id git revision ``rev`` names in the repository around ``cwd``."""
    return _commit(rev, _toplevel(rev, cwd))


def git_side(rev: str, cwd: Path) -> Side:
    """The manifests at git revision ``rev`` of the repository around ``cwd``."""
    top = _toplevel(rev, cwd)
    commit = _commit(rev, top)
    prefix = _prefix(top, cwd)
    names = _yaml_files(top, commit, [posixpath.join(prefix, d) if prefix else d for d in DEFAULT_DIRS])
    blobs = _cat_files(top, commit, names)
    sources = tuple(
        SourceFile(
            f"{rev}:{name}",
            blobs.get(name),
            posixpath.dirname(name),
            None if name in blobs else "not found at that revision",
        )
        for name in names
    )
    return Side(rev, sources, _git_reader(top, commit))


def _git(args: Sequence[str], cwd: Path, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0"}
    try:
        return subprocess.run(
            ["git", *args], cwd=cwd, input=stdin, capture_output=True, timeout=GIT_TIMEOUT_S, check=False, env=env
        )
    except FileNotFoundError as e:
        raise SourceError("git is not installed or not on PATH; install git, or compare two folders") from e
    except subprocess.TimeoutExpired as e:
        raise SourceError(f"git {args[0]} took over {GIT_TIMEOUT_S}s and was stopped; try again") from e


def _first_line(raw: bytes) -> str:
    lines = raw.decode("utf-8", "replace").strip().splitlines()
    return lines[0] if lines else "no message"


def _toplevel(rev: str, cwd: Path) -> Path:
    done = _git(["rev-parse", "--show-toplevel"], cwd)
    if done.returncode != 0:
        raise UsageError(
            f"'{rev}' is not a file or folder, and {cwd} is not inside a git repository, so it cannot be a "
            "git revision either; name an existing path, or run maestro diff inside a git checkout"
        )
    return Path(done.stdout.decode("utf-8", "surrogateescape").strip())


def _commit(rev: str, top: Path) -> str:
    done = None if rev.startswith("-") else _git(["rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], top)
    if done is None or done.returncode != 0:
        raise SourceError(
            f"'{rev}' is neither a file or folder nor a git revision of {top}; name a branch, tag or commit "
            "(see `git log --oneline`), or an existing path"
        )
    return done.stdout.decode("ascii").strip()


def _prefix(top: Path, cwd: Path) -> str:
    """Where the manifest repository sits inside the git repository ('' at its top)."""
    try:
        relative = repository_root(cwd).relative_to(top.resolve())
    except ValueError:
        return ""
    return relative.as_posix() if relative.parts else ""


def _yaml_files(top: Path, commit: str, folders: Sequence[str]) -> list[str]:
    done = _git(["ls-tree", "-r", "-z", "--name-only", "--full-tree", commit, "--", *folders], top)
    if done.returncode != 0:
        raise SourceError(f"cannot list the files of {commit[:12]}: {_first_line(done.stderr)}")
    names = [n.decode("utf-8", "surrogateescape") for n in done.stdout.split(b"\0") if n]
    return sorted(n for n in names if n.endswith(YAML_SUFFIXES) and _visible(n))


def _visible(name: str) -> bool:
    folders = name.split("/")[:-1]
    return not any(f.startswith(".") or f in _SKIP_DIRS for f in folders)


def _cat_files(top: Path, commit: str, names: Sequence[str]) -> dict[str, bytes]:
    """The contents of ``names`` at ``commit``, read in one ``git cat-file --batch``."""
    wanted = [n for n in names if "\n" not in n]
    if not wanted:
        return {}
    stdin = "".join(f"{commit}:{n}\n" for n in wanted).encode("utf-8", "surrogateescape")
    done = _git(["cat-file", "--batch"], top, stdin)
    if done.returncode != 0:
        raise SourceError(f"cannot read the files of {commit[:12]}: {_first_line(done.stderr)}")
    return _parse_batch(done.stdout, wanted)


def _parse_batch(out: bytes, names: Sequence[str]) -> dict[str, bytes]:
    blobs: dict[str, bytes] = {}
    pos = 0
    for name in names:
        end = out.index(b"\n", pos)
        header = out[pos:end].split()
        pos = end + 1
        if len(header) != 3:
            continue  # "<object> missing": no content follows
        size = int(header[2])
        if header[1] == b"blob":
            blobs[name] = out[pos : pos + size]
        pos += size + 1
    return blobs


def _git_reader(top: Path, commit: str) -> FileReader:
    def read(base_dir: str, relative: str) -> bytes | None:
        path = posixpath.normpath(posixpath.join(base_dir, relative))
        if posixpath.isabs(relative) or path.startswith("../") or path == ".." or "\n" in path:
            return None
        done = _git(["cat-file", "blob", f"{commit}:{path}"], top)
        if done.returncode != 0 or len(done.stdout) > MAX_REFERENCED_BYTES:
            return None
        return done.stdout

    return read
