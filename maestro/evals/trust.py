"""What an eval run trusts, so that a pull request's suite cannot run code or read the machine's files.

- Checks that run code from the repository (``python``) run only when whoever starts the run says so
  (``maestro eval --allow-code``): the opt-in lives in the command line, which the manifests a pull request
  edits cannot reach. Without it, a suite holding such a check is refused before any case runs.
- Every file a suite names (dataset, prompt, scorer) is read only from inside the repository, symbolic links
  followed (``maestro validate`` reports the same as ``ref.outside-repo``, with its location).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from maestro.evals.errors import EvalError
from maestro.evals.suite import Suite
from maestro.manifests.references import outside

CODE_CHECKS = frozenset({"python"})  # assertion types that execute code named by the manifest
ALLOW_CODE_FLAG = "--allow-code"
MAX_FILE_BYTES = 64 << 20


def code_refusal(suite: Suite) -> str | None:
    """Why ``suite`` cannot run without the opt-in, or None when it runs no code."""
    named = [f"'{c.name}' ({c.type}, {suite.file}:{c.line})" for c in suite.checks if c.type in CODE_CHECKS]
    if not named:
        return None
    return (
        f"suite '{suite.name}' has check(s) that run code from the repository: {', '.join(named)}; "
        f"they run only with `maestro eval {ALLOW_CODE_FLAG}`, which a workflow should pass only for trusted "
        "code (never on a pull request from a fork); or remove the check"
    )


def refuse_code(suites: Iterable[Suite], *, allowed: bool, where: str = "") -> None:
    """An EvalError naming every code-running check, unless code is ``allowed``."""
    if allowed:
        return
    problems = [p for suite in suites if (p := code_refusal(suite))]
    if problems:
        raise EvalError(f"the manifests{where}: " + "; ".join(problems))


def confined_reader(base_dir: str, relative: str) -> bytes | None:
    """A file a manifest names, read from disk; None if missing or too large; an EvalError outside the repo."""
    problem = outside(base_dir, relative)
    if problem is not None:
        raise EvalError(f"{problem}; maestro eval reads no file outside the repository")
    path = Path(base_dir) / relative
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return None
        return path.read_bytes()
    except OSError:
        return None
