"""The Pipeline kind: a graph of steps (agents, tools, routes, human approvals) with bounded loops."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from maestro.manifests.checks.pipelines import check_pipelines
from maestro.manifests.diff.risk_delivery import PIPELINE
from maestro.manifests.kinds.base import KindEntry, Source


@dataclass(frozen=True, slots=True)
class Pipeline:
    name: str
    source: Source
    start: str  # the first step's id when the document names none
    autonomy_level: str | None
    steps: tuple[Mapping[str, Any], ...]  # as written; the runtime compiles them
    edges: tuple[Mapping[str, Any], ...]  # as written
    limits: Mapping[str, Any]  # maxCostUsd, timeout as written (shown in its order)

    @property
    def ref(self) -> str:
        return f"Pipeline/{self.name}"

    @property
    def flow(self) -> list[Mapping[str, Any]]:
        """The edges; with none written, the steps run in the order listed."""
        if self.edges:
            return list(self.edges)
        return [{"from": a["id"], "to": b["id"]} for a, b in pairwise(self.steps)]


def pipeline(name: str, spec: Mapping[str, Any], source: Source) -> Pipeline:
    steps, limits = tuple(spec["steps"]), spec.get("limits", {})
    return Pipeline(
        name,
        source,
        spec.get("start", steps[0]["id"] if steps else ""),
        spec.get("autonomyLevel"),
        steps,
        tuple(spec.get("edges", [])),
        limits,
    )


KIND = KindEntry("Pipeline", "pipeline.json", pipeline, (check_pipelines,), PIPELINE)
