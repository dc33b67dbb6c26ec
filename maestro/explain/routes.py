"""Explaining a Route: who serves it, in what order, under which rules, and what happens on failure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from maestro.explain.model import Explanation, Section, money, pct
from maestro.manifests.checks import Taxonomy
from maestro.manifests.loader import Document, ManifestSet


def explain_route(manifests: ManifestSet, route: Document) -> Explanation:
    spec = route.spec
    candidates = spec["candidates"]
    total = sum(c.get("weight", 1) for c in candidates)
    chain = _chain(manifests, route)
    sections = [
        Section(
            "Candidates (weighted split)",
            tuple(
                f"{c['provider']}/{c['model']}: {pct(c.get('weight', 1), total)} of traffic{_facts(manifests, c)}"
                for c in candidates
            ),
        ),
        Section("Rules and policies", _restrictions(manifests, route)),
        Section("When a provider fails", _failures(chain)),
    ]
    if spec.get("pins"):
        sections.insert(
            1,
            Section(
                "Pins (checked first)",
                tuple(
                    f"when `{p['when']}`: always {p['target']['provider']}/{p['target']['model']} ({p['name']})"
                    for p in spec["pins"]
                ),
            ),
        )
    sections.append(Section("Choosing among candidates", _objective(spec)))
    if spec.get("shadow"):
        sections.append(
            Section(
                "Shadow traffic (recorded, never served)",
                tuple(
                    f"{s['provider']}/{s['model']} receives a copy of {pct(s.get('sampleRate', 1), 1)} of requests"
                    for s in spec["shadow"]
                ),
            )
        )
    return Explanation(
        route.ref,
        route.file,
        route.line,
        f"Route '{route.name}' serves clients that ask for model '{spec['alias']}': "
        f"{len(candidates)} candidate(s), then {len(chain) - len(candidates)} fallback(s).",
        tuple(sections),
        {
            "alias": spec["alias"],
            "order": chain,
            "candidates": candidates,
            "fallback": spec.get("fallback", []),
        },
        _mermaid(route, chain),
    )


def _facts(manifests: ManifestSet, pair: Mapping[str, Any]) -> str:
    provider = manifests.get("Provider", pair["provider"])
    if provider is None:
        return ""
    model = next((m for m in provider.spec["models"] if m["name"] == pair["model"]), None)
    price = (
        f", {money(model['price']['inputPer1M'])}/{money(model['price']['outputPer1M'])} per 1M in/out" if model else ""
    )
    return f" (jurisdiction {provider.spec['jurisdiction']}{price})"


def _chain(manifests: ManifestSet, route: Document) -> list[str]:
    """Candidates by weight, then fallbacks in order (a route fallback expands to its own chain)."""
    order = [
        f"{c['provider']}/{c['model']}" for c in sorted(route.spec["candidates"], key=lambda c: -c.get("weight", 1))
    ]
    seen_routes = {route.name}
    for entry in route.spec.get("fallback", []):
        if "provider" in entry:
            order.append(f"{entry['provider']}/{entry['model']}")
            continue
        target = manifests.get("Route", entry["route"])
        if target is None or target.name in seen_routes:
            continue
        seen_routes.add(target.name)
        order.extend(x for x in _chain(manifests, target) if x not in order)
    return list(dict.fromkeys(order))


def _restrictions(manifests: ManifestSet, route: Document) -> tuple[str, ...]:
    lines = [_rule_line(rule) for rule in route.spec.get("rules", [])]
    taxonomy = Taxonomy.of(manifests)
    restricted = sorted(t for t, d in taxonomy.tags.items() if d.get("allow"))
    if restricted:
        lines.append(f"{len(restricted)} tag(s) of the taxonomy restrict where data may go; unknown tags are denied")
    for policy in manifests.of_kind("Policy"):
        lines.extend(_policy_lines(policy, route))
    limits = route.spec.get("limits", {})
    if "maxCostUsd" in limits:
        lines.append(f"a request may cost at most {money(limits['maxCostUsd'])}; dearer candidates are skipped")
    if "maxLatency" in limits:
        lines.append(f"candidates slower than {limits['maxLatency']} are skipped")
    return tuple(lines) or ("no rules: every tag in the taxonomy applies as written",)


def _rule_line(rule: Mapping[str, Any]) -> str:
    if rule.get("deny"):
        return f"when `{rule['when']}`: the request is denied ({rule['name']})"
    need = rule.get("require", {})
    parts = []
    if "jurisdictions" in need:
        parts.append("jurisdiction in " + ", ".join(need["jurisdictions"]))
    if "maxRetentionDays" in need:
        parts.append(f"retention at most {need['maxRetentionDays']} days")
    if need.get("trainingUse") is False:
        parts.append("no training on data")
    return f"when `{rule['when']}`: only providers with {' and '.join(parts) or 'no limit'} ({rule['name']})"


def _policy_lines(policy: Document, route: Document) -> list[str]:
    lines = []
    kill = policy.spec.get("killSwitch", {})
    if kill.get("engaged") and (not kill.get("routes") or route.name in kill["routes"]):
        lines.append(f"KILL SWITCH ENGAGED by {policy.ref}: every request is answered 503")
    for budget in policy.spec.get("budgets", []):
        if budget["scope"].get("route") == route.name:
            then = budget.get("onExceed", "block")
            lines.append(f"budget '{budget['name']}': {money(budget['limitUsd'])} per {budget['period']}, then {then}")
    return lines


def _failures(chain: list[str]) -> tuple[str, ...]:
    lines = []
    for i, step in enumerate(chain):
        nxt = chain[i + 1] if i + 1 < len(chain) else None
        then = f"the request moves on to {nxt}" if nxt else "the caller gets a 503 that lists why each was unavailable"
        lines.append(f"if {step} fails (5xx, timeout, 429, connection error): {then}")
    lines.append("caller faults (other 4xx) are returned as they are and never move the request on")
    return tuple(lines)


def _objective(spec: Mapping[str, Any]) -> tuple[str, ...]:
    objective = spec.get("objective")
    if not objective:
        return ("no objective: traffic follows the weights alone",)
    weights = ", ".join(f"{k} {v:g}" for k, v in objective.items())
    return (f"allowed candidates are scored on {weights}",)


def _mermaid(route: Document, chain: list[str]) -> str:
    lines = ["flowchart LR", f'  client(["model: {route.spec["alias"]}"])']
    candidates = {f"{c['provider']}/{c['model']}" for c in route.spec["candidates"]}
    for i, step in enumerate(chain):
        lines.append(f'  n{i}["{step}"]')
        if step in candidates:
            lines.append(f"  client --> n{i}")
        if i:
            lines.append(f"  n{i - 1} -. fails .-> n{i}")
    return "\n".join(lines) + "\n"
