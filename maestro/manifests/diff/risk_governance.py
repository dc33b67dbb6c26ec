"""Risk rules for Policy and AutonomyLevel, and for the approvals and autonomy levels other kinds refer to."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from maestro.manifests.diff.documents import Ctx, spec_field
from maestro.manifests.diff.handlers import (
    WRITTEN_DEFAULT,
    Rules,
    Verdict,
    effective,
    falls,
    fixed,
    flag,
    item,
    ranked,
    rises,
    set_rule,
    words,
)
from maestro.manifests.diff.model import HIGH, LOW, MEDIUM, Op
from maestro.manifests.diff.risk_routing import data_requirements
from maestro.manifests.diff.values import brief
from maestro.manifests.diff.walk import Delta

_LEVEL_DIGITS = re.compile(r"([0-9]+)$")


def _level(ctx: Ctx, name: Any) -> int | None:
    """The level number of an AutonomyLevel: from the new side, else the old, else its name's digits."""
    if not isinstance(name, str):
        return None
    for side in (ctx.sides.new, ctx.sides.old):
        level = spec_field(side, "AutonomyLevel", name, "level")
        if isinstance(level, int) and not isinstance(level, bool):
            return level
    match = _LEVEL_DIGITS.search(name)
    return int(match.group(1)) if match else None


def autonomy_ref(d: Delta, ctx: Ctx) -> Verdict:
    """An agent's or pipeline's ``autonomyLevel``: a higher level loosens."""
    old, new = _level(ctx, d.old), _level(ctx, d.new)
    change = f"from {brief(d.old)} to {brief(d.new)}"
    if old is None or new is None:
        return Verdict(MEDIUM, f"autonomy level changed {change}")
    if new > old:
        return Verdict(HIGH, f"autonomy level raised {change} (level {old} to {new})")
    if new < old:
        return Verdict(MEDIUM, f"autonomy level lowered {change} (level {old} to {new}; tighter)")
    return Verdict(MEDIUM, f"autonomy level changed {change} (both level {new})")


def _permitted(spec: Mapping[str, Any]) -> set[Any]:
    out: set[Any] = set()
    for field in ("allowedWithoutApproval", "requiresApproval"):
        values = spec.get(field)
        if isinstance(values, list):
            out.update(v for v in values if not isinstance(v, (dict, list)))
    return out


def _requires_approval(d: Delta, ctx: Ctx) -> Verdict:
    said = words(d, ctx)
    if d.op is Op.REMOVED:
        return Verdict(HIGH, f"requiresApproval shrank: {said['e']} no longer gated by an approval at this level")
    added = d.new if isinstance(d.new, list) else [d.new]
    before = _permitted(ctx.old.spec)
    newly = [a for a in added if a not in before]
    if newly:
        return Verdict(HIGH, f"{brief(newly)} newly permitted at this level (with approval)")
    return Verdict(MEDIUM, f"{said['e']} now needs an approval at this level (tighter)")


def _kill_routes(d: Delta, ctx: Ctx) -> Verdict:
    said = words(d, ctx)
    switch = ctx.new.spec.get("killSwitch")
    engaged = isinstance(switch, dict) and switch.get("engaged") is True
    if d.op is Op.REMOVED:
        risk = HIGH if engaged else MEDIUM
        return Verdict(risk, f"{said['e']} no longer covered by the kill switch (engaged: {brief(engaged)})")
    return Verdict(MEDIUM, f"{said['e']} now covered by the kill switch")


def _unknown_tags(d: Delta, ctx: Ctx) -> Verdict:
    if effective(d.new, "deny") != "deny":
        return Verdict(HIGH, f"unknown tags are no longer denied ({brief(d.new)}): the policy fails open")
    return WRITTEN_DEFAULT if effective(d.old, "deny") == "deny" else Verdict(MEDIUM, "unknown tags now denied")


def _demotion(d: Delta, ctx: Ctx) -> Verdict:
    """``demoteOnIncident.to``: its removal is the removal of the demotion (the walk reports the leaves)."""
    if d.op is Op.REMOVED:
        return Verdict(HIGH, "automatic demotion on incidents removed: an incident no longer lowers autonomy")
    if d.op is Op.ADDED:
        return Verdict(MEDIUM, f"incidents now demote to {brief(d.new)} (tighter)")
    return Verdict(MEDIUM, f"incidents now demote to {brief(d.new)} instead of {brief(d.old)}")


APPROVALS: Final[Rules] = (
    ("spec.approvals.required", falls("required approvals", HIGH)),
    ("spec.approvals.roles", fixed(MEDIUM, "approver roles changed: {e} {op}")),
)
"""``spec.approvals`` of an AutonomyLevel or a Rollout."""

