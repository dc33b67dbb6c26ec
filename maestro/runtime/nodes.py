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

from maestro.manifests.autonomy import WRITES
from maestro.manifests.kinds.agent import Tool
from maestro.manifests.kinds.pipeline import Pipeline
from maestro.manifests.loader import ManifestSet
from maestro.runtime import autonomy, evidence, standing, tools
from maestro.runtime.errors import LimitError, NodeError
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


def attempts(ctx: Context, record: dict[str, Any], work: Callable[[float | None], dict[str, Any]]) -> None:
    """Run ``work(timeout_s)`` up to the node's attempts (``retry``), with its backoff; the output or the last
    attempt's error lands on ``record``. An attempt over the node's ``timeout`` fails and is retried too."""
    for attempt in range(1, ctx.node.attempts + 1):
        record["attempts"] = attempt
        try:
            record["output"] = work(ctx.node.timeout_s)
            record["status"], record["error"] = "succeeded", None
            return
        except NodeError as e:
            record["status"], record["error"] = "failed", str(e)
            record.setdefault("failures", []).append({"attempt": attempt, "error": str(e), "at": time.time()})
            if isinstance(e, LimitError):
                return  # another attempt would pass the cap too
            if attempt < ctx.node.attempts:
                time.sleep(ctx.node.backoff_s * 2 ** (attempt - 1))


def run_with_retries(ctx: Context, work: Callable[[dict[str, Any], float | None], dict[str, Any]]) -> dict[str, Any]:
    """Run ``work(record, timeout_s)`` up to the node's attempts; the record of the last attempt, with the count."""
    record = start(ctx)
    attempts(ctx, record, lambda timeout_s: work(record, timeout_s))
    return end(ctx, record)


def start(ctx: Context) -> dict[str, Any]:
    """A new node record, its start recorded."""
    record = _record(ctx, time.time())
    details = {"node": ctx.node.id, "iteration": ctx.iteration}
    _note(record, evidence.record(ctx.root, "run.node.start", ctx.run, details=details))
    return record


def end(ctx: Context, record: dict[str, Any]) -> dict[str, Any]:
    """The node record, ended and its end recorded; a node that spent past its cap fails."""
    cap = ctx.node.max_cost_usd
    if record["status"] == "succeeded" and cap is not None and record["costUsd"] > cap:
        record["status"], record["error"] = "failed", f"spent ${record['costUsd']:.6f}, over the node's cap ${cap}"
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
    messages = _messages(ctx, ctx.node.prompt or "")
    schema = ctx.node.output_schema
    return run_with_retries(
        ctx,
        lambda rec, timeout_s: answer_of(ctx, chat(ctx, rec, ctx.node.route or "", messages, timeout_s, schema=schema)),
    )


def agent(ctx: Context) -> dict[str, Any]:
    """An agent node with no tools: the Agent's prompt and the run state through the Agent's route, one turn
    (an Agent with tools runs its tool loop, ``maestro.runtime.agentloop``)."""

    def work(record: dict[str, Any], timeout_s: float | None) -> dict[str, Any]:
        agent = tools.agent_of(ctx.manifests, ctx.node.agent or "")
        messages = _messages(ctx, str(ctx.run["snapshot"]["prompts"].get(agent.name, "")))
        limit, schema = agent.max_tokens_per_step, ctx.node.output_schema
        return answer_of(ctx, chat(ctx, record, agent.route, messages, timeout_s, max_tokens=limit, schema=schema))

    return run_with_retries(ctx, work)


