"""Silent deployments (an attempt waiting past part of its first-token deadline) are tried last."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
from helpers.gateway import Up, rig, route, served
from helpers.timing import within

from maestro.calls.watch import FirstTokenWatch
from maestro.chaos.upstream import Faults

UPS = [Up("alpha"), Up("beta", price_in=0.5, price_out=1.0)]


def test_a_deployment_is_silent_once_an_attempt_waited_past_the_fraction() -> None:
    now = [0.0]
    watch = FirstTokenWatch(0.5, clock=lambda: now[0])
    token = watch.begin("d", deadline_s=2.0)
    now[0] = 1.0
    assert not watch.silent("d")
    now[0] = 1.01
    assert watch.silent("d") and not watch.silent("other")
    watch.end("d", token)
    assert not watch.silent("d")
    assert not FirstTokenWatch(0).silent("d")


def test_requests_go_around_a_provider_that_keeps_one_waiting(tmp_path: Path) -> None:
    body = {"model": "chat", "messages": [{"role": "user", "content": "hi"}]}
    # a 6 s deadline: the second request must be sent while the first waits, past 3 s and before 6 s, a window
    # wide enough for a loaded machine (with 1 s, a busy test thread sent it after the first attempt gave up)
    routes = route("chat-route", "chat", ["alpha"], ["beta"]).replace("firstTokenTimeout: 1s", "firstTokenTimeout: 6s")
    with rig(tmp_path, UPS, routes, {"alpha": Faults(hang_rate=1.0)}) as r, served(r.config) as url:
        first: list[httpx.Response] = []
        waiting = threading.Thread(
            target=lambda: first.append(httpx.post(url + "/v1/chat/completions", json=body, timeout=30))
        )
        waiting.start()
        deadline = time.monotonic() + 5
        while not r.fakes["alpha"].calls and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(3.5)  # the first attempt has now waited past half of alpha's 6 s deadline
        started = time.monotonic()
        later = httpx.post(url + "/v1/chat/completions", json=body, timeout=10)
        took = time.monotonic() - started
        waiting.join()
    assert later.headers["x-maestro-served-by"] == "beta/m1" and later.headers["x-maestro-attempts"] == "1"
    assert took < within(0.5)  # not held behind the silent provider for its deadline (6 s)
    assert first[0].headers["x-maestro-served-by"] == "beta/m1" and first[0].headers["x-maestro-attempts"] == "2"
    assert len(r.fakes["alpha"].calls) == 1
