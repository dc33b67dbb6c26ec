"""The mutable parts of one gateway app, created by ``create_app`` and owned by it."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field, replace

from maestro import providers
from maestro.calls import Breakers, FirstTokenWatch, Line
from maestro.evals import online
from maestro.gateway.budgets import Budgets
from maestro.gateway.config import GatewayConfig
from maestro.gateway.lanes import Lanes
from maestro.gateway.live import Live
from maestro.gateway.ratelimit import ProviderLimits
from maestro.gateway.store import Store
from maestro.gateway.switches import Switches
from maestro.state.observations import Observations
from maestro.state.weights import LiveWeights
from maestro.telemetry import Metrics, Tracer


@dataclass
class Runtime:
    config: GatewayConfig
    pool: providers.Pool
    breakers: Breakers
    live: Live
    tracer: Tracer
    metrics: Metrics
    conn: sqlite3.Connection
    switches: Switches
    budgets: Budgets
    store: Store  # where every call on ``conn`` runs: off the event loop
    watch: FirstTokenWatch = field(default_factory=FirstTokenWatch)
    limits: ProviderLimits = field(default_factory=lambda: ProviderLimits({}))
    retired: list[providers.Pool] = field(default_factory=list)
    lanes: Lanes = field(default_factory=lambda: Lanes({}, {}, {}))
    retired_lanes: list[Lanes] = field(default_factory=list)
    observations: Observations = field(default_factory=lambda: Observations(":memory:"))
    _line: Line | None = field(default=None, init=False, repr=False)

    @property
    def line(self) -> Line:
        """What the route-calling core uses here: this gateway's clients, breakers, watch, limits, lanes,
        metrics and tracer (built once, and again after a reload)."""
        if self._line is None:
            config = self.config
            self._line = Line(
                config.table.deployments,
                self.pool,
                config.providers,
                self.breakers,
                self.watch,
                self.limits,
                _Counted(self.metrics),
                self.tracer,
                self.lanes.client,
                self._record,
                config.stall_s,
                config.max_retry_after_s,
            )
        return self._line

    def _record(self, route: str, key: str, latency_ms: float, ok: bool) -> None:
        """An attempt, in the live stats the router reads and in the rollout observations."""
        self.live.record(key, latency_ms, ok=ok)
        self.observations.record(route, key, ok, latency_ms)

    @classmethod
    def create(cls, config: GatewayConfig) -> Runtime:
        breakers = Breakers(config.breaker)
        store = Store.open(config.state_path)
        conn = store.writes
        lanes = _lanes(config, store)
        switches = Switches(store.reads, store.writes)
        return cls(
            config,
            providers.pool(config.providers, config.environ, config.transports),
            breakers,
            Live(breakers, lanes, weights=LiveWeights(store.reads, writes=store.writes), switches=switches),
            Tracer(config.tracer_provider),
            Metrics(),
            conn,
            switches,
            Budgets(conn, config.budgets),
            store,
            FirstTokenWatch(config.breaker.silent_after),
            ProviderLimits(config.providers),
            lanes=lanes,
            observations=Observations(config.state_path, grader=online.grade),
        )

    async def reload(self, config: GatewayConfig) -> None:
        """Serve ``config`` from now on; requests in flight finish on the clients they started with."""
        config = replace(config, transports=config.transports or self.config.transports, reload=self.config.reload)
        self.retired.append(self.pool)
        self.pool = providers.pool(config.providers, config.environ, config.transports)
        self.budgets.budgets = tuple(config.budgets)
        self.limits = ProviderLimits(config.providers)
        self.config = config
        old, self.lanes = self.lanes, _lanes(config, self.store)
        await self.lanes.start()
        self.live.lanes = self.lanes
        self._line = None
        await old.stop()  # requests in flight on its replicas' clients finish; they are closed at shutdown
        self.retired_lanes.append(old)

    async def aclose(self) -> None:
        for lanes in (self.lanes, *self.retired_lanes):
            await lanes.aclose()
        for pool in (self.pool, *self.retired):
            await pool.aclose()
        self.store.close()


class _Counted:
    """The core's attempts, counted in the gateway's metrics."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def attempt(self, key: str, outcome: str) -> None:
        self.metrics.attempts.labels(key, outcome).inc()

    def panic_attempt(self, key: str) -> None:
        self.metrics.panic_attempts.labels(key).inc()


def _lanes(config: GatewayConfig, store: Store) -> Lanes:
    served: dict[str, list[str]] = {}
    for key, d in config.table.deployments.items():
        served.setdefault(d.provider.name, []).append(key)
    return Lanes(
        config.lanes,
        config.providers,
        served,
        store,
        environ=config.environ,
        transports=config.transports,
        interval_s=config.lane_poll_s,
    )
