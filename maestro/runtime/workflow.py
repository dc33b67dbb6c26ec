"""The one durable workflow that interprets a Pipeline, on DBOS.

``run_pipeline(run)`` only orchestrates and is deterministic: it reads the graph from the run's pinned
snapshot, and every side effect is a checkpointed step (a node, a gate, a check of an approval). A worker
killed at any point re-runs the workflow on restart; finished steps return their recorded output without
running again, and a step that was in flight runs again with the same idempotency key.

Waits for people are ``DBOS.recv`` on the interrupt id; the pending request is published as the workflow
event ``interrupt`` (None when nothing waits), which ``maestro runs show`` and ``runs approve`` read.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from dbos import DBOS

from maestro import state
from maestro.manifests.kinds.pipeline import Pipeline
from maestro.runtime import agentloop, approvals, evidence, fanout, nodes, snapshot, subpipeline
from maestro.runtime.errors import NodeError, RunError
from maestro.runtime.graph import Graph, Node, graph_of, next_node
from maestro.state import observations

WORKFLOW = "maestro.run_pipeline"
QUEUE = "maestro-runs"
NODE_STEP, GATE_STEP, CHECK_STEP, FINISH_STEP = "maestro.node", "maestro.gate", "maestro.approval", "maestro.finish"
RECORD_STEP = "maestro.node.record"  # a node that ended without a call: an approval step, a refusal, a rejection
TIMELINE_STEPS = (NODE_STEP, RECORD_STEP, agentloop.END_STEP)
INTERRUPT_EVENT = "interrupt"
# the decisions on the open interrupt that did not count, with why: {"interrupt": ID, "reasons": [...]}
REFUSED_EVENT = "refused"
FOREVER_S = 400 * 24 * 3600.0  # a wait with no timeout


def _context(run: Mapping[str, Any], node: Node, iteration: int, state: Mapping[str, Any]) -> nodes.Context:
    manifests = snapshot.manifests(snapshot.Snapshot.from_json(run["snapshot"]))
    return nodes.Context(run, manifests, node, iteration, state)


def _failed(node: Node, iteration: int, error: str, status: str = "failed") -> dict[str, Any]:
    now = time.time()
    return {
        "node": node.id,
        "iteration": iteration,
        "type": node.type,
        "status": status,
        "started": now,
        "ended": now,
        "attempts": 1,
        "calls": [],
        "tokens": 0,
        "costUsd": 0.0,
        "output": {},
        "error": error,
        "ledger": [],
    }


def _guarded(node: Node, iteration: int, work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    try:
        return work()
    except NodeError as e:
        return _failed(node, iteration, str(e))


@DBOS.step(name=NODE_STEP)
def node_step(
    run: dict[str, Any], node: Node, iteration: int, state: dict[str, Any], arguments: dict[str, Any] | None
) -> dict[str, Any]:
    ctx = _context(run, node, iteration, state)
    if node.type == "tool":
        return _guarded(node, iteration, lambda: nodes.tool(ctx, arguments or {}))
    if node.type == "agent":
        return _guarded(node, iteration, lambda: nodes.agent(ctx))
    return _guarded(node, iteration, lambda: nodes.model(ctx))


@DBOS.step(name=GATE_STEP)
def gate_step(run: dict[str, Any], node: Node, iteration: int, state: dict[str, Any]) -> dict[str, Any]:
    try:
        return nodes.gate(_context(run, node, iteration, state))
    except NodeError as e:
        return {"decision": "error", "reason": str(e)}


@DBOS.step(name=CHECK_STEP)
def check_step(run: dict[str, Any], request: dict[str, Any], message: dict[str, Any]) -> dict[str, Any]:
    from maestro.ledger.keys import KEYS_DIR, load_keyring

    root = Path(run["root"])
    try:
        roles = approvals.load_roles(root / KEYS_DIR)
    except RunError as e:  # a broken roles file counts nobody's decision; the run keeps waiting
        roles, broken = {}, str(e)
    else:
        broken = ""
    checked = approvals.check(message, request, load_keyring(root / KEYS_DIR), str(run["requester"]), roles)
    if broken and request.get("roles"):
        checked = approvals.Checked(None, checked.decision, broken)
    action = "run.approval" if checked.name else "run.approval.refused"
    index = evidence.record(
        root,
        action,
        run,
        details={"interrupt": request["interrupt"], "decision": checked.decision, "reason": checked.reason},
        subjects={"request": request},
        approvals=[checked.name] if checked.name else [],
    )
    return {"name": checked.name, "decision": checked.decision, "reason": checked.reason, "ledger": index}


@DBOS.step(name=RECORD_STEP)
def record_step(run: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
    index = evidence.record(
        Path(run["root"]),
        "run.node.end",
        run,
        details={"node": record["node"], "iteration": record["iteration"], "status": record["status"]},
        subjects={"output": record["output"]},
    )
    return {**record, "ledger": [*record.get("ledger", []), *([index] if index is not None else [])]}


@DBOS.step(name=FINISH_STEP)
def finish_step(run: dict[str, Any], result: dict[str, Any]) -> dict[str, Any]:
    if run.get("variants"):
        _observe(run, result["status"] == "succeeded")
    evidence.record(
        Path(run["root"]),
        "run.end",
        run,
        details={"status": result["status"], "reason": result.get("reason")},
        subjects={"output": result.get("output")},
        cost_usd=result.get("costUsd"),
    )
    return result


def _with_variants(graph: Graph, variants: Mapping[str, str]) -> Graph:
    """``graph`` with each node's Agent replaced by the version a running rollout gave this run."""
    if not variants:
        return graph
    swapped = {
        key: replace(node, agent=variants.get(f"Agent/{node.agent}", node.agent)) for key, node in graph.nodes.items()
    }
    return replace(graph, nodes=swapped)


