"""In-toto Statement v1 for each recorded action, with maestro's action predicate.

One entry of the ledger is::

    {"_type": "https://in-toto.io/Statement/v1",
     "subject": [{"name": "request", "digest": {"sha256": "..."}}, ...],      # inputs and outputs
     "predicateType": "https://maestro.dev/ledger/action/v1",
     "predicate": {"index": 7, "previous": "<hex leaf hash of entry 6>", "time": "2026-12-02T03:00:00Z",
                   "action": "route", "actor": "gateway", "manifests": {"manifests/routes.yaml": "<sha256>"},
                   "policies": [{"name": "default/no-credentials", "result": "pass"}], "autonomyLevel": "L2",
                   "approvals": ["bob", "carol"], "cost": {"usd": 0.0012},
                   "trace": {"traceId": "<32 hex>", "spanId": "<16 hex>"}, "details": {...}}}

``index`` and ``previous`` chain the entries: ``previous`` is the RFC 6962 leaf hash of the entry before
(64 zeros for the first), so deleting, inserting or reordering an entry breaks the chain where it happened.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from maestro.evidence import Action, PolicyResult, Subject

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
ACTION_PREDICATE = "https://maestro.dev/ledger/action/v1"
CHECKPOINT_PREDICATE = "https://maestro.dev/ledger/checkpoint/v1"
GENESIS = "0" * 64

__all__ = [  # Action, PolicyResult and Subject live in maestro.evidence, below every subsystem that builds them
    "ACTION_PREDICATE",
    "CHECKPOINT_PREDICATE",
    "GENESIS",
    "STATEMENT_TYPE",
    "Action",
    "Entry",
    "PolicyResult",
    "StatementError",
    "Subject",
    "encode",
    "parse",
    "statement",
]


def statement(action: Action, index: int, previous: str) -> dict[str, Any]:
    """The Statement of ``action`` as entry ``index`` after the entry whose leaf hash is ``previous``."""
    trace = {k: v for k, v in (("traceId", action.trace_id), ("spanId", action.span_id)) if v}
    return {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": s.name, "digest": {"sha256": s.sha256}} for s in action.subjects],
        "predicateType": ACTION_PREDICATE,
        "predicate": {
            "index": index,
            "previous": previous,
            "time": action.time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "action": action.action,
            "actor": action.actor,
            "manifests": dict(action.manifests),
            "policies": [{"name": p.name, "result": p.result} for p in action.policies],
            "autonomyLevel": action.autonomy_level,
            "approvals": list(action.approvals),
            "cost": {"usd": action.cost_usd} if action.cost_usd is not None else {},
            "trace": trace,
            "details": dict(action.details),
        },
    }


def encode(statement: Mapping[str, Any]) -> bytes:
    """Canonical JSON bytes of a statement (sorted keys, no spaces, UTF-8)."""
    return json.dumps(statement, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class StatementError(ValueError):
    """A payload is not a maestro action Statement."""


@dataclass(frozen=True, slots=True)
class Entry:
    """What verification and ``ledger show`` need from a decoded action statement."""

    index: int
    previous: str
    time: str
    action: str
    actor: str
    autonomy_level: str | None
    predicate: Mapping[str, Any]


def parse(payload: bytes) -> Entry:
    """The chain fields of an action statement; ``StatementError`` when it is not one."""
    try:
        data = json.loads(payload)
        if data.get("_type") != STATEMENT_TYPE or data.get("predicateType") != ACTION_PREDICATE:
            raise StatementError("not a maestro action Statement v1")
        if not isinstance(data.get("subject"), list) or not data["subject"]:
            raise StatementError("the Statement has no subject")
        p = data["predicate"]
        entry = Entry(p["index"], p["previous"], p["time"], p["action"], p["actor"], p.get("autonomyLevel"), p)
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        if isinstance(e, StatementError):
            raise
        raise StatementError("the payload is not a well-formed action Statement") from e
    if not isinstance(entry.index, int) or not isinstance(entry.previous, str):
        raise StatementError("the predicate's index or previous has the wrong type")
    return entry
