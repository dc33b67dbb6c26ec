"""The routing table: manifests compiled once into what a decision needs, so a decision does no parsing."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import cel

from maestro.errors import MaestroError
from maestro.manifests.checks import Taxonomy
from maestro.manifests.durations import milliseconds, seconds
from maestro.manifests.kinds.policy import Budget as PolicyBudget
from maestro.manifests.kinds.policy import Policy
from maestro.manifests.kinds.provider import Provider
from maestro.manifests.kinds.rollout import Rollout
from maestro.manifests.kinds.route import Route, Target
from maestro.manifests.loader import Document, ManifestSet
from maestro.manifests.requirements import ProviderFacts, Requirement
from maestro.policy.allow import PolicyBook


class RouterError(MaestroError):
    """A request the router cannot decide on: an unknown alias, a malformed request."""


@dataclass(frozen=True, slots=True)
class Deployment:
    """One provider/model pair with the facts a decision reads."""

    key: str
    provider: ProviderFacts
    model: str
    context_window: int
    price_in: float
    price_out: float
    quality: float
    max_output_tokens: int | None = None  # the model's maxOutputTokens, when its Provider declares one

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        return (input_tokens * self.price_in + output_tokens * self.price_out) / 1_000_000


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    program: Any
    requirement: Requirement | None
    deny: bool


@dataclass(frozen=True, slots=True)
class Pin:
    name: str
    program: Any
    target: Deployment


@dataclass(frozen=True, slots=True)
class Budget:
    """A Policy's spending limit per ``period`` over one scope: a route, a team or a gateway key."""

    name: str
    limit_usd: float
    period: str  # hour, day, week, month
    on_exceed: str  # block, downgrade, alert
    route: str | None = None
    team: str | None = None
    api_key: str | None = None

    def applies(self, route: str, team: str, api_key: str) -> bool:
        return (
            (self.route is not None and self.route == route)
            or (self.team is not None and self.team == team)
            or (self.api_key is not None and self.api_key == api_key)
        )


@dataclass(frozen=True, slots=True)
class RouteSettings:
    """A route's resilience settings: retries of the whole order, backoff, the first-token deadline, hedging."""

    retries: int = 0
    backoff_s: float = 0.25
    first_token_s: float | None = None
    hedge_after_s: float | None = None  # send a copy to the next deployment after this long without a token
    hedge_max_cost_usd: float = 0.0  # the most that copy may cost (estimated)
    # the panic threshold (after Envoy's): when at least this share of the route's allowed deployments have an
    # open circuit, the circuits are ignored and the open ones are tried after the others (0 turns panic off)
    panic_threshold: float = 0.5


@dataclass(frozen=True)
class RouteTable:
    name: str
    alias: str
    candidates: tuple[tuple[Deployment, int], ...]
    fallback: tuple[Deployment, ...]
    pins: tuple[Pin, ...]
    rules: tuple[Rule, ...]
    shadow: tuple[tuple[Deployment, float], ...]
    objective: Mapping[str, float]
    max_cost_usd: float | None
    max_latency_ms: float | None
    version: str
    universe: tuple[Deployment, ...] = ()  # every deployment the route could use, each once, in order
    settings: RouteSettings = RouteSettings()
    sticky: str = ""  # caller or session: a Rollout of this route asks its split to keep each key on one side


@dataclass(frozen=True)
class RouterTable:
    routes: Mapping[str, RouteTable]  # by alias
    policy: PolicyBook
    sovereignty: Mapping[str, float]  # by provider: the share of taxonomy tags that allow it
    kill_all: bool
    kill_routes: frozenset[str]
    budgets: tuple[Budget, ...]
    versions: Mapping[str, str]
    deployments: Mapping[str, Deployment] = field(default_factory=dict)
    # provider name -> its policy class: providers in one class look the same to every tag requirement,
    # route requirement and deny rule (same jurisdiction, retention, training use and the fields the deny
    # rules read), so a decision judges each class once instead of each provider
    policy_class: Mapping[str, int] = field(default_factory=dict)

    def route(self, alias: str) -> RouteTable:
        table = self.routes.get(alias)
        if table is None:
            known = ", ".join(sorted(self.routes)) or "none"
            raise RouterError(f"no route serves model '{alias}'; known aliases: {known}")
        return table