def _observe(run: Mapping[str, Any], ok: bool) -> None:
    """A run that a rollout split counts for its analysis: succeeded or not, and how long it took."""
    now = time.time()
    conn = state.connect(state.default_path(Path(run["root"])))
    try:
        for target, version in run["variants"].items():
            observations.add(conn, target, version, ok=ok, latency_ms=(now - run["created"]) * 1000, at=now)
    finally:
        conn.close()


@DBOS.step(name="maestro.clock")
def clock_step() -> float:
    return time.time()


def wait_for_people(run: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
    """Wait on the request's interrupt id until enough distinct approvers sign, one rejects, or it times out.
    The request names the workflow that waits (``mailbox``: a map branch and a sub-pipeline wait in their own)."""
    request = {**request, "mailbox": DBOS.workflow_id}
    DBOS.set_event(INTERRUPT_EVENT, request)
    approvers: list[str] = []
    refused: list[str] = []
    entries: list[int] = []
    timeout = request.get("timeoutS") or FOREVER_S
    deadline = clock_step() + timeout
    outcome: dict[str, Any] | None = None
    while outcome is None:
        left = deadline - clock_step()
        message = DBOS.recv(request["interrupt"], timeout_seconds=max(left, 0.0)) if left > 0 else None
        if message is None:
            rejected = request.get("onTimeout", "reject") == "reject"
            verdict = "timed out" if rejected else "timed out; escalated"
            outcome = {"approved": False, "approvers": approvers, "verdict": verdict, "timedOut": True}
            break
        checked = check_step(run, request, message)
        if checked.get("ledger") is not None:
            entries.append(checked["ledger"])
        if checked["name"] is None:
            refused.append(checked["reason"])
            DBOS.set_event(REFUSED_EVENT, {"interrupt": request["interrupt"], "reasons": list(refused)})
        elif checked["decision"] == approvals.REJECT:
            outcome = {"approved": False, "approvers": approvers, "rejectedBy": checked["name"], "verdict": "rejected"}
        elif checked["name"] not in approvers:
            approvers.append(checked["name"])
            if len(approvers) >= int(request["required"]):
                outcome = {"approved": True, "approvers": approvers, "verdict": "approved"}
    DBOS.set_event(INTERRUPT_EVENT, None)
    outcome["refusedSignatures"] = refused
    outcome["ledger"] = entries
    return outcome


def _approval_record(node: Node, iteration: int, started: float, outcome: dict[str, Any]) -> dict[str, Any]:
    record = _failed(node, iteration, "", "succeeded")
    entries = outcome.pop("ledger", [])
    record.update(started=started, ended=clock_step(), output=outcome, error=None, ledger=entries)
    if outcome.get("timedOut") and "escalated" in outcome["verdict"]:
        record.update(status="failed", error="approval timed out; escalated (onTimeout: escalate)")
    return record


def run_node(
    run: dict[str, Any], graph: Graph, node: Node, iteration: int, state: dict[str, Any], *, steps: dict[str, Any]
) -> dict[str, Any]:
    interrupt = approvals.interrupt_id(run["id"], node.id, iteration)
    if node.type == "approval":
        assert node.approval is not None
        started = clock_step()
        request = {
            "interrupt": interrupt,
            "run": run["id"],
            "node": node.id,
            "kind": "approval",
            "what": f"approval step '{node.id}' of pipeline '{graph.name}'",
            "state": state,
            "required": node.approval.approvers,
            "roles": list(node.approval.roles),
            "timeoutS": node.approval.timeout_s,
            "onTimeout": node.approval.on_timeout,
            "requester": run["requester"],
        }
        return record_step(run, _approval_record(node, iteration, started, wait_for_people(run, request)))
    if node.type == "map":
        return fanout.run(run, node, iteration, state, steps, finish=record_step)
    if node.type == "pipeline":
        return subpipeline.run(run, node, iteration, state, finish=record_step)
    if node.type == "agent" and agentloop.has_tools(run, node):
        return agentloop.run(run, graph.name, node, iteration, state, wait=wait_for_people)
    arguments = None
    if node.type == "tool":
        verdict = gate_step(run, node, iteration, state)
        if verdict["decision"] == "error":
            return record_step(run, _failed(node, iteration, verdict["reason"]))
        if verdict["decision"] == "forbid":
            return record_step(run, _failed(node, iteration, f"refused: {verdict['reason']}", "refused"))
        arguments = verdict["arguments"]
        if verdict["decision"] == "approval":
            request = {
                "interrupt": interrupt,
                "run": run["id"],
                "node": node.id,
                "kind": "autonomy",
                "what": f"call {verdict['tool']}({_args(arguments)}) on MCP server '{verdict['server']}'",
                "tool": verdict["tool"],
                "arguments": arguments,
                "action": verdict["action"],
                "level": verdict["level"],
                "required": verdict["required"],
                "roles": verdict["roles"],
                "timeoutS": verdict["timeoutS"],
                "onTimeout": "reject",
                "requester": run["requester"],
            }
            outcome = wait_for_people(run, request)
            if not outcome["approved"]:
                reason = f"not run: {outcome['verdict']} ({verdict['reason']})"
                return record_step(run, _failed(node, iteration, reason, "rejected"))
    return node_step(run, node, iteration, state, arguments)


def _args(arguments: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in arguments.items())


@DBOS.workflow(name=WORKFLOW, max_recovery_attempts=10_000)
def run_pipeline(run: dict[str, Any]) -> dict[str, Any]:
    """Interpret the run's pinned Pipeline from its start to its end, a human's no, or a failed node."""
    manifests = snapshot.manifests(snapshot.Snapshot.from_json(run["snapshot"]))
    pipeline = manifests.record(Pipeline, run["pipeline"])
    if pipeline is None:
        return finish_step(run, {"status": "failed", "reason": f"no Pipeline '{run['pipeline']}'", "costUsd": 0.0})
    graph = _with_variants(graph_of(pipeline), run.get("variants") or {})
    state: dict[str, Any] = dict(run["input"])
    steps: dict[str, Any] = {}
    visits: dict[str, int] = {}
    taken: dict[int, int] = {}
    cost = 0.0
    current: str | None = graph.start
    output: dict[str, Any] = {}
    while current is not None:
        node = graph.nodes[current]
        iteration = visits.get(current, 0)
        visits[current] = iteration + 1
        caps = {"spentUsd": cost, "maxCostUsd": graph.max_cost_usd}  # for the cost reservation of model calls
        record = run_node({**run, **caps}, graph, node, iteration, state, steps=steps)
        cost += float(record["costUsd"])
        if record["status"] != "succeeded":
            status = "rejected" if record["status"] == "rejected" else "failed"
            reason = f"node '{node.id}': {record['error']}"
            return finish_step(run, {"status": status, "reason": reason, "costUsd": cost, "output": output})
        output = dict(record["output"])
        steps[current] = output
        state.update(output)
        if graph.max_cost_usd is not None and cost > graph.max_cost_usd:
            reason = f"spent ${cost:.4f}, over the run's cap ${graph.max_cost_usd}"
            return finish_step(run, {"status": "failed", "reason": reason, "costUsd": cost, "output": output})
        try:
            chosen = next_node(graph, current, output, state=state, steps=steps, taken=taken)
        except NodeError as e:
            reason = f"node '{node.id}': {e}"
            return finish_step(run, {"status": "failed", "reason": reason, "costUsd": cost, "output": output})
        if chosen is None:
            current = None
        else:
            taken[chosen[0]] = taken.get(chosen[0], 0) + 1
            current = chosen[1].target
    return finish_step(run, {"status": "succeeded", "reason": None, "costUsd": cost, "output": output})
