"""A fake Anthropic Messages API (streaming, text and tool use) as a real HTTP server app."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route


def _event(name: str, data: dict[str, Any]) -> bytes:
    return f"event: {name}\ndata: {json.dumps({'type': name, **data})}\n\n".encode()


@dataclass
class FakeAnthropic:
    bodies: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/v1/messages", self._messages, methods=["POST"])])

    async def _messages(self, request: Request) -> Response:
        body = json.loads(await request.body())
        self.bodies.append(body)
        self.headers.append(dict(request.headers))
        if body.get("max_tokens", 0) > 50_000:
            return JSONResponse(
                {"type": "error", "error": {"type": "invalid_request_error", "message": "max_tokens is too large"}}, 400
            )
        return StreamingResponse(self._events(body), media_type="text/event-stream")

    async def _events(self, body: dict[str, Any]) -> AsyncIterator[bytes]:
        yield _event(
            "message_start",
            {
                "message": {
                    "id": "msg_1",
                    "model": body["model"],
                    "role": "assistant",
                    "usage": {"input_tokens": 12, "output_tokens": 1},
                }
            },
        )
        yield _event("ping", {})
        if body.get("tools"):
            name = body["tools"][0]["name"]
            yield _event("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}})
            yield _event("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": "Checking."}})
            yield _event("content_block_stop", {"index": 0})
            yield _event(
                "content_block_start",
                {"index": 1, "content_block": {"type": "tool_use", "id": "toolu_1", "name": name, "input": {}}},
            )
            for part in ('{"city": ', '"Paris"}'):
                yield _event(
                    "content_block_delta", {"index": 1, "delta": {"type": "input_json_delta", "partial_json": part}}
                )
            yield _event("content_block_stop", {"index": 1})
            stop = "tool_use"
        else:
            yield _event("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}})
            for word in ("Bonjour", " from", " Claude."):
                yield _event("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": word}})
            yield _event("content_block_stop", {"index": 0})
            stop = "end_turn"
        yield _event("message_delta", {"delta": {"stop_reason": stop}, "usage": {"output_tokens": 6}})
        yield _event("message_stop", {})
