"""The OpenAI-compatible client against httpx.MockTransport: chunks, faults, and keys kept secret."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from helpers.gateway import sse_body

from maestro.providers import CallerFault, FaultKind, ProviderFault, ProviderSpec, Secret, Timeouts, Usage, pool
from maestro.providers.usage import Price

KEY = "sk-live-abcdef123456"
SPEC = ProviderSpec("p", "openai", "http://p.invalid/v1", "P_KEY", Timeouts(1, 1, 5), {"m": Price(1.0, 2.0)})


def collect(handler: Callable[[httpx.Request], httpx.Response]) -> tuple[list[dict[str, Any]], Usage | None]:
    async def go() -> tuple[list[dict[str, Any]], Usage | None]:
        clients = pool({"p": SPEC}, {"P_KEY": KEY}, {"p": httpx.MockTransport(handler)})
        try:
            stream = await clients["p"].open({"messages": [{"role": "user", "content": "x"}]}, "m")
            return [c async for c in stream], stream.usage
        finally:
            await clients.aclose()

    return asyncio.run(go())


def test_streams_chunks_and_usage_with_the_key_in_the_header() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=sse_body())

    chunks, usage = collect(handler)
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"]) == "Hi there"
    assert usage == Usage(7, 2)
    assert SPEC.prices["m"].cost(usage) == pytest.approx(11e-6)
    assert str(seen[0].url) == "http://p.invalid/v1/chat/completions"
    assert seen[0].headers["authorization"] == f"Bearer {KEY}"
    body = seen[0].read()
    assert b'"stream":true' in body.replace(b" ", b"") and b'"include_usage":true' in body.replace(b" ", b"")


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (500, FaultKind.SERVER_ERROR),
        (503, FaultKind.SERVER_ERROR),
        (429, FaultKind.RATE_LIMITED),
        (401, FaultKind.AUTH),
        (403, FaultKind.AUTH),
        (408, FaultKind.TIMEOUT),
    ],
)
def test_provider_faults_by_status(status: int, kind: FaultKind) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json={"error": {"message": "no"}}, headers={"retry-after": "2"})

    with pytest.raises(ProviderFault) as caught:
        collect(handler)
    assert caught.value.kind == kind and caught.value.status == status
    assert caught.value.retry_after == (2.0 if status in (429, 401, 403, 408) else None)


@pytest.mark.parametrize("status", [400, 404, 413, 422])
def test_other_4xx_are_caller_faults_in_openai_shape(status: int) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json={"error": {"message": "bad field", "type": "invalid_request_error"}})

    with pytest.raises(CallerFault) as caught:
        collect(handler)
    assert caught.value.status == status
    assert caught.value.body["error"]["message"] == "bad field"


def test_a_relayed_error_code_is_a_string_as_in_openai() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={"error": {"message": "bad field", "code": 1234}})

    with pytest.raises(CallerFault) as caught:
        collect(handler)
    assert caught.value.body["error"]["code"] == "1234"


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (httpx.ConnectError("refused"), FaultKind.CONNECT),
        (httpx.ConnectTimeout("slow"), FaultKind.TIMEOUT),
        (httpx.ReadTimeout("slow"), FaultKind.TIMEOUT),
    ],
)
def test_transport_errors_are_provider_faults(error: Exception, kind: FaultKind) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise error

    with pytest.raises(ProviderFault) as caught:
        collect(handler)
    assert caught.value.kind == kind


def test_a_stream_that_stops_before_its_finish_is_broken() -> None:
    cut = sse_body().split(b'"finish_reason": "stop"')[0].rsplit(b"data:", 1)[0]

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=cut)

    with pytest.raises(ProviderFault) as caught:
        collect(handler)
    assert caught.value.kind == FaultKind.BROKEN_STREAM


def test_an_error_event_mid_stream_is_a_fault() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b'data: {"error": {"message": "overloaded"}}\n\n')

    with pytest.raises(ProviderFault) as caught:
        collect(handler)
    assert caught.value.kind == FaultKind.BROKEN_STREAM and "overloaded" in str(caught.value)


def test_the_key_never_appears_in_an_error_even_when_the_upstream_echoes_it() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"error": {"message": f"Incorrect API key provided: {KEY}"}})

    with pytest.raises(ProviderFault) as caught:
        collect(handler)
    assert KEY not in str(caught.value) and "[redacted]" in str(caught.value)
    assert KEY not in repr(caught.value.args)


def test_a_secret_shows_only_its_variable_name() -> None:
    secret = Secret("P_KEY", KEY)
    assert KEY not in repr(secret) and KEY not in str(secret) and KEY not in f"{secret}"
    assert "P_KEY" in repr(secret)
    clients = pool({"p": SPEC}, {"P_KEY": KEY})
    assert KEY not in repr(clients.clients["p"].secret)
    asyncio.run(clients.aclose())
