"""A fault-injecting upstream speaking the OpenAI chat API: error rates, added latency, hangs, 429 storms,
slow first tokens, streams cut mid-answer. A real HTTP server once served (see ``serve.Background``, or
``chaos.process`` for one in a process of its own, which the drill drives through ``PUT /_chaos/faults`` and
reads through ``GET /_chaos/calls``)."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route


@dataclass(frozen=True, slots=True)
class Faults:
    error_rate: float = 0.0  # share answered with ``error_status``
    error_status: int = 500
    rate_limit_rate: float = 0.0  # share answered 429 with Retry-After
    retry_after_s: float = 1.0
    latency_ms: float = 0.0  # added before the answer begins
    hang_rate: float = 0.0  # share that send headers and then nothing, ever
    first_token_ms: float = 0.0  # delay between the role chunk and the first content
    cut_rate: float = 0.0  # share of streams cut after the first content chunk
    chunk_ms: float = 0.0  # delay between content chunks


class CutStream(Exception):
    """Raised inside a response body to drop the connection mid-answer (the server closes it unfinished)."""


@dataclass
class FakeUpstream:
    name: str
    faults: Faults = field(default_factory=Faults)
    words: tuple[str, ...] = ("Hello", " from", " the", " upstream", ".")
    seed: int = 0
    calls: list[tuple[float, str]] = field(default_factory=list)  # (monotonic time, outcome)
    bodies: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v1/chat/completions", self._chat, methods=["POST"]),
                Route("/v1/models", self._models, methods=["GET"]),
                Route("/_chaos/faults", self._set_faults, methods=["PUT"]),
                Route("/_chaos/calls", self._calls, methods=["GET"]),
            ]
        )

    async def _models(self, request: Request) -> Response:
        return JSONResponse({"object": "list", "data": [{"id": "m1", "object": "model", "owned_by": self.name}]})

    async def _set_faults(self, request: Request) -> Response:
        try:
            self.faults = Faults(**json.loads(await request.body()))
        except (ValueError, TypeError) as e:
            return _error(400, f"faults: {e}")
        return Response(status_code=204)

    async def _calls(self, request: Request) -> Response:
        return JSONResponse({"calls": self.calls})

    async def _chat(self, request: Request) -> Response:
        try:
            body = json.loads(await request.body())
        except ClientDisconnect:  # the gateway gave up on this call before sending all of it
            return self._count("client-closed", Response(status_code=499))
        self.bodies.append(body)
        self.headers.append(dict(request.headers))
        f = self.faults
        draw = self._random.random()
        if f.latency_ms:
            await asyncio.sleep(f.latency_ms / 1000)
        if draw < f.error_rate:
            return self._count("error", _error(f.error_status, "injected failure"))
        draw -= f.error_rate
        if draw < f.rate_limit_rate:
            response = _error(429, "rate limited (injected)")
            response.headers["retry-after"] = f"{f.retry_after_s:g}"
            return self._count("rate-limited", response)
        draw -= f.rate_limit_rate
        if draw < f.hang_rate:
            return self._count("hang", StreamingResponse(_hang(), media_type="text/event-stream"))
        cut = self._random.random() < f.cut_rate
        if body.get("stream"):
            return self._count(
                "cut" if cut else "ok", StreamingResponse(self._chunks(body, cut), media_type="text/event-stream")
            )
        return self._count("ok", JSONResponse(self._completion(body)))

    def _count(self, outcome: str, response: Response) -> Response:
        self.calls.append((time.monotonic(), outcome))
        return response

    def _completion(self, body: dict[str, Any]) -> dict[str, Any]:
        tool = _tool_call(body)
        message: dict[str, Any] = {"role": "assistant", "content": None if tool else "".join(self.words)}
        if tool:
            message["tool_calls"] = [tool]
        return {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body["model"],
            "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if tool else "stop"}],
            "usage": {"prompt_tokens": 10, "completion_tokens": len(self.words), "total_tokens": 10 + len(self.words)},
        }

    async def _chunks(self, body: dict[str, Any], cut: bool) -> AsyncIterator[bytes]:
        f, model = self.faults, body["model"]

        def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
            data = {
                "id": "chatcmpl-fake",
                "object": "chat.completion.chunk",
                "created": 0,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
            return f"data: {json.dumps(data)}\n\n".encode()

        yield chunk({"role": "assistant", "content": ""})
        if f.first_token_ms:
            await asyncio.sleep(f.first_token_ms / 1000)
        tool = _tool_call(body)
        if tool:
            yield chunk({"tool_calls": [{"index": 0, **tool}]})
        for i, word in enumerate(() if tool else self.words):
            if i and f.chunk_ms:
                await asyncio.sleep(f.chunk_ms / 1000)
            yield chunk({"content": word})
            if cut:
                raise CutStream(self.name)
        yield chunk({}, "tool_calls" if tool else "stop")
        if (body.get("stream_options") or {}).get("include_usage"):
            usage = {"prompt_tokens": 10, "completion_tokens": len(self.words), "total_tokens": 10 + len(self.words)}
            data = {
                "id": "chatcmpl-fake",
                "object": "chat.completion.chunk",
                "created": 0,
                "model": model,
                "choices": [],
                "usage": usage,
            }
            yield f"data: {json.dumps(data)}\n\n".encode()
        yield b"data: [DONE]\n\n"


def _tool_call(body: dict[str, Any]) -> dict[str, Any] | None:
    tools = body.get("tools") or []
    if not tools:
        return None
    name = tools[0].get("function", {}).get("name", "tool")
    return {"id": "call_1", "type": "function", "function": {"name": name, "arguments": '{"city": "Paris"}'}}


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": "server_error", "code": None}}, status)


async def _hang() -> AsyncIterator[bytes]:
    await asyncio.sleep(3600)
    yield b""
