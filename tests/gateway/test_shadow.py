"""Shadow copies of requests: sent in the background, never served, measured."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import openai
from helpers.gateway import Up, rig, route, served
from helpers.timing import within

from maestro.chaos.upstream import Faults

MESSAGES = [{"role": "user", "content": "hi"}]


def shadow_route(rate: float = 1.0) -> str:
    text = route("chat-route", "chat", ["alpha"], [])
    return text.replace("  limits:", f"  shadow:\n    - {{provider: gamma, model: m1, sampleRate: {rate}}}\n  limits:")


def test_a_shadow_gets_a_copy_and_the_caller_only_the_primary_answer(tmp_path: Path) -> None:
    ups = [Up("alpha"), Up("gamma")]
    with rig(tmp_path, ups, shadow_route()) as r, served(r.config) as url:
        with openai.OpenAI(base_url=url + "/v1", api_key="k", max_retries=0) as c:
            raw = c.chat.completions.with_raw_response.create(model="chat", messages=MESSAGES, temperature=0.2)
        deadline = time.monotonic() + 5
        while not r.fakes["gamma"].calls and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.2)
        metrics = httpx.get(url + "/metrics").text
    assert raw.headers["x-maestro-served-by"] == "alpha/m1"
    assert raw.parse().choices[0].message.content == "Hello from the upstream."
    assert r.fakes["gamma"].bodies[0]["temperature"] == 0.2 and r.fakes["gamma"].bodies[0]["model"] == "m1"
    assert 'maestro_gateway_shadow_total{deployment="gamma/m1",outcome="ok"} 1.0' in metrics


def test_a_failing_or_hanging_shadow_never_touches_the_answer(tmp_path: Path) -> None:
    ups = [Up("alpha"), Up("gamma")]
    with rig(tmp_path, ups, shadow_route(), {"gamma": Faults(hang_rate=1.0)}) as r, served(r.config) as url:
        started = time.monotonic()
        answer = httpx.post(url + "/v1/chat/completions", json={"model": "chat", "messages": MESSAGES}, timeout=10)
        took = time.monotonic() - started
        health = httpx.get(url + "/healthz").json()
    assert answer.status_code == 200 and answer.headers["x-maestro-served-by"] == "alpha/m1"
    assert took < within(1.0)  # the hanging shadow never held the answer (it hangs for an hour)
    assert health["circuits"] == {}  # a shadow never opens a circuit
