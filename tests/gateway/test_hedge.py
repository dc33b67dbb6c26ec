"""Hedged requests: a slow first attempt gets a copy sent to the next deployment, within the hedge's cost."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from helpers.gateway import Up, rig, route, served
from helpers.timing import within

from maestro.chaos.upstream import Faults

SLOW = Faults(latency_ms=800)


def hedged(max_cost: float) -> str:
    text = route("chat-route", "chat", ["alpha"], ["beta"])
    return text.replace("  retry:", f"  hedge: {{after: 100ms, maxCostUsd: {max_cost}}}\n  retry:")


def ask(url: str, *, stream: bool = False) -> tuple[httpx.Response, float]:
    body = {"model": "chat", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 16, "stream": stream}
    started = time.monotonic()
    response = httpx.post(f"{url}/v1/chat/completions", json=body, timeout=10)
    return response, time.monotonic() - started


@pytest.mark.parametrize("stream", [False, True])
def test_a_slow_primary_is_hedged_to_the_next_deployment(tmp_path: Path, stream: bool) -> None:
    with rig(tmp_path, [Up("alpha"), Up("beta")], hedged(0.01), {"alpha": SLOW}) as r, served(r.config) as url:
        response, seconds = ask(url, stream=stream)
        assert response.status_code == 200 and response.headers["x-maestro-served-by"] == "beta/m1"
        assert seconds < within(0.6)  # the copy went out at 100 ms; the primary would have taken 800
        assert response.headers["x-maestro-attempts"] == "2"  # beta's answer and alpha's cancelled attempt
        assert len(r.fakes["alpha"].bodies) == 1 and len(r.fakes["beta"].bodies) == 1
        if stream:
            assert "data: [DONE]" in response.text
        for _ in range(4):  # a cancelled attempt is not a failure: alpha's circuit stays closed, so it is tried
            assert ask(url, stream=stream)[0].headers["x-maestro-served-by"] == "beta/m1"
        assert len(r.fakes["alpha"].bodies) == 5


def test_a_fast_primary_sends_no_copy(tmp_path: Path) -> None:
    with rig(tmp_path, [Up("alpha"), Up("beta")], hedged(0.01)) as r, served(r.config) as url:
        for _ in range(5):
            response, _ = ask(url)
            assert response.headers["x-maestro-served-by"] == "alpha/m1"
            assert response.headers["x-maestro-attempts"] == "1"
        assert r.fakes["beta"].bodies == []


def test_no_copy_goes_where_it_would_cost_more_than_the_hedge_allows(tmp_path: Path) -> None:
    ups = [Up("alpha"), Up("beta", price_in=100.0, price_out=100.0)]
    with rig(tmp_path, ups, hedged(0.0001), {"alpha": SLOW}) as r, served(r.config) as url:
        response, seconds = ask(url)
        assert response.headers["x-maestro-served-by"] == "alpha/m1" and seconds >= 0.8
        assert r.fakes["beta"].bodies == []


def test_when_the_primary_fails_fast_the_order_goes_on_without_a_hedge(tmp_path: Path) -> None:
    failing = Faults(error_rate=1.0)
    with rig(tmp_path, [Up("alpha"), Up("beta")], hedged(0.01), {"alpha": failing}) as r, served(r.config) as url:
        response, _ = ask(url)
        assert response.headers["x-maestro-served-by"] == "beta/m1"
        assert response.headers["x-maestro-attempts"] == "2"
        assert len(r.fakes["beta"].bodies) == 1
