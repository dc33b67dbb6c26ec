"""Autonomy gates at call time: a tool's ``action`` judged against an AutonomyLevel.

    allowedWithoutApproval  -> "allow"     the call runs
    requiresApproval        -> "approval"  the run pauses with a request saying what will run, with which arguments
    neither                 -> "forbid"    refused and recorded; the node fails

The level that applies is the stricter (lower ``level``) of the Agent's and the Pipeline's.
"""

from __future__ import annotations

from dataclasses import dataclass

from maestro.manifests.autonomy import Permission, permission_of
from maestro.manifests.durations import seconds
from maestro.manifests.kinds.autonomylevel import AutonomyLevel
from maestro.manifests.loader import ManifestSet


@dataclass(frozen=True, slots=True)
class Level:
    name: str
    level: int
    allowed: frozenset[str]
    needs_approval: frozenset[str]
    approvals_required: int
    roles: tuple[str, ...]
    expires_s: float | None


@dataclass(frozen=True, slots=True)
class Verdict:
    decision: str  # allow | approval | forbid
    level: Level
    action: str

    @property
    def reason(self) -> str:
        if self.decision == "allow":
            return f"'{self.action}' is allowed without approval at {self.level.name}"
        if self.decision == "approval":
            return f"'{self.action}' needs {self.level.approvals_required} approval(s) at {self.level.name}"
        return f"'{self.action}' is forbidden at {self.level.name} (in neither of its lists)"


def level_of(manifests: ManifestSet, name: str) -> Level:
    """The level named ``name``; one that forbids everything when the run's manifests lack it (validate
    rejects a dangling reference, so a snapshot always holds it)."""
    record = manifests.record(AutonomyLevel, name)
    if record is None:
        return Level(name, -1, frozenset(), frozenset(), 1, (), None)
    expires = record.approval_expires_after
    return Level(
        name,
        record.level,
        frozenset(record.allowed_without_approval),
        frozenset(record.requires_approval),
        max(1, record.approvals_required),
        record.approver_roles,
        seconds(expires) if expires else None,
    )


def applicable(manifests: ManifestSet, names: list[str | None]) -> Level | None:
    """The strictest of the named levels (None when none is named)."""
    levels = [level_of(manifests, n) for n in names if n]
    return min(levels, key=lambda lv: lv.level) if levels else None


def judge(action: str, level: Level | None) -> Verdict | None:
    """The verdict on ``action`` at ``level``; None when no level applies (no gate)."""
    if level is None:
        return None
    return Verdict(_DECISION[permission_of(level.allowed, level.needs_approval, action)], level, action)


_DECISION = {Permission.FREE: "allow", Permission.NEEDS_APPROVAL: "approval", Permission.FORBIDDEN: "forbid"}
