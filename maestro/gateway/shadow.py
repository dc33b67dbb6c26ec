"""Shadow traffic: the router's sampled shadow deployments get a copy of the request in the background.

A shadow's answer is read and thrown away; it never reaches the caller, never delays the answer, and never
counts against a circuit. Its latency and errors feed the live statistics (so the router learns how a
candidate would do) and the metrics (``maestro_gateway_shadow_total``, ``..._shadow_cost_usd``). Shadows
are best effort: past ``MAX_IN_FLIGHT`` running at once, new ones are dropped (and counted as dropped).

A shadow is one attempt on one deployment (no retries, no fallback), made through the route-calling core's
``Line``: the same client choice (a lane's replica by prompt prefix), the provider's timeout and the price.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from maestro.gateway.runtime import Runtime
from maestro.providers import CallerFault, ProviderError, ProviderFault
from maestro.router import Circuit, Decision, Deployment
from maestro.telemetry import tracing

MAX_IN_FLIGHT = 64


class Shadows:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.tasks: set[asyncio.Task[None]] = set()

    def launch(self, decision: Decision, body_for: Callable[[Deployment], dict[str, Any]]) -> None:
        """Send each sampled shadow ``body_for(its deployment)`` (the caller's body with that model's limit)."""
        for key in decision.shadow:
            if self.rt.breakers.circuit(key) != Circuit.CLOSED:
                continue
            if len(self.tasks) >= MAX_IN_FLIGHT:
                self.rt.metrics.shadow.labels(key, "dropped").inc()
                continue
            d = self.rt.config.table.deployments[key]
            task = asyncio.create_task(self._one(d, body_for(d)))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _one(self, d: Deployment, body: dict[str, Any]) -> None:
        rt, line, started = self.rt, self.rt.line, time.perf_counter()
        deadline = line.specs[d.provider.name].timeouts.total_s
        with line.tracer.attempt(d.provider.name, d.model, d.key, 0) as span:
            span.set_attribute("maestro.shadow", True)
            try:
                async with asyncio.timeout(deadline):
                    stream = await line.client(d, body.get("messages")).open(body, d.model)
                    try:
                        async for _ in stream:
                            pass
                    finally:
                        await stream.aclose()
            except (ProviderError, TimeoutError) as e:
                kind = (
                    e.kind.value
                    if isinstance(e, ProviderFault)
                    else "caller-fault"
                    if isinstance(e, CallerFault)
                    else "timeout"
                )
                if not isinstance(e, CallerFault):
                    rt.live.record(d.key, (time.perf_counter() - started) * 1000, ok=False)
                rt.metrics.shadow.labels(d.key, kind).inc()
                tracing.fail(span, kind, str(e))
                return
            rt.live.record(d.key, (time.perf_counter() - started) * 1000, ok=True)
            cost = line.cost(d, stream.usage)
            rt.metrics.shadow.labels(d.key, "ok").inc()
            rt.metrics.shadow_cost.labels(d.key).inc(cost)
            if stream.usage is not None:
                tracing.usage(span, stream.model, stream.usage.input_tokens, stream.usage.output_tokens, cost)

    async def aclose(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
