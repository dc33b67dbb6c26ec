"""Risk rules for what runs and ships: Agent, Pipeline (their graph rules in ``risk_graph``), EvalSuite, Rollout."""

from __future__ import annotations

from typing import Final

from maestro.manifests.diff.documents import Ctx
from maestro.manifests.diff.handlers import (
    Rules,
    Verdict,
    falls,
    fixed,
    flag,
    item,
    ranked,
    rises,
    set_rule,
    words,
)
from maestro.manifests.diff.model import HIGH, MEDIUM, Op
from maestro.manifests.diff.risk_governance import APPROVALS, autonomy_ref
from maestro.manifests.diff.risk_graph import AGENT_GRAPH, PIPELINE_GRAPH
from maestro.manifests.diff.values import brief
from maestro.manifests.diff.walk import Delta


def _step_type(d: Delta, ctx: Ctx) -> Verdict:
    said = words(d, ctx)
    if d.old == "approval":
        return Verdict(HIGH, f"step '{said['key']}' is no longer an approval step: nobody has to approve it")
    return Verdict(MEDIUM, f"type of step '{said['key']}' changed from {said['old']} to {said['new']}")


def _rollout_step(d: Delta, ctx: Ctx) -> Verdict:
    if d.op is Op.REMOVED and isinstance(d.old, dict):
        if "analysis" in d.old:
            return Verdict(
                HIGH, f"analysis step {brief(d.old['analysis'])} removed: promotion no longer waits on its checks"
            )
        if d.old.get("pause") == "manual":
            return Verdict(HIGH, "manual pause removed: promotion no longer waits for a person")
    return Verdict(MEDIUM, f"rollout step {d.op.value}: {brief(d.new if d.op is Op.ADDED else d.old)}")


def _pause(d: Delta, ctx: Ctx) -> Verdict:
    if d.old == "manual" and d.new != "manual":
        return Verdict(HIGH, "manual pause replaced: promotion no longer waits for a person")
    return Verdict(MEDIUM, f"rollout pause changed from {brief(d.old)} to {brief(d.new)}")


def _eval_gate(d: Delta, ctx: Ctx) -> Verdict:
    if d.op is Op.REMOVED:
        return Verdict(HIGH, f"rollout no longer gated by eval suite {brief(d.old)}")
    if d.op is Op.ADDED:
        return Verdict(MEDIUM, f"rollout now gated by eval suite {brief(d.new)} (tighter)")
    return Verdict(MEDIUM, f"rollout gate changed from eval suite {brief(d.old)} to {brief(d.new)}")


_ACTIONS: Final = ("read", "suggest", "low-risk-write", "write", "external-call", "spend", "deploy", "irreversible")
_PROMPT: Final = fixed(MEDIUM, "prompt text changed")
_PROMPT_FILE: Final = fixed(MEDIUM, "prompt file changed from {old} to {new}")

AGENT: Final[Rules] = (
    ("spec.autonomyLevel", autonomy_ref),
    *AGENT_GRAPH,
    ("spec.route", fixed(MEDIUM, "model changed: now uses route {new} instead of {old}")),
    ("spec.prompt.system", _PROMPT),
    ("spec.prompt.file", _PROMPT_FILE),
    ("spec.tools[].action", ranked(_ACTIONS, "action class of tool '{key}'", why=": a lower class may skip approvals")),
    (
        "spec.tools[].description",
        fixed(MEDIUM, "description of tool '{key}' changed: the model reads it as part of its prompt"),
    ),
    ("spec.tools[].inputSchema*", fixed(MEDIUM, "input schema of tool '{key}' changed")),
    ("spec.limits.*", rises("agent limit {leaf}", MEDIUM)),
)

PIPELINE: Final[Rules] = (
    ("spec.autonomyLevel", autonomy_ref),
    *PIPELINE_GRAPH,
    ("spec.steps[].type", _step_type),
    ("spec.steps[].approval.approvers", falls("approvers required at step '{key}'", HIGH)),
    ("spec.steps[].approval.roles", fixed(MEDIUM, "approver roles of step '{key}' changed: {e} {op}")),
    ("spec.steps[].prompt", fixed(MEDIUM, "prompt text of step '{key}' changed")),
    ("spec.steps[].route", fixed(MEDIUM, "model changed: step '{key}' now uses route {new}")),
    ("spec.steps[].maxCostUsd", rises("cost limit of step '{key}'", MEDIUM)),
    ("spec.edges[].maxIterations", rises("loop bound of edge {key}", MEDIUM)),
    ("spec.limits.*", rises("pipeline limit {leaf}", MEDIUM)),
)

EVAL_SUITE: Final[Rules] = (
    ("spec.thresholds.passRate", falls("pass-rate threshold", HIGH)),
    ("spec.thresholds.metrics.*.min", falls("minimum of metric '{parent}'", HIGH)),
    ("spec.thresholds.metrics.*.max", rises("maximum of metric '{parent}'", HIGH)),
    (
        "spec.assertions[]",
        item(
            removed=(HIGH, "assertion '{key}' removed: the suite checks less"),
            added=(MEDIUM, "assertion '{key}' added (tighter)"),
        ),
    ),
    ("spec.assertions[].threshold", falls("threshold of assertion '{key}'", HIGH)),
    ("spec.assertions[].max", rises("maximum of assertion '{key}'", HIGH)),
    ("spec.assertions[].weight", fixed(MEDIUM, "weight of assertion '{key}' changed from {old} to {new}")),
    ("spec.assertions[]*", fixed(MEDIUM, "assertion '{key}' changed: {leaf} from {old} to {new}")),
    ("spec.baseline.minDelta", falls("allowed change against the baseline (minDelta)", HIGH)),
    ("spec.repeats", falls("repeats per case", MEDIUM, default=1)),
    ("spec.dataset*", fixed(MEDIUM, "eval dataset changed")),
    ("spec.target.prompt.system", _PROMPT),
    ("spec.target.prompt.file", _PROMPT_FILE),
    ("spec.target.prompt.template", fixed(MEDIUM, "prompt template changed")),
    ("spec.target*", fixed(MEDIUM, "eval target changed: {leaf} from {old} to {new}")),
)

ROLLOUT: Final[Rules] = (
    *APPROVALS,
    ("spec.steps", fixed(MEDIUM, "rollout step order changed")),
    ("spec.steps[]", _rollout_step),
    ("spec.steps[].setWeight", fixed(MEDIUM, "rollout step weights changed: {old}% -> {new}%")),
    ("spec.steps[].pause", _pause),
    (
        "spec.rollback.automatic",
        flag(False, True, "automatic rollback turned off", "automatic rollback turned on (tighter)"),
    ),
    (
        "spec.rollback.when",
        set_rule(Op.REMOVED, "rollback condition removed: {e}", "rollback condition added: {e} (tighter)"),
    ),
    (
        "spec.analysis[]",
        item(
            removed=(HIGH, "analysis '{key}' removed: the rollout checks less before promotion"),
            added=(MEDIUM, "analysis '{key}' added (tighter)"),
        ),
    ),
    ("spec.analysis[].failureLimit", rises("failure limit of analysis '{key}'", HIGH)),
    ("spec.analysis[].*Condition", fixed(MEDIUM, "{leaf} of analysis '{key}' changed")),
    ("spec.evalSuite", _eval_gate),
    ("spec.target*", fixed(MEDIUM, "rollout target changed: {leaf} from {old} to {new}")),
)
