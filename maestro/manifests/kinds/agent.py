"""The Agent kind: a prompt on a route, with tools, MCP servers, an autonomy level and limits."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from maestro.manifests.checks.autonomy import check_agents
from maestro.manifests.kinds.base import KindEntry, Source, opt_float, opt_int


@dataclass(frozen=True, slots=True)
class Tool:
    name: str
    action: str
    description: str | None
    server: str | None
    input_schema: Mapping[str, Any] | None
    idempotent: bool = False  # a second call with the same arguments changes nothing


@dataclass(frozen=True, slots=True)
class McpServer:
    """An MCP server: a command started over stdio (with the environment variables it names), or a URL.
    ``idempotency_keys``: it returns the first result for a repeated idempotency key (so a retried call is safe)."""

    name: str
    command: tuple[str, ...] = ()
    url: str | None = None
    env: tuple[str, ...] = ()
    idempotency_keys: bool = False


@dataclass(frozen=True, slots=True)
class Agent:
    name: str
    source: Source
    route: str
    system: str | None
    prompt_file: str | None
    tools: tuple[Tool, ...]
    mcp_servers: tuple[McpServer, ...]
    autonomy_level: str
    max_steps: int | None  # model turns of one agent step (its tool loop)
    max_tokens_per_step: int | None
    max_cost_usd_per_step: float | None
    limits: Mapping[str, Any]  # maxCostUsdPerStep, maxSteps, maxTokensPerStep as written (shown in its order)

    @property
    def ref(self) -> str:
        return f"Agent/{self.name}"

    def tool(self, name: str) -> Tool | None:
        return next((t for t in self.tools if t.name == name), None)

    def server(self, name: str) -> McpServer | None:
        return next((s for s in self.mcp_servers if s.name == name), None)


def agent(name: str, spec: Mapping[str, Any], source: Source) -> Agent:
    prompt, limits = spec["prompt"], spec.get("limits", {})
    tools = tuple(
        Tool(
            t["name"],
            t["action"],
            t.get("description"),
            t.get("server"),
            t.get("inputSchema"),
            t.get("idempotent", False),
        )
        for t in spec.get("tools", [])
    )
    return Agent(
        name,
        source,
        spec["route"],
        prompt.get("system"),
        prompt.get("file"),
        tools,
        tuple(
            McpServer(
                s["name"],
                tuple(s.get("command", ())),
                s.get("url"),
                tuple(s.get("env", ())),
                s.get("idempotencyKeys", False),
            )
            for s in spec.get("mcpServers", [])
        ),
        spec["autonomyLevel"],
        opt_int(limits.get("maxSteps")),
        opt_int(limits.get("maxTokensPerStep")),
        opt_float(limits.get("maxCostUsdPerStep")),
        limits,
    )


KIND = KindEntry("Agent", "agent.json", agent, (check_agents,), "risk_delivery:AGENT")
