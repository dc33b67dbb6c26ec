"""The Rollout kind: a change shifted to a target step by step, with analysis, approvals and rollback."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from maestro.manifests.checks.delivery import check_rollouts
from maestro.manifests.diff.risk_delivery import ROLLOUT
from maestro.manifests.kinds.base import KindEntry, Source


@dataclass(frozen=True, slots=True)
class Rollout:
    name: str
    source: Source
    target_kind: str
    target_name: str
    target: Mapping[str, Any]  # as written (reports echo it)
    change: Mapping[str, Any]  # description, from, to, as written
    steps: tuple[Mapping[str, Any], ...]  # as written
    analysis: tuple[Mapping[str, Any], ...]  # as written
    rollback: Mapping[str, Any]
    approvals: Mapping[str, Any]
    eval_suite: str | None

    @property
    def ref(self) -> str:
        return f"Rollout/{self.name}"


def rollout(name: str, spec: Mapping[str, Any], source: Source) -> Rollout:
    target = spec["target"]
    return Rollout(
        name,
        source,
        target["kind"],
        target["name"],
        target,
        spec.get("change", {}),
        tuple(spec["steps"]),
        tuple(spec.get("analysis", [])),
        spec.get("rollback", {}),
        spec.get("approvals", {}),
        spec.get("evalSuite"),
    )


KIND = KindEntry("Rollout", "rollout.json", rollout, (check_rollouts,), ROLLOUT)
