"""Whole-set checks for pipelines: references, loops, reachability, exhaustive branches, idempotent side effects,
valid output schemas and sub-pipelines that do not run themselves again.

A tool has side effects when its action is anything but ``read`` or ``suggest``
(``maestro.manifests.autonomy.WRITES``). Such a tool step must be safe to repeat, since a call in flight when a
worker dies is made again: the tool says ``idempotent: true``, or its MCP server says ``idempotencyKeys: true``
(it returns the first result for a repeated idempotency key, which maestro sends with every call).
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import pairwise
from typing import Any

from maestro.manifests import expressions
from maestro.manifests.autonomy import WRITES, Permission, permission
from maestro.manifests.branches import exhaustive
from maestro.manifests.checks.autonomy import report_forbidden
from maestro.manifests.checks.context import Checker
from maestro.manifests.kinds.agent import Agent
from maestro.manifests.loader import Document


def edges_of(spec: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The pipeline's edges; with none written, its steps run in the order listed."""
    if spec.get("edges"):
        return list(spec["edges"])
    ids = [s["id"] for s in spec["steps"]]
    return [{"from": a, "to": b} for a, b in pairwise(ids)]


def check_pipelines(c: Checker) -> None:
    for pipeline in c.manifests.of_kind("Pipeline"):
        ids = _steps(c, pipeline)
        spec = pipeline.spec
        if "autonomyLevel" in spec:
            level = c.ref(pipeline, ("spec", "autonomyLevel"), "AutonomyLevel", spec["autonomyLevel"])
            if level is not None:
                _forbidden_tools(c, pipeline, level)
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
                    c.report(
                        pipeline,
                        ("spec", "edges", i, end),
                        "pipeline.unknown-step",
                        f"edge {end} '{edge[end]}' names no step; steps: {', '.join(ids)}",
                    )
            if "when" in edge:
                c.cel(pipeline, ("spec", "edges", i, "when"), edge["when"], "edge")
        if ok:
            bounded = _loops(c, pipeline, ids, edges)
            _reachable(c, pipeline, start, ids, edges)
            if bounded and spec.get("edges"):  # an unbounded loop's edge is that one mistake, not a second
                _branches(c, pipeline, ids, edges)
        _side_effects(c, pipeline)
        _output_schemas(c, pipeline)
    _sub_pipeline_cycles(c)


def acting(spec: Mapping[str, Any], i: int) -> tuple[Mapping[str, Any], tuple[str | int, ...]]:
    """Step ``i`` as it acts, with its path: a map step's sub-step (what each branch runs), else the step."""
    step = spec["steps"][i]
    if step["type"] == "map":
        return step["map"]["step"], ("spec", "steps", i, "map", "step")
    return step, ("spec", "steps", i)


def _steps(c: Checker, pipeline: Document) -> list[str]:
    ids: list[str] = []
    for i, written in enumerate(pipeline.spec["steps"]):
        if written["id"] in ids:
            where = ("spec", "steps", i, "id")
            c.report(pipeline, where, "pipeline.duplicate-step", f"step id '{written['id']}' is used twice")
        ids.append(written["id"])
        step, path = acting(pipeline.spec, i)
        agent = c.ref(pipeline, (*path, "agent"), "Agent", step["agent"]) if "agent" in step else None
        if step.get("route"):
            c.ref(pipeline, (*path, "route"), "Route", step["route"])
        if step["type"] == "tool" and agent is not None:
            tools = [t["name"] for t in agent.spec.get("tools", [])]
            if step["tool"] not in tools:
                c.report(
                    pipeline,
                    (*path, "tool"),
                    "ref.tool",
                    f"agent '{agent.name}' has no tool '{step['tool']}'; its tools: {', '.join(tools) or 'none'}",
                )
    return ids


def _forbidden_tools(c: Checker, pipeline: Document, level: Document) -> None:
    """A tool step whose tool's action is forbidden at the level that applies is an error at the step's tool.

    As at run time (maestro.runtime.autonomy), the stricter (lower) of the pipeline's and the agent's levels
    applies. When that is the agent's own level, the agent's tool already has the finding: one per mistake.
    """
    for i in range(len(pipeline.spec["steps"])):
        step, path = acting(pipeline.spec, i)
        agent = c.manifests.get("Agent", step["agent"]) if step["type"] == "tool" and "agent" in step else None
        own = c.manifests.get("AutonomyLevel", agent.spec["autonomyLevel"]) if agent is not None else None
        if own is not None and own.spec["level"] <= level.spec["level"]:
            continue
        tool = next((t for t in agent.spec.get("tools", []) if t["name"] == step["tool"]), None) if agent else None
        if tool is not None and permission(level.spec, tool["action"]) is Permission.FORBIDDEN:
            report_forbidden(c, pipeline, (*path, "tool"), tool, level)


