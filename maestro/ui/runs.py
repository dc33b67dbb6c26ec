"""/runs: the runs of the repository's Pipelines (``maestro.runtime.runs``, read through a DBOS client that
runs no workflow code); /runs/RUN: the Pipeline's graph (exactly its steps and edges, each step's state),
the timeline of finished nodes with their calls, tokens, cost and log lines, and the pending approval.

The graph is the Pipeline the run started with (the snapshot pinned in the run, read once per digest) as
``maestro.runtime.graph`` reads it, whatever the manifests hold now; the timeline is paged (``?from=N``).

/runs/RUN/events streams the run's state as server-sent events (htmx's sse extension swaps the state in
and ``ui.js`` recolours the graph) until the run ends.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from maestro.manifests.loader import Document
from maestro.runtime import approvals, engine, logs, report, runs, snapshot
from maestro.runtime.errors import RunError
from maestro.ui import actions, sources
from maestro.ui.auth import Who
from maestro.ui.config import UiConfig
from maestro.ui.graphs import pipeline_graph
from maestro.ui.pages import NotFound, Page, UiError

POLL_S = 1.0
UNCHANGING = frozenset({"succeeded", "rejected"})  # a finished workflow: never resumed, its page can be kept
TIMELINE_PAGE = 100  # rows of the timeline on one page: a run of 10,000 node events stays quick to show
LOG_LINES = 50  # a row's log lines shown (an agent's loop may log hundreds): `maestro runs logs RUN NODE` has all


def view(config: UiConfig, status: str | None) -> Page:
    note = ""
    listed: list[dict[str, Any]] = []
    try:
        with engine.client(config.root, config.runs_url) as client:
            listed = [_summary(r) for r in runs.list_runs(client, status or None)]
    except RunError as e:
        if "no runs here yet" not in str(e):
            raise
        note = str(e)
    return Page("runs.html", "Runs", {"status": status, "runs": listed}, extra={"note": note})


def run(config: UiConfig, run_id: str, first: int = 0) -> Page:
    record = _get(config, run_id)
    data = {**_summary(record), **state(config, record, first), "previous": previous(config, record)}
    return Page("run.html", f"Run {run_id}", data)


def first_event(text: str | None) -> int:
    """The ``from`` query parameter: the index of the timeline's first row shown."""
    if not text:
        return 0
    if not text.isdigit():
        raise UiError(f"from='{text}': send the index of the timeline's first row, e.g. ?from={TIMELINE_PAGE}")
    return int(text)


def previous(config: UiConfig, record: runs.Run) -> dict[str, Any] | None:
    """This run against the run of the same Pipeline started just before it: each step's status and cost."""
    with engine.client(config.root, config.runs_url) as client:
        older = [
            r for r in runs.list_runs(client, None) if r.pipeline == record.pipeline and r.created < record.created
        ]
    if not older:
        return None
    before = _get(config, max(older, key=lambda r: r.created).id)
    now, then = _by_node(record), _by_node(before)
    steps = [
        {
            "node": node,
            "before": then.get(node, {}).get("status"),
            "now": now.get(node, {}).get("status"),
            "costBefore": then.get(node, {}).get("costUsd"),
            "costNow": now.get(node, {}).get("costUsd"),
        }
        for node in dict.fromkeys([*then, *now])
    ]
    return {"id": before.id, "status": before.status, "costUsd": before.cost_usd, "steps": steps}


def _by_node(record: runs.Run) -> dict[str, Mapping[str, Any]]:
    """Each node's last record (a loop's latest iteration)."""
    return {str(n.get("node")): n for n in record.nodes}


def state(config: UiConfig, record: runs.Run, first: int = 0) -> dict[str, Any]:
    """The graph with each step's state, one page of the timeline (``TIMELINE_PAGE`` rows from ``first``) and
    the pending approval of ``record``."""
    pipeline, note = pinned_pipeline(config, record)
    if pipeline is None:
        return {"graph": None, "graphNote": note, "timeline": [], "timelinePage": None}
    states = {n["node"]: str(n.get("status", "")) for n in record.nodes}
    waiting_on = (record.interrupt or {}).get("node")
    if waiting_on:
        states[str(waiting_on)] = "waiting"
    timeline = [row(record, n) for n in record.nodes[first : first + TIMELINE_PAGE]]
    return {
        "graph": pipeline_graph(pipeline, states),
        "graphNote": note,
        "timeline": timeline,
        "timelinePage": {"from": first, "size": TIMELINE_PAGE, "total": len(record.nodes)},
        "pendingApproval": record.interrupt,
    }


