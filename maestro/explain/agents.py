"""Explaining an Agent: its route, prompt, tools with what its autonomy level lets each do, and limits."""

from __future__ import annotations

from maestro.explain.model import Explanation, Section
from maestro.manifests.autonomy import Permission, permission_of
from maestro.manifests.kinds.agent import Agent, McpServer, Tool
from maestro.manifests.kinds.autonomylevel import AutonomyLevel
from maestro.manifests.kinds.pipeline import Pipeline
from maestro.manifests.loader import Document, ManifestSet


def explain_agent(manifests: ManifestSet, doc: Document) -> Explanation:
    agent: Agent = doc.record
    level = manifests.record(AutonomyLevel, agent.autonomy_level)
    allowed = {t.name: level.permission(t.action) if level else permission_of((), (), t.action) for t in agent.tools}
    says = {
        Permission.FREE: "runs on its own",
        Permission.NEEDS_APPROVAL: "waits for a human approval",
        Permission.FORBIDDEN: f"forbidden at {agent.autonomy_level} (in neither list): it never runs",
    }
    tools = tuple(f"{t.name} ({t.action}): {says[allowed[t.name]]}{_repeat(t)}" for t in agent.tools)
    prompt = f"file {agent.prompt_file}" if agent.prompt_file is not None else "written inline"
    limits = tuple(f"{k}: {v}" for k, v in agent.limits.items())
    pipelines = [p.ref for p in manifests.records(Pipeline) if any(s.agent == agent.name for s in p.steps)]
    return Explanation(
        doc.ref,
        doc.file,
        doc.line,
        f"Agent '{agent.name}' calls models through route {agent.route} and acts at autonomy level "
        f"{agent.autonomy_level}.",
        (
            Section("Prompt", (f"system prompt {prompt}",)),
            Section("Tools", tools or ("no tools",)),
            Section("MCP servers", tuple(_server(s) for s in agent.mcp_servers) or ("no MCP server",)),
            Section("Limits", limits or ("no per-step limits",)),
            Section("Used by", tuple(pipelines) or ("no pipeline",)),
        ),
        {
            "route": agent.route,
            "autonomyLevel": agent.autonomy_level,
            "toolsNeedingApproval": [n for n, p in allowed.items() if p is Permission.NEEDS_APPROVAL],
            "toolsForbidden": [n for n, p in allowed.items() if p is Permission.FORBIDDEN],
            "idempotentTools": [t.name for t in agent.tools if t.idempotent],
            "mcpServers": [
                {"name": s.name, "transport": "http" if s.url else "stdio", "idempotencyKeys": s.idempotency_keys}
                for s in agent.mcp_servers
            ],
        },
    )


def _repeat(tool: Tool) -> str:
    return "; idempotent (safe to call again with the same arguments)" if tool.idempotent else ""


def _server(server: McpServer) -> str:
    where = f"streamable HTTP at {server.url}" if server.url else f"stdio `{' '.join(server.command)}`"
    keys = (
        "honours idempotency keys (a repeated key returns the first result)"
        if server.idempotency_keys
        else "does not say it honours idempotency keys"
    )
    return f"{server.name}: {where}; {keys}"
