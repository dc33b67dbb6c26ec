"""The AutonomyLevel kind: what an agent may do without approval at a level, and who approves the rest."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

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
    approvals: Mapping[str, Any]  # required, distinctApprovers, expiresAfter, roles, as written
    promotion: Mapping[str, Any]  # as written

    @property
    def ref(self) -> str:
        return f"AutonomyLevel/{self.name}"


def autonomy_level(name: str, spec: Mapping[str, Any], source: Source) -> AutonomyLevel:
    return AutonomyLevel(
        name,
        source,
        int(spec["level"]),
        spec.get("description"),
        tuple(spec.get("allowedWithoutApproval", ())),
        tuple(spec.get("requiresApproval", ())),
        spec.get("approvals", {}),
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
