"""Running one node: a model call through a route, an agent's turn, or one MCP tool call.

Each function returns a node record (plain JSON data, the output of the node's durable step)::

    {"node", "iteration", "type", "status": succeeded|failed|refused, "started", "ended", "attempts",
     "calls": [{"kind": "model", "servedBy", "costUsd", "tokens"} | {"kind": "tool", "tool", "argumentsDigest",
                "idempotencyKey", "resultDigest"}], "tokens", "costUsd", "output", "error"}

A failure is recorded on the node (status ``failed`` and ``error``), never raised out of the step, so the
run stops with its reason and the record is kept. Model calls go through the route-calling core
(``maestro.calls.RouteCaller``: the router's order, attempts and fallback, as the gateway); a tool call goes
through ``maestro.runtime.tools``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema

from maestro.manifests.loader import ManifestSet
from maestro.runtime import autonomy, evidence, tools
from maestro.runtime.errors import NodeError
from maestro.runtime.graph import Node


@dataclass(frozen=True, slots=True)
class Context:
    run: Mapping[str, Any]  # id, pipeline, root, snapshot, requester
    manifests: ManifestSet
    node: Node
    iteration: int
    state: Mapping[str, Any]

    @property
    def root(self) -> Path:
        return Path(self.run["root"])


def _record(ctx: Context, started: float) -> dict[str, Any]:
    return {
        "node": ctx.node.id,
        "iteration": ctx.iteration,
        "type": ctx.node.type,
        "status": "succeeded",
        "started": started,
        "ended": None,
        "attempts": 0,
        "calls": [],
        "tokens": 0,
        "costUsd": 0.0,
        "output": {},
        "error": None,
        "ledger": [],  # indices of this node's ledger entries (none where the repository keeps no ledger)
    }


def _note(record: dict[str, Any], index: int | None) -> None:
    if index is not None:
        record["ledger"].append(index)


def run_with_retries(ctx: Context, work: Callable[[dict[str, Any]], dict[str, Any]]) -> dict[str, Any]:
    """Run ``work`` up to the node's attempts; the record of the last attempt, with the count."""
    record = _record(ctx, time.time())
    details = {"node": ctx.node.id, "iteration": ctx.iteration}
    _note(record, evidence.record(ctx.root, "run.node.start", ctx.run, details=details))
    for attempt in range(1, ctx.node.attempts + 1):
        record["attempts"] = attempt
        try:
            record["output"] = work(record)
            record["status"], record["error"] = "succeeded", None
            break
        except NodeError as e:
            record["status"], record["error"] = "failed", str(e)
            if attempt < ctx.node.attempts:
                time.sleep(ctx.node.backoff_s * 2 ** (attempt - 1))
    cap = ctx.node.max_cost_usd
    if record["status"] == "succeeded" and cap is not None and record["costUsd"] > cap:
        record["status"], record["error"] = "failed", f"spent ${record['costUsd']:.4f}, over the node's cap ${cap}"
    record["ended"] = time.time()
    index = evidence.record(
        ctx.root,
        "run.node.end",
        ctx.run,
        details={"node": ctx.node.id, "iteration": ctx.iteration, "status": record["status"], "error": record["error"]},
        subjects={"output": record["output"]},
        cost_usd=record["costUsd"],
    )
    _note(record, index)
    return record


def model(ctx: Context) -> dict[str, Any]:
    """A model node: the step's prompt and the run state through its route."""
    assert ctx.node.route is not None
    return run_with_retries(ctx, lambda rec: _chat(ctx, rec, ctx.node.route or "", ctx.node.prompt or ""))


def agent(ctx: Context) -> dict[str, Any]:
    """An agent node: the Agent's prompt and the run state through the Agent's route (one turn; no tool loop)."""

    def work(record: dict[str, Any]) -> dict[str, Any]:
        doc = ctx.manifests.get("Agent", ctx.node.agent or "")
        if doc is None:
            raise NodeError(f"no Agent named '{ctx.node.agent}' in the manifests of this run")
        prompt = str(ctx.run["snapshot"]["prompts"].get(doc.name, ""))
        return _chat(ctx, record, str(doc.spec["route"]), prompt)

    return run_with_retries(ctx, work)


def _chat(ctx: Context, record: dict[str, Any], route: str, prompt: str) -> dict[str, Any]:
    from maestro.calls import CallError

    messages = [{"role": "system", "content": prompt}] if prompt else []
    messages.append({"role": "user", "content": json.dumps(dict(ctx.state), sort_keys=True)})

    from maestro.runtime.services import SERVICES

    caller = SERVICES.caller(str(ctx.run["snapshot"]["digest"]), ctx.manifests)
    schema = ctx.node.output_schema
    options = structured(ctx.node.id, schema) if schema is not None else {}
    try:
        answer = SERVICES.run(caller.chat(route, messages, **options))
    except CallError as e:  # the route is unknown, refused the request, or every deployment failed
        raise NodeError(str(e)) from e
    tokens = answer.input_tokens + answer.output_tokens
    record["calls"].append(
        {"kind": "model", "servedBy": answer.deployment, "costUsd": answer.cost_usd, "tokens": tokens}
    )
    record["tokens"] += tokens
    record["costUsd"] += answer.cost_usd
    index = evidence.record(
        ctx.root,
        "run.model.call",
        ctx.run,
        details={"node": ctx.node.id, "servedBy": answer.deployment, "tokens": tokens},
        subjects={"messages": messages, "answer": answer.output},
        cost_usd=answer.cost_usd,
    )
    _note(record, index)
    output = parse_output(answer.output)
    if schema is not None:
        check_output(output, schema, ctx.node.id)
    return output


