"""The router's inputs and output: a request, a snapshot of live state, and the decision."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any, NamedTuple

_EMPTY: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Request:
    """What a caller asks for. ``tags`` are the caller's assertions; detection adds more."""

    alias: str
    messages: tuple[Mapping[str, Any], ...] = ()
    caller: str = ""
    team: str = ""
    tags: frozenset[str] = frozenset()
    headers: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    metadata: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    input_tokens: int | None = None
    max_output_tokens: int = 256
    request_id: str = ""


class Circuit(StrEnum):
    CLOSED = "closed"
    HALF_OPEN = "half-open"
    OPEN = "open"


@dataclass(frozen=True, slots=True)
class DeploymentState:
    """What is known live about one deployment (provider/model)."""

    circuit: Circuit = Circuit.CLOSED
    latency_p50_ms: float | None = None
    latency_p95_ms: float | None = None
    error_rate: float = 0.0
    saturated: bool = False


@dataclass(frozen=True, slots=True)
class LiveState:
    """A snapshot the decision reads; the router never changes it."""

    deployments: Mapping[str, DeploymentState] = field(default_factory=dict)
    spend_usd: Mapping[str, float] = field(default_factory=dict)  # by budget name
    weights: Mapping[str, Mapping[str, float]] = field(default_factory=dict)  # live weights: route -> deployment
    # the kill switch engaged at run time (the state store's), on top of the manifests' (see ``governance``)
    kill_all: bool = False
    kill_routes: frozenset[str] = frozenset()

    def weight(self, route: str, deployment: str, written: float) -> float:
        """A candidate's weight: the live override when there is one, else the manifest's."""
        return self.weights.get(route, _NO_WEIGHTS).get(deployment, written)

    def of(self, deployment: str) -> DeploymentState:
        return self.deployments.get(deployment, _HEALTHY)


_HEALTHY = DeploymentState()
_NO_WEIGHTS: Mapping[str, float] = MappingProxyType({})


class Stage(StrEnum):
    """Where in the decision a deployment was removed."""

    KILL_SWITCH = "kill-switch"
    TAG = "tag"
    POLICY = "policy"
    ROUTE_RULE = "route-rule"
    BUDGET = "budget"
    CONTEXT = "context-window"
    COST = "max-cost"
    LATENCY = "max-latency"
    CIRCUIT = "circuit-open"
    SATURATED = "saturated"
    WEIGHT = "weight-zero"


# The stages where policy (not availability) removes a deployment: the kill switch, tags, Policy rules, route
# rules and budgets. Everything else (context, cost cap, latency, circuit, saturation) is about availability.
POLICY_STAGES = frozenset({Stage.KILL_SWITCH, Stage.TAG, Stage.POLICY, Stage.ROUTE_RULE, Stage.BUDGET})


class Removal(NamedTuple):
    """A deployment left out of the decision: the stage and rule that removed it, in words.

    Removals and scores are NamedTuples, not dataclasses: a decision over 500 deployments makes hundreds of
    them, and a tuple is built several times faster than a frozen dataclass.
    """

    deployment: str
    stage: Stage
    rule: str
    reason: str


class Score(NamedTuple):
    """A kept candidate's score: the weighted total and each objective's part, all in [0, 1]."""

    deployment: str
    total: float
    parts: Mapping[str, float]
    cost_usd: float


class RefusalKind(StrEnum):
    """Why a decision has no deployment to try: what a caller maps to its answer, never the words."""

    KILL_SWITCH = "kill-switch"  # the kill switch covers the route (a Policy's or the one engaged at run time)
    ROUTE_RULE = "route-rule"  # a route rule denies the request (or failed to evaluate: fail closed)
    BUDGET = "budget"  # a blocking budget of the route or the team is spent
    UNKNOWN_TAG = "unknown-tag"  # the request carries a tag the taxonomy does not know
    POLICY = "policy"  # tags, Policy rules and route rules leave no deployment
    TOO_LARGE = "too-large"  # the request itself does not fit (context window, the route's cost cap)
    UNAVAILABLE = "unavailable"  # the allowed deployments are all unavailable (circuits, saturation, latency)


@dataclass(frozen=True, slots=True)
class Refusal:
    """A typed refusal: its kind, the route, the rule or budget that refused (when one did) and the words.

    ``reason`` is the whole sentence (``Decision.denied``); ``detail`` what to tell the caller when it is
    narrower (the unknown tag's own sentence), else empty."""

    kind: RefusalKind
    route: str
    reason: str
    rule: str | None = None  # the route rule's or the budget's name
    detail: str = ""

    @property
    def message(self) -> str:
        return self.detail or self.reason


@dataclass(frozen=True, slots=True)
class Decision:
    """The ordered deployments to try, and why every other one is not there."""

    decision_id: str
    route: str
    alias: str
    order: tuple[str, ...]
    removed: tuple[Removal, ...]
    scores: tuple[Score, ...]
    tags: frozenset[str]
    detected_tags: frozenset[str]
    allowed: frozenset[str]
    shadow: tuple[str, ...] = ()
    pinned_by: str | None = None
    refusal: Refusal | None = None
    policy_versions: Mapping[str, str] = field(default_factory=dict)
    # why the order holds deployments whose circuit is open: the route's panic threshold (None: it does not)
    panic: str | None = None

    @property
    def denied(self) -> str | None:
        """Why nothing is tried, in words (None when the order is not empty)."""
        return None if self.refusal is None else self.refusal.reason

    @property
    def primary(self) -> str | None:
        return self.order[0] if self.order else None
