"""The base side of a comparison: the manifests at a git revision, and which commit that is.

The manifests and every file they name (datasets, Python scorers, prompt files) are read from the revision
itself with ``maestro.manifests.sources``, never from the working tree, so the base runs what was merged.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from maestro.evals.errors import EvalError
from maestro.manifests.sources import Side, git_side


@dataclass(frozen=True, slots=True)
class Revision:
    label: str  # what to show: the ref as given, or "working tree"
    commit: str  # the commit's full hash, or "working-tree" outside git


def _rev_parse(ref: str, cwd: Path) -> str | None:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],
            cwd=cwd,
            capture_output=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.decode("ascii", "replace").strip() if done.returncode == 0 else None


def head_revision(cwd: Path) -> Revision:
    """The working tree, labelled by the commit it sits on (its results are kept under that commit + '-dirty')."""
    commit = _rev_parse("HEAD", cwd)
    return Revision("working tree", f"{commit}-worktree" if commit else "working-tree")


def base_side(ref: str, cwd: Path) -> tuple[Side, Revision]:
    if ref.startswith("-"):
        raise EvalError(f"'{ref}' is not a git revision; name a branch, tag or commit")
    side = git_side(ref, cwd)
    commit = _rev_parse(ref, cwd)
    if commit is None:
        raise EvalError(f"'{ref}' is not a git revision of {cwd}; name a branch, tag or commit")
    return side, Revision(ref, commit)