AUTONOMY_LEVEL: Final[Rules] = (
    ("spec.level", rises("autonomy level", HIGH, missing_loose=False)),
    (
        "spec.allowedWithoutApproval",
        set_rule(Op.ADDED, "{e} may now run without approval", "{e} no longer runs without approval (tighter)"),
    ),
    ("spec.requiresApproval", _requires_approval),
    *APPROVALS,
    (
        "spec.approvals.distinctApprovers",
        flag(
            False,
            True,
            "distinct approvers turned off: one person may give every approval",
            "distinct approvers turned on (tighter)",
        ),
    ),
    ("spec.approvals.expiresAfter", rises("approval lifetime", MEDIUM)),
    ("spec.promotion.minEvalPassRate", falls("eval pass rate needed for promotion", HIGH)),
    ("spec.promotion.minRunsAtLowerLevel", falls("runs needed at the lower level", HIGH)),
    ("spec.promotion.maxIncidents", rises("incidents tolerated for promotion", HIGH)),
)

POLICY: Final[Rules] = (
    ("spec.demoteOnIncident.atOrAbove", rises("level an incident demotes from", HIGH)),
    ("spec.demoteOnIncident.to", _demotion),
    ("spec.unknownTags", _unknown_tags),
    ("spec.apiKeyEnv*", fixed(HIGH, "the environment variables a provider key may be read from changed")),
    (
        "spec.taxonomy.tags[]",
        item(
            removed=(MEDIUM, "tag '{key}' removed from the taxonomy: requests carrying it are now denied as unknown"),
            added=(MEDIUM, "tag '{key}' added to the taxonomy"),
        ),
    ),
    *data_requirements(
        "spec.taxonomy.tags[].allow",
        jurisdictions=(
            "tag '{key}' may now go to jurisdiction {e}",
            "tag '{key}' may no longer go to {e} (tighter)",
            "tag '{key}' no longer restricts jurisdictions",
        ),
        retention="retention allowed for tag '{key}'",
        training=(
            "tag '{key}' may now go to providers that train on data",
            "tag '{key}' no longer goes to providers that train on data (tighter)",
        ),
    ),
    (
        "spec.taxonomy.jurisdictions[]",
        item(
            removed=(MEDIUM, "jurisdiction '{key}' removed from the taxonomy"),
            added=(MEDIUM, "jurisdiction '{key}' added to the taxonomy"),
        ),
    ),
    (
        "spec.rules[]",
        item(
            removed=(HIGH, "policy rule '{key}' removed: what it guarded is no longer checked"),
            added=(MEDIUM, "policy rule '{key}' added (tighter)"),
        ),
    ),
    ("spec.rules[].effect", ranked(("warn", "require-approval", "deny"), "effect of policy rule '{key}'")),
    (
        "spec.rules[].when",
        fixed(MEDIUM, "condition of policy rule '{key}' changed: check it still matches what it should"),
    ),
    (
        "spec.budgets[]",
        item(
            removed=(HIGH, "budget '{key}' removed: spend under it is no longer capped"),
            added=(MEDIUM, "budget '{key}' added (tighter)"),
        ),
    ),
    ("spec.budgets[].limitUsd", rises("limit of budget '{key}'", HIGH)),
    (
        "spec.budgets[].onExceed",
        ranked(("alert", "downgrade", "block"), "what budget '{key}' does when exceeded", default="block"),
    ),
    (
        "spec.budgets[].period",
        ranked(("month", "week", "day", "hour"), "period of budget '{key}'", why=": the same limit covers more time"),
    ),
    (
        "spec.freezeWindows[]",
        item(
            removed=(HIGH, "freeze window '{key}' removed: changes are allowed in that period"),
            added=(MEDIUM, "freeze window '{key}' added (tighter)"),
        ),
    ),
    (
        "spec.freezeWindows[].applies",
        set_rule(
            Op.REMOVED,
            "freeze window '{key}' no longer blocks {e}",
            "freeze window '{key}' now also blocks {e} (tighter)",
        ),
    ),
    ("spec.freezeWindows[].reason", fixed(LOW, "reason of freeze window '{key}' {op}")),
    ("spec.freezeWindows[].*", fixed(MEDIUM, "freeze window '{key}' changed: {leaf} from {old} to {new}")),
    (
        "spec.killSwitch.engaged",
        flag(
            False,
            False,
            "kill switch disengaged: traffic flows again",
            "kill switch engaged: traffic on its routes stops",
        ),
    ),
    ("spec.killSwitch.routes", _kill_routes),
    (
        "spec.dualControl[]",
        item(
            removed=(HIGH, "dual control '{key}' removed: one person may now do what needed two"),
            added=(MEDIUM, "dual control '{key}' added (tighter)"),
        ),
    ),
    ("spec.dualControl[].approvers", falls("approvers required by dual control '{key}'", HIGH)),
    (
        "spec.dualControl[].distinctApprovers",
        flag(
            False,
            True,
            "dual control '{key}' no longer needs distinct approvers",
            "dual control '{key}' now needs distinct approvers (tighter)",
        ),
    ),
    (
        "spec.dualControl[].requesterMayApprove",
        flag(
            True,
            False,
            "the requester may now approve their own '{key}' request",
            "the requester may no longer approve their own '{key}' request (tighter)",
        ),
    ),
    ("spec.dualControl[].expiresAfter", rises("approval lifetime of dual control '{key}'", MEDIUM)),
)
