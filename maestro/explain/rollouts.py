"""Explaining a Rollout: its steps, analysis and rollback."""

from __future__ import annotations

from maestro.explain.model import Explanation, Section
from maestro.manifests.kinds.rollout import Rollout
from maestro.manifests.loader import Document


def explain_rollout(doc: Document) -> Explanation:
    rollout: Rollout = doc.record
    steps = []
    for step in rollout.steps:
        if step.kind == "setWeight":
            steps.append(f"send {step.weight}% of traffic to the new version")
        elif step.kind == "pause":
            steps.append("wait for a person to promote it" if step.pause == "manual" else f"wait {step.pause}")
        else:
            steps.append(f"run analysis '{step.analysis}'")
    analyses = tuple(
        f"{a.name}: every {a.interval or '1m'}, passes when `{a.success_condition or 'true'}`"
        + (f", fails when `{a.failure_condition}`" if a.failure_condition is not None else "")
        for a in rollout.analysis
    )
    back = tuple(f"roll back when `{w}`" for w in rollout.rollback.when)
    if rollout.rollback.automatic:
        back += ("a failed analysis rolls back automatically",)
    approvals = rollout.approvals_required
    changed = rollout.change_from is not None and rollout.change_to is not None
    what = f": {rollout.change_from} -> {rollout.change_to}" if changed else ""
    return Explanation(
        doc.ref,
        doc.file,
        doc.line,
        f"Rollout '{rollout.name}' changes {rollout.target_kind} {rollout.target_name}{what} "
        f"in {len(rollout.steps)} step(s); {approvals} approval(s) needed to start.",
        (
            Section("Steps", tuple(f"{i + 1}. {s}" for i, s in enumerate(steps))),
            Section("Analysis", analyses or ("none",)),
            Section("Rollback", back or ("manual only",)),
            Section(
                "Gate",
                (
                    f"EvalSuite {rollout.eval_suite} must pass first"
                    if rollout.eval_suite is not None
                    else "no eval gate",
                ),
            ),
        ),
        {"target": rollout.target, "steps": [s.as_written() for s in rollout.steps], "approvals": approvals},
    )
