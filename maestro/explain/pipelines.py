"""Explaining a Pipeline: its graph in words and in Mermaid, its loops, and where a human approves."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from maestro.explain.model import Explanation, Section
from maestro.manifests.kinds.pipeline import Pipeline
from maestro.manifests.loader import Document

_SHAPES = {"agent": ('["', '"]'), "tool": ("[/", "/]"), "model": ('("', '")'), "approval": ('{{"', '"}}')}


def explain_pipeline(doc: Document) -> Explanation:
    pipeline: Pipeline = doc.record
    steps = list(pipeline.steps)
    start = pipeline.start
    edges = pipeline.flow
    approvals = [s for s in steps if s["type"] == "approval"]
    sections = [
        Section("Steps", tuple(_step_line(s) for s in steps)),
        Section("Flow", tuple(_edge_line(e) for e in edges) or ("a single step",)),
        Section("Human approval", tuple(_approval_line(s) for s in approvals) or ("no step waits for a human",)),
    ]
    loops = [e for e in edges if "maxIterations" in e]
    if loops:
        sections.append(
            Section(
                "Loops",
                tuple(f"{e['from']} -> {e['to']} repeats at most {e['maxIterations']} time(s)" for e in loops),
            )
        )
    if pipeline.limits:
        sections.append(Section("Limits", tuple(f"{k}: {v}" for k, v in pipeline.limits.items())))
    return Explanation(
        doc.ref,
        doc.file,
        doc.line,
        f"Pipeline '{pipeline.name}' runs {len(steps)} step(s) from '{start}'; "
        f"{len(approvals)} of them wait for a human.",
        tuple(sections),
        {"start": start, "steps": steps, "edges": edges, "approvals": [s["id"] for s in approvals]},
        mermaid(pipeline),
    )


def _step_line(step: Mapping[str, Any]) -> str:
    kind = step["type"]
    what = {
        "agent": f"agent {step.get('agent')}",
        "tool": f"tool {step.get('tool')} of agent {step.get('agent')}",
        "model": f"a model call through route {step.get('route')}",
        "approval": "a human approval",
    }[kind]
    return f"{step['id']}: {what}"


def _edge_line(edge: Mapping[str, Any]) -> str:
    when = f" when `{edge['when']}`" if "when" in edge else ""
    return f"{edge['from']} -> {edge['to']}{when}"


def _approval_line(step: Mapping[str, Any]) -> str:
    approval = step.get("approval", {})
    roles = f" with role {', '.join(approval['roles'])}" if approval.get("roles") else ""
    timeout = (
        f"; after {approval['timeout']} without an answer it will {approval.get('onTimeout', 'reject')}"
        if "timeout" in approval
        else ""
    )
    return f"{step['id']}: {approval.get('approvers', 1)} approver(s){roles} must approve before it goes on{timeout}"


def mermaid(pipeline: Pipeline) -> str:
    lines = ["flowchart TD", "  start((start))", f"  start --> {_node(pipeline.start)}"]
    for step in pipeline.steps:
        left, right = _SHAPES[step["type"]]
        label = f"{step['id']} ({step['type']})" if step["type"] != "approval" else f"{step['id']}: human approval"
        lines.append(f"  {_node(step['id'])}{left}{label}{right}")
    for edge in pipeline.flow:
        label = edge.get("when", "")
        if "maxIterations" in edge:
            label = f"{label} (max {edge['maxIterations']}x)".strip()
        arrow = f' -- "{_escape(label)}" --> ' if label else " --> "
        lines.append(f"  {_node(edge['from'])}{arrow}{_node(edge['to'])}")
    return "\n".join(lines) + "\n"


def _node(step_id: str) -> str:
    return "s_" + step_id.replace("-", "_")


def _escape(text: str) -> str:
    return text.replace('"', "#quot;")
