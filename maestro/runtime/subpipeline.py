"""The ``pipeline`` node: another Pipeline run as a child run, pinned by digest.

    - {id: refund, type: pipeline, pipeline: refund-flow}

When a run starts, the digest of every Pipeline its steps name (and theirs, down the tree) is recorded in the
run (``pins``: name -> ``sha256:...`` of the document). The node runs the child from the run's snapshot as a
child workflow whose run id is ``PARENT.NODE.ITERATION`` (so its idempotency keys and interrupt ids are its
own), with the run state as its input, and fails when the child's digest is not the pinned one. The child's
output becomes the node's output, its cost the node's cost; a child that waits for people shows its pending
interrupt on the parent (``runs show``), and ``runs approve PARENT INTERRUPT`` reaches it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any

from dbos import DBOS, SetWorkflowID

from maestro.manifests.kinds.pipeline import Pipeline
from maestro.manifests.loader import ManifestSet
from maestro.runtime import snapshot
from maestro.runtime.graph import Node

MAX_DEPTH = 5  # nested sub-pipelines; validate rejects a cycle, this bounds one at run time all the same

Finish = Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]]  # (run, record) -> the recorded record


def digest(manifests: ManifestSet, name: str) -> str | None:
    doc = manifests.get("Pipeline", name)
    if doc is None:
        return None
    text = json.dumps(doc.data, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def pins(manifests: ManifestSet, name: str) -> dict[str, str]:
    """The digest of every Pipeline that ``name``'s steps run as sub-pipelines, down the tree."""
    out: dict[str, str] = {}
    todo = [name]
    while todo:
        pipeline = manifests.record(Pipeline, todo.pop())
        for step in pipeline.steps if pipeline else ():
            found = digest(manifests, step.pipeline) if step.pipeline else None
            if step.pipeline and found and step.pipeline not in out:
                out[step.pipeline] = found
                todo.append(step.pipeline)
    return out


def run(run: dict[str, Any], node: Node, iteration: int, state: dict[str, Any], *, finish: Finish) -> dict[str, Any]:
    """The child run of a ``pipeline`` node, orchestrated by the parent's workflow; the node's record."""
    from maestro.runtime.workflow import clock_step, run_pipeline

    child = str(node.pipeline)
    record: dict[str, Any] = {
        "node": node.id,
        "iteration": iteration,
        "type": node.type,
        "status": "failed",
        "started": clock_step(),
        "attempts": 1,
        "calls": [],
        "tokens": 0,
        "costUsd": 0.0,
        "output": {},
        "error": None,
        "ledger": [],
        "pipeline": child,
    }
    manifests = snapshot.manifests(snapshot.Snapshot.from_json(run["snapshot"]))
    pinned, now = (run.get("pins") or {}).get(child), digest(manifests, child)
    depth = str(run["id"]).count(".")
    if pinned is None or now != pinned:
        record["error"] = f"the sub-pipeline '{child}' is not pinned to this run (pinned {pinned}, found {now})"
    elif depth >= MAX_DEPTH:
        record["error"] = f"sub-pipelines nest deeper than {MAX_DEPTH} here; does '{child}' run itself?"
    else:
        child_run = {**_inherited(run), "id": f"{run['id']}.{node.id}.{iteration}", "pipeline": child}
        child_run["input"] = dict(state)
        with SetWorkflowID(child_run["id"]):
            handle = DBOS.start_workflow(run_pipeline, child_run)
        result = handle.get_result()
        record.update(
            status="succeeded" if result["status"] == "succeeded" else result["status"],
            output=dict(result.get("output") or {}),
            costUsd=float(result.get("costUsd") or 0.0),
            error=None if result["status"] == "succeeded" else f"{child} {result['status']}: {result.get('reason')}",
            child=child_run["id"],
            digest=pinned,
        )
    record["ended"] = clock_step()
    return finish(run, record)


def _inherited(run: Mapping[str, Any]) -> dict[str, Any]:
    """What a child run keeps of its parent: the snapshot, the pins, the versions chosen, the requester, the root."""
    keep = ("root", "requester", "snapshot", "pins", "variants", "created")
    return {k: run[k] for k in keep if k in run}
