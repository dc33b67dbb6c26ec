"""The ``agent`` node with tools: the Agent's prompt and tools through its route, as a loop of durable steps.

    turn:  the messages and the Agent's tools (OpenAI function tools) through the route -> a final answer
           (the node's output, read as by ``nodes.parse_output``) or tool calls
    call:  each tool call judged at the autonomy gate -> run over MCP | wait for people, then run | refused;
           its result (or why it did not run, as ``{"error": ...}``) goes back to the model as a ``tool`` message

The workflow orchestrates (``run``, deterministic); each model turn, gate and tool call is its own
checkpointed step, so a worker killed mid-loop resumes at the step in flight and a finished call never runs
again. A tool call's idempotency key is ``RUN:NODE:ITERATION:INDEX`` (INDEX counts the node's calls) and a
call that needs approval waits on the interrupt ``RUN:NODE:ITERATION:callINDEX``.

The Agent's limits bound the loop; hitting one stops the node with the reason: ``maxSteps`` model turns,
``maxTokensPerStep`` tokens in one turn (also sent as the call's ``max_tokens``), ``maxCostUsdPerStep`` for one
turn (and the step's and the run's cost caps, reserved before each turn: ``maestro.runtime.costs``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import Any

from dbos import DBOS

from maestro.manifests.kinds.agent import Agent
from maestro.runtime import approvals, nodes, snapshot, tools
from maestro.runtime.errors import LimitError, NodeError
from maestro.runtime.graph import Node

START_STEP, TURN_STEP, GATE_STEP, CALL_STEP = (
    "maestro.agent.start",
    "maestro.agent.turn",
    "maestro.agent.gate",
    "maestro.agent.call",
)
END_STEP = "maestro.agent.end"  # its output is the node's record, as the workflow's node steps
DEFAULT_MAX_STEPS = 10  # an Agent with no maxSteps

Wait = Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]]  # (run, request) -> outcome


def _ctx(run: Mapping[str, Any], node: Node, iteration: int, state: Mapping[str, Any]) -> nodes.Context:
    manifests = snapshot.manifests(snapshot.Snapshot.from_json(run["snapshot"]))
    return nodes.Context(run, manifests, node, iteration, state)


def has_tools(run: Mapping[str, Any], node: Node) -> bool:
    """Whether the node's Agent has tools (else the node is one turn, ``nodes.agent``)."""
    agent = _ctx(run, node, 0, {}).manifests.record(Agent, node.agent or "")
    return agent is not None and bool(agent.tools)


@DBOS.step(name="maestro.agent.clock")
def nodes_clock() -> float:
    return time.time()


@DBOS.step(name=START_STEP)
def start_step(run: dict[str, Any], node: Node, iteration: int, state: dict[str, Any]) -> dict[str, Any]:
    return nodes.start(_ctx(run, node, iteration, state))


@DBOS.step(name=END_STEP)
def end_step(run: dict[str, Any], node: Node, iteration: int, record: dict[str, Any]) -> dict[str, Any]:
    return nodes.end(_ctx(run, node, iteration, {}), record)


@DBOS.step(name=TURN_STEP)
def turn_step(
    run: dict[str, Any], node: Node, iteration: int, messages: list[dict[str, Any]], *, turn: int, spent: float
) -> dict[str, Any]:
    """One model turn with the Agent's tools: ``{message, calls, tokens, costUsd, ledger, error, attempts}``."""
    ctx = _ctx(run, node, iteration, {})
    part: dict[str, Any] = {"calls": [], "tokens": 0, "costUsd": spent, "ledger": [], "output": {}, "error": None}

    def work(timeout_s: float | None) -> dict[str, Any]:
        agent = tools.agent_of(ctx.manifests, node.agent or "")
        offered = [_function(t) for t in agent.tools]
        before = len(part["calls"])
        message = nodes.chat(
            ctx, part, agent.route, messages, timeout_s, tools_offered=offered, max_tokens=agent.max_tokens_per_step
        )
        _check_limits(agent, turn, part["calls"][before:])
        return message

    nodes.attempts(ctx, part, work)
    part["costUsd"] -= spent
    return {**part, "message": part.pop("output") if part["status"] == "succeeded" else None}


def _function(tool: Any) -> dict[str, Any]:
    schema = dict(tool.input_schema or {"type": "object", "properties": {}})
    return {
        "type": "function",
        "function": {"name": tool.name, "description": tool.description or "", "parameters": schema},
    }


def _check_limits(agent: Agent, turn: int, calls: list[dict[str, Any]]) -> None:
    tokens = sum(int(c["tokens"]) for c in calls)
    cost = sum(float(c["costUsd"]) for c in calls)
    if agent.max_tokens_per_step is not None and tokens > agent.max_tokens_per_step:
        raise LimitError(
            f"turn {turn + 1} used {tokens} tokens, over the Agent's maxTokensPerStep {agent.max_tokens_per_step}"
        )
    if agent.max_cost_usd_per_step is not None and cost > agent.max_cost_usd_per_step:
        raise LimitError(
            f"turn {turn + 1} cost ${cost:.6f}, over the Agent's maxCostUsdPerStep ${agent.max_cost_usd_per_step}"
        )


