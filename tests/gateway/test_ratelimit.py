"""The Provider manifest's rateLimits: a provider at its limit is passed over, with the reason."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import httpx
from helpers.gateway import offline_config, sse_body

from maestro.gateway.ratelimit import ProviderLimits
from maestro.providers import ProviderSpec, Timeouts

from .conftest import app_client, mock


def ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, content=sse_body())


def test_requests_and_tokens_per_minute_over_a_sliding_minute() -> None:
    now = [0.0]
    spec = ProviderSpec("p", "openai", "http://p", None, Timeouts(), {}, requests_per_minute=2, tokens_per_minute=100)
    limits = ProviderLimits(
        {"p": spec, "free": replace(spec, name="free", requests_per_minute=None, tokens_per_minute=None)},
        clock=lambda: now[0],
    )
    limits.sent("p")
    limits.sent("p")
    assert limits.reason("p") == "it is at its rate limit of 2 requests a minute"
    now[0] = 60.0
    assert limits.reason("p") is None
    limits.used("p", 150)
    assert limits.reason("p") == "it is at its rate limit of 100 tokens a minute"
    now[0] = 120.5
    assert limits.reason("p") is None
    for _ in range(10):
        limits.sent("free")
    assert limits.reason("free") is None


def test_a_provider_at_its_limit_is_passed_over_for_the_fallback(tmp_path: Path) -> None:
    config = offline_config(tmp_path, {"alpha": mock(ok), "beta": mock(ok)})
    config = replace(
        config, providers={**config.providers, "alpha": replace(config.providers["alpha"], requests_per_minute=2)}
    )

    async def go() -> list[httpx.Response]:
        async with app_client(config) as c:
            body = {"model": "chat", "messages": [{"role": "user", "content": "hi"}]}
            return [await c.post("/v1/chat/completions", json=body) for _ in range(3)]

    answers = asyncio.run(go())
    assert [a.headers["x-maestro-served-by"] for a in answers] == ["alpha/m1", "alpha/m1", "beta/m1"]


def test_the_manifest_rate_limits_are_read() -> None:
    spec = ProviderSpec.of(
        "x",
        {
            "type": "openai",
            "baseUrl": "http://x/v1",
            "jurisdiction": "us",
            "rateLimits": {"requestsPerMinute": 600, "tokensPerMinute": 300000},
            "models": [{"name": "m", "contextWindow": 10, "price": {"inputPer1M": 1, "outputPer1M": 1}}],
        },
    )
    assert (spec.requests_per_minute, spec.tokens_per_minute) == (600, 300000)
