"""Risk rules for what an agent graph can do: tools, MCP servers and the steps and edges that call them.

High: a new tool with side effects (any action but read and suggest: ``maestro.manifests.autonomy.WRITES``),
a new MCP server, a server's command or URL changed (other code serves the tools), a variable newly passed
to a server, a server or tool no longer safe to repeat (``idempotencyKeys`` / ``idempotent`` turned off),
a step that now calls a tool with side effects, an edge added into such a step or its condition changed
(a new or wider path to a side effect, perhaps past an approval), an approval step removed. Autonomy level
changes are ``risk_governance.autonomy_ref`` (raised: high).
"""

from __future__ import annotations

from typing import Any, Final

from maestro.manifests.autonomy import WRITES
from maestro.manifests.diff.documents import Ctx, spec_field
from maestro.manifests.diff.handlers import Rules, Verdict, fixed, flag, words
from maestro.manifests.diff.model import HIGH, MEDIUM, Op
from maestro.manifests.diff.walk import Delta


def _tool_item(d: Delta, ctx: Ctx) -> Verdict:
    key = words(d, ctx)["key"]
    if d.op is Op.REMOVED:
        return Verdict(MEDIUM, f"tool '{key}' removed: the agent can no longer use it")
    action = d.new.get("action") if isinstance(d.new, dict) else None
    if action in WRITES:
        return Verdict(HIGH, f"write tool '{key}' ({action}) added: the agent can now change things with it")
    return Verdict(MEDIUM, f"tool '{key}' ({action}) added: the agent can now use it")


def _server_item(d: Delta, ctx: Ctx) -> Verdict:
    key = words(d, ctx)["key"]
    if d.op is Op.REMOVED:
        return Verdict(MEDIUM, f"MCP server '{key}' removed: the tools it served cannot run")
    where = ""
    if isinstance(d.new, dict):
        where = f" ({' '.join(map(str, d.new['command']))})" if "command" in d.new else f" ({d.new.get('url')})"
    return Verdict(HIGH, f"MCP server '{key}'{where} added: new code serves the agent's tools")


def _tool_server(d: Delta, ctx: Ctx) -> Verdict:
    said = words(d, ctx)
    if d.op is Op.CHANGED:
        return Verdict(MEDIUM, f"tool '{said['key']}' now served by MCP server {said['new']} instead of {said['old']}")
    return Verdict(MEDIUM, f"tool '{said['key']}' server {said['e']} {said['op']}")


def _server_command(d: Delta, ctx: Ctx) -> Verdict:
    said = words(d, ctx)
    change = f"{said['old']} -> {said['new']}" if d.op is Op.CHANGED else f"{said['e']} {said['op']}"
    return Verdict(HIGH, f"command of MCP server '{d.keys[0]}' changed ({change}): other code serves its tools")


def _server_env(d: Delta, ctx: Ctx) -> Verdict:
    said = words(d, ctx)
    if d.op is Op.REMOVED:
        return Verdict(MEDIUM, f"MCP server '{d.keys[0]}' no longer receives {said['e']} (tighter)")
    return Verdict(HIGH, f"MCP server '{d.keys[0]}' now receives the environment variable(s) {said['e']}")


def _tool_of(ctx: Ctx, agent: Any, tool: Any) -> dict[str, Any] | None:
    """The tool ``tool`` of Agent ``agent`` on the new side (else the old), as written."""
    for side in (ctx.sides.new, ctx.sides.old):
        tools = spec_field(side, "Agent", agent, "tools")
        if isinstance(tools, list):
            found = next((t for t in tools if isinstance(t, dict) and t.get("name") == tool), None)
            if found is not None:
                return found
    return None


def _writes(ctx: Ctx, step: Any) -> str | None:
    """The action of the tool a tool step calls, when that action has side effects."""
    if not isinstance(step, dict) or step.get("type") != "tool":
        return None
    tool = _tool_of(ctx, step.get("agent"), step.get("tool"))
    action = tool.get("action") if tool else None
    return str(action) if action in WRITES else None


