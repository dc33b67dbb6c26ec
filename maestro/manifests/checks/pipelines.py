"""Whole-set checks for pipelines: references, loops and reachability of every step."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from maestro.manifests.checks.context import Checker
from maestro.manifests.loader import Document


def edges_of(spec: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The pipeline's edges; with none written, its steps run in the order listed."""
    if spec.get("edges"):
        return list(spec["edges"])
    ids = [s["id"] for s in spec["steps"]]
    return [{"from": a, "to": b} for a, b in zip(ids, ids[1:], strict=False)]


def check_pipelines(c: Checker) -> None:
    for pipeline in c.manifests.of_kind("Pipeline"):
        ids = _steps(c, pipeline)
        spec = pipeline.spec
        if "autonomyLevel" in spec:
            c.ref(pipeline, ("spec", "autonomyLevel"), "AutonomyLevel", spec["autonomyLevel"])
        start = spec.get("start", spec["steps"][0]["id"])
        if start not in ids:
            c.report(pipeline, ("spec", "start"), "pipeline.unknown-step", f"start step '{start}' does not exist")
            continue
        edges = edges_of(spec)
        ok = True
        for i, edge in enumerate(spec.get("edges", [])):
            for end in ("from", "to"):
                if edge[end] not in ids:
                    ok = False
                    c.report(pipeline, ("spec", "edges", i, end), "pipeline.unknown-step",
                             f"edge {end} '{edge[end]}' names no step; steps: {', '.join(ids)}")
            if "when" in edge:
                c.cel(pipeline, ("spec", "edges", i, "when"), edge["when"], "edge")
        if ok:
            _loops(c, pipeline, ids, edges)
            _reachable(c, pipeline, start, ids, edges)


def _steps(c: Checker, pipeline: Document) -> list[str]:
    ids: list[str] = []
    for i, step in enumerate(pipeline.spec["steps"]):
        path = ("spec", "steps", i)
        if step["id"] in ids:
            c.report(pipeline, (*path, "id"), "pipeline.duplicate-step", f"step id '{step['id']}' is used twice")
        ids.append(step["id"])
        agent = c.ref(pipeline, (*path, "agent"), "Agent", step["agent"]) if "agent" in step else None
        if step.get("route"):
            c.ref(pipeline, (*path, "route"), "Route", step["route"])
        if step["type"] == "tool" and agent is not None:
            tools = [t["name"] for t in agent.spec.get("tools", [])]
            if step["tool"] not in tools:
                c.report(pipeline, (*path, "tool"), "ref.tool",
                         f"agent '{agent.name}' has no tool '{step['tool']}'; its tools: {', '.join(tools) or 'none'}")
    return ids


def _loops(c: Checker, pipeline: Document, ids: list[str], edges: list[Mapping[str, Any]]) -> None:
    """Every cycle must pass through an edge with maxIterations."""
    for component in strongly_connected(ids, edges):
        inner = [
            (i, e) for i, e in enumerate(edges) if e["from"] in component and e["to"] in component
        ]
        if len(component) == 1 and not inner:
            continue
        if any("maxIterations" in e for _, e in inner):
            continue
        first = inner[0][0]
        c.report(pipeline, ("spec", "edges", first), "pipeline.unbounded-loop",
                 f"steps {', '.join(sorted(component))} form a loop with no bound; set maxIterations on one of its edges")


def _reachable(c: Checker, pipeline: Document, start: str, ids: list[str], edges: list[Mapping[str, Any]]) -> None:
    seen = {start}
    stack = [start]
    while stack:
        node = stack.pop()
        for e in edges:
            if e["from"] == node and e["to"] not in seen:
                seen.add(e["to"])
                stack.append(e["to"])
    for i, step in enumerate(pipeline.spec["steps"]):
        if step["id"] not in seen:
            what = "human approval step" if step["type"] == "approval" else "step"
            c.report(pipeline, ("spec", "steps", i, "id"), "pipeline.unreachable",
                     f"{what} '{step['id']}' cannot be reached from '{start}'; add an edge to it or remove it")


def strongly_connected(nodes: list[str], edges: list[Mapping[str, Any]]) -> list[set[str]]:
    """Tarjan's algorithm, iterative."""
    graph: dict[str, list[str]] = {n: [] for n in nodes}
    for e in edges:
        graph.setdefault(e["from"], []).append(e["to"])
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[set[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            successors = graph.get(node, [])
            if i < len(successors):
                work.append((node, i + 1))
                nxt = successors[i]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if low[node] == index[node]:
                component = set()
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    component.add(top)
                    if top == node:
                        break
                out.append(component)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return out
