"""A run's states and the events that drive them, over the durable workflow.

    queued --(a worker takes it)--> running --(an approval or autonomy gate)--> waiting --(approved)--> running
    running --> succeeded | failed | rejected        any --(runs cancel)--> cancelled --(runs resume)--> running

The state is read from DBOS (the workflow's status, its ``interrupt`` event and its result); the events are
``start`` (``maestro run``), ``decide`` (``runs approve`` / ``runs reject``), ``cancel`` and ``resume``.
Commands only call these functions and print what they return.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dbos import DBOS, DBOSClient, EnqueueOptions, SetWorkflowID

from maestro.runtime import approvals, evidence, snapshot, subpipeline
from maestro.runtime.engine import APP_VERSION
from maestro.runtime.errors import InterruptError, RunError
from maestro.runtime.workflow import INTERRUPT_EVENT, QUEUE, REFUSED_EVENT, TIMELINE_STEPS, WORKFLOW, run_pipeline

STATUSES = ("queued", "running", "waiting", "succeeded", "failed", "rejected", "cancelled")
FINAL = frozenset({"succeeded", "failed", "rejected", "cancelled"})


@dataclass(frozen=True, slots=True)
class Run:
    """One run as the commands show it."""

    id: str
    pipeline: str
    status: str
    digest: str
    created: float
    updated: float
    reason: str | None = None
    cost_usd: float = 0.0
    output: Mapping[str, Any] | None = None
    nodes: tuple[Mapping[str, Any], ...] = ()
    interrupt: Mapping[str, Any] | None = None  # the first of ``pending``
    pending: tuple[Mapping[str, Any], ...] = ()  # every request waiting for people (a map's branches may wait together)
    requester: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)
    pinned: Mapping[str, Any] | None = None  # the Snapshot's JSON: the manifests the run started with

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "pipeline": self.pipeline,
            "status": self.status,
            "snapshot": self.digest,
            "requester": self.requester,
            "created": self.created,
            "updated": self.updated,
            "reason": self.reason,
            "costUsd": self.cost_usd,
            "output": self.output,
            "nodes": list(self.nodes),
            "pendingInterrupts": list(self.pending) or ([self.interrupt] if self.interrupt else []),
        }


# (run id, requester) -> the versions a running rollout gives this run: {"Pipeline/NAME" or "Agent/NAME": name}
Choose = Callable[[str, str], Mapping[str, str]]


def new_run(root: Path, pipeline: str, data: Mapping[str, Any], choose: Choose | None = None) -> dict[str, Any]:
    """The workflow input of a new run of ``pipeline``: pinned to the manifests as they are now, and to the
    versions ``choose`` picks (a rollout of the Pipeline or of an Agent splits runs when they start)."""
    if not isinstance(data, Mapping):
        raise RunError("the run input must be a JSON object")
    pinned = snapshot.take(root)
    manifests = snapshot.manifests(pinned)
    known = manifests.index("Pipeline")
    if pipeline not in known:
        raise RunError(f"no Pipeline named '{pipeline}'; known pipelines: {', '.join(sorted(known)) or 'none'}")
    run_id, requester = f"run-{uuid.uuid4().hex[:12]}", evidence.who(root)
    variants = dict(choose(run_id, requester)) if choose is not None else {}
    chosen = variants.get(f"Pipeline/{pipeline}", pipeline)
    return {
        "pins": subpipeline.pins(manifests, chosen),  # the digest of each sub-pipeline, as it is now
        "id": run_id,
        "pipeline": chosen,
        "root": str(root),
        "input": dict(data),
        "requester": requester,
        "snapshot": pinned.to_json(),
        "created": time.time(),
        "variants": variants,
    }


def start(run: Mapping[str, Any]) -> str:
    """Start ``run`` in this process (DBOS launched)."""
    with SetWorkflowID(str(run["id"])):
        DBOS.start_workflow(run_pipeline, dict(run))
    return str(run["id"])


def enqueue(client: DBOSClient, run: Mapping[str, Any]) -> str:
    """Queue ``run`` for a worker."""
    options: EnqueueOptions = {
        "queue_name": QUEUE,
        "workflow_name": WORKFLOW,
        "workflow_id": str(run["id"]),
        "app_version": APP_VERSION,
    }
    client.enqueue(options, dict(run))
    return str(run["id"])


def get(client: DBOSClient, run_id: str) -> Run:
    found = client.list_workflows(workflow_ids=[run_id], name=WORKFLOW)
    if not found:
        raise RunError(f"no run '{run_id}'; list them with `maestro runs list`")
    status = found[0]
    interrupt = _interrupts(client, run_id) if status.status == "PENDING" else []
    steps = client.list_workflow_steps(run_id)
    nodes = tuple(s["output"] for s in steps if s["function_name"] in TIMELINE_STEPS and isinstance(s["output"], dict))
    return _view(status, interrupt, nodes)


def list_runs(client: DBOSClient, status: str | None = None, limit: int = 100) -> list[Run]:
    if status is not None and status not in STATUSES:
        raise RunError(f"unknown status '{status}'; use one of {', '.join(STATUSES)}")
    runs = []
    for wf in client.list_workflows(name=WORKFLOW, sort_desc=True, limit=limit):
        interrupt = _interrupts(client, wf.workflow_id) if wf.status == "PENDING" else []
        run = _view(wf, interrupt, ())
        if status is None or run.status == status:
            runs.append(run)
    return runs


def _interrupts(client: DBOSClient, run_id: str) -> list[Mapping[str, Any]]:
    """What a pending run waits on: its own interrupt, and those of its map branches and sub-pipelines."""
    from maestro.runtime.fanout import BRANCH_WORKFLOW

    own = client.get_event(run_id, INTERRUPT_EVENT, timeout_seconds=0)
    found: list[Mapping[str, Any]] = [own] if isinstance(own, dict) else []
    children = client.list_workflows(
        parent_workflow_id=run_id,
        status="PENDING",
        name=[WORKFLOW, BRANCH_WORKFLOW],
        load_input=False,
        load_output=False,
    )
    for child in children:
        found += _interrupts(client, child.workflow_id)
    return found


def _view(wf: Any, pending: list[Mapping[str, Any]], nodes: tuple[Mapping[str, Any], ...]) -> Run:
    args: tuple[Any, ...] = tuple((wf.input or {}).get("args") or ({},))
    run_input: Mapping[str, Any] = args[0] if args else {}
    result = wf.output if isinstance(wf.output, dict) else {}
    interrupt = pending[0] if pending else None
    status, reason = _status(wf.status, interrupt, result, wf.error)
    return Run(
        id=wf.workflow_id,
        pipeline=str(run_input.get("pipeline", "?")),
        status=status,
        digest=str((run_input.get("snapshot") or {}).get("digest", "")),
        created=(wf.created_at or 0) / 1000,
        updated=(wf.updated_at or 0) / 1000,
        reason=reason,
        cost_usd=float(result.get("costUsd") or sum(float(n.get("costUsd", 0)) for n in nodes)),
        output=result.get("output"),
        nodes=nodes,
        interrupt=interrupt,
        pending=tuple(pending),
        requester=str(run_input.get("requester", "")),
        pinned=run_input.get("snapshot"),
    )


def _status(dbos_status: str, interrupt: Any, result: Mapping[str, Any], error: Any) -> tuple[str, str | None]:
    if dbos_status == "ENQUEUED":
        return "queued", None
    if dbos_status == "PENDING":
        return ("waiting", None) if interrupt else ("running", None)
    if dbos_status == "SUCCESS":
        return str(result.get("status", "succeeded")), result.get("reason")
    if dbos_status == "CANCELLED":
        return "cancelled", "cancelled by `maestro runs cancel`"
    return "failed", f"{dbos_status}: {error}" if error else dbos_status


def decide(
    client: DBOSClient,
    run_id: str,
    interrupt: str,
    key: Any,
    *,
    decision: str,
    comment: str = "",
    root: Path | None = None,
) -> Run:
    """Send ``key``'s signed decision on the run's pending ``interrupt``; refused when it is stale or unknown, or
    (given the repository ``root`` whose trusted keys and roles the run reads) when the run would not count it."""
    run = get(client, run_id)
    pending = next((p for p in run.pending if p.get("interrupt") == interrupt), None)
    if pending is None:
        ids = ", ".join(str(p["interrupt"]) for p in run.pending)
        now = f"it waits on {ids}" if ids else f"it waits for nobody (status {run.status})"
        raise InterruptError(f"run {run_id} has no pending interrupt '{interrupt}'; {now}")
    if key.name == run.requester:
        raise InterruptError(f"'{key.name}' started run {run_id} and cannot approve it; ask someone else")
    message = approvals.sign(key, interrupt, decision, pending, comment)
    checked = None if root is None else _precheck(root, run, pending, message)
    if checked is not None and checked.name is None:  # the run would refuse it: say why instead of sending
        raise InterruptError(f"the run would not count this {decision}: {checked.reason}")
    waiting = str(pending.get("mailbox") or run_id)  # a map branch or a sub-pipeline waits in its own workflow
    client.send(waiting, message, topic=interrupt, idempotency_key=f"{interrupt}:{key.keyid}:{decision}")
    return run


def _precheck(root: Path, run: Run, pending: Mapping[str, Any], message: Mapping[str, Any]) -> approvals.Checked | None:
    """What the waiting run will make of ``message``: the same check on the same trusted keys and roles (the
    repository's ``.maestro/keys/``; none when it has no such folder)."""
    from maestro.ledger.keys import KEYS_DIR, load_keyring

    if not (root / KEYS_DIR).is_dir():
        return None
    roles = approvals.load_roles(root / KEYS_DIR)
    return approvals.check(message, pending, load_keyring(root / KEYS_DIR), run.requester, roles)


def cancel(client: DBOSClient, run_id: str) -> Run:
    run = get(client, run_id)
    if run.status in FINAL:
        raise RunError(f"run {run_id} has already ended ({run.status})")
    client.cancel_workflow(run_id)
    return get(client, run_id)


def resume(run_id: str) -> None:
    """Continue a cancelled or failed run in this process (DBOS launched); a pending one is recovered at launch."""
    status = DBOS.retrieve_workflow(run_id).get_status().status
    if status in ("CANCELLED", "ERROR", "MAX_RECOVERY_ATTEMPTS_EXCEEDED"):
        DBOS.resume_workflow(run_id)


def follow(
    client: DBOSClient,
    run_id: str,
    on_node: Callable[[Mapping[str, Any]], None],
    *,
    seen: int = 0,
    past: str | None = None,
    poll_s: float = 0.1,
    settle_s: float = 30.0,
) -> Run:
    """Call ``on_node`` for each node as it finishes (after the first ``seen``), until the run ends, waits for a
    human on an interrupt other than ``past`` (the one just answered), or still waits on ``past`` after
    ``settle_s`` (no decision that counts arrived: `refused` says why those that came did not count)."""
    settle = time.monotonic() + settle_s
    while True:
        run = get(client, run_id)
        for record in run.nodes[seen:]:
            on_node(record)
        seen = len(run.nodes)
        waiting = run.status == "waiting" and run.interrupt is not None and run.interrupt.get("interrupt") != past
        if run.status in FINAL or waiting:
            return run
        still = past is not None and run.status == "waiting" and run.interrupt is not None
        if still and time.monotonic() > settle:
            return run
        time.sleep(poll_s)


def refused(client: DBOSClient, run: Run, interrupt: str | None) -> list[str]:
    """Why the decisions on ``interrupt`` that did not count were refused (its waiting workflow says)."""
    if interrupt is None:
        return []
    pending = next((p for p in run.pending if p.get("interrupt") == interrupt), None)
    mailbox = str(pending.get("mailbox") or run.id) if pending else run.id
    event = client.get_event(mailbox, REFUSED_EVENT, timeout_seconds=0)
    if not isinstance(event, dict) or event.get("interrupt") != interrupt:
        return []
    return [str(r) for r in event.get("reasons", [])]
