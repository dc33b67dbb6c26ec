"""Explaining a Rollout: its steps, analysis and rollback."""

from __future__ import annotations

from maestro.explain.model import Explanation, Section
from maestro.manifests.kinds.rollout import Rollout
from maestro.manifests.loader import Document


def explain_rollout(doc: Document) -> Explanation:
    rollout: Rollout = doc.record
    steps = []
    for step in rollout.steps:
        if "setWeight" in step:
            steps.append(f"send {step['setWeight']}% of traffic to the new version")
        elif "pause" in step:
            pause = step["pause"]
            steps.append("wait for a person to promote it" if pause == "manual" else f"wait {pause}")
        else:
            steps.append(f"run analysis '{step['analysis']}'")
    analyses = tuple(
        f"{a['name']}: every {a.get('interval', '1m')}, passes when `{a.get('successCondition', 'true')}`"
        + (f", fails when `{a['failureCondition']}`" if "failureCondition" in a else "")
        for a in rollout.analysis
    )
    rollback = rollout.rollback
    back = tuple(f"roll back when `{w}`" for w in rollback.get("when", []))
    if rollback.get("automatic", True):
        back += ("a failed analysis rolls back automatically",)
    approvals = rollout.approvals.get("required", 0)
    change = rollout.change
    what = f": {change['from']} -> {change['to']}" if "from" in change and "to" in change else ""
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
        {"target": rollout.target, "steps": list(rollout.steps), "approvals": approvals},
    )
