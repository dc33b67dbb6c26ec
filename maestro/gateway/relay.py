"""Answers from an opened upstream stream: buffered into one completion, or relayed as server-sent events.

A relayed stream that breaks or stalls after the answer began ends with an explicit error event and no
``[DONE]``, so a client can never take a cut answer for a complete one.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import anyio

from maestro.calls import Opened, merge_delta, next_chunk
from maestro.gateway.responses import COST
from maestro.gateway.runtime import Runtime
from maestro.providers import FaultKind, ProviderFault, Usage, sse


@dataclass(frozen=True, slots=True)
class Buffered:
    completion: dict[str, Any]
    usage: Usage | None
    model: str | None


async def buffer(rt: Runtime, opened: Opened) -> Buffered:
    """Read the whole answer (each chunk within the stall deadline) and merge it into a chat.completion."""
    chunks = list(opened.head)
    stream, stall_s = opened.stream, rt.config.stall_s
    try:
        async with asyncio.timeout(None) as timeout:
            watch = _StallWatch(timeout, stall_s)
            try:
                async for chunk in stream:
                    chunks.append(chunk)
                    watch.read()
            finally:
                watch.stop()
    except TimeoutError:
        raise ProviderFault(opened.deployment.provider.name, FaultKind.STALL, f"no chunk for {stall_s:g} s") from None
    return Buffered(merge(chunks, stream.usage, stream.model or opened.deployment.model), stream.usage, stream.model)


class _StallWatch:
    """The stall deadline of a buffered read with one timer, not one per chunk (``next_chunk``'s way, which a
    relayed stream needs: it waits for its client between chunks). ``read`` notes that a chunk came; when the
    timer fires, it expires ``timeout`` (the read in progress ends in TimeoutError) if no chunk has come for
    ``limit`` seconds, and otherwise waits until ``limit`` after the last one."""

    def __init__(self, timeout: asyncio.Timeout, limit: float) -> None:
        self.loop = asyncio.get_running_loop()
        self.timeout, self.limit = timeout, limit
        self.last = self.loop.time()
        self.handle = self.loop.call_at(self.last + limit, self._check)

    def read(self) -> None:
        self.last = self.loop.time()

    def stop(self) -> None:
        self.handle.cancel()

    def _check(self) -> None:
        now = self.loop.time()
        if now - self.last >= self.limit:
            self.timeout.reschedule(now)
        else:
            self.handle = self.loop.call_at(self.last + self.limit, self._check)


def merge(chunks: list[dict[str, Any]], usage: Usage | None, model: str) -> dict[str, Any]:
    choices: dict[int, dict[str, Any]] = {}
    for chunk in chunks:
        for c in chunk.get("choices") or ():
            choice = choices.setdefault(
                int(c.get("index", 0)),
                {
                    "index": int(c.get("index", 0)),
                    "message": {"role": "assistant", "content": None},
                    "finish_reason": None,
                    "logprobs": None,
                },
            )
            merge_delta(choice["message"], c.get("delta") or {})
            choice["finish_reason"] = c.get("finish_reason") or choice["finish_reason"]
    first = chunks[0] if chunks else {}
    out: dict[str, Any] = {
        "id": first.get("id", "chatcmpl-maestro"),
        "object": "chat.completion",
        "created": first.get("created", int(time.time())),
        "model": model,
        "choices": [choices[i] for i in sorted(choices)],
    }
    if usage is not None:
        out["usage"] = usage.as_openai()
    return out


@dataclass
class StreamEnd:
    usage: Usage | None
    error: ProviderFault | None
    output_chars: int


async def relay(
    rt: Runtime, opened: Opened, include_usage: bool, finish: Callable[[StreamEnd], Awaitable[float]]
) -> AsyncIterator[bytes]:
    """The answer as SSE bytes; ``finish`` is called once, however the stream ended, and returns its cost.

    When the upstream's stream has ended (whole or cut), the cost comes before the last event as a comment,
    ``: x-maestro-cost-usd 0.00001100``: the header had only the estimate, sent before the answer was read.
    """
    end = StreamEnd(None, None, 0)
    settled = False

    async def settle() -> float:
        nonlocal settled
        settled = True
        end.usage = opened.stream.usage
        return await finish(end)

    try:
        for chunk in opened.head:
            end.output_chars += _chars(chunk)
            if include_usage or chunk.get("choices"):
                yield sse.encode(chunk)
        while True:
            try:
                more = await next_chunk(rt.line, opened)
            except ProviderFault as fault:
                end.error = fault
                break
            if more is None:
                break
            end.output_chars += _chars(more)
            if include_usage or more.get("choices"):
                yield sse.encode(more)
        if end.error is not None:
            rt.breakers.failure(opened.deployment.key)
            rt.metrics.stream_errors.labels(opened.deployment.key, end.error.kind.value).inc()
        yield sse.comment(f"{COST} {await settle():.8f}")
        yield sse.encode("[DONE]") if end.error is None else sse.encode(_error_event(end.error))
    finally:
        with anyio.CancelScope(shield=True):  # the client went away: the task is being cancelled, finish anyway
            await opened.stream.aclose()
            if not settled:
                await settle()


def _error_event(fault: ProviderFault) -> dict[str, Any]:
    return {
        "error": {
            "message": f"the answer was cut off after it began ({fault.kind.value}: {fault}); it is incomplete",
            "type": "upstream_error",
            "code": "stream_interrupted",
        }
    }


def _chars(chunk: dict[str, Any]) -> int:
    total = 0
    for c in chunk.get("choices") or ():
        delta = c.get("delta") or {}
        total += len(delta.get("content") or "")
        for call in delta.get("tool_calls") or ():
            total += len((call.get("function") or {}).get("arguments") or "")
    return total
