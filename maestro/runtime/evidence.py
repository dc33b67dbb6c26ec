"""Evidence of a run in the ledger: node start and end, model and tool calls, approvals and refusals.

Entries are built here and appended through the one ledger API (``maestro.ledger.record``), which records
only where the repository keeps a ledger (``.maestro/keys/``) and this process has a trusted signing key,
as ``maestro validate`` does; otherwise nothing is recorded. Arguments and results appear only as digests.
"""

from __future__ import annotations

import getpass
import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from maestro.evidence import Action, Subject
from maestro.ledger.record import configured_key
from maestro.ledger.record import record as append


def digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def who(root: Path) -> str:
    """The name this process acts under: its ledger key's holder, else the OS user."""
    from maestro.ledger.errors import KeyFileError

    try:
        key = configured_key(root)
    except KeyFileError:
        key = None
    return key.name if key is not None else getpass.getuser()


def record(
    root: Path,
    action: str,
    run: Mapping[str, Any],
    *,
    details: Mapping[str, Any],
    subjects: Mapping[str, Any] | None = None,
    cost_usd: float | None = None,
    level: str | None = None,
    approvals: list[str] | None = None,
) -> int | None:
    """Append ``action`` for ``run``; the entry's index, or None where the repository keeps no ledger."""
    named = {"run": run["id"], **(subjects or {})}

    def build(actor: str) -> Action:  # digests only where a ledger records it
        return Action(
            action=action,
            actor=actor,
            subjects=[Subject(name, digest(value)) for name, value in named.items()],
            manifests={"snapshot": str(run["snapshot"]["digest"])},
            autonomy_level=level,
            approvals=approvals or [],
            cost_usd=cost_usd,
            details={"run": run["id"], "pipeline": run["pipeline"], **details},
        )

    recorded = append(root, build)
    return recorded.index if recorded is not None else None