def _loops(c: Checker, pipeline: Document, ids: list[str], edges: list[Mapping[str, Any]]) -> bool:
    """Every cycle must pass through an edge with maxIterations: without those edges the graph is acyclic.
    False when a loop has no bound (and the finding is reported)."""
    unbounded = [e for e in edges if "maxIterations" not in e]
    cycle = find_cycle(ids, unbounded)
    if cycle:
        first = next(i for i, e in enumerate(edges) if e["from"] == cycle[0] and e["to"] == cycle[1])
        path = ("spec", "edges", first) if pipeline.spec.get("edges") else ("spec", "steps")
        loop = " -> ".join(cycle)
        c.report(
            pipeline,
            path,
            "pipeline.unbounded-loop",
            f"loop {loop} has no bound; set maxIterations on one of its edges",
        )
    return not cycle


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
            c.report(
                pipeline,
                ("spec", "steps", i, "id"),
                "pipeline.unreachable",
                f"{what} '{step['id']}' cannot be reached from '{start}'; add an edge to it or remove it",
            )


def _branches(c: Checker, pipeline: Document, ids: list[str], edges: list[Mapping[str, Any]]) -> None:
    """A step whose edges (loop edges with maxIterations aside) are all conditional must always take one: a
    default edge (no ``when``) or conditions proven exhaustive (maestro.manifests.branches). Otherwise the run
    fails on that step when none holds. A step that only has loop edges ends the run when none is taken."""
    for node in ids:
        out = [(i, e) for i, e in enumerate(edges) if e["from"] == node and "maxIterations" not in e]
        if not out or any("when" not in e for _, e in out):
            continue
        conditions = [str(e["when"]) for _, e in out]
        if any(expressions.check(w, "edge") for w in conditions) or exhaustive(conditions):
            continue  # a condition with a CEL finding has that finding; no guess about the branches
        shown = "; ".join(f"-> {e['to']}: `{e['when']}`" for _, e in out)
        c.report(
            pipeline,
            ("spec", "edges", out[0][0], "when"),
            "pipeline.non-exhaustive",
            f"the edges from '{node}' may all be false ({shown}) and the run would fail there; add a default "
            f"edge (from: {node}, to: ..., with no `when`) or make the conditions complementary",
        )


def _side_effects(c: Checker, pipeline: Document) -> None:
    """Every step that can change the world needs tools that can run twice, or servers that dedupe: a tool step
    its one tool, an agent step (whose tool loop may call any tool of its agent) each of its agent's tools. One
    finding per unsafe tool and pipeline: at the tool step that calls it, else at the first agent step."""
    spots: dict[tuple[str, str], tuple[int, str, Document, Mapping[str, Any], tuple[str | int, ...]]] = {}
    for i in range(len(pipeline.spec["steps"])):
        step, path = acting(pipeline.spec, i)
        agent = (
            c.manifests.get("Agent", step["agent"]) if step["type"] in ("tool", "agent") and "agent" in step else None
        )
        if agent is None:
            continue
        tools = agent.spec.get("tools", [])
        if step["type"] == "agent":
            for tool in (t for t in tools if _unsafe(agent, t["name"])):
                spots.setdefault((agent.name, tool["name"]), (i, "agent", agent, tool, path))
            continue
        tool = next((t for t in tools if t["name"] == step["tool"]), None)
        if tool is not None and "server" not in tool:
            servers = ", ".join(s["name"] for s in agent.spec.get("mcpServers", [])) or "none yet"
            c.report(
                pipeline,
                (*path, "tool"),
                "pipeline.tool-no-server",
                f"tool '{tool['name']}' of agent '{agent.name}' names no MCP server, so the step cannot run; set "
                f"its `server` to one of the agent's mcpServers ({servers})",
            )
        elif tool is not None and _unsafe(agent, tool["name"]):
            found = spots.get((agent.name, tool["name"]))
            if found is None or found[1] == "agent":
                spots[(agent.name, tool["name"])] = (i, "tool", agent, tool, path)
    for i, field, agent, tool, path in sorted(spots.values(), key=lambda s: s[0]):
        where = f"{field} step '{pipeline.spec['steps'][i]['id']}'"
        c.report(
            pipeline,
            (*path, field),
            "pipeline.side-effect-idempotency",
            f"{where} can call tool '{tool['name']}' ({tool['action']}), which has side effects, and nothing makes a "
            f"repeated call safe: a call in flight when a worker dies is made again; set `idempotencyKeys: true` on "
            f"MCP server '{tool['server']}' of agent '{agent.name}' if it returns the first result for a repeated "
            "idempotency key, or `idempotent: true` on the tool if a second call changes nothing",
        )


def _unsafe(agent: Document, name: str) -> bool:
    """A served tool with side effects that is not idempotent and whose server does not dedupe by key (a tool
    with no server cannot run: ``pipeline.tool-no-server``). Read through the Agent record."""
    record: Agent = agent.record
    tool = record.tool(name)
    if tool is None or tool.server is None:
        return False
    server = record.server(tool.server)
    return tool.action in WRITES and not tool.idempotent and not (server is not None and server.idempotency_keys)


