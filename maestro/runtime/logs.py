"""A run's log: each node's lines (start, failed attempts, model and tool calls, refusals, errors, end) in time
order, read from the node records of the run's timeline (``maestro runs logs RUN [NODE]``).

A map's branches log under their own node ids (``S[0]``, ``S[1]``...), and ``NODE`` selects a node with its
branches.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from maestro.runtime.errors import RunError
from maestro.runtime.runs import Run


@dataclass(frozen=True, slots=True)
class LogLine:
    at: float
    node: str
    iteration: int
    event: str  # start | attempt | model | tool | refused | error | end
    text: str

    def to_json(self) -> dict[str, Any]:
        return {"at": self.at, "node": self.node, "iteration": self.iteration, "event": self.event, "text": self.text}


def log(run: Run, node: str | None = None) -> list[LogLine]:
    """The lines of every node of ``run`` (or of ``node`` and its branches), oldest first."""
    records = [r for r in run.nodes if node is None or r["node"] == node]
    if node is not None and not records:
        known = ", ".join(dict.fromkeys(str(r["node"]) for r in run.nodes)) or "none ran yet"
        raise RunError(f"run {run.id} has no node '{node}'; its nodes: {known}")
    lines = [line for record in records for line in _lines(record)]
    return sorted(lines, key=lambda line: line.at)


def _lines(record: Mapping[str, Any]) -> Iterator[LogLine]:
    node, iteration = str(record["node"]), int(record.get("iteration", 0))
    started = float(record.get("started") or 0.0)
    ended = float(record.get("ended") or started)

    def line(at: Any, event: str, text: str) -> LogLine:
        return LogLine(float(at or started), node, iteration, event, text)

    yield line(started, "start", f"{record['type']} node started")
    for failure in record.get("failures") or ():
        yield line(failure.get("at"), "attempt", f"attempt {failure['attempt']} failed: {failure['error']}")
    for call in record.get("calls") or ():
        yield _call(call, line)
    for branch in record.get("branches") or ():
        yield from _lines({**branch, "iteration": iteration, "type": "branch", "started": started, "ended": ended})
    if record.get("error"):
        yield line(ended, "error", str(record["error"]))
    cost = f", ${float(record.get('costUsd') or 0):.6f}"
    yield line(ended, "end", f"{record['status']} after {record.get('attempts', 1)} attempt(s){cost}")


def _call(call: Mapping[str, Any], line: Callable[[Any, str, str], LogLine]) -> LogLine:
    if call["kind"] == "model":
        moved = f" (the cost cap moved it off {call['downgradedFrom']})" if call.get("downgradedFrom") else ""
        text = f"model call served by {call['servedBy']}{moved}: {call['tokens']} tokens, ${call['costUsd']:.6f}"
        return line(call.get("at"), "model", text)
    if call.get("refused"):
        return line(call.get("at"), "refused", f"tool {call['tool']} not run: {call['refused']}")
    text = f"tool {call['tool']} called, idempotency key {call['idempotencyKey']}, result {call['resultDigest'][:12]}"
    return line(call.get("at"), "tool", text)