def row(record: runs.Run, node: Mapping[str, Any]) -> dict[str, Any]:
    """One row of the timeline: a node record of ``record`` with its log (``maestro runs logs``' lines, the first
    ``LOG_LINES`` of them, and their text as the command prints it)."""
    lines = logs.log(dataclasses.replace(record, nodes=(node,)))
    shown = lines[:LOG_LINES]
    return {
        "node": node.get("node"),
        "iteration": node.get("iteration"),
        "type": node.get("type"),
        "status": node.get("status"),
        "started": node.get("started"),
        "ended": node.get("ended"),
        "attempts": node.get("attempts"),
        "tokens": node.get("tokens"),
        "costUsd": node.get("costUsd"),
        "calls": node.get("calls", []),
        "output": node.get("output"),
        "error": node.get("error"),
        "log": {"lines": [x.to_json() for x in shown], "total": len(lines), "text": report.log_text(shown)},
    }


def pinned_pipeline(config: UiConfig, record: runs.Run) -> tuple[Document | None, str]:
    """The Pipeline the run started with (its snapshot's, read once per digest), and a note when it is not."""
    if record.pinned:
        found = snapshot.manifests(snapshot.Snapshot.from_json(record.pinned)).get("Pipeline", record.pipeline)
        if found is not None:
            return found, ""
    now = sources.manifests(config).get("Pipeline", record.pipeline)
    if now is None:
        return None, f"no Pipeline '{record.pipeline}' in the run's snapshot or in the manifests now"
    return now, "the run carries no snapshot of its Pipeline: drawn from the manifests as they are now"


async def events(
    config: UiConfig, run_id: str, fragment: Callable[[Mapping[str, Any]], str], first: int = 0
) -> AsyncIterator[str]:
    """Server-sent events: ``state`` (the rendered state fragment, the timeline from row ``first``) whenever the
    run changes, until it ends."""
    last = ""
    while True:
        record = await asyncio.to_thread(_get, config, run_id)
        data = {**_summary(record), **await asyncio.to_thread(state, config, record, first)}
        text = fragment(data)
        if text != last:
            last = text
            yield "event: state\ndata: " + "\ndata: ".join(text.splitlines()) + "\n\n"
        if record.status in runs.FINAL:
            yield "event: end\ndata: " + json.dumps({"status": record.status}) + "\n\n"
            return
        await asyncio.sleep(POLL_S)


def decide(
    config: UiConfig, who: Who, run_id: str, interrupt: str, decision: str, *, comment: str = ""
) -> dict[str, Any]:
    """An approver's decision on the run's pending ``interrupt``, signed with their own ledger key (``ledgerKey``)
    or else the UI's (it counts as that key's holder, once, never the requester's) and recorded as
    ``ui.approve`` / ``ui.reject`` naming the approver's key id."""
    if decision not in (approvals.APPROVE, approvals.REJECT):
        raise UiError(f"decision '{decision}': use approve or reject")
    key = actions.signing_key(config, who)
    note = f"{comment} (in the UI by {who.key_id})".strip()
    try:
        with engine.client(config.root, config.runs_url) as client:
            runs.decide(client, run_id, interrupt, key, decision=decision, comment=note)
    except RunError as e:
        raise UiError(str(e)) from e
    details = {"run": run_id, "interrupt": interrupt, "decision": decision, "comment": comment}
    index = actions.record(config, actions.action(config, who, f"ui.{decision}", details), who)
    return {"run": run_id, "interrupt": interrupt, "decision": decision, "ledgerIndex": index}


def _get(config: UiConfig, run_id: str) -> runs.Run:
    kept = config.run_cache.get(run_id)
    if isinstance(kept, runs.Run):
        return kept
    try:
        with engine.client(config.root, config.runs_url) as client:
            try:
                record = runs.get(client, run_id)
                if record.status in UNCHANGING:
                    config.run_cache.keep(run_id, record)
                return record
            except RunError:
                known = [f"/runs/{r.id}" for r in runs.list_runs(client, None, limit=10)]
                raise NotFound(f"no run '{run_id}'", known) from None
    except RunError as e:
        raise NotFound(f"no run '{run_id}': {e}") from e


def _summary(r: runs.Run) -> dict[str, Any]:
    return {
        "id": r.id,
        "pipeline": r.pipeline,
        "status": r.status,
        "snapshot": r.digest,
        "requester": r.requester,
        "created": r.created,
        "updated": r.updated,
        "reason": r.reason,
        "costUsd": r.cost_usd,
        "waitingOn": (r.interrupt or {}).get("node"),
    }
