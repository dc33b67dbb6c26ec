"""The Route kind: which provider/model pairs serve an alias, and how a request picks among them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from maestro.manifests.checks.routing import check_routes
from maestro.manifests.diff.risk_routing import ROUTE
from maestro.manifests.kinds.base import KindEntry, Source
from maestro.manifests.requirements import Requirement


@dataclass(frozen=True, slots=True)
class Target:
    """A provider/model pair; ``weight`` for a candidate, ``sample_rate`` for a shadow."""

    provider: str
    model: str
    weight: int = 1
    sample_rate: float = 1.0
    written: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)  # for reports that echo it

    @property
    def key(self) -> str:
        return f"{self.provider}/{self.model}"


@dataclass(frozen=True, slots=True)
class Fallback:
    """A fallback: a provider/model pair (``target``) or, as a whole, another route (``route``)."""

    target: Target | None
    route: str | None
    written: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)  # for reports that echo it


@dataclass(frozen=True, slots=True)
class Pin:
    name: str
    when: str  # CEL over request
    target: Target


@dataclass(frozen=True, slots=True)
class Require:
    """A rule's ``require`` block as written: each limit None when the block leaves it out."""

    jurisdictions: tuple[str, ...] | None
    max_retention_days: int | None
    training_use: bool | None


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    when: str  # CEL over request
    require: Require | None
    deny: bool
    message: str | None

    @property
    def requirement(self) -> Requirement | None:
        """The providers the rule admits, as the router judges them (None: the rule requires nothing)."""
        need = self.require
        if need is None:
            return None
        jurisdictions = frozenset(need.jurisdictions) if need.jurisdictions is not None else None
        return Requirement(
            f"route rule '{self.name}'", jurisdictions, need.max_retention_days, need.training_use is False
        )


@dataclass(frozen=True, slots=True)
class Route:
    name: str
    source: Source
    alias: str
    candidates: tuple[Target, ...]
    fallback: tuple[Fallback, ...]
    pins: tuple[Pin, ...]
    rules: tuple[Rule, ...]
    shadow: tuple[Target, ...]
    objective: Mapping[str, float]
    max_cost_usd: float | None
    max_latency: str | None  # durations as written
    first_token_timeout: str | None
    retries: int
    backoff: str | None
    hedge_after: str | None
    hedge_max_cost_usd: float
    panic_threshold: float

    @property
    def ref(self) -> str:
        return f"Route/{self.name}"


def _target(entry: Mapping[str, Any]) -> Target:
    return Target(entry["provider"], entry["model"], entry.get("weight", 1), entry.get("sampleRate", 1.0), entry)


def _rule(r: Mapping[str, Any]) -> Rule:
    need = r.get("require")
    require = None
    if need is not None:
        jurisdictions = need.get("jurisdictions")
        require = Require(
            tuple(jurisdictions) if jurisdictions is not None else None,
            need.get("maxRetentionDays"),
            need.get("trainingUse"),
        )
    return Rule(r["name"], r["when"], require, bool(r.get("deny")), r.get("message"))


def route(name: str, spec: Mapping[str, Any], source: Source) -> Route:
    limits, retry, hedge = spec.get("limits", {}), spec.get("retry", {}), spec.get("hedge", {})
    return Route(
        name,
        source,
        spec["alias"],
        tuple(_target(c) for c in spec["candidates"]),
        tuple(
            Fallback(None, f["route"], f) if "route" in f else Fallback(_target(f), None, f)
            for f in spec.get("fallback", [])
        ),
        tuple(Pin(p["name"], p["when"], _target(p["target"])) for p in spec.get("pins", [])),
        tuple(_rule(r) for r in spec.get("rules", [])),
        tuple(_target(s) for s in spec.get("shadow", [])),
        dict(spec.get("objective", {})),
        limits.get("maxCostUsd"),
        limits.get("maxLatency"),
        limits.get("firstTokenTimeout"),
        int(retry.get("attempts", 0)),
        retry.get("backoff"),
        hedge.get("after"),
        float(hedge.get("maxCostUsd", 0.0)),
        float(spec.get("panicThreshold", 0.5)),
    )


__all__ = ["KIND", "Fallback", "Pin", "Route", "Rule", "Target"]

KIND = KindEntry("Route", "route.json", route, (check_routes,), ROUTE)
