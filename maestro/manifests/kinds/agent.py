"""The Agent kind: a prompt on a route, with tools, MCP servers, an autonomy level and limits."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from maestro.manifests.checks.autonomy import check_agents
from maestro.manifests.diff.risk_delivery import AGENT
from maestro.manifests.kinds.base import KindEntry, Source


@dataclass(frozen=True, slots=True)
class Tool:
    name: str
    action: str
    description: str | None
    server: str | None
    input_schema: Mapping[str, Any] | None


@dataclass(frozen=True, slots=True)
class Agent:
    name: str
    source: Source
    route: str
    system: str | None
    prompt_file: str | None
    tools: tuple[Tool, ...]
    mcp_servers: tuple[Mapping[str, Any], ...]  # as written
    autonomy_level: str
    limits: Mapping[str, Any]  # maxCostUsdPerStep, maxSteps, maxTokensPerStep as written (shown in its order)

    @property
    def ref(self) -> str:
        return f"Agent/{self.name}"


def agent(name: str, spec: Mapping[str, Any], source: Source) -> Agent:
    prompt, limits = spec["prompt"], spec.get("limits", {})
    tools = tuple(
        Tool(t["name"], t["action"], t.get("description"), t.get("server"), t.get("inputSchema"))
        for t in spec.get("tools", [])
    )
    return Agent(
        name,
        source,
        spec["route"],
        prompt.get("system"),
        prompt.get("file"),
        tools,
        tuple(spec.get("mcpServers", [])),
        spec["autonomyLevel"],
        limits,
    )


KIND = KindEntry("Agent", "agent.json", agent, (check_agents,), AGENT)
