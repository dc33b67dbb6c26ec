"""What a diff returns: changes, each with an operation and a risk, and the ordering of risks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final, TypeAlias

FileReader: TypeAlias = Callable[[str, str], "bytes | None"]
"""Reads a file a manifest refers to: ``(base_dir of the manifest, relative path)`` -> bytes, or None."""


class Risk(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def rank(self) -> int:
        return _RISK_ORDER.index(self)


_RISK_ORDER: Final = (Risk.LOW, Risk.MEDIUM, Risk.HIGH)
HIGH, MEDIUM, LOW = Risk.HIGH, Risk.MEDIUM, Risk.LOW


class Op(StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"
    RENAMED = "renamed"
    MOVED = "moved"


@dataclass(frozen=True, slots=True)
class Change:
    """One change. ``path`` is empty for a whole document; values are None where absent, secrets redacted."""

    kind: str
    name: str
    path: str
    op: Op
    old: Any
    new: Any
    risk: Risk
    reason: str
    file: str | None = None

    @property
    def ref(self) -> str:
        return f"{self.kind}/{self.name}"


@dataclass(frozen=True, slots=True)
class DiffResult:
    changes: tuple[Change, ...]

    def counts(self) -> dict[Risk, int]:
        counts = dict.fromkeys(_RISK_ORDER, 0)
        for c in self.changes:
            counts[c.risk] += 1
        return counts

    @property
    def max_risk(self) -> Risk | None:
        return max((c.risk for c in self.changes), key=lambda r: r.rank, default=None)

    def reaches(self, risk: Risk) -> bool:
        """Whether some change is at or above ``risk``."""
        return any(c.risk.rank >= risk.rank for c in self.changes)
