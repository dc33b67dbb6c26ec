"""A command's evidence: the core builds the entry, this passes ``--key`` and ``--no-ledger`` to the ledger API.

Where the repository keeps no ledger (no ``.maestro/keys/``) nothing is read or imported beyond
``maestro.ledger.record``, so ``maestro validate`` in a pre-commit hook pays nothing for it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import typer

from maestro.evidence import Action
from maestro.ledger import record as ledger
from maestro.manifests.validate import repository_root


def record(build: Callable[[str], Action] | None, *, key: Path | None = None, no_ledger: bool = False) -> None:
    """Record ``build(signer)`` in the repository's ledger, if it keeps one, and say where on stderr."""
    if no_ledger or build is None:
        return
    recorded = ledger.record(repository_root(), build, key)
    if recorded is not None:
        typer.echo(f"ledger: recorded entry {recorded.index} in {recorded.store}", err=True)