@DBOS.step(name=GATE_STEP)
def gate_step(run: dict[str, Any], node: Node, iteration: int, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    ctx = _ctx(run, node, iteration, {})
    try:
        box = tools.toolbox(ctx.manifests, node.agent or "")
        return nodes.judge(ctx, box, box.tool(name), arguments)
    except NodeError as e:
        return {"decision": "error", "reason": str(e)}


@DBOS.step(name=CALL_STEP)
def call_step(
    run: dict[str, Any], node: Node, iteration: int, *, index: int, name: str, arguments: dict[str, Any]
) -> dict[str, Any]:
    """One tool call: ``{result, calls, ledger, error}``."""
    ctx = _ctx(run, node, iteration, {})
    part: dict[str, Any] = {"calls": [], "ledger": [], "costUsd": 0.0, "tokens": 0, "output": {}, "error": None}

    def work(timeout_s: float | None) -> dict[str, Any]:
        box = tools.toolbox(ctx.manifests, node.agent or "")
        return nodes.call_tool(ctx, part, box, box.tool(name), arguments=arguments, index=index, timeout_s=timeout_s)

    nodes.attempts(ctx, part, work)
    return {**part, "result": part.pop("output")}


def run(
    run: dict[str, Any], graph_name: str, node: Node, iteration: int, state: dict[str, Any], *, wait: Wait
) -> dict[str, Any]:
    """The agent node's loop, orchestrated by the workflow; the node's record."""
    ctx = _ctx(run, node, iteration, state)
    agent = ctx.manifests.record(Agent, node.agent or "")
    record = start_step(run, node, iteration, state)
    if agent is None:
        record.update(status="failed", error=f"no Agent named '{node.agent}' in the manifests of this run")
        return end_step(run, node, iteration, record)
    prompt = str(run["snapshot"]["prompts"].get(agent.name, ""))
    messages: list[dict[str, Any]] = [{"role": "system", "content": prompt}] if prompt else []
    messages.append({"role": "user", "content": json.dumps(state, sort_keys=True)})
    index = 0
    limit = agent.max_steps or DEFAULT_MAX_STEPS
    for turn in range(limit):
        part = turn_step(run, node, iteration, messages, turn=turn, spent=float(record["costUsd"]))
        _add(record, part)
        record["attempts"] = max(int(record["attempts"]), int(part.get("attempts", 1)))
        if part["error"] is not None:
            record.update(status="failed", error=part["error"])
            return end_step(run, node, iteration, record)
        message = part["message"]
        if not message.get("tool_calls"):
            record.update(status="succeeded", output=nodes.parse_output(message.get("content") or ""))
            return end_step(run, node, iteration, record)
        messages.append(message)
        for call in message["tool_calls"]:
            answer = _tool_call(
                run, node, iteration, call, graph_name=graph_name, index=index, record=record, wait=wait
            )
            index += 1
            messages.append({"role": "tool", "tool_call_id": call.get("id", ""), "content": json.dumps(answer)})
    record.update(status="failed", error=f"stopped after maxSteps {limit} model turns without a final answer")
    return end_step(run, node, iteration, record)


def _add(record: dict[str, Any], part: Mapping[str, Any]) -> None:
    record["calls"] += part["calls"]
    record["failures"] = [*record.get("failures", []), *part.get("failures", [])]
    record["ledger"] += part["ledger"]
    record["tokens"] += part["tokens"]
    record["costUsd"] += part["costUsd"]


def _tool_call(
    run: dict[str, Any],
    node: Node,
    iteration: int,
    call: Mapping[str, Any],
    *,
    graph_name: str,
    index: int,
    record: dict[str, Any],
    wait: Wait,
) -> dict[str, Any]:
    """Judge and run one tool call the model asked for; what goes back to the model."""
    function = call.get("function") or {}
    name = str(function.get("name", ""))
    try:
        arguments = json.loads(function.get("arguments") or "{}")
    except ValueError:
        arguments = None
    if not isinstance(arguments, dict):
        return _refused(record, name, index, f"the arguments are not a JSON object: {function.get('arguments')!r}")
    verdict = gate_step(run, node, iteration, name, arguments)
    if verdict["decision"] in ("error", "forbid"):
        return _refused(record, name, index, verdict["reason"])
    if verdict["decision"] == "approval":
        request = {
            "interrupt": approvals.interrupt_id(run["id"], node.id, iteration, f"call{index}"),
            "run": run["id"],
            "node": node.id,
            "kind": "autonomy",
            "what": f"call {name}({', '.join(f'{k}={v!r}' for k, v in arguments.items())}) on MCP server "
            f"'{verdict['server']}' (agent step '{node.id}' of pipeline '{graph_name}')",
            "tool": name,
            "arguments": arguments,
            "action": verdict["action"],
            "level": verdict["level"],
            "required": verdict["required"],
            "roles": verdict["roles"],
            "timeoutS": verdict["timeoutS"],
            "onTimeout": "reject",
            "requester": run["requester"],
        }
        outcome = wait(run, request)
        record["ledger"] += outcome.pop("ledger", [])
        if not outcome["approved"]:
            return _refused(record, name, index, f"not run: {outcome['verdict']} ({verdict['reason']})")
    part = call_step(run, node, iteration, index=index, name=name, arguments=arguments)
    _add(record, part)
    if part["error"] is not None:
        return {"error": part["error"]}
    return dict(part["result"])


def _refused(record: dict[str, Any], name: str, index: int, reason: str) -> dict[str, Any]:
    record["calls"].append({"kind": "tool", "tool": name, "index": index, "refused": reason, "at": nodes_clock()})
    return {"error": reason}
