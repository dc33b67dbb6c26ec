"""Load shedding: past ``max_in_flight`` chat requests in progress, answer 503 at once instead of queueing.

A gateway that accepts more than it can serve queues every request behind the others, and all of them get
slow (seconds, in ``docs/performance.md``); refusing the excess at once keeps the rest fast and tells callers
to come back (``Retry-After: 1``). Counted at the ASGI level, so a stream counts until its last byte, however
it ends.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from maestro.gateway.errors import GatewayError
from maestro.gateway.responses import decision_headers
from maestro.telemetry import Metrics

CHAT_PATH = "/v1/chat/completions"


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
        if self.in_flight >= self.limit:
            await self._refuse(send)
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1

    async def _refuse(self, send: Send) -> None:
        self.metrics.requests.labels("none", "503").inc()
        error = GatewayError(
            503,
            f"the gateway is at its limit of {self.limit} requests in progress; retry shortly",
            "overloaded",
            "service_unavailable",
        )
        body = json.dumps(error.body()).encode()
        headers: list[Any] = [(k.encode(), v.encode()) for k, v in decision_headers().items()]
        headers += [
            (b"content-type", b"application/json"),
            (b"retry-after", b"1"),
            (b"content-length", str(len(body)).encode()),
        ]
        await send({"type": "http.response.start", "status": 503, "headers": headers})
        await send({"type": "http.response.body", "body": body})
