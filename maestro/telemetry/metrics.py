"""Prometheus metrics in a registry owned by one gateway app (never the process-wide default).

Each metric keeps the children its ``labels(...)`` calls made, by their label values: prometheus_client
takes a lock and rebuilds the key on every call, and the gateway makes several a request. No child is ever
removed (``remove``/``clear`` are not used), so a kept child is always the registry's.

Per-request identities (the decision id) are never labels, which would make a series a request: they ride
on the served-cost counter and the latency histogram as OpenMetrics exemplars, which a scraper sees when it
asks for ``application/openmetrics-text`` (Prometheus does, with exemplar storage on); the classic text
format leaves them out.
"""

from __future__ import annotations

from typing import Any, Self

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.openmetrics import exposition as openmetrics

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
CIRCUIT_VALUES = {"closed": 0, "half-open": 1, "open": 2}


class _KeptChildren:
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._kept: dict[tuple[object, ...], Self] = {}

    def labels(self, *labelvalues: object, **labelkwargs: object) -> Self:
        if labelkwargs:
            return super().labels(**labelkwargs)  # type: ignore[misc, no-any-return]
        try:
            return self._kept[labelvalues]
        except KeyError:
            child: Self = super().labels(*labelvalues)  # type: ignore[misc]
            self._kept[labelvalues] = child
            return child


class _Counter(_KeptChildren, Counter):
    pass


class _Gauge(_KeptChildren, Gauge):
    pass


class _Histogram(_KeptChildren, Histogram):
    pass


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = _Counter(
            "maestro_gateway_requests",
            "Chat requests answered, by route and HTTP status.",
            ["route", "status"],
            registry=r,
        )
        self.attempts = _Counter(
            "maestro_gateway_attempts",
            "Upstream attempts, by deployment and outcome.",
            ["deployment", "outcome"],
            registry=r,
        )
        self.latency = _Histogram(
            "maestro_gateway_request_seconds",
            "Time to answer (to first byte for streams).",
            ["route"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.cost = _Counter(
            "maestro_gateway_cost_usd", "Cost of served answers, USD.", ["route", "deployment"], registry=r
        )
        self.tokens = _Counter("maestro_gateway_tokens", "Tokens served.", ["deployment", "direction"], registry=r)
        self.circuit = _Gauge(
            "maestro_gateway_circuit_state",
            "Circuit per deployment: 0 closed, 1 half-open, 2 open.",
            ["deployment"],
            registry=r,
        )
        self.stream_errors = _Counter(
            "maestro_gateway_stream_errors",
            "Streams ended by an error event after the answer began.",
            ["deployment", "kind"],
            registry=r,
        )
        self.shadow = _Counter(
            "maestro_gateway_shadow",
            "Shadow copies of requests, by deployment and outcome.",
            ["deployment", "outcome"],
            registry=r,
        )
        self.shadow_cost = _Counter(
            "maestro_gateway_shadow_cost_usd", "Cost of shadow answers, USD.", ["deployment"], registry=r
        )
        self.panics = _Counter(
            "maestro_gateway_panic_decisions",
            "Decisions that ignored open circuits: fewer of the route's deployments than its panic threshold closed.",
            ["route"],
            registry=r,
        )
        self.panic_attempts = _Counter(
            "maestro_gateway_panic_attempts",
            "Attempts sent past an open circuit in panic (the route's panic threshold), by deployment.",
            ["deployment"],
            registry=r,
        )
        self.budget_refusals = _Counter(
            "maestro_gateway_budget_refusals", "Requests refused by a budget.", ["budget"], registry=r
        )

    def render(self, accept: str = "") -> tuple[bytes, str]:
        """The exposition and its content type: OpenMetrics (with exemplars) when ``accept`` asks for it."""
        if "application/openmetrics-text" in accept:
            return openmetrics.generate_latest(self.registry), openmetrics.CONTENT_TYPE_LATEST  # type: ignore[no-untyped-call]
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