DRAFTS = (  # the JSON Schema drafts an outputSchema may name in $schema (no trailing #); the last is the default
    "http://json-schema.org/draft-04/schema",
    "http://json-schema.org/draft-06/schema",
    "http://json-schema.org/draft-07/schema",
    "https://json-schema.org/draft/2019-09/schema",
    "https://json-schema.org/draft/2020-12/schema",
)


def _output_schemas(c: Checker, pipeline: Document) -> None:
    """A step's ``outputSchema`` must be a JSON Schema (its own ``$schema``, else draft 2020-12), since it is sent as
    the structured output and the answer is checked against it. The Rust engine answers "is it valid?"; the Python
    engine (jsonschema, imported only then) says where it is not, one finding per mistake in the schema."""
    import jsonschema_rs

    for i in range(len(pipeline.spec["steps"])):
        step, path = acting(pipeline.spec, i)
        schema = step.get("outputSchema")
        if schema is None:
            continue
        dialect = schema.get("$schema", DRAFTS[-1])
        if not isinstance(dialect, str) or dialect.rstrip("#") not in DRAFTS:
            c.report(
                pipeline,
                (*path, "outputSchema", "$schema"),
                "pipeline.output-schema",
                f"step '{step['id']}' has an outputSchema whose $schema {dialect!r} is no JSON Schema draft maestro "
                f"knows; use one of {', '.join(DRAFTS)} or leave $schema out (2020-12)",
            )
            continue
        if jsonschema_rs.meta.is_valid(schema):
            continue
        from jsonschema import Draft202012Validator, validators

        cls = validators.validator_for(schema, default=Draft202012Validator)
        for error in sorted(cls(cls.META_SCHEMA).iter_errors(schema), key=lambda e: list(map(str, e.path))):
            c.report(
                pipeline,
                (*path, "outputSchema", *error.absolute_path),
                "pipeline.output-schema",
                f"step '{step['id']}' has an outputSchema that is not a valid JSON Schema: {error.message}; "
                "fix it (see https://json-schema.org/understanding-json-schema)",
            )


def _sub_pipeline_cycles(c: Checker) -> None:
    """A ``pipeline`` step whose child runs its own pipeline again, directly or through others, would start runs
    without end: an error at every such step, naming the whole chain."""
    children: dict[str, list[tuple[str, Document, tuple[str | int, ...]]]] = {}
    for pipeline in c.manifests.of_kind("Pipeline"):
        for i in range(len(pipeline.spec["steps"])):
            step, path = acting(pipeline.spec, i)
            if step["type"] == "pipeline" and "pipeline" in step:
                children.setdefault(pipeline.name, []).append((step["pipeline"], pipeline, path))
    for parent, calls in children.items():
        for child, pipeline, path in calls:
            chain = _chain(children, child, parent)
            if chain:
                loop = " -> ".join([parent, *chain])
                c.report(
                    pipeline,
                    (*path, "pipeline"),
                    "pipeline.sub-pipeline-cycle",
                    f"step '{pipeline.spec['steps'][path[2]]['id']}' runs Pipeline '{child}', which runs "
                    f"'{parent}' again ({loop}): a run would never end; break the chain",
                )


def _chain(
    children: Mapping[str, list[tuple[str, Document, tuple[str | int, ...]]]], start: str, goal: str
) -> list[str]:
    """The pipelines from ``start`` to ``goal`` through sub-pipeline steps (breadth first), or [] when none."""
    came: dict[str, str | None] = {start: None}
    queue = [start]
    while queue:
        name = queue.pop(0)
        if name == goal:
            chain = [name]
            while (prev := came[chain[-1]]) is not None:
                chain.append(prev)
            return chain[::-1]
        for child, _, _ in children.get(name, []):
            if child not in came:
                came[child] = name
                queue.append(child)
    return []


def find_cycle(nodes: list[str], edges: list[Mapping[str, Any]]) -> list[str]:
    """A cycle as [a, b, ..., a], or [] when the graph is acyclic (Kahn's algorithm, then a walk)."""
    successors: dict[str, list[str]] = {n: [] for n in nodes}
    predecessors: dict[str, list[str]] = {n: [] for n in nodes}
    indegree = dict.fromkeys(nodes, 0)
    for e in edges:
        successors[e["from"]].append(e["to"])
        predecessors[e["to"]].append(e["from"])
        indegree[e["to"]] += 1
    ready = [n for n in nodes if indegree[n] == 0]
    while ready:
        node = ready.pop()
        for nxt in successors[node]:
            indegree[nxt] -= 1
            if indegree[nxt] == 0:
                ready.append(nxt)
    left = {n for n in nodes if indegree[n] > 0}
    if not left:
        return []
    # Every node left has a predecessor left, so walking backwards must close a cycle.
    trail = [min(left)]
    while True:
        prev = min(n for n in predecessors[trail[-1]] if n in left)
        if prev in trail:
            cycle = trail[trail.index(prev) :]
            cycle.reverse()
            return [*cycle, cycle[0]]
        trail.append(prev)
