"""Tools over MCP: an Agent's servers and tools, and one checked, idempotent tool call.

maestro is the MCP client (PyPI ``mcp``). A call:

1. checks the arguments against the tool's ``inputSchema`` in the Agent manifest, then against the one the
   server lists (``jsonschema``), so a bad argument never reaches the server;
2. carries an idempotency key (run id, node id, iteration, call index) in the request's ``_meta``
   (``idempotencyKey``), and over HTTP as the ``Idempotency-Key`` header, so a call repeated after a crash is
   recognised by the server;
3. returns the tool's structured result (or its text read as JSON, else ``{"text": ...}``).

A stdio server is started per call in the repository root (``python`` as the first word means the Python
that runs maestro) and gets only the environment variables it names in ``env`` plus a minimal default.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import ssl
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema

from maestro.manifests.kinds.agent import Agent, McpServer, Tool
from maestro.manifests.loader import ManifestSet
from maestro.runtime.errors import NodeError

CALL_TIMEOUT_S = 60.0


Server = McpServer


@dataclass(frozen=True, slots=True)
class Toolbox:
    """The tools of one Agent and the servers that serve them."""

    agent: Agent

    def tool(self, name: str) -> Tool:
        tool = self.agent.tool(name)
        if tool is None:
            known = ", ".join(sorted(t.name for t in self.agent.tools)) or "none"
            raise NodeError(f"Agent '{self.agent.name}' has no tool '{name}'; its tools: {known}")
        return tool

    def server_of(self, tool: Tool) -> Server:
        server = self.agent.server(tool.server) if tool.server is not None else None
        if server is None:
            raise NodeError(
                f"tool '{tool.name}' of Agent '{self.agent.name}' names no MCP server in spec.mcpServers "
                f"(server: {tool.server!r}); add `server: NAME` to the tool and the server to spec.mcpServers"
            )
        return server


def agent_of(manifests: ManifestSet, name: str) -> Agent:
    """The Agent record named ``name`` in the run's manifests; a NodeError when there is none."""
    agent = manifests.record(Agent, name)
    if agent is None:
        raise NodeError(f"no Agent named '{name}' in the manifests of this run")
    return agent


def toolbox(manifests: ManifestSet, agent: str) -> Toolbox:
    return Toolbox(agent_of(manifests, agent))


def idempotency_key(run_id: str, node: str, iteration: int, call_index: int) -> str:
    return f"{run_id}:{node}:{iteration}:{call_index}"


def check_arguments(tool: Tool, arguments: Mapping[str, Any], schema: Mapping[str, Any] | None, where: str) -> None:
    """A NodeError naming every argument that breaks ``schema``."""
    if not schema:
        return
    validator = jsonschema.Draft202012Validator(schema)
    problems = sorted(validator.iter_errors(dict(arguments)), key=lambda e: list(e.path))
    if problems:
        text = "; ".join(f"{'/'.join(map(str, e.path)) or '(arguments)'}: {e.message}" for e in problems[:5])
        raise NodeError(f"arguments of tool '{tool.name}' fail its inputSchema ({where}): {text}")


def call(
    server: Server, tool: Tool, arguments: Mapping[str, Any], key: str, root: Path, *, timeout_s: float = CALL_TIMEOUT_S
) -> dict[str, Any]:
    """Call ``tool`` on ``server`` once with ``key`` in ``_meta``; a NodeError for any failure."""
    check_arguments(tool, arguments, tool.input_schema, "the Agent manifest")
    try:
        return asyncio.run(asyncio.wait_for(_call(server, tool, dict(arguments), key, root), timeout_s))
    except TimeoutError as e:
        raise NodeError(f"MCP server '{server.name}' did not answer '{tool.name}' within {timeout_s:g}s") from e
    except NodeError:
        raise
    except Exception as e:  # a server that does not start or answers garbage: one clear error on the node
        raise NodeError(f"MCP server '{server.name}' failed on '{tool.name}': {_reason(e)}") from e


async def _call(server: Server, tool: Tool, arguments: dict[str, Any], key: str, root: Path) -> dict[str, Any]:
    from mcp import Client
    from mcp_types import RequestParamsMeta

    async with contextlib.AsyncExitStack() as stack:
        client = await stack.enter_async_context(Client(await _transport(server, root, key, stack)))
        listed = {t.name: t for t in (await client.list_tools()).tools}
        if tool.name not in listed:
            raise NodeError(f"MCP server '{server.name}' has no tool '{tool.name}'; it has {', '.join(listed)}")
        check_arguments(tool, arguments, listed[tool.name].input_schema, f"as server '{server.name}' lists it")
        meta: RequestParamsMeta = {"idempotencyKey": key}  # type: ignore[typeddict-unknown-key]
        result = await client.call_tool(tool.name, arguments, meta=meta)
    text = " ".join(getattr(c, "text", "") for c in result.content)
    if result.is_error:
        raise NodeError(f"tool '{tool.name}' on '{server.name}' returned an error: {text[:300]}")
    if isinstance(result.structured_content, dict):
        return dict(result.structured_content)
    try:
        parsed = json.loads(text)
    except ValueError:
        return {"text": text}
    return parsed if isinstance(parsed, dict) else {"result": parsed}


async def _transport(server: Server, root: Path, key: str, stack: contextlib.AsyncExitStack) -> Any:
    from mcp import StdioServerParameters

    if server.url:
        import httpx2
        from mcp.client.streamable_http import streamable_http_client

        timeout = httpx2.Timeout(30.0, read=CALL_TIMEOUT_S)
        headers = {"Idempotency-Key": key}
        http = await stack.enter_async_context(httpx2.AsyncClient(verify=_tls(), timeout=timeout, headers=headers))
        return streamable_http_client(server.url, http_client=http)
    command = list(server.command)
    if command[0] in ("python", "python3"):
        command[0] = sys.executable
    env = {name: os.environ[name] for name in server.env if name in os.environ}
    return StdioServerParameters(command=command[0], args=command[1:], env=env, cwd=root)


@functools.cache
def _tls() -> ssl.SSLContext:
    """The TLS context of every HTTP call in this process: building one reads the CA bundle (130 ms a call)."""
    import httpcore2

    return httpcore2.default_ssl_context()


def _reason(e: BaseException) -> str:
    inner: Sequence[BaseException] = getattr(e, "exceptions", ())
    if inner:
        return _reason(inner[0])
    return f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