def pipeline_step(d: Delta, ctx: Ctx) -> Verdict:
    """A step added or removed: removing an approval or adding a call to a write tool is high."""
    key = words(d, ctx)["key"]
    if d.op is Op.REMOVED:
        if isinstance(d.old, dict) and d.old.get("type") == "approval":
            return Verdict(HIGH, f"approval step '{key}' removed: the pipeline no longer waits for a person")
        return Verdict(MEDIUM, f"step '{key}' removed")
    action = _writes(ctx, d.new)
    if action is not None and isinstance(d.new, dict):
        return Verdict(HIGH, f"step '{key}' added: it calls write tool '{d.new.get('tool')}' ({action})")
    if isinstance(d.new, dict) and d.new.get("type") == "approval":
        return Verdict(MEDIUM, f"approval step '{key}' added (tighter where the flow passes it)")
    return Verdict(MEDIUM, f"step '{key}' added")


def _writes_into(ctx: Ctx, target: Any) -> tuple[str, str] | None:
    """(tool, action) when the step ``target`` of the new pipeline calls a tool with side effects."""
    steps = ctx.new.spec.get("steps")
    step = next((s for s in steps if isinstance(s, dict) and s.get("id") == target), None) if steps else None
    action = _writes(ctx, step)
    return (str(step.get("tool")), action) if action and isinstance(step, dict) else None


def _edge_item(d: Delta, ctx: Ctx) -> Verdict:
    """An edge added into a step that calls a write tool is a new path to a side effect (past an approval?)."""
    key = words(d, ctx)["key"]
    if d.op is Op.REMOVED:
        return Verdict(MEDIUM, f"edge {key} removed: the flow changed")
    into = _writes_into(ctx, d.new.get("to")) if isinstance(d.new, dict) else None
    if into is not None:
        return Verdict(HIGH, f"edge {key} added: a new path into a step that calls write tool '{into[0]}' ({into[1]})")
    return Verdict(MEDIUM, f"edge {key} added: the flow changed")


def _edge_when(d: Delta, ctx: Ctx) -> Verdict:
    said = words(d, ctx)
    into = _writes_into(ctx, said["key"].rpartition("->")[2])
    if into is not None:
        return Verdict(
            HIGH, f"condition of edge {said['key']} into write tool '{into[0]}' ({into[1]}) changed: {said['op']}"
        )
    return Verdict(MEDIUM, f"condition of edge {said['key']} changed")


def _step_tool(d: Delta, ctx: Ctx) -> Verdict:
    said = words(d, ctx)
    steps = ctx.new.spec.get("steps")
    step = next((s for s in steps if isinstance(s, dict) and s.get("id") == said["key"]), None) if steps else None
    action = _writes(ctx, step)
    if action is not None:
        return Verdict(HIGH, f"step '{said['key']}' now calls write tool {said['new']} ({action}), not {said['old']}")
    return Verdict(MEDIUM, f"step '{said['key']}' now calls tool {said['new']} instead of {said['old']}")


AGENT_GRAPH: Final[Rules] = (
    ("spec.tools[]", _tool_item),
    ("spec.tools[].server", _tool_server),
    (
        "spec.tools[].idempotent",
        flag(
            False,
            False,
            "tool '{key}' no longer idempotent: a repeated call may act twice",
            "tool '{key}' now declared idempotent: a repeated call is trusted to change nothing",
        ),
    ),
    ("spec.mcpServers[]", _server_item),
    ("spec.mcpServers[].command*", _server_command),
    ("spec.mcpServers[].url", fixed(HIGH, "URL of MCP server '{key}' changed from {old} to {new}")),
    ("spec.mcpServers[].env*", _server_env),
    (
        "spec.mcpServers[].idempotencyKeys",
        flag(
            False,
            False,
            "MCP server '{key}' no longer honours idempotency keys: a repeated call may act twice",
            "MCP server '{key}' now declared to honour idempotency keys",
        ),
    ),
)
"""An Agent's tools and MCP servers; before the agent's other rules (the first match wins)."""

PIPELINE_GRAPH: Final[Rules] = (
    ("spec.steps[]", pipeline_step),
    ("spec.steps[].tool", _step_tool),
    ("spec.steps[].agent", fixed(MEDIUM, "step '{key}' now runs as agent {new} instead of {old}")),
    ("spec.steps[].retry.attempts", fixed(MEDIUM, "retries of step '{key}' changed from {old} to {new}")),
    ("spec.start", fixed(MEDIUM, "the pipeline now starts at {new} instead of {old}")),
    ("spec.edges[]", _edge_item),
    ("spec.edges[].when", _edge_when),
)
"""A Pipeline's steps as a graph; before the pipeline's other rules."""
