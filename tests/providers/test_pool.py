"""The pool against a real HTTP server: one kept-alive connection per provider, whatever its type says."""

from __future__ import annotations

import asyncio

import pytest
from helpers.gateway import sse_body
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from maestro.gateway.serve import Background
from maestro.providers import ProviderSpec, Timeouts, pool
from maestro.providers.openai import OpenAIClient
from maestro.providers.usage import Price


def upstream(seen: list[tuple[int, str, str]]) -> Starlette:
    async def chat(request: Request) -> Response:
        client = request.client
        assert client is not None
        seen.append((client.port, request.url.path, request.headers.get("authorization", "")))
        return Response(sse_body(), media_type="text/event-stream")

    return Starlette(routes=[Route("/v1/chat/completions", chat, methods=["POST"])])


@pytest.mark.parametrize("kind", ["openai", "vllm", "nim", "openai-compatible"])
def test_calls_reuse_one_connection_for_every_openai_kind(kind: str) -> None:
    seen: list[tuple[int, str, str]] = []
    with Background(upstream(seen)) as url:
        spec = ProviderSpec("p", kind, url + "/v1", "P_KEY", Timeouts(1, 1, 5), {"m": Price(1.0, 2.0)})

        async def go() -> list[str]:
            clients = pool({"p": spec}, {"P_KEY": "sk-test-0123456789"})
            assert isinstance(clients["p"], OpenAIClient)
            texts = []
            try:
                for _ in range(5):
                    stream = await clients["p"].open({"messages": [{"role": "user", "content": "x"}]}, "m")
                    chunks = [c async for c in stream]
                    texts.append("".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"]))
            finally:
                await clients.aclose()
            return texts

        texts = asyncio.run(go())
    assert texts == ["Hi there"] * 5
    assert len(seen) == 5 and len({port for port, _, _ in seen}) == 1  # five calls, one TCP connection
    assert {(path, auth) for _, path, auth in seen} == {("/v1/chat/completions", "Bearer sk-test-0123456789")}
