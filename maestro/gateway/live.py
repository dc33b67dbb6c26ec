"""The live state the router reads: circuits from the breakers, latency and error rates from the stats, the
lanes' signals (a dead lane's circuit is open, a full one is saturated), live weights and the kill switch
engaged at run time (the router judges it with the manifests' own)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

from maestro.calls import Breakers
from maestro.gateway.lanes import Lanes
from maestro.gateway.switches import Switches
from maestro.router import DeploymentState, LiveState
from maestro.router.stats import LiveStats
from maestro.state.weights import LiveWeights

_STATS_REFRESH_S = 0.25


class Live:
    """Records attempts; ``snapshot`` gives a fresh LiveState (quantiles are recomputed every 250 ms)."""

    def __init__(
        self,
        breakers: Breakers,
        lanes: Lanes | None = None,
        clock: Callable[[], float] = time.monotonic,
        weights: LiveWeights | None = None,
        switches: Switches | None = None,
    ) -> None:
        self.switches = switches
        self.breakers = breakers
        self.lanes = lanes
        self.weights = weights
        self.stats = LiveStats()
        self.clock = clock
        self._cached: dict[str, DeploymentState] = {}
        self._cached_at = float("-inf")

    def record(self, deployment: str, latency_ms: float, ok: bool) -> None:
        self.stats.record(deployment, latency_ms, ok)

    def snapshot(self) -> LiveState:
        now = self.clock()
        if now - self._cached_at >= _STATS_REFRESH_S:
            self._cached = dict(self.stats.snapshot().deployments)
            self._cached_at = now
        states = dict(self._cached)
        for key, circuit in self.breakers.circuits().items():
            states[key] = replace(states.get(key, DeploymentState()), circuit=circuit)
        if self.lanes is not None:
            self.lanes.overlay(states)
        kill_all, kill_routes = self.switches.kills() if self.switches is not None else (False, frozenset())
        return LiveState(
            deployments=states,
            weights=self.weights.current() if self.weights is not None else {},
            kill_all=kill_all,
            kill_routes=kill_routes,
        )
