"""The Pipeline kind: a graph of steps (agents, tools, routes, human approvals) with bounded loops.

Steps and edges are typed records with the line and column they were written at, so the runtime names the
place of a bad step; ``written`` keeps each as written, for ``explain`` to echo.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from maestro.manifests.checks.pipelines import check_pipelines
from maestro.manifests.kinds.base import KindEntry, Source, opt_float, opt_int


@dataclass(frozen=True, slots=True)
class ApprovalGate:
    approvers: int
    roles: tuple[str, ...]
    timeout: str | None  # a duration as written
    on_timeout: str  # reject | escalate


@dataclass(frozen=True, slots=True)
class MapOver:
    """A ``map`` step: its sub-step run once per item of the list ``over`` (CEL) yields, at most
    ``concurrency`` at a time, the outputs joined in the list's order under ``into``."""

    over: str  # CEL over input state: a list
    step: Step
    concurrency: int
    into: str


@dataclass(frozen=True, slots=True)
class Step:
    id: str
    type: str  # agent | tool | model | approval | map | pipeline
    line: int
    column: int
    agent: str | None = None
    tool: str | None = None
    route: str | None = None
    prompt: str | None = None
    approval: ApprovalGate | None = None
    map: MapOver | None = None
    pipeline: str | None = None  # the child Pipeline of a `pipeline` step
    retries: int = 0  # retries after the first attempt
    backoff: str | None = None  # a duration as written
    timeout: str | None = None  # a duration as written: one attempt's limit
    max_cost_usd: float | None = None
    written: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    output_schema: Mapping[str, Any] | None = field(default=None, compare=False)  # agent, model: the answer's

    @property
    def where(self) -> str:
        return f"line {self.line}"


@dataclass(frozen=True, slots=True)
class Edge:
    source: str
    target: str
    line: int
    column: int
    when: str | None = None
    max_iterations: int | None = None
    written: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Pipeline:
    name: str
    source: Source
    start: str  # the first step's id when the document names none
    autonomy_level: str | None
    steps: tuple[Step, ...]
    edges: tuple[Edge, ...]  # as written (none: the steps run in the order listed, see ``flow``)
    max_cost_usd: float | None
    timeout: str | None  # a duration as written
    limits: Mapping[str, Any]  # maxCostUsd, timeout as written (shown in its order)

    @property
    def ref(self) -> str:
        return f"Pipeline/{self.name}"

    @property
    def flow(self) -> tuple[Edge, ...]:
        """The edges; with none written, the steps run in the order listed."""
        if self.edges:
            return self.edges
        pairs = pairwise(self.steps)
        return tuple(Edge(a.id, b.id, b.line, b.column, written={"from": a.id, "to": b.id}) for a, b in pairs)

    def step(self, step_id: str) -> Step | None:
        return next((s for s in self.steps if s.id == step_id), None)


def _step(data: Mapping[str, Any], source: Source, path: tuple[str | int, ...]) -> Step:
    line, column = source.at(path)
    approval, retry, mapped = data.get("approval"), data.get("retry", {}), data.get("map")
    return Step(
        data["id"],
        data["type"],
        line,
        column,
        data.get("agent"),
        data.get("tool"),
        data.get("route"),
        data.get("prompt"),
        ApprovalGate(
            int(approval["approvers"]),
            tuple(approval.get("roles", ())),
            approval.get("timeout"),
            approval.get("onTimeout", "reject"),
        )
        if approval
        else None,
        MapOver(
            mapped["over"],
            _step({"id": data["id"], **mapped["step"]}, source, (*path, "map", "step")),
            int(mapped.get("concurrency", 1)),
            mapped.get("into", "results"),
        )
        if mapped
        else None,
        data.get("pipeline"),
        int(retry.get("attempts", 0)),
        retry.get("backoff"),
        data.get("timeout"),
        opt_float(data.get("maxCostUsd")),
        data,
        data.get("outputSchema"),
    )


def pipeline(name: str, spec: Mapping[str, Any], source: Source) -> Pipeline:
    written, limits = spec["steps"], spec.get("limits", {})
    steps = tuple(_step(s, source, ("spec", "steps", i)) for i, s in enumerate(written))
    edges = tuple(
        Edge(e["from"], e["to"], *source.at(("spec", "edges", i)), e.get("when"), opt_int(e.get("maxIterations")), e)
        for i, e in enumerate(spec.get("edges", []))
    )
    return Pipeline(
        name,
        source,
        spec.get("start", steps[0].id if steps else ""),
        spec.get("autonomyLevel"),
        steps,
        edges,
        opt_float(limits.get("maxCostUsd")),
        limits.get("timeout"),
        limits,
    )


KIND = KindEntry("Pipeline", "pipeline.json", pipeline, (check_pipelines,), "risk_delivery:PIPELINE")
