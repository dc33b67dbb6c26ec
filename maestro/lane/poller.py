"""Polling a lane's ``/metrics`` into spill signals, for the gateway's live state (or ``lane status``).

``Poller.poll()`` fetches once and returns a ``Signal``; after ``failures_to_open`` failed fetches in a
row it returns ``spill.DEAD`` (circuit open). ``Poller.run(on_signal)`` polls every ``interval_s`` until
cancelled, calling ``on_signal(signal)`` each time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx

from maestro.lane.config import Saturation
from maestro.lane.spill import DEAD, Signal, signal_of


def fetch_signal(client: httpx.Client, base: str, thresholds: Saturation, model: str | None = None) -> Signal:
    """One synchronous look at ``base/metrics``; DEAD when it does not answer or answers nonsense."""
    try:
        response = client.get(f"{base}/metrics")
        response.raise_for_status()
        return signal_of(response.text, thresholds, model)
    except (httpx.HTTPError, ValueError):
        return DEAD


class Poller:
    """Watches one lane. ``client`` may be any ``httpx.AsyncClient`` (tests pass a MockTransport)."""

    def __init__(
        self,
        base: str,
        thresholds: Saturation,
        model: str | None = None,
        *,
        failures_to_open: int = 2,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.base = base.rstrip("/")
        self.thresholds = thresholds
        self.model = model
        self.failures_to_open = failures_to_open
        self.client = client or httpx.AsyncClient(timeout=httpx.Timeout(2.0, connect=0.5))
        self.failures = 0
        self.last: Signal = DEAD

    async def poll(self) -> Signal:
        try:
            response = await self.client.get(f"{self.base}/metrics")
            response.raise_for_status()
            signal = signal_of(response.text, self.thresholds, self.model)
        except (httpx.HTTPError, ValueError):
            self.failures += 1
            if self.failures >= self.failures_to_open:
                self.last = DEAD
            return self.last
        self.failures = 0
        self.last = signal
        return signal

    async def run(self, on_signal: Callable[[Signal], None], interval_s: float = 1.0) -> None:
        while True:
            on_signal(await self.poll())
            await asyncio.sleep(interval_s)

    async def aclose(self) -> None:
        await self.client.aclose()