def _messages(ctx: Context, prompt: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = [{"role": "system", "content": prompt}] if prompt else []
    messages.append({"role": "user", "content": json.dumps(dict(ctx.state), sort_keys=True)})
    return messages


def chat(
    ctx: Context,
    record: dict[str, Any],
    route: str,
    messages: list[dict[str, Any]],
    timeout_s: float | None,
    *,
    tools_offered: list[dict[str, Any]] | None = None,
    max_tokens: int | None = None,
    schema: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One model call through ``route``, its cost reserved first (``maestro.runtime.costs``): the assistant's
    message (``content``, ``tool_calls``). The call, its tokens and cost land on ``record``. With ``schema`` (a
    step's ``outputSchema``) the call asks for structured output (``structured``)."""
    import asyncio

    from maestro.calls import CallError
    from maestro.runtime import costs
    from maestro.runtime.services import SERVICES

    caller = SERVICES.caller(str(ctx.run["snapshot"]["digest"]), ctx.manifests)
    decision, preferred = costs.reserve(caller, ctx, record, route=route, messages=messages, max_tokens=max_tokens)
    options = structured(ctx.node.id, schema) if schema is not None else {}
    call = caller.complete(route, messages, max_tokens=max_tokens, tools=tools_offered, decision=decision, **options)
    try:
        answer = SERVICES.run(asyncio.wait_for(call, timeout_s))
    except TimeoutError as e:
        raise NodeError(f"the model call through route '{route}' took over the step's timeout {timeout_s:g}s") from e
    except CallError as e:  # the route is unknown, refused the request, or every deployment failed
        raise NodeError(str(e)) from e
    tokens = answer.input_tokens + answer.output_tokens
    entry = {"kind": "model", "servedBy": answer.deployment, "costUsd": answer.cost_usd, "tokens": tokens}
    entry["at"] = time.time()
    entry["decision"] = answer.decision_id
    if preferred is not None:
        entry["downgradedFrom"] = preferred  # the cost cap moved the call off the router's first choice
    record["calls"].append(entry)
    record["tokens"] += tokens
    record["costUsd"] += answer.cost_usd
    index = evidence.record(
        ctx.root,
        "run.model.call",
        ctx.run,
        details={"node": ctx.node.id, "servedBy": answer.deployment, "tokens": tokens, "decision": answer.decision_id},
        subjects={"messages": messages, "answer": answer.output},
        cost_usd=answer.cost_usd,
    )
    _note(record, index)
    message: dict[str, Any] = {"role": "assistant", "content": answer.output}
    if answer.tool_calls:
        message["tool_calls"] = [dict(c) for c in answer.tool_calls]
    return message


def structured(node: str, schema: Mapping[str, Any]) -> dict[str, Any]:
    """The request options of a node whose answer has a schema: OpenAI's structured output (vLLM turns it into
    a grammar the decoding follows) and greedy decoding, so a small model answers the same fields every time."""
    response_format = {"type": "json_schema", "json_schema": {"name": node, "schema": dict(schema), "strict": True}}
    return {"response_format": response_format, "temperature": 0.0}


def answer_of(ctx: Context, message: Mapping[str, Any]) -> dict[str, Any]:
    """The node's output from the assistant's message, checked against the step's ``outputSchema`` if any: a
    NodeError naming each field that does not fit."""
    output = parse_output(str(message.get("content") or ""))
    schema = ctx.node.output_schema
    if schema is not None:
        validator = jsonschema.Draft202012Validator(schema)
        problems = [f"{e.json_path}: {e.message}" for e in validator.iter_errors(output)]
        if problems:
            raise NodeError(f"the answer of '{ctx.node.id}' does not fit its outputSchema: {'; '.join(problems[:5])}")
    return output


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


def tool_arguments(tool: Tool, state: Mapping[str, Any]) -> dict[str, Any]:
    """The tool's arguments: each property of its inputSchema taken from the run state (input and outputs)."""
    properties = (tool.input_schema or {}).get("properties", {})
    return {name: state[name] for name in properties if name in state}


def gate(ctx: Context) -> dict[str, Any]:
    """What a tool node will run and the autonomy verdict on it (``decision``: allow, approval, forbid)."""
    box = tools.toolbox(ctx.manifests, ctx.node.agent or "")
    called = box.tool(ctx.node.tool or "")
    return judge(ctx, box, called, tool_arguments(called, ctx.state))


def judge(ctx: Context, box: tools.Toolbox, called: Tool, arguments: Mapping[str, Any]) -> dict[str, Any]:
    """The autonomy verdict on calling ``called`` with ``arguments`` (checked against its inputSchema first);
    a refusal is recorded."""
    pipeline = ctx.manifests.record(Pipeline, str(ctx.run["pipeline"]))
    names = [box.agent.autonomy_level, pipeline.autonomy_level if pipeline else None]
    refs = [box.agent.ref, f"Pipeline/{ctx.run['pipeline']}"]
    names.extend(standing.demoted_levels(ctx.root, list(zip(refs, names, strict=True))))  # demotions apply
    level = autonomy.applicable(ctx.manifests, names)
    verdict = autonomy.judge(called.action, level)
    tools.check_arguments(called, arguments, called.input_schema, "the Agent manifest")
    out = {
        "tool": called.name,
        "server": called.server,
        "action": called.action,
        "arguments": dict(arguments),
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
            details={"node": ctx.node.id, "tool": called.name, "action": called.action, "reason": out["reason"]},
            subjects={"arguments": dict(arguments)},
            level=level.name if level else None,
        )
        standing.demote_after(ctx.root, ctx.manifests, refs, f"refused: {out['reason']}")
    return out


def tool(ctx: Context, arguments: Mapping[str, Any]) -> dict[str, Any]:
    """A tool node: one MCP call with the arguments the gate judged, under a stable idempotency key."""
    box = tools.toolbox(ctx.manifests, ctx.node.agent or "")
    called = box.tool(ctx.node.tool or "")
    done = run_with_retries(
        ctx,
        lambda record, timeout_s: call_tool(
            ctx, record, box, called, arguments=arguments, index=0, timeout_s=timeout_s
        ),
    )
    if done["status"] == "failed" and called.action in WRITES:  # a failed side effect is an incident
        refs = [box.agent.ref, f"Pipeline/{ctx.run['pipeline']}"]
        standing.demote_after(ctx.root, ctx.manifests, refs, f"failed side effect at {ctx.node.id}: {done['error']}")
    return done


def call_tool(
    ctx: Context,
    record: dict[str, Any],
    box: tools.Toolbox,
    called: Tool,
    *,
    arguments: Mapping[str, Any],
    index: int,
    timeout_s: float | None,
) -> dict[str, Any]:
    """Call ``called`` over MCP under the key ``RUN:NODE:ITERATION:INDEX``; the call lands on ``record``."""
    key = tools.idempotency_key(str(ctx.run["id"]), ctx.node.id, ctx.iteration, index)
    limit = {"timeout_s": timeout_s} if timeout_s is not None else {}
    result = tools.call(box.server_of(called), called, arguments, key, ctx.root, **limit)
    call = {
        "kind": "tool",
        "tool": called.name,
        "argumentsDigest": evidence.digest(dict(arguments)),
        "idempotencyKey": key,
        "resultDigest": evidence.digest(result),
        "at": time.time(),
    }
    record["calls"].append(call)
    entry = evidence.record(
        ctx.root,
        "run.tool.call",
        ctx.run,
        details={"node": ctx.node.id, **call},
        subjects={"arguments": dict(arguments), "result": result},
    )
    _note(record, entry)
    return result
