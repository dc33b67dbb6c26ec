"""Live statistics in bounded memory: latency quantiles from a log-bucket sketch, error rates by EWMA.

The sketch is DDSketch's idea (relative-error buckets): a value v lands in bucket ceil(log_gamma(v)), so every
quantile is exact to within ``relative_accuracy``. Buckets cover 0.01 ms to 1 hour, so at most ~900 buckets
exist whatever the traffic; ``decay`` halves old weight so the sketch follows the recent past. The decision
reads only the ``LiveState`` snapshot these produce.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from maestro.router.model import Circuit, DeploymentState, LiveState

_MIN_MS, _MAX_MS = 0.01, 3_600_000.0


class LatencySketch:
    """Quantiles of latency (ms) within a relative error, in bounded memory."""

    def __init__(self, relative_accuracy: float = 0.02) -> None:
        self.gamma = (1 + relative_accuracy) / (1 - relative_accuracy)
        self._log_gamma = math.log(self.gamma)
        self.buckets: dict[int, float] = {}
        self.count = 0.0

    def add(self, ms: float) -> None:
        value = min(max(ms, _MIN_MS), _MAX_MS)
        index = math.ceil(math.log(value) / self._log_gamma)
        self.buckets[index] = self.buckets.get(index, 0.0) + 1.0
        self.count += 1.0

    def quantile(self, q: float) -> float | None:
        if self.count <= 0:
            return None
        rank = q * (self.count - 1)
        seen = 0.0
        for index in sorted(self.buckets):
            seen += self.buckets[index]
            if seen > rank:
                return 2 * self.gamma**index / (self.gamma + 1)
        return 2 * self.gamma ** max(self.buckets) / (self.gamma + 1)

    def decay(self, factor: float = 0.5) -> None:
        """Scale old observations down; buckets that fade below a hundredth of a sample are dropped."""
        self.buckets = {k: v * factor for k, v in self.buckets.items() if v * factor >= 0.01}
        self.count = sum(self.buckets.values())


@dataclass
class DeploymentStats:
    alpha: float = 0.1
    latency: LatencySketch = field(default_factory=LatencySketch)
    error_rate: float = 0.0
    observations: int = 0

    def record(self, latency_ms: float, ok: bool) -> None:
        self.latency.add(latency_ms)
        self.error_rate += self.alpha * ((0.0 if ok else 1.0) - self.error_rate)
        self.observations += 1


@dataclass
class LiveStats:
    """Per-deployment statistics; ``decay_every`` observations halve the weight of the past."""

    decay_every: int = 1000
    deployments: dict[str, DeploymentStats] = field(default_factory=dict)

    def record(self, deployment: str, latency_ms: float, ok: bool) -> None:
        stats = self.deployments.setdefault(deployment, DeploymentStats())
        stats.record(latency_ms, ok)
        if stats.observations % self.decay_every == 0:
            stats.latency.decay()

    def snapshot(
        self, circuits: dict[str, Circuit] | None = None, saturated: frozenset[str] = frozenset()
    ) -> LiveState:
        circuits = circuits or {}
        keys = set(self.deployments) | set(circuits) | set(saturated)
        states = {}
        for key in keys:
            stats = self.deployments.get(key)
            states[key] = DeploymentState(
                circuit=circuits.get(key, Circuit.CLOSED),
                latency_p50_ms=stats.latency.quantile(0.5) if stats else None,
                latency_p95_ms=stats.latency.quantile(0.95) if stats else None,
                error_rate=stats.error_rate if stats else 0.0,
                saturated=key in saturated,
            )
        return LiveState(deployments=states)
