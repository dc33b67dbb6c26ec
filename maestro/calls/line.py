"""What calling a route uses besides the decision: the deployments, the provider clients and their specs, the
breakers, the first-token watch, rate limits, and where attempts are counted and traced.

The gateway builds one from its runtime (its breakers, watch, limits, lanes, metrics and tracer); the evals
and the pipeline runtime build a plain one from a manifest set (``RouteCaller``): no circuit opens, no
deployment is moved back for being slow, and the deadlines are the providers' whole timeouts (``patient``),
so one case's faults or a slow local model do not change where or whether the next case is answered.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from maestro.calls.breaker import Breakers
from maestro.calls.watch import FirstTokenWatch
from maestro.providers import ChatClient, Pool, ProviderSpec, Usage
from maestro.router import Deployment
from maestro.telemetry import Tracer


class Limits(Protocol):
    """A provider's own request rate: why no request may go to it now (None: one may), and one was sent."""

    def reason(self, provider: str) -> str | None: ...

    def sent(self, provider: str) -> None: ...


class Counts(Protocol):
    """Where attempts are counted: ``outcome`` is "ok", a FaultKind value, "caller-fault" or "hedge"."""

    def attempt(self, key: str, outcome: str) -> None: ...

    def panic_attempt(self, key: str) -> None: ...


class _NoLimits:
    def reason(self, provider: str) -> str | None:
        return None

    def sent(self, provider: str) -> None:
        return None


class _NoCounts:
    def attempt(self, key: str, outcome: str) -> None:
        return None

    def panic_attempt(self, key: str) -> None:
        return None


def _pooled(provider: str, messages: Any) -> ChatClient | None:
    return None


def _unrecorded(route: str, key: str, latency_ms: float, ok: bool) -> None:
    return None


@dataclass(frozen=True, slots=True)
class Line:
    deployments: Mapping[str, Deployment]
    pool: Pool
    specs: Mapping[str, ProviderSpec]
    breakers: Breakers
    watch: FirstTokenWatch = field(default_factory=lambda: FirstTokenWatch(0.0))
    limits: Limits = field(default_factory=_NoLimits)
    counts: Counts = field(default_factory=_NoCounts)
    tracer: Tracer = field(default_factory=Tracer)
    # a client other than the pooled one for a request (the vLLM lane's replica by prompt prefix), else None
    client_for: Callable[[str, Any], ChatClient | None] = _pooled
    # each attempt's route, deployment, latency and outcome (the live stats, a rollout's observations)
    record: Callable[[str, str, float, bool], None] = _unrecorded
    stall_s: float = 10.0
    max_retry_after_s: float = 10.0
    patient: bool = False  # wait the provider's whole timeout for the first token and between chunks

    def first_token_s(self, d: Deployment, route_s: float | None) -> float:
        """The first-token deadline of an attempt on ``d``: the route's, else its provider's."""
        timeouts = self.specs[d.provider.name].timeouts
        if self.patient:
            return timeouts.total_s
        return route_s or timeouts.first_token_s

    def stall_of(self, d: Deployment) -> float:
        """How long a stream from ``d`` may go without a chunk."""
        return self.specs[d.provider.name].timeouts.total_s if self.patient else self.stall_s

    def client(self, d: Deployment, messages: Any) -> ChatClient:
        return self.client_for(d.provider.name, messages) or self.pool[d.provider.name]

    def cost(self, d: Deployment, usage: Usage | None) -> float:
        """What ``usage`` on ``d`` costs at its provider's list price (the route table's when none is given)."""
        if usage is None:
            return 0.0
        price = self.specs[d.provider.name].prices.get(d.model)
        return price.cost(usage) if price else d.cost(usage.input_tokens, usage.output_tokens)
