"""The ``map`` node: fan-out over a list and join, as child workflows.

    map:
      over: state.order_ids          # CEL over ``state`` and ``steps``: the list
      step: {type: tool, agent: support-agent, tool: lookup_order}
      concurrency: 2                 # branches at once (default 1)
      into: orders                   # the output field of the joined list (default ``results``)

Each item runs the sub-step in its own durable child workflow (``maestro.run_branch``), at most
``concurrency`` at a time; the outputs are joined in the list's order. A branch sees the run state with
``item`` and ``index`` (and the item's fields when it is an object). Branch ``i`` of step ``S`` is the node
``S[i]``: its idempotency keys (``RUN:S[i]:ITERATION:CALL``) and interrupt ids are unique per run, node,
iteration and branch. Child workflow ids are DBOS's (the parent's id and the call's place in it), so a
worker killed mid-map resumes each branch where it stopped and never starts a finished one again.

A branch runs as the run's own nodes do: a call its autonomy level sends for approval waits in the branch's
workflow on the interrupt ``RUN:S[i]:ITERATION:main``; several branches may wait at once, each shown by
``runs show`` and approved by its own id. The map fails when a branch fails, naming it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

import cel
from dbos import DBOS, WorkflowHandle

from maestro.manifests.kinds.pipeline import Pipeline
from maestro.runtime import snapshot
from maestro.runtime.errors import NodeError
from maestro.runtime.graph import Node, graph_of

BRANCH_WORKFLOW = "maestro.run_branch"

Finish = Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]]  # (run, record) -> the recorded record


def items_of(node: Node, state: Mapping[str, Any], steps: Mapping[str, Any]) -> list[Any]:
    """The list ``map.over`` yields; a NodeError naming the expression when it cannot be read or is no list."""
    assert node.map_over is not None
    try:
        value = cel.evaluate(node.map_over, {"state": dict(state), "steps": dict(steps)})
    except (KeyError, ValueError, TypeError, RuntimeError) as e:
        raise NodeError(f"map.over `{node.map_over}` cannot be read from the run state ({e})") from e
    if not isinstance(value, list):
        raise NodeError(f"map.over `{node.map_over}` gave {type(value).__name__} {value!r:.80}, not a list")
    return value


def branch_state(state: Mapping[str, Any], item: Any, index: int) -> dict[str, Any]:
    fields = dict(item) if isinstance(item, Mapping) else {}
    return {**state, **fields, "item": item, "index": index}


def _ended(node: Node, iteration: int, status: str, error: str) -> dict[str, Any]:
    return {
        "node": node.id,
        "iteration": iteration,
        "type": node.type,
        "status": status,
        "attempts": 1,
        "calls": [],
        "tokens": 0,
        "costUsd": 0.0,
        "output": {},
        "error": error,
        "ledger": [],
    }


@DBOS.workflow(name=BRANCH_WORKFLOW, max_recovery_attempts=10_000)
def run_branch(run: dict[str, Any], node: Node, iteration: int, state: dict[str, Any]) -> dict[str, Any]:
    """One branch of a map: its sub-step over one item, as the run's own nodes run (gate, approval, call);
    the branch's node record. A call that needs approval waits in this workflow, on its own interrupt id."""
    from maestro.runtime.workflow import run_node

    pipeline = snapshot.manifests(snapshot.Snapshot.from_json(run["snapshot"])).record(Pipeline, run["pipeline"])
    assert pipeline is not None  # the parent run found it in the same snapshot
    return run_node(run, graph_of(pipeline), node, iteration, state, steps={})


def run(
    run: dict[str, Any], node: Node, iteration: int, state: dict[str, Any], steps: dict[str, Any], *, finish: Finish
) -> dict[str, Any]:
    """The map node, orchestrated by the workflow: its branches, a window of ``concurrency`` at a time, then
    the joined record (ended through ``finish``)."""
    assert node.map_step is not None
    record = _ended(node, iteration, "succeeded", "")
    record.update(error=None, started=nodes_clock(), branches=[])
    try:
        items = items_of(node, state, steps)
    except NodeError as e:
        record.update(status="failed", error=str(e), ended=nodes_clock())
        return finish(run, record)
    outputs: list[Any] = [None] * len(items)
    window: deque[tuple[int, WorkflowHandle[dict[str, Any]]]] = deque()

    def join_oldest() -> None:
        index, handle = window.popleft()
        branch = handle.get_result()
        outputs[index] = branch["output"]
        record["branches"].append(_summary(branch))
        record["costUsd"] += float(branch["costUsd"])
        record["tokens"] += int(branch["tokens"])
        if branch["status"] != "succeeded" and record["status"] == "succeeded":
            record.update(status="failed", error=f"branch {branch['node']} {branch['status']}: {branch['error']}")

    for index, item in enumerate(items):
        if len(window) >= node.map_concurrency:
            join_oldest()
        sub = replace(node.map_step, id=f"{node.id}[{index}]")
        window.append((index, DBOS.start_workflow(run_branch, run, sub, iteration, branch_state(state, item, index))))
    while window:
        join_oldest()
    record.update(output={node.map_into: outputs}, ended=nodes_clock())
    return finish(run, record)


def _summary(branch: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("node", "status", "attempts", "calls", "tokens", "costUsd", "error", "ledger")
    return {k: branch.get(k) for k in keys}


@DBOS.step(name="maestro.map.clock")
def nodes_clock() -> float:
    import time

    return time.time()