def content_hash(doc: Document) -> str:
    text = json.dumps(doc.data, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def build(manifests: ManifestSet) -> RouterTable:
    """Compile the routes and policies of a validated manifest set."""
    deployments = _deployments(manifests)
    taxonomy = Taxonomy.of(manifests)
    policies = manifests.records(Policy)
    book = PolicyBook.of(taxonomy, policies)
    routes = {}
    for doc in manifests.of_kind("Route"):
        route: Route = doc.record
        routes[route.alias] = _route(manifests, route, content_hash(doc), deployments)
    sovereignty = _sovereignty(book, deployments)
    kill_all = any(p.kill_engaged and not p.kill_routes for p in policies)
    kill_routes = frozenset(name for p in policies if p.kill_engaged for name in p.kill_routes)
    budgets = tuple(_budget(b) for p in policies for b in p.budgets)
    versions = {d.ref: content_hash(d) for d in manifests.documents if d.kind in ("Policy", "Route", "Provider")}
    classes = _policy_classes(book, deployments)
    return RouterTable(routes, book, sovereignty, kill_all, kill_routes, budgets, versions, deployments, classes)


def _policy_classes(book: PolicyBook, deployments: Mapping[str, Deployment]) -> dict[str, int]:
    fields = sorted({f for rule in book.deny_rules for f in rule.provider_fields})
    ids: dict[tuple[Any, ...], int] = {}
    out = {}
    for d in deployments.values():
        facts = d.provider
        cel_view = facts.as_cel()
        key = (facts.jurisdiction, facts.retention_days, facts.training_use, *(cel_view.get(f) for f in fields))
        out[facts.name] = ids.setdefault(key, len(ids))
    return out


def _deployments(manifests: ManifestSet) -> dict[str, Deployment]:
    out = {}
    for provider in manifests.records(Provider):
        facts = provider.facts
        for m in provider.models:
            key = f"{provider.name}/{m.name}"
            out[key] = Deployment(
                key,
                facts,
                m.name,
                m.context_window,
                m.price_in,
                m.price_out,
                0.5 if m.quality is None else m.quality,
                m.max_output_tokens,
            )
    return out


def _pair(deployments: Mapping[str, Deployment], target: Target, route: str) -> Deployment:
    key = target.key
    if key not in deployments:
        raise RouterError(f"route '{route}' names {key}, which no Provider offers; run `maestro validate`")
    return deployments[key]


def _route(manifests: ManifestSet, route: Route, version: str, deployments: Mapping[str, Deployment]) -> RouteTable:
    rules = tuple(Rule(r.name, cel.compile(r.when), r.requirement, r.deny) for r in route.rules)
    table = RouteTable(
        route.name,
        route.alias,
        tuple((_pair(deployments, c, route.name), c.weight) for c in route.candidates),
        tuple(_fallbacks(manifests, route, deployments, {route.name})),
        tuple(Pin(p.name, cel.compile(p.when), _pair(deployments, p.target, route.name)) for p in route.pins),
        rules,
        tuple((_pair(deployments, s, route.name), s.sample_rate) for s in route.shadow),
        dict(route.objective),
        route.max_cost_usd,
        float(milliseconds(route.max_latency)) if route.max_latency is not None else None,
        version,
        settings=_settings(route),
        sticky=next(
            (
                r.stickiness
                for r in manifests.records(Rollout)
                if r.target_kind == "Route" and r.target_name == route.name and r.stickiness
            ),
            "",
        ),
    )
    every = [d for d, _ in table.candidates] + [p.target for p in table.pins] + list(table.fallback)
    every += [d for d, _ in table.shadow]
    return dataclasses.replace(table, universe=tuple({d.key: d for d in every}.values()))


def _fallbacks(
    manifests: ManifestSet, route: Route, deployments: Mapping[str, Deployment], seen: set[str]
) -> list[Deployment]:
    """The fallback chain with route references expanded in place (each route once)."""
    out: list[Deployment] = []
    for entry in route.fallback:
        if entry.target is not None:
            out.append(_pair(deployments, entry.target, route.name))
            continue
        doc = manifests.get("Route", entry.route or "")
        if doc is None or doc.name in seen:
            continue
        target: Route = doc.record
        seen.add(target.name)
        out.extend(_pair(deployments, c, target.name) for c in target.candidates)
        out.extend(_fallbacks(manifests, target, deployments, seen))
    return out


def _sovereignty(book: PolicyBook, deployments: Mapping[str, Deployment]) -> dict[str, float]:
    providers = {d.provider.name: d.provider for d in deployments.values()}
    total = len(book.tag_requirements) or 1
    return {
        name: sum(1 for r in book.tag_requirements.values() if not r.violations(facts)) / total
        for name, facts in providers.items()
    }


def _settings(route: Route) -> RouteSettings:
    return RouteSettings(
        retries=route.retries,
        backoff_s=seconds(route.backoff) if route.backoff is not None else 0.25,
        first_token_s=seconds(route.first_token_timeout) if route.first_token_timeout is not None else None,
        hedge_after_s=seconds(route.hedge_after) if route.hedge_after is not None else None,
        hedge_max_cost_usd=route.hedge_max_cost_usd,
        panic_threshold=route.panic_threshold,
    )


def _budget(b: PolicyBudget) -> Budget:
    return Budget(b.name, b.limit_usd, b.period, b.on_exceed, b.route, b.team, b.api_key)
