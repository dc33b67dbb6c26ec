"""Explaining Policies and AutonomyLevels: where each tag's data may go, and what needs whose approval."""

from __future__ import annotations

from datetime import UTC, datetime

from maestro.explain.model import Explanation, Section, money
from maestro.manifests.autonomy import Permission, actions_by_permission
from maestro.manifests.checks import Taxonomy
from maestro.manifests.loader import Document, ManifestSet
from maestro.manifests.requirements import ProviderFacts
from maestro.policy.allow import PolicyBook, request_view


def explain_policy(manifests: ManifestSet, policy: Document) -> Explanation:
    taxonomy = Taxonomy.of(manifests)
    book = PolicyBook.of(taxonomy, manifests.of_kind("Policy"))
    facts = [ProviderFacts.of(p.name, p.spec) for p in manifests.of_kind("Provider")]
    reach: dict[str, list[str]] = {}
    lines = []
    for tag in policy.spec.get("taxonomy", {}).get("tags", []):
        view = request_view([tag["name"]])
        allowed = [f.name for f in facts if not book.judge(f, [tag["name"]], view)]
        reach[tag["name"]] = allowed
        lines.append(f"{tag['name']} ({tag['class']}): {', '.join(allowed) or 'no provider'}")
    sections = [
        Section("Which providers each tag may reach", tuple(lines) or ("this policy defines no tags",)),
        Section("Unknown tags", ("denied: a request with a tag outside the taxonomy reaches no provider",)),
    ]
    spec = policy.spec
    if spec.get("rules"):
        sections.append(
            Section("Rules", tuple(f"{r['name']}: {r['effect']} when `{r['when']}`" for r in spec["rules"]))
        )
    if spec.get("budgets"):
        sections.append(
            Section(
                "Budgets",
                tuple(
                    f"{b['name']}: {money(b['limitUsd'])} per {b['period']} for {_scope(b['scope'])}, "
                    f"then {b.get('onExceed', 'block')}"
                    for b in spec["budgets"]
                ),
            )
        )
    if spec.get("freezeWindows"):
        sections.append(Section("Freeze windows", tuple(_freeze(w) for w in spec["freezeWindows"])))
    kill = spec.get("killSwitch", {})
    state = "ENGAGED" if kill.get("engaged") else "not engaged"
    scope = ", ".join(kill.get("routes", [])) or "all routes"
    sections.append(Section("Kill switch", (f"{state} ({scope})",)))
    if spec.get("dualControl"):
        sections.append(
            Section(
                "Dual control",
                tuple(
                    f"{d['action']}: {d['approvers']} distinct approvers, never the requester"
                    for d in spec["dualControl"]
                ),
            )
        )
    return Explanation(
        policy.ref,
        policy.file,
        policy.line,
        f"Policy '{policy.name}' defines {len(reach)} tag(s); each tag limits the providers a request may reach.",
        tuple(sections),
        {"reach": reach, "unknownTags": "deny"},
    )


def _scope(scope: dict[str, str]) -> str:
    return ", ".join(f"{k} {v}" for k, v in scope.items())


def _freeze(window: dict[str, str]) -> str:
    if "cron" in window:  # recurring
        zone = window.get("timeZone", "UTC")
        return f"{window['name']}: from each '{window['cron']}' ({zone}) for {window['duration']}"
    now = datetime.now(UTC)
    try:
        start = datetime.fromisoformat(str(window["start"]).replace("Z", "+00:00"))
        end = datetime.fromisoformat(str(window["end"]).replace("Z", "+00:00"))
        active = " (ACTIVE NOW)" if start.tzinfo and start <= now <= end else ""
    except ValueError:
        active = ""
    applies = ", ".join(window.get("applies", [])) or "all changes"
    return f"{window['name']}: {window['start']} to {window['end']}, blocks {applies}{active}"


def explain_level(manifests: ManifestSet, level: Document) -> Explanation:
    spec = level.spec
    grouped = actions_by_permission(spec)
    free, gated, forbidden = grouped[Permission.FREE], grouped[Permission.NEEDS_APPROVAL], grouped[Permission.FORBIDDEN]
    approvals = spec.get("approvals", {})
    required = approvals.get("required", 0)
    who = f"{required} approver(s)" + (
        ", all distinct" if approvals.get("distinctApprovers", True) and required > 1 else ""
    )
    if approvals.get("roles"):
        who += f" with role {', '.join(approvals['roles'])}"
    if "expiresAfter" in approvals:
        who += f"; an approval expires after {approvals['expiresAfter']}"
    sections = [
        Section("Without approval", (", ".join(free) or "nothing",)),
        Section("Needs approval", (f"{', '.join(gated)}: {who}" if gated else "nothing",)),
        Section("Forbidden (in neither list)", (", ".join(forbidden) or "nothing",)),
    ]
    higher = [d for d in manifests.of_kind("AutonomyLevel") if d.spec["level"] == spec["level"] + 1]
    if higher and higher[0].spec.get("promotion"):
        promo = higher[0].spec["promotion"]
        needs = [f"{k} {v}" for k, v in promo.items() if k != "evidence"] + list(promo.get("evidence", []))
        sections.append(Section(f"To move up to {higher[0].name}", tuple(needs)))
    actors = [
        d.ref
        for d in manifests.documents
        if d.kind in ("Agent", "Pipeline") and d.spec.get("autonomyLevel") == level.name
    ]
    sections.append(Section("Acting at this level", tuple(actors) or ("no agent or pipeline",)))
    return Explanation(
        level.ref,
        level.file,
        level.line,
        f"At {level.name} (level {spec['level']}) an actor may {', '.join(free) or 'do nothing'} on its own"
        + (f"; {', '.join(gated)} need {who.split(';')[0]}" if gated else "")
        + (f"; {', '.join(forbidden)} are forbidden." if forbidden else "."),
        tuple(sections),
        {
            "level": spec["level"],
            "withoutApproval": free,
            "needsApproval": gated,
            "forbidden": forbidden,
            "approvers": required,
        },
    )
