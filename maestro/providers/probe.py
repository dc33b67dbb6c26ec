"""Checking providers: is each reachable, how fast, is its key set (never what it is), and one real call."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace

import httpx

from maestro.providers.client import ChatClient
from maestro.providers.faults import FaultKind, ProviderError, ProviderFault
from maestro.providers.registry import pool
from maestro.providers.spec import ProviderSpec
from maestro.providers.usage import Usage

_UNREACHABLE = frozenset({FaultKind.CONNECT, FaultKind.TIMEOUT})
TEST_PROMPT = "Reply with the single word OK."


@dataclass(frozen=True, slots=True)
class Probe:
    provider: str
    type: str
    base_url: str
    secret_env: str | None
    secret_set: bool | None  # None: the provider needs no key
    reachable: bool = False
    latency_ms: float | None = None
    outcome: str = "ok"  # "ok", a fault kind, "caller-fault", or "no-key" (a test call not made)
    detail: str = ""
    model: str | None = None
    answer: str | None = None
    usage: Usage | None = None
    cost_usd: float | None = None

    @property
    def ok(self) -> bool:
        return self.reachable and self.outcome == "ok" and self.secret_set is not False


async def status(
    specs: Mapping[str, ProviderSpec],
    environ: Mapping[str, str] | None = None,
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
) -> list[Probe]:
    """List each provider's models (``GET /models``), all at once."""
    clients = pool(specs, environ, transports)
    try:
        return list(await asyncio.gather(*(_list(clients[n]) for n in sorted(specs))))
    finally:
        await clients.aclose()


async def test(
    specs: Mapping[str, ProviderSpec],
    models: Mapping[str, str],
    environ: Mapping[str, str] | None = None,
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
) -> list[Probe]:
    """One real chat call per provider, to ``models[name]`` (default: its first model)."""
    clients = pool(specs, environ, transports)
    try:
        calls = (_call(clients[n], models.get(n) or next(iter(specs[n].prices))) for n in sorted(specs))
        return list(await asyncio.gather(*calls))
    finally:
        await clients.aclose()


def _start(client: ChatClient) -> Probe:
    spec = client.spec
    secret_set = None if spec.api_key_env is None else client.secret is not None
    return Probe(spec.name, spec.type, spec.base_url, spec.api_key_env, secret_set)


async def _list(client: ChatClient) -> Probe:
    probe, started = _start(client), time.perf_counter()
    try:
        models = await client.list_models()
    except ProviderError as e:
        return _failed(probe, e, started)
    ms = (time.perf_counter() - started) * 1000
    return replace(probe, reachable=True, latency_ms=ms, detail=f"{len(models)} model(s)")


async def _call(client: ChatClient, model: str) -> Probe:
    probe, started = replace(_start(client), model=model), time.perf_counter()
    if probe.secret_set is False:  # the call could only be refused (and, at some providers, still be counted)
        detail = f"${probe.secret_env} is not set; set it to make a test call"
        return replace(probe, outcome="no-key", detail=detail)
    body = {"messages": [{"role": "user", "content": TEST_PROMPT}], "max_tokens": 8}
    text = ""
    try:
        stream = await client.open(body, model)
        async for chunk in stream:
            for choice in chunk.get("choices") or ():
                text += (choice.get("delta") or {}).get("content") or ""
    except ProviderError as e:
        return _failed(probe, e, started)
    ms = (time.perf_counter() - started) * 1000
    price = client.spec.prices.get(model)
    usage = stream.usage
    cost = price.cost(usage) if price is not None and usage is not None else None
    return replace(probe, reachable=True, latency_ms=ms, answer=text.strip(), usage=usage, cost_usd=cost)


def _failed(probe: Probe, e: ProviderError, started: float) -> Probe:
    if isinstance(e, ProviderFault):
        outcome, reachable = e.kind.value, e.kind not in _UNREACHABLE
    else:
        outcome, reachable = "caller-fault", True
    ms = (time.perf_counter() - started) * 1000 if reachable else None
    detail = str(e).removeprefix(f"{probe.provider}: ")
    return replace(probe, reachable=reachable, latency_ms=ms, outcome=outcome, detail=detail)
