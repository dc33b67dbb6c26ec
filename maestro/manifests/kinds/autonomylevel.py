"""The AutonomyLevel kind: what an agent may do without approval at a level, and who approves the rest."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from maestro.manifests.autonomy import Permission, grouped, permission_of
from maestro.manifests.checks.autonomy import check_levels
from maestro.manifests.diff.model import HIGH
from maestro.manifests.diff.risk_governance import AUTONOMY_LEVEL
from maestro.manifests.kinds.base import KindEntry, Source


@dataclass(frozen=True, slots=True)
class AutonomyLevel:
    name: str
    source: Source
    level: int
    description: str | None
    allowed_without_approval: tuple[str, ...]
    requires_approval: tuple[str, ...]
    approvals_required: int
    distinct_approvers: bool
    approver_roles: tuple[str, ...]
    approval_expires_after: str | None  # a duration as written
    promotion: Mapping[str, Any]  # what moving up to this level needs, as written (shown in its order)

    @property
    def ref(self) -> str:
        return f"AutonomyLevel/{self.name}"

    def permission(self, action: str) -> Permission:
        return permission_of(self.allowed_without_approval, self.requires_approval, action)

    def actions_by_permission(self) -> dict[Permission, list[str]]:
        return grouped(self.allowed_without_approval, self.requires_approval)


def autonomy_level(name: str, spec: Mapping[str, Any], source: Source) -> AutonomyLevel:
    approvals = spec.get("approvals", {})
    return AutonomyLevel(
        name,
        source,
        int(spec["level"]),
        spec.get("description"),
        tuple(spec.get("allowedWithoutApproval", ())),
        tuple(spec.get("requiresApproval", ())),
        int(approvals.get("required", 0)),
        bool(approvals.get("distinctApprovers", True)),
        tuple(approvals.get("roles", [])),
        approvals.get("expiresAfter"),
        spec.get("promotion", {}),
    )


KIND = KindEntry(
    "AutonomyLevel",
    "autonomylevel.json",
    autonomy_level,
    (check_levels,),
    AUTONOMY_LEVEL,
    (HIGH, "autonomy level removed: the limits it set on agents and pipelines are gone"),
)
