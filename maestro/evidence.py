"""What an action states: the plain records every subsystem builds as evidence, and the ledger signs.

An ``Action`` names what happened (``validate``, ``eval``, ``gate``, ``route``, ``run.node.end``...), who did
it, its inputs and outputs by digest (``Subject``), the manifests it read, the policies it hit
(``PolicyResult``) and small JSON ``details``. Each subsystem builds its own (``manifests.evidence``,
``evals.evidence``, ``gateway.recording``, ``runtime.evidence``) and records it through
``maestro.ledger.record``, which adds the chain fields and signs it.

Like ``maestro.errors``, this module imports nothing of maestro, so every package may use it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Subject:
    """An input or output of an action, by name and SHA-256 digest."""

    name: str
    sha256: str

    @classmethod
    def of(cls, name: str, data: bytes) -> Subject:
        return cls(name, hashlib.sha256(data).hexdigest())


@dataclass(frozen=True, slots=True)
class PolicyResult:
    """A policy rule the action hit and what it decided (``pass``, ``deny``, ``warn``, ...)."""

    name: str
    result: str


@dataclass(frozen=True, slots=True)
class Action:
    """What the caller records; the ledger adds ``index``, ``previous`` and signs it.

    ``details`` is small JSON data of the caller's own (a findings summary, a routing decision).
    ``time`` defaults to the moment the action is built (UTC).
    """

    action: str
    actor: str
    subjects: Sequence[Subject]
    manifests: Mapping[str, str] = field(default_factory=dict)
    policies: Sequence[PolicyResult] = ()
    autonomy_level: str | None = None
    approvals: Sequence[str] = ()
    cost_usd: float | None = None
    trace_id: str | None = None
    span_id: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    time: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __post_init__(self) -> None:
        if not self.subjects:
            raise ValueError("an action needs at least one subject (an input or output digest)")
        if not self.action or not self.actor:
            raise ValueError("an action needs a non-empty action and actor")
