"""Load shedding: past ``max_in_flight`` chat requests in progress, answer 503 at once instead of queueing.

A gateway that accepts more than it can serve queues every request behind the others, and all of them get
slow (seconds, in ``docs/performance.md``); refusing the excess at once keeps the rest fast and tells callers
to come back (``Retry-After: 1``).

A request counts only from the moment its body is read, checked and parsed (the handler calls ``take`` on the
slot this middleware leaves in the scope): a caller sending its body slowly, or not at all, holds no slot and
cannot starve the others (its body has a deadline of its own). Once taken, the slot is released at the ASGI
level, so a stream counts until its last byte, however it ends.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from maestro.gateway.errors import GatewayError
from maestro.telemetry import Metrics

CHAT_PATH = "/v1/chat/completions"
SLOT = "maestro.in_flight"  # the scope key of a chat request's Slot


class InFlightLimit:
    def __init__(self, app: ASGIApp, limit: int, metrics: Metrics) -> None:
        self.app = app
        self.limit = limit
        self.metrics = metrics
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != CHAT_PATH or self.limit <= 0:
            await self.app(scope, receive, send)
            return
        slot = Slot(self)
        scope[SLOT] = slot
        try:
            await self.app(scope, receive, send)
        finally:
            slot.release()


class Slot:
    """One chat request's place among those in progress: taken once its body is parsed, released at its end."""

    def __init__(self, limit: InFlightLimit) -> None:
        self.limit = limit
        self.held = False

    def take(self) -> None:
        """Count this request in flight, or raise a 503 (``overloaded``) when the gateway is at its limit."""
        if self.held:
            return
        if self.limit.in_flight >= self.limit.limit:
            raise GatewayError(
                503,
                f"the gateway is at its limit of {self.limit.limit} requests in progress; retry shortly",
                "overloaded",
                "service_unavailable",
                headers={"retry-after": "1"},
            )
        self.limit.in_flight += 1
        self.held = True

    def release(self) -> None:
        if self.held:
            self.held = False
            self.limit.in_flight -= 1


def take_slot(scope: MutableMapping[str, Any]) -> None:
    """Take the request's in-flight slot, where shedding is on (raises the 503 when full)."""
    slot = scope.get(SLOT)
    if isinstance(slot, Slot):
        slot.take()
