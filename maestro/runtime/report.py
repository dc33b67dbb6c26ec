"""Text for the run commands, from the plain records of ``maestro.runtime.runs`` (JSON is ``Run.to_json``)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from maestro.runtime.logs import LogLine
from maestro.runtime.runs import Run


def _time(epoch: float | None) -> str:
    if not epoch:
        return "-"
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S")


def node_line(record: Mapping[str, Any]) -> str:
    took = (record.get("ended") or 0) - (record.get("started") or 0)
    line = f"  {record['node']}#{record['iteration']} ({record['type']}): {record['status']} in {took:.2f}s"
    if record.get("attempts", 1) > 1:
        line += f", {record['attempts']} attempts"
    if record.get("costUsd"):
        line += f", ${record['costUsd']:.6f}"
    if record.get("error"):
        line += f" - {record['error']}"
    return line


def call_line(call: Mapping[str, Any]) -> str:
    if call["kind"] == "model":
        line = f"model call served by {call['servedBy']}: {call['tokens']} tokens, ${call['costUsd']:.6f}"
        if call.get("downgradedFrom"):
            line += f" (the cost cap moved it off {call['downgradedFrom']})"
        return line + (f", decision {call['decision']}" if call.get("decision") else "")
    if call.get("refused"):
        return f"tool call {call['tool']} not run: {call['refused']}"
    return f"tool call {call['tool']} (idempotency key {call['idempotencyKey']})"


def interrupt_lines(run: Run) -> list[str]:
    if run.interrupt is None:
        return []
    i = run.interrupt
    return [
        f"waiting for {i['required']} approval(s): {i['what']}",
        f"  interrupt: {i['interrupt']}",
        f"  approve:   maestro runs approve {run.id} {i['interrupt']} --key YOUR.key",
        f"  reject:    maestro runs reject {run.id} {i['interrupt']} --key YOUR.key",
    ]


def end_lines(run: Run) -> list[str]:
    if run.status == "waiting":
        return interrupt_lines(run)
    line = f"run {run.id}: {run.status}"
    if run.reason:
        line += f" ({run.reason})"
    lines = [line, f"  cost: ${run.cost_usd:.6f}"]
    if run.output is not None and run.status == "succeeded":
        lines.append(f"  output: {json.dumps(run.output, sort_keys=True)}")
    return lines


def list_text(runs: Iterable[Run]) -> str:
    rows = [f"{'RUN':<18} {'PIPELINE':<20} {'STATUS':<10} {'STARTED':<19}  COST"]
    rows += [f"{r.id:<18} {r.pipeline:<20} {r.status:<10} {_time(r.created):<19}  ${r.cost_usd:.6f}" for r in runs]
    return "\n".join(rows) + "\n"


def show_text(run: Run) -> str:
    lines = [
        f"run {run.id}: pipeline {run.pipeline}, {run.status}" + (f" ({run.reason})" if run.reason else ""),
        f"  manifests: sha256:{run.digest}",
        f"  started {_time(run.created)} by {run.requester}, updated {_time(run.updated)}, cost ${run.cost_usd:.6f}",
        "timeline:",
    ]
    for record in run.nodes:
        lines.append(f"{node_line(record)}  [{_time(record.get('started'))} -> {_time(record.get('ended'))}]")
        lines += [f"      {call_line(call)}" for call in record.get("calls", ())]
        for branch in record.get("branches", ()):
            error = f" - {branch['error']}" if branch.get("error") else ""
            lines.append(f"      branch {branch['node']}: {branch['status']}, ${branch['costUsd']:.6f}{error}")
            lines += [f"        {call_line(call)}" for call in branch.get("calls") or ()]
        lines.append(f"      output: {json.dumps(record.get('output'), sort_keys=True)}")
        if record.get("ledger"):
            lines.append(f"      ledger entries: {', '.join(f'#{i}' for i in record['ledger'])}")
    lines += interrupt_lines(run)
    if run.output is not None and run.status == "succeeded":
        lines.append(f"output: {json.dumps(run.output, sort_keys=True)}")
    return "\n".join(lines) + "\n"


def log_text(lines: Iterable[LogLine]) -> str:
    """``maestro runs logs``: one line per event, ``HH:MM:SS.mmm NODE#ITERATION EVENT TEXT`` (UTC)."""
    out = []
    for x in lines:
        when = datetime.fromtimestamp(x.at, UTC).strftime("%H:%M:%S.%f")[:-3]
        out.append(f"{when} {x.node}#{x.iteration} {x.event:<8} {x.text}\n")
    return "".join(out)
