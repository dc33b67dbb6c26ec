"""Explaining a Pipeline: its graph in words and in Mermaid, its loops, and where a human approves."""

from __future__ import annotations

from maestro.explain.model import Explanation, Section
from maestro.manifests.kinds.pipeline import Edge, Pipeline, Step
from maestro.manifests.loader import Document

_SHAPES = {"agent": ('["', '"]'), "tool": ("[/", "/]"), "model": ('("', '")'), "approval": ('{{"', '"}}')}


def explain_pipeline(doc: Document) -> Explanation:
    pipeline: Pipeline = doc.record
    steps = list(pipeline.steps)
    start = pipeline.start
    edges = pipeline.flow
    approvals = [s for s in steps if s.type == "approval"]
    sections = [
        Section("Steps", tuple(_step_line(s) for s in steps)),
        Section("Flow", tuple(_edge_line(e) for e in edges) or ("a single step",)),
        Section("Human approval", tuple(_approval_line(s) for s in approvals) or ("no step waits for a human",)),
    ]
    loops = [e for e in edges if e.max_iterations is not None]
    if loops:
        sections.append(
            Section(
                "Loops",
                tuple(f"{e.source} -> {e.target} repeats at most {e.max_iterations} time(s)" for e in loops),
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
        {
            "start": start,
            "steps": [s.written for s in steps],
            "edges": [e.written for e in edges],
            "approvals": [s.id for s in approvals],
        },
        mermaid(pipeline),
    )


def _what(step: Step) -> str:
    return {
        "agent": f"agent {step.agent}",
        "tool": f"tool {step.tool} of agent {step.agent}",
        "model": f"a model call through route {step.route}",
        "approval": "a human approval",
        "pipeline": f"the pipeline {step.pipeline}",
    }.get(step.type, step.type)


def _step_line(step: Step) -> str:
    if step.map is not None:
        m = step.map
        return f"{step.id}: for each item of `{m.over}` ({m.concurrency} at a time): {_what(m.step)}"
    return f"{step.id}: {_what(step)}"


def _edge_line(edge: Edge) -> str:
    when = f" when `{edge.when}`" if edge.when is not None else ""
    return f"{edge.source} -> {edge.target}{when}"


def _approval_line(step: Step) -> str:
    approval = step.approval
    assert approval is not None
    roles = f" with role {', '.join(approval.roles)}" if approval.roles else ""
    timeout = f"; after {approval.timeout} without an answer it will {approval.on_timeout}" if approval.timeout else ""
    return f"{step.id}: {approval.approvers} approver(s){roles} must approve before it goes on{timeout}"


def mermaid(pipeline: Pipeline) -> str:
    lines = ["flowchart TD", "  start((start))", f"  start --> {_node(pipeline.start)}"]
    for step in pipeline.steps:
        left, right = _SHAPES.get(step.type, ('["', '"]'))
        label = f"{step.id} ({step.type})" if step.type != "approval" else f"{step.id}: human approval"
        lines.append(f"  {_node(step.id)}{left}{label}{right}")
    for edge in pipeline.flow:
        label = edge.when or ""
        if edge.max_iterations is not None:
            label = f"{label} (max {edge.max_iterations}x)".strip()
        arrow = f' -- "{_escape(label)}" --> ' if label else " --> "
        lines.append(f"  {_node(edge.source)}{arrow}{_node(edge.target)}")
    return "\n".join(lines) + "\n"


def _node(step_id: str) -> str:
    return "s_" + step_id.replace("-", "_")


def _escape(text: str) -> str:
    return text.replace('"', "#quot;")
