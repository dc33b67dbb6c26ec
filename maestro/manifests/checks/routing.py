"""Whole-set checks for providers, routes and policies: references, fallbacks, jurisdictions, tags."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from maestro.manifests import windows
from maestro.manifests.checks.context import Checker
from maestro.manifests.loader import Document
from maestro.manifests.requirements import ProviderFacts, Requirement


def check_providers(c: Checker) -> None:
    for provider in c.manifests.of_kind("Provider"):
        c.jurisdiction(provider, ("spec", "jurisdiction"), provider.spec["jurisdiction"])


def check_policies(c: Checker) -> None:
    seen_tags: dict[str, Document] = {}
    seen_jurisdictions: dict[str, Document] = {}
    for policy in c.manifests.of_kind("Policy"):
        spec = policy.spec
        taxonomy = spec.get("taxonomy", {})
        for i, j in enumerate(taxonomy.get("jurisdictions", [])):
            _unique(c, policy, ("spec", "taxonomy", "jurisdictions", i, "name"), j["name"], seen_jurisdictions)
        for i, tag in enumerate(taxonomy.get("tags", [])):
            path = ("spec", "taxonomy", "tags", i)
            _unique(c, policy, (*path, "name"), tag["name"], seen_tags)
            for k, name in enumerate(tag.get("allow", {}).get("jurisdictions", [])):
                c.jurisdiction(policy, (*path, "allow", "jurisdictions", k), name)
        for i, rule in enumerate(spec.get("rules", [])):
            c.cel(policy, ("spec", "rules", i, "when"), rule["when"], "policy")
        for i, window in enumerate(spec.get("freezeWindows", [])):
            _freeze_window(c, policy, ("spec", "freezeWindows", i), window)
        for i, route in enumerate(spec.get("killSwitch", {}).get("routes", [])):
            c.ref(policy, ("spec", "killSwitch", "routes", i), "Route", route)
        for i, budget in enumerate(spec.get("budgets", [])):
            if "route" in budget.get("scope", {}):
                c.ref(policy, ("spec", "budgets", i, "scope", "route"), "Route", budget["scope"]["route"])


def _unique(c: Checker, doc: Document, path: tuple[str | int, ...], name: str, seen: dict[str, Document]) -> None:
    if name in seen:
        first = seen[name]
        c.report(
            doc,
            path,
            "policy.duplicate-tag",
            f"'{name}' is already defined in {first.file} ({first.ref}); remove one",
        )
    else:
        seen[name] = doc


def _freeze_window(c: Checker, doc: Document, path: tuple[str | int, ...], window: Mapping[str, Any]) -> None:
    if "cron" in window:  # a recurring window (maestro.manifests.windows reads it)
        try:
            windows.parse(window)
        except windows.WindowProblem as p:
            c.report(doc, (*path, p.key), "policy.freeze-window", str(p))
        return
    times = []
    for key in ("start", "end"):
        try:
            times.append(datetime.fromisoformat(str(window[key]).replace("Z", "+00:00")))
        except ValueError:
            c.report(
                doc,
                (*path, key),
                "policy.freeze-window",
                f"{key} is not an RFC 3339 time; write it like 2026-12-24T00:00:00Z",
            )
            return
    start, end = times
    if (start.tzinfo is None) != (end.tzinfo is None):
        c.report(
            doc,
            (*path, "end"),
            "policy.freeze-window",
            "start and end must both carry a time zone, or neither",
        )
    elif end <= start:
        c.report(
            doc,
            (*path, "end"),
            "policy.freeze-window",
            f"freeze window '{window['name']}' ends before it starts; swap start and end",
        )


def check_routes(c: Checker) -> None:
    aliases: dict[str, Document] = {}
    for route in c.manifests.of_kind("Route"):
        spec = route.spec
        alias = spec["alias"]
        if alias in aliases:
            c.report(
                route,
                ("spec", "alias"),
                "ref.alias",
                f"alias '{alias}' is already served by {aliases[alias].ref}; give one route another alias",
            )
        aliases.setdefault(alias, route)
        for i, candidate in enumerate(spec["candidates"]):
            c.provider_model(route, ("spec", "candidates", i), candidate)
        if all(candidate.get("weight", 1) == 0 for candidate in spec["candidates"]):
            c.report(
                route,
                ("spec", "candidates"),
                "route.weights",
                "every candidate has weight 0, so no request can be served; give one a weight above 0",
            )
        for i, pin in enumerate(spec.get("pins", [])):
            c.cel(route, ("spec", "pins", i, "when"), pin["when"], "request")
            c.provider_model(route, ("spec", "pins", i, "target"), pin["target"])
        for i, shadow in enumerate(spec.get("shadow", [])):
            c.provider_model(route, ("spec", "shadow", i), shadow)
        for i, rule in enumerate(spec.get("rules", [])):
            c.cel(route, ("spec", "rules", i, "when"), rule["when"], "request")
            for k, name in enumerate(rule.get("require", {}).get("jurisdictions", [])):
                c.jurisdiction(route, ("spec", "rules", i, "require", "jurisdictions", k), name)
        objective = spec.get("objective")
        if objective is not None and not any(objective.values()):
            c.report(
                route,
                ("spec", "objective"),
                "route.objective",
                "every objective weight is 0; give quality, latency, cost, reliability or sovereignty a weight",
            )
        _fallbacks(c, route)
    _fallback_cycles(c)


def _fallbacks(c: Checker, route: Document) -> None:
    spec = route.spec
    seen = {(x["provider"], x["model"]) for x in spec["candidates"]}
    for i, entry in enumerate(spec.get("fallback", [])):
        path = ("spec", "fallback", i)
        if "route" in entry:
            c.ref(route, (*path, "route"), "Route", entry["route"])
            continue
        pair = (entry["provider"], entry["model"])
        if pair in seen:
            c.report(
                route,
                path,
                "route.fallback-duplicate",
                f"{pair[0]}/{pair[1]} is already a candidate or an earlier fallback; remove it",
            )
        seen.add(pair)
        c.provider_model(route, path, entry)
    _jurisdiction_scope(c, route)


def reachable_providers(
    c: Checker, route: Document, via_fallback: bool
) -> list[tuple[tuple[str | int, ...], Document]]:
    """Providers a route can reach: (path of the entry, provider), following route fallbacks once each."""
    out: list[tuple[tuple[str | int, ...], Document]] = []
    providers = c.manifests.index("Provider")
    key = "fallback" if via_fallback else "candidates"
    entries = [(("spec", key, i), x) for i, x in enumerate(route.spec.get(key, []))]
    visited = {route.name}
    for path, entry in entries:
        if "provider" in entry:
            if entry["provider"] in providers:
                out.append((path, providers[entry["provider"]]))
            continue
        stack = [entry["route"]]
        while stack:
            name = stack.pop()
            target = c.manifests.get("Route", name)
            if target is None or name in visited:
                continue
            visited.add(name)
            for x in [*target.spec["candidates"], *target.spec.get("fallback", [])]:
                if "route" in x:
                    stack.append(x["route"])
                elif x["provider"] in providers:
                    out.append((path, providers[x["provider"]]))
    return out


def _jurisdiction_scope(c: Checker, route: Document) -> None:
    """Fallbacks may not reach a jurisdiction outside the route's scope, and each rule must stay satisfiable.

    A route's scope is the jurisdictions of its candidates plus those its rules require: a fallback exists to
    keep serving the same requests under the same rules, never to open a new place for data to go.
    """
    candidates = reachable_providers(c, route, via_fallback=False)
    fallbacks = reachable_providers(c, route, via_fallback=True)
    rules = route.spec.get("rules", [])
    scope = {p.spec["jurisdiction"] for _, p in candidates}
    for rule in rules:
        scope.update(rule.get("require", {}).get("jurisdictions", []))
    for path, provider in fallbacks:
        jurisdiction = provider.spec["jurisdiction"]
        if jurisdiction not in scope:
            c.report(
                route,
                path,
                "policy.fallback-widens",
                f"fallback reaches provider '{provider.name}' in jurisdiction '{jurisdiction}', outside this "
                f"route's scope ({', '.join(sorted(scope))}); remove it or allow '{jurisdiction}' in a rule",
            )
    everything = [ProviderFacts.of(p.name, p.spec) for _, p in candidates + fallbacks]
    for i, rule in enumerate(rules):
        if rule.get("deny"):
            continue
        requirement = Requirement.of(f"rule '{rule['name']}'", rule.get("require", {}))
        if all(requirement.violations(p) for p in everything):
            c.report(
                route,
                ("spec", "rules", i),
                "policy.no-allowed-candidate",
                f"rule '{rule['name']}' leaves no candidate or fallback that satisfies it, so matching requests "
                "are always denied; add an allowed provider, or write deny: true if that is the intent",
            )
    _tag_coverage(c, route, everything)


def _tag_coverage(c: Checker, route: Document, providers: list[ProviderFacts]) -> None:
    """Every data tag of the taxonomy should keep at least one allowed provider on the route.

    Tags of class ``jurisdiction`` are skipped: they ask for a place explicitly, and a route that serves another
    place is doing its job when it refuses them.
    """
    if not providers:
        return
    stranded = []
    for name, tag in c.taxonomy.tags.items():
        if tag.get("class") == "jurisdiction":
            continue
        requirement = Requirement.of(f"tag '{name}'", tag.get("allow", {}))
        if all(requirement.violations(p) for p in providers):
            stranded.append(name)
    if stranded:
        c.report(
            route,
            ("spec", "candidates"),
            "route.tag-unservable",
            f"requests tagged {', '.join(sorted(stranded))} can never be served by this route: its taxonomy rules "
            "deny every candidate and fallback; add an allowed fallback (e.g. an on-prem lane) or accept the denial",
        )


def _fallback_cycles(c: Checker) -> None:
    routes = c.manifests.index("Route")
    edges = {
        name: [(i, x["route"]) for i, x in enumerate(r.spec.get("fallback", [])) if "route" in x]
        for name, r in routes.items()
    }
    reported: set[frozenset[str]] = set()
    for start in routes:
        for cycle, index in _cycles_from(start, edges):
            key = frozenset(cycle)
            if key in reported:
                continue
            reported.add(key)
            c.report(
                routes[start],
                ("spec", "fallback", index, "route"),
                "route.fallback-cycle",
                f"fallbacks form a cycle: {' -> '.join([*cycle, cycle[0]])}; break it by removing one fallback",
            )


def _cycles_from(start: str, edges: Mapping[str, list[tuple[int, str]]]) -> list[tuple[list[str], int]]:
    """Cycles through ``start``, each with the index of start's fallback entry that begins it."""
    found = []
    for index, first in edges.get(start, []):
        stack: list[tuple[str, list[str]]] = [(first, [start])]
        seen: set[str] = set()
        while stack:
            node, trail = stack.pop()
            if node == start:
                found.append((trail, index))
                break
            if node in seen:
                continue
            seen.add(node)
            stack.extend((nxt, [*trail, node]) for _, nxt in edges.get(node, []))
    return found
