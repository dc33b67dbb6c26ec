"""Explaining a Route: who serves it, in what order, under which rules, and what happens on failure."""

from __future__ import annotations

from maestro.explain.model import Explanation, Section, money, pct
from maestro.manifests.checks import Taxonomy
from maestro.manifests.kinds.policy import Policy
from maestro.manifests.kinds.provider import Provider
from maestro.manifests.kinds.route import Route, Rule, Target
from maestro.manifests.loader import Document, ManifestSet


def explain_route(manifests: ManifestSet, doc: Document) -> Explanation:
    route: Route = doc.record
    candidates = route.candidates
    total = sum(c.weight for c in candidates)
    chain = _chain(manifests, route)
    sections = [
        Section(
            "Candidates (weighted split)",
            tuple(f"{c.key}: {pct(c.weight, total)} of traffic{_facts(manifests, c)}" for c in candidates),
        ),
        Section("Rules and policies", _restrictions(manifests, route)),
        Section("When a provider fails", _failures(chain)),
    ]
    if route.pins:
        sections.insert(
            1,
            Section(
                "Pins (checked first)",
                tuple(f"when `{p.when}`: always {p.target.key} ({p.name})" for p in route.pins),
            ),
        )
    sections.append(Section("Choosing among candidates", _objective(route)))
    if route.shadow:
        sections.append(
            Section(
                "Shadow traffic (recorded, never served)",
                tuple(f"{s.key} receives a copy of {pct(s.sample_rate, 1)} of requests" for s in route.shadow),
            )
        )
    return Explanation(
        doc.ref,
        doc.file,
        doc.line,
        f"Route '{route.name}' serves clients that ask for model '{route.alias}': "
        f"{len(candidates)} candidate(s), then {len(chain) - len(candidates)} fallback(s).",
        tuple(sections),
        {
            "alias": route.alias,
            "order": chain,
            "candidates": [c.written for c in candidates],
            "fallback": [f.written for f in route.fallback],
        },
        _mermaid(route, chain),
    )


def _facts(manifests: ManifestSet, pair: Target) -> str:
    doc = manifests.get("Provider", pair.provider)
    if doc is None:
        return ""
    provider: Provider = doc.record
    model = provider.model(pair.model)
    price = f", {money(model.price_in)}/{money(model.price_out)} per 1M in/out" if model else ""
    return f" (jurisdiction {provider.jurisdiction}{price})"


def _chain(manifests: ManifestSet, route: Route) -> list[str]:
    """Candidates by weight, then fallbacks in order (a route fallback expands to its own chain)."""
    order = [c.key for c in sorted(route.candidates, key=lambda c: -c.weight)]
    seen_routes = {route.name}
    for entry in route.fallback:
        if entry.target is not None:
            order.append(entry.target.key)
            continue
        doc = manifests.get("Route", entry.route or "")
        if doc is None or doc.name in seen_routes:
            continue
        seen_routes.add(doc.name)
        order.extend(x for x in _chain(manifests, doc.record) if x not in order)
    return list(dict.fromkeys(order))


def _restrictions(manifests: ManifestSet, route: Route) -> tuple[str, ...]:
    lines = [_rule_line(rule) for rule in route.rules]
    taxonomy = Taxonomy.of(manifests)
    restricted = sorted(t for t, d in taxonomy.tags.items() if d.get("allow"))
    if restricted:
        lines.append(f"{len(restricted)} tag(s) of the taxonomy restrict where data may go; unknown tags are denied")
    for policy in manifests.records(Policy):
        lines.extend(_policy_lines(policy, route))
    if route.max_cost_usd is not None:
        lines.append(f"a request may cost at most {money(route.max_cost_usd)}; dearer candidates are skipped")
    if route.max_latency is not None:
        lines.append(f"candidates slower than {route.max_latency} are skipped")
    return tuple(lines) or ("no rules: every tag in the taxonomy applies as written",)


def _rule_line(rule: Rule) -> str:
    if rule.deny:
        return f"when `{rule.when}`: the request is denied ({rule.name})"
    need = rule.require
    parts = []
    if need is not None and need.jurisdictions is not None:
        parts.append("jurisdiction in " + ", ".join(need.jurisdictions))
    if need is not None and need.max_retention_days is not None:
        parts.append(f"retention at most {need.max_retention_days} days")
    if need is not None and need.training_use is False:
        parts.append("no training on data")
    return f"when `{rule.when}`: only providers with {' and '.join(parts) or 'no limit'} ({rule.name})"


def _policy_lines(policy: Policy, route: Route) -> list[str]:
    lines = []
    if policy.kill_engaged and (not policy.kill_routes or route.name in policy.kill_routes):
        lines.append(f"KILL SWITCH ENGAGED by {policy.ref}: every request is answered 503")
    for budget in policy.budgets:
        if budget.route == route.name:
            lines.append(
                f"budget '{budget.name}': {money(budget.limit_usd)} per {budget.period}, then {budget.on_exceed}"
            )
    return lines


def _failures(chain: list[str]) -> tuple[str, ...]:
    lines = []
    for i, step in enumerate(chain):
        nxt = chain[i + 1] if i + 1 < len(chain) else None
        then = f"the request moves on to {nxt}" if nxt else "the caller gets a 503 that lists why each was unavailable"
        lines.append(f"if {step} fails (5xx, timeout, 429, connection error): {then}")
    lines.append("caller faults (other 4xx) are returned as they are and never move the request on")
    return tuple(lines)


def _objective(route: Route) -> tuple[str, ...]:
    if not route.objective:
        return ("no objective: traffic follows the weights alone",)
    weights = ", ".join(f"{k} {v:g}" for k, v in route.objective.items())
    return (f"allowed candidates are scored on {weights}",)


def _mermaid(route: Route, chain: list[str]) -> str:
    lines = ["flowchart LR", f'  client(["model: {route.alias}"])']
    candidates = {c.key for c in route.candidates}
    for i, step in enumerate(chain):
        lines.append(f'  n{i}["{step}"]')
        if step in candidates:
            lines.append(f"  client --> n{i}")
        if i:
            lines.append(f"  n{i - 1} -. fails .-> n{i}")
    return "\n".join(lines) + "\n"
