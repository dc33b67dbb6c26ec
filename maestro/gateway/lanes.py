"""The local vLLM lanes behind the gateway: their ``/metrics`` feed the live state, their replicas share the load.

For each lane of the manifests (a ``vllm`` Provider with a ``serve:`` block) the gateway polls every replica's
``/metrics`` each ``interval_s`` (``maestro.lane.Poller``). A lane whose replicas all stop answering has its
circuit opened, so the router falls back at once instead of paying a connection error per request; a lane
whose queue or KV cache is past the serve block's thresholds is *saturated*, and requests spill to the next
allowed deployment. Both clear on the next poll that says otherwise.

Replicas come from the lane's record in the state store (``maestro lane up --ray`` writes them), re-read every
``refresh_s``; without a record the lane is the one server at its Provider's ``baseUrl``. With several replicas a
request goes to the replica its prompt prefix hashes to (``lane.affinity``, rendezvous hashing), among those
alive and not saturated, so requests that share a prefix reuse one replica's KV cache.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import httpx

from maestro import providers
from maestro.gateway.store import Store
from maestro.lane import DEAD, LaneConfig, Poller, Signal, affinity, combine, registry
from maestro.router import Circuit, DeploymentState
from maestro.state import migrate


@dataclass
class _Replica:
    url: str  # the OpenAI base URL, ending in /v1
    poller: Poller
    client: providers.ChatClient | None  # None: the provider's pooled client (the manifest's baseUrl)
    signal: Signal = DEAD


class Lanes:
    """Live signals of the lanes in ``lanes`` (by provider name); ``start`` polls once, then in the background."""

    def __init__(
        self,
        lanes: Mapping[str, LaneConfig],
        specs: Mapping[str, providers.ProviderSpec],
        deployments: Mapping[str, Sequence[str]],  # by provider: the router's deployment keys it serves
        store: Store | None = None,  # the state store, where `maestro lane up` records the replicas
        *,
        environ: Mapping[str, str] | None = None,
        transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
        interval_s: float = 1.0,
        refresh_s: float = 5.0,
    ) -> None:
        self.lanes = {name: lane for name, lane in lanes.items() if name in specs}
        self.specs = specs
        self.deployments = deployments
        self.store = store
        self.environ = environ
        self.transports = transports or {}
        self.interval_s = interval_s
        self.refresh_s = refresh_s
        self.replicas: dict[str, dict[str, _Replica]] = {name: {} for name in self.lanes}
        self.signals: dict[str, Signal] = {}  # by provider name
        self._lane_of = {key: name for name, keys in deployments.items() if name in self.lanes for key in keys}
        self._task: asyncio.Task[None] | None = None
        self._migrated = False  # the lane table exists in ``conn`` (migrated once, not on every refresh)

    async def start(self) -> None:
        if not self.lanes:
            return
        await self._sync_replicas()
        await self.poll()
        self._task = asyncio.create_task(self._run())

    async def poll(self) -> None:
        """One look at every replica's metrics."""
        for name, replicas in self.replicas.items():
            reps = list(replicas.values())
            for rep, signal in zip(reps, await asyncio.gather(*(r.poller.poll() for r in reps)), strict=True):
                rep.signal = signal
            self.signals[name] = combine([r.signal for r in reps])

    def overlay(self, states: dict[str, DeploymentState]) -> None:
        """Write the lanes' circuits and saturation into the router's per-deployment states."""
        for name, signal in self.signals.items():
            for key in self.deployments.get(name, ()):
                base = states.get(key, DeploymentState())
                circuit = Circuit.OPEN if signal.circuit == "open" else base.circuit
                states[key] = replace(base, circuit=circuit, saturated=signal.saturated)

    def reason(self, key: str) -> str | None:
        """Why the lane serving deployment ``key`` is out of the order now (None: it is not, or not a lane)."""
        name = self._lane_of.get(key)
        signal = self.signals.get(name) if name else None
        if signal is None or (signal.circuit != "open" and not signal.saturated):
            return None
        if signal.circuit == "open":
            return f"lane '{name}' does not answer its /metrics (not started? `maestro lane up {name}`)"
        return f"lane '{name}' is saturated: " + "; ".join(signal.reasons)

    def client(self, provider: str, messages: Any) -> providers.ChatClient | None:
        """The replica's client for a request to ``provider`` by prompt prefix (None: the pooled client)."""
        replicas = self.replicas.get(provider)
        if not replicas or len(replicas) < 2:
            return None
        alive = {u: r for u, r in replicas.items() if r.signal.circuit != "open"}
        ready = [u for u, r in alive.items() if not r.signal.saturated] or list(alive)
        if not ready:
            return None
        key = affinity.prefix_key(messages if isinstance(messages, list) else [])
        return replicas[affinity.pick(key, ready)].client

    async def stop(self) -> None:
        """Stop polling (the replicas' clients stay open for requests still using them)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for replicas in self.replicas.values():
            for rep in replicas.values():
                await rep.poller.aclose()

    async def aclose(self) -> None:
        await self.stop()
        for replicas in self.replicas.values():
            for rep in replicas.values():
                if rep.client is not None:
                    await rep.client.aclose()

    async def _run(self) -> None:
        since_refresh = 0.0
        while True:
            await asyncio.sleep(self.interval_s)
            since_refresh += self.interval_s
            if since_refresh >= self.refresh_s:
                since_refresh = 0.0
                await self._sync_replicas()
            await self.poll()

    async def _sync_replicas(self) -> None:
        """Match the pollers and clients to the replicas the state store records for each lane."""
        recorded = {} if self.store is None else await self.store.read(partial(self._recorded, self.store.reads))
        for name, lane in self.lanes.items():
            urls = recorded.get(name) or [f"{lane.base}/v1"]
            current = self.replicas[name]
            for url in [u for u in current if u not in urls]:
                await _close(current.pop(url))
            for url in urls:
                if url not in current:
                    current[url] = self._replica(name, lane, url)

    def _recorded(self, conn: sqlite3.Connection) -> dict[str, list[str]]:
        try:
            if not self._migrated:
                migrate(conn, registry.COMPONENT, registry.MIGRATIONS)
                self._migrated = True
            records = registry.read(conn)
        except sqlite3.Error:  # a store another process holds locked: keep the replicas we know
            return {name: list(reps) for name, reps in self.replicas.items() if reps}
        return {r.name: list(r.replicas) for r in records if r.replicas and r.status == "ready"}

    def _replica(self, name: str, lane: LaneConfig, url: str) -> _Replica:
        poller = Poller(url.removesuffix("/v1"), lane.saturation, lane.served_name)
        spec = self.specs[name]
        if url.rstrip("/") == spec.base_url.rstrip("/"):  # the manifest's own server: the pooled client
            return _Replica(url, poller, None)
        client = providers.pool({name: replace(spec, base_url=url)}, self.environ, self.transports)[name]
        return _Replica(url, poller, client)


async def _close(rep: _Replica) -> None:
    await rep.poller.aclose()
    if rep.client is not None:
        await rep.client.aclose()