def structured(node: str, schema: Mapping[str, Any]) -> dict[str, Any]:
    """The request options of a node whose answer has a schema: OpenAI's structured output (vLLM turns it into
    a grammar the decoding follows) and greedy decoding, so a small model answers the same fields every time."""
    response_format = {"type": "json_schema", "json_schema": {"name": node, "schema": dict(schema), "strict": True}}
    return {"response_format": response_format, "temperature": 0.0}


def check_output(output: Mapping[str, Any], schema: Mapping[str, Any], node: str) -> None:
    """A NodeError naming each field of ``output`` that does not fit the step's ``outputSchema``."""
    validator = jsonschema.Draft202012Validator(schema)
    problems = [f"{e.json_path}: {e.message}" for e in validator.iter_errors(dict(output))]
    if problems:
        raise NodeError(f"the answer of '{node}' does not fit its outputSchema: {'; '.join(problems[:5])}")


def parse_output(text: str) -> dict[str, Any]:
    """A model's answer as an object: the JSON object it holds (code fences allowed), else ``{"text": ...}``."""
    body = text.strip()
    if body.startswith("```"):
        body = body.strip("`").removeprefix("json").strip()
    start, end = body.find("{"), body.rfind("}")
    if start != -1 and end > start:
        try:
            parsed = json.loads(body[start : end + 1])
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            return parsed
    return {"text": text}


def tool_arguments(tool: tools.Tool, state: Mapping[str, Any]) -> dict[str, Any]:
    """The tool's arguments: each property of its inputSchema taken from the run state (input and outputs)."""
    properties = (tool.input_schema or {}).get("properties", {})
    return {name: state[name] for name in properties if name in state}


def gate(ctx: Context) -> dict[str, Any]:
    """What a tool node will run and the autonomy verdict on it (``decision``: allow, approval, forbid)."""
    box = tools.toolbox(ctx.manifests, ctx.node.agent or "")
    tool = box.tool(ctx.node.tool or "")
    agent_doc = ctx.manifests.get("Agent", box.agent)
    pipeline_doc = ctx.manifests.get("Pipeline", str(ctx.run["pipeline"]))
    names = [agent_doc.spec.get("autonomyLevel") if agent_doc else None]
    names.append(pipeline_doc.spec.get("autonomyLevel") if pipeline_doc else None)
    level = autonomy.applicable(ctx.manifests, names)
    verdict = autonomy.judge(tool.action, level)
    arguments = tool_arguments(tool, ctx.state)
    tools.check_arguments(tool, arguments, tool.input_schema, "the Agent manifest")
    out = {
        "tool": tool.name,
        "server": tool.server,
        "action": tool.action,
        "arguments": arguments,
        "decision": verdict.decision if verdict else "allow",
        "level": level.name if level else None,
        "required": level.approvals_required if level else 0,
        "roles": list(level.roles) if level else [],
        "timeoutS": level.expires_s if level else None,
        "reason": verdict.reason if verdict else "no autonomy level applies",
    }
    if out["decision"] == "forbid":
        evidence.record(
            ctx.root,
            "run.tool.refused",
            ctx.run,
            details={"node": ctx.node.id, "tool": tool.name, "action": tool.action, "reason": out["reason"]},
            subjects={"arguments": arguments},
            level=level.name if level else None,
        )
    return out


def tool(ctx: Context, arguments: Mapping[str, Any]) -> dict[str, Any]:
    """A tool node: one MCP call with the arguments the gate judged, under a stable idempotency key."""
    box = tools.toolbox(ctx.manifests, ctx.node.agent or "")
    spec = box.tool(ctx.node.tool or "")
    key = tools.idempotency_key(str(ctx.run["id"]), ctx.node.id, ctx.iteration, 0)

    def work(record: dict[str, Any]) -> dict[str, Any]:
        result = tools.call(box.server_of(spec), spec, arguments, key, ctx.root)
        call = {
            "kind": "tool",
            "tool": spec.name,
            "argumentsDigest": evidence.digest(dict(arguments)),
            "idempotencyKey": key,
            "resultDigest": evidence.digest(result),
        }
        record["calls"].append(call)
        index = evidence.record(
            ctx.root,
            "run.tool.call",
            ctx.run,
            details={"node": ctx.node.id, **call},
            subjects={"arguments": dict(arguments), "result": result},
        )
        _note(record, index)
        return result

    return run_with_retries(ctx, work)
