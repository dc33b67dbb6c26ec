"""Circuit breakers: open after N provider faults, one probe when half-open, closed again on success; and the
panic threshold (most of a route's deployments open: every allowed one is tried) through the gateway."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from helpers.gateway import offline_config, route, sse_body

from maestro.calls.breaker import Breakers
from maestro.gateway.config import BreakerSettings
from maestro.router import Circuit

from .conftest import app_client, mock

MESSAGES = [{"role": "user", "content": "hello"}]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_opens_after_consecutive_failures_and_a_success_resets() -> None:
    b = Breakers(BreakerSettings(failures=3, cooldown_s=10), Clock())
    b.failure("d")
    b.failure("d")
    b.success("d")
    b.failure("d")
    b.failure("d")
    assert b.circuit("d") == Circuit.CLOSED
    b.failure("d")
    assert b.circuit("d") == Circuit.OPEN
    assert not b.admit("d")


def test_half_open_lets_exactly_one_probe_through() -> None:
    clock = Clock()
    b = Breakers(BreakerSettings(failures=1, cooldown_s=10), clock)
    b.failure("d")
    clock.now = 9.9
    assert not b.admit("d")
    clock.now = 10.0
    assert b.circuit("d") == Circuit.HALF_OPEN
    assert b.admit("d")  # the probe
    assert b.circuit("d") == Circuit.OPEN  # the router sees it unavailable while the probe is out
    assert [b.admit("d") for _ in range(5)] == [False] * 5
    b.failure("d")  # the probe failed: open for another cooldown
    clock.now = 19.9
    assert not b.admit("d")
    clock.now = 20.0
    assert b.admit("d")
    b.success("d")
    assert b.circuit("d") == Circuit.CLOSED
    assert all(b.admit("d") for _ in range(3))


def test_a_released_probe_frees_the_slot() -> None:
    clock = Clock()
    b = Breakers(BreakerSettings(failures=1, cooldown_s=1), clock)
    b.failure("d")
    clock.now = 1
    assert b.admit("d")
    b.release("d")  # e.g. the probe met a caller fault: it told nothing
    assert b.circuit("d") == Circuit.HALF_OPEN
    assert b.admit("d")


class Switch:
    """An upstream that fails (HTTP 503) until told to heal, counting its calls."""

    def __init__(self) -> None:
        self.healthy = False
        self.calls = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        if not self.healthy:
            return httpx.Response(503, json={"error": {"message": "down", "type": "server_error"}})
        return httpx.Response(200, content=sse_body(), headers={"content-type": "text/event-stream"})


def _panic_run(tmp: Path, panic_spec: str) -> tuple[list[httpx.Response], str, Switch, Switch]:
    """Both upstreams fail once (both circuits open: one failure opens, for 60 s); then beta heals."""
    alpha, beta = Switch(), Switch()
    routes = route("chat-route", "chat", ["alpha"], ["beta"]).replace("  retry:", panic_spec + "  retry:")
    config = offline_config(
        tmp, {"alpha": mock(alpha), "beta": mock(beta)}, routes=routes, breaker=BreakerSettings(1, 60)
    )

    async def go() -> tuple[list[httpx.Response], str]:
        async with app_client(config) as c:
            body = {"model": "chat", "messages": MESSAGES}
            answers = [await c.post("/v1/chat/completions", json=body)]
            beta.healthy = True
            answers += [await c.post("/v1/chat/completions", json=body) for _ in range(2)]
            return answers, (await c.get("/metrics")).text

    answers, metrics = asyncio.run(go())
    return answers, metrics, alpha, beta


def test_in_panic_an_open_circuit_is_tried_and_the_healed_fallback_serves(tmp_path: Path) -> None:
    answers, metrics, alpha, beta = _panic_run(tmp_path, "")
    assert [a.status_code for a in answers] == [503, 200, 200]
    # both open (2 of 2, at least the default 50%): the second request tries both, in the route's order
    assert answers[1].headers["x-maestro-served-by"] == "beta/m1" and answers[1].headers["x-maestro-attempts"] == "2"
    # beta's success closed its circuit; alpha, still open, is one of two: panic still, but alpha goes last,
    # and beta serves before it is reached
    assert answers[2].headers["x-maestro-served-by"] == "beta/m1" and answers[2].headers["x-maestro-attempts"] == "1"
    assert (alpha.calls, beta.calls) == (2, 3)
    assert 'maestro_gateway_panic_decisions_total{route="chat-route"} 2.0' in metrics
    assert 'maestro_gateway_panic_attempts_total{deployment="alpha/m1"} 1.0' in metrics
    assert 'maestro_gateway_panic_attempts_total{deployment="beta/m1"} 1.0' in metrics


def test_with_panic_off_open_circuits_refuse_until_their_cooldown(tmp_path: Path) -> None:
    answers, metrics, alpha, beta = _panic_run(tmp_path, "  panicThreshold: 0\n")
    assert [a.status_code for a in answers] == [503, 503, 503]
    reasons = {u["deployment"]: u["reason"] for u in answers[1].json()["error"]["unavailable"]}
    assert reasons == {d: "circuit-open: its circuit is open after recent failures" for d in ("alpha/m1", "beta/m1")}
    assert (alpha.calls, beta.calls) == (1, 1)
    assert "maestro_gateway_panic_decisions_total{" not in metrics
