"""A Pipeline as a typed graph: its nodes, its edges, and which edge a finished node takes (CEL).

With no edges written, the steps run in the order listed (as validate and explain read them).

The runtime reads Pipelines only through these records. Edge conditions are CEL over ``output`` (the node's
output), ``state`` (the run input merged with every output so far) and ``steps`` (outputs by node id). A
``state`` field that an edge names and no node has set yet reads as null, so a loop edge such as
``state.needs_more_info`` is simply not taken until some node sets it; a missing ``output`` field is an
error on the node, since the node was expected to produce it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import cel

from maestro.manifests.durations import seconds
from maestro.manifests.kinds.pipeline import Pipeline, Step
from maestro.manifests.loader import Document
from maestro.runtime.errors import NodeError

_STATE_FIELD = re.compile(r"(?<![\w.])state\.([A-Za-z_]\w*)")


@dataclass(frozen=True, slots=True)
class Approval:
    approvers: int
    roles: tuple[str, ...]
    timeout_s: float | None
    on_timeout: str


@dataclass(frozen=True, slots=True)
class Node:
    id: str
    type: str
    agent: str | None = None
    tool: str | None = None
    route: str | None = None
    prompt: str | None = None
    approval: Approval | None = None
    attempts: int = 1  # the first attempt and the retries
    backoff_s: float = 0.0
    max_cost_usd: float | None = None
    timeout_s: float | None = None  # one attempt's limit
    line: int = 0  # where the step is written
    map_over: str | None = None  # a map node: the CEL list, the sub-step each item runs, how many at once, the output
    map_step: Node | None = None
    map_concurrency: int = 1
    map_into: str = "results"
    pipeline: str | None = None  # a pipeline node: the child Pipeline
    output_schema: Mapping[str, Any] | None = None  # the answer's JSON Schema (agent, model): structured output


@dataclass(frozen=True, slots=True)
class Edge:
    source: str
    target: str
    when: str | None = None
    max_iterations: int | None = None


@dataclass(frozen=True, slots=True)
class Graph:
    name: str
    start: str
    nodes: Mapping[str, Node]
    edges: tuple[Edge, ...]
    autonomy_level: str | None
    max_cost_usd: float | None

    def edges_from(self, node: str) -> list[tuple[int, Edge]]:
        return [(i, e) for i, e in enumerate(self.edges) if e.source == node]


def graph_of(pipeline: Pipeline | Document) -> Graph:
    """The typed graph of a Pipeline (its record, or its document's)."""
    if isinstance(pipeline, Document):
        pipeline = pipeline.record
    assert isinstance(pipeline, Pipeline)
    return Graph(
        name=pipeline.name,
        start=pipeline.start,
        nodes={step.id: node_of(step) for step in pipeline.steps},
        edges=tuple(Edge(e.source, e.target, e.when, e.max_iterations) for e in pipeline.flow),
        autonomy_level=pipeline.autonomy_level,
        max_cost_usd=pipeline.max_cost_usd,
    )


def node_of(step: Step) -> Node:
    approval = step.approval
    return Node(
        id=step.id,
        type=step.type,
        agent=step.agent,
        tool=step.tool,
        route=step.route,
        prompt=step.prompt,
        approval=Approval(
            approval.approvers,
            approval.roles,
            seconds(approval.timeout) if approval.timeout else None,
            approval.on_timeout,
        )
        if approval
        else None,
        attempts=1 + step.retries,
        backoff_s=seconds(step.backoff) if step.backoff else 0.0,
        max_cost_usd=step.max_cost_usd,
        timeout_s=seconds(step.timeout) if step.timeout else None,
        line=step.line,
        map_over=step.map.over if step.map else None,
        map_step=node_of(step.map.step) if step.map else None,
        map_concurrency=step.map.concurrency if step.map else 1,
        map_into=step.map.into if step.map else "results",
        pipeline=step.pipeline,
        output_schema=step.output_schema,
    )


def next_node(
    graph: Graph,
    node: str,
    output: Mapping[str, Any],
    *,
    state: Mapping[str, Any],
    steps: Mapping[str, Any],
    taken: Mapping[int, int],
) -> tuple[int, Edge] | None:
    """The first edge from ``node`` whose condition holds and whose ``maxIterations`` is not spent; None at
    the end of the graph. A NodeError when edges leave ``node`` and none can be taken."""
    candidates = graph.edges_from(node)
    if not candidates:
        return None
    for index, edge in candidates:
        if edge.max_iterations is not None and taken.get(index, 0) >= edge.max_iterations:
            continue
        if edge.when is None or _holds(edge, output, state, steps):
            return index, edge
    if all(e.max_iterations is not None for _, e in candidates):
        return None  # only loop edges leave here and they are spent or not wanted: the run ends
    conditions = "; ".join(f"{e.target}: `{e.when}`" for _, e in candidates)
    raise NodeError(f"no edge from '{node}' matches its output {_short(output)} ({conditions})")


def _holds(edge: Edge, output: Mapping[str, Any], state: Mapping[str, Any], steps: Mapping[str, Any]) -> bool:
    assert edge.when is not None
    full_state = {name: None for name in _STATE_FIELD.findall(edge.when)} | dict(state)
    try:
        value = cel.evaluate(edge.when, {"output": dict(output), "state": full_state, "steps": dict(steps)})
    except (KeyError, ValueError, TypeError, RuntimeError) as e:
        raise NodeError(
            f"the edge {edge.source} -> {edge.target} cannot read the output: `{edge.when}` failed ({e}); "
            f"the output was {_short(output)}"
        ) from e
    return value is True


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 200 else text[:197] + "..."
