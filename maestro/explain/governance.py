"""Explaining Policies and AutonomyLevels: where each tag's data may go, and what needs whose approval."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from maestro.explain.model import Explanation, Section, money
from maestro.manifests.autonomy import Permission
from maestro.manifests.checks import Taxonomy
from maestro.manifests.kinds.agent import Agent
from maestro.manifests.kinds.autonomylevel import AutonomyLevel
from maestro.manifests.kinds.pipeline import Pipeline
from maestro.manifests.kinds.policy import FreezeWindow, Policy
from maestro.manifests.kinds.provider import Provider
from maestro.manifests.loader import Document, ManifestSet
from maestro.policy.allow import PolicyBook, request_view


def explain_policy(manifests: ManifestSet, doc: Document) -> Explanation:
    policy: Policy = doc.record
    taxonomy = Taxonomy.of(manifests)
    book = PolicyBook.of(taxonomy, manifests.records(Policy))
    facts = [p.facts for p in manifests.records(Provider)]
    reach: dict[str, list[str]] = {}
    lines = []
    for tag in policy.tags:
        view = request_view([tag.name])
        allowed = [f.name for f in facts if not book.judge(f, [tag.name], view)]
        reach[tag.name] = allowed
        lines.append(f"{tag.name} ({tag.tag_class}): {', '.join(allowed) or 'no provider'}")
    sections = [
        Section("Which providers each tag may reach", tuple(lines) or ("this policy defines no tags",)),
        Section("Unknown tags", ("denied: a request with a tag outside the taxonomy reaches no provider",)),
    ]
    if policy.rules:
        sections.append(Section("Rules", tuple(f"{r.name}: {r.effect} when `{r.when}`" for r in policy.rules)))
    if policy.budgets:
        sections.append(
            Section(
                "Budgets",
                tuple(
                    f"{b.name}: {money(b.limit_usd)} per {b.period} for {_scope(b.scope)}, then {b.on_exceed}"
                    for b in policy.budgets
                ),
            )
        )
    if policy.freeze_windows:
        sections.append(Section("Freeze windows", tuple(_freeze(w) for w in policy.freeze_windows)))
    state = "ENGAGED" if policy.kill_engaged else "not engaged"
    scope = ", ".join(policy.kill_routes) or "all routes"
    sections.append(Section("Kill switch", (f"{state} ({scope})",)))
    sections.append(Section("Demotion on incident", (_demotion(policy),)))
    if policy.dual_control:
        sections.append(
            Section(
                "Dual control",
                tuple(
                    f"{d.action}: {d.approvers} distinct approvers, never the requester" for d in policy.dual_control
                ),
            )
        )
    return Explanation(
        doc.ref,
        doc.file,
        doc.line,
        f"Policy '{policy.name}' defines {len(reach)} tag(s); each tag limits the providers a request may reach.",
        tuple(sections),
        {
            "reach": reach,
            "unknownTags": "deny",
            "demoteOnIncident": (
                {"atOrAbove": policy.demotion.at_or_above, "to": policy.demotion.to} if policy.demotion else None
            ),
        },
    )


def _demotion(policy: Policy) -> str:
    if policy.demotion is None:
        return "none: an incident never demotes an agent or pipeline on its own"
    d = policy.demotion
    return f"an incident at level {d.at_or_above} or above demotes the agent or pipeline to {d.to} (a ledger entry)"


def _scope(scope: Mapping[str, str]) -> str:
    return ", ".join(f"{k} {v}" for k, v in scope.items())


def _freeze(window: FreezeWindow) -> str:
    if window.cron is not None:  # recurring
        return f"{window.name}: from each '{window.cron}' ({window.time_zone}) for {window.duration}"
    now = datetime.now(UTC)
    try:
        start = datetime.fromisoformat(str(window.start).replace("Z", "+00:00"))
        end = datetime.fromisoformat(str(window.end).replace("Z", "+00:00"))
        active = " (ACTIVE NOW)" if start.tzinfo and start <= now <= end else ""
    except ValueError:
        active = ""
    applies = ", ".join(window.applies) or "all changes"
    return f"{window.name}: {window.start} to {window.end}, blocks {applies}{active}"


def explain_level(manifests: ManifestSet, doc: Document) -> Explanation:
    level: AutonomyLevel = doc.record
    grouped = level.actions_by_permission()
    free, gated, forbidden = grouped[Permission.FREE], grouped[Permission.NEEDS_APPROVAL], grouped[Permission.FORBIDDEN]
    required = level.approvals_required
    who = f"{required} approver(s)" + (", all distinct" if level.distinct_approvers and required > 1 else "")
    if level.approver_roles:
        who += f" with role {', '.join(level.approver_roles)}"
    if level.approval_expires_after is not None:
        who += f"; an approval expires after {level.approval_expires_after}"
    sections = [
        Section("Without approval", (", ".join(free) or "nothing",)),
        Section("Needs approval", (f"{', '.join(gated)}: {who}" if gated else "nothing",)),
        Section("Forbidden (in neither list)", (", ".join(forbidden) or "nothing",)),
    ]
    higher = [d for d in manifests.records(AutonomyLevel) if d.level == level.level + 1]
    if higher and higher[0].promotion:
        promo = higher[0].promotion
        needs = [f"{k} {v}" for k, v in promo.items() if k != "evidence"] + list(promo.get("evidence", []))
        sections.append(Section(f"To move up to {higher[0].name}", tuple(needs)))
    actors = [a.ref for a in _actors(manifests) if a.autonomy_level == level.name]
    sections.append(Section("Acting at this level", tuple(actors) or ("no agent or pipeline",)))
    return Explanation(
        doc.ref,
        doc.file,
        doc.line,
        f"At {level.name} (level {level.level}) an actor may {', '.join(free) or 'do nothing'} on its own"
        + (f"; {', '.join(gated)} need {who.split(';')[0]}" if gated else "")
        + (f"; {', '.join(forbidden)} are forbidden." if forbidden else "."),
        tuple(sections),
        {
            "level": level.level,
            "withoutApproval": free,
            "needsApproval": gated,
            "forbidden": forbidden,
            "approvers": required,
        },
    )


def _actors(manifests: ManifestSet) -> list[Agent | Pipeline]:
    """Agents and pipelines in document order."""
    return [d.record for d in manifests.documents if isinstance(d.record, Agent | Pipeline)]
