"""The route-calling core without HTTP in front: decision, attempts, fallback, refusals, evidence."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from helpers.gateway import Up, environ, route, sse_body, write_repo

from maestro import providers
from maestro.calls import Answer, CallError, RouteCaller
from maestro.cli.request_files import load_manifests
from maestro.router import LiveState

Handler = Callable[[httpx.Request], httpx.Response]


def ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, content=sse_body(), headers={"content-type": "text/event-stream"})


def status(code: int) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(code, json={"error": {"message": f"status {code}"}})

    return handler


def caller(tmp: Path, alpha: Handler, beta: Handler, state: LiveState | None = None) -> RouteCaller:
    """alpha (primary) and beta (fallback) behind route ``chat-route``; their upstreams are ``alpha``/``beta``."""
    ups = [Up("alpha"), Up("beta", price_in=0.5, price_out=1.0)]
    urls = {u.name: f"http://{u.name}.invalid" for u in ups}
    repo = write_repo(tmp, urls, ups, route("chat-route", "chat", ["alpha"], ["beta"]))
    manifests = load_manifests([repo / "manifests", repo / "policies"])
    transports = {"alpha": httpx.MockTransport(alpha), "beta": httpx.MockTransport(beta)}
    pool = providers.pool(providers.specs_of(manifests), environ(), transports)
    return RouteCaller(manifests, pool, state)


def chat(c: RouteCaller, route_name: str = "chat-route") -> Answer:
    async def go() -> Answer:
        try:
            return await c.chat(route_name, [{"role": "user", "content": "hi"}], max_tokens=8)
        finally:
            await c.pool.aclose()

    return asyncio.run(go())


def test_the_primary_answers_with_its_usage_cost_and_evidence(tmp_path: Path) -> None:
    seen: list[dict[str, object]] = []

    def alpha(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        return ok(request)

    answer = chat(c := caller(tmp_path, alpha, status(500)))
    assert answer.output == "Hi there"
    assert answer.deployment == "alpha/m1"
    assert (answer.input_tokens, answer.output_tokens) == (7, 2)
    assert answer.cost_usd == pytest.approx((7 * 1.0 + 2 * 2.0) / 1_000_000)
    assert answer.decision_id.startswith("dec_")
    assert [(a.deployment, a.outcome) for a in answer.attempts] == [("alpha/m1", "ok")]
    assert seen[0]["max_tokens"] == 8 and seen[0]["messages"] == [{"role": "user", "content": "hi"}]
    assert c.requests == 1


def test_a_provider_fault_falls_back_to_the_next_deployment(tmp_path: Path) -> None:
    answer = chat(c := caller(tmp_path, status(503), ok))
    assert answer.deployment == "beta/m1"
    outcomes = [(a.deployment, a.outcome) for a in answer.attempts]
    assert outcomes[0][0] == "alpha/m1" and outcomes[0][1] != "ok"
    assert outcomes[-1] == ("beta/m1", "ok")
    assert c.requests == 2


def test_a_caller_fault_does_not_fall_back(tmp_path: Path) -> None:
    tried: list[str] = []

    def beta(request: httpx.Request) -> httpx.Response:
        tried.append("beta")
        return ok(request)

    with pytest.raises(CallError, match="alpha/m1 refused the request"):
        chat(caller(tmp_path, status(400), beta))
    assert tried == []


def test_every_deployment_failing_names_each_fault(tmp_path: Path) -> None:
    with pytest.raises(CallError, match=r"^every deployment of route 'chat-route' failed: alpha: .*; beta: "):
        chat(caller(tmp_path, status(500), status(502)))


def test_a_refusal_is_a_call_error_with_the_routers_reason(tmp_path: Path) -> None:
    with pytest.raises(CallError, match="kill switch is engaged for route 'chat-route'"):
        chat(caller(tmp_path, ok, ok, LiveState(kill_all=True)))


def test_an_unknown_route_names_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(CallError, match="no Route named 'nope'; known routes: chat-route"):
        chat(caller(tmp_path, ok, ok), "nope")
