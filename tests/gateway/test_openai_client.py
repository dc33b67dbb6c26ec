"""The real openai client against the gateway served by uvicorn, with fake upstreams that are real servers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest
from helpers.gateway import KEYS, served, two_up
from helpers.timing import within

from maestro.chaos.upstream import Faults
from maestro.gateway import BreakerSettings

MESSAGES = [{"role": "user", "content": "Say hello"}]


def client(url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=url + "/v1", api_key="caller-key", max_retries=0, timeout=20)


def test_non_streaming_answer_carries_decision_headers(tmp_path: Path) -> None:
    with two_up(tmp_path) as rig, served(rig.config) as url, client(url) as c:
        raw = c.chat.completions.with_raw_response.create(model="chat", messages=MESSAGES)
        answer = raw.parse()
    assert answer.choices[0].message.content == "Hello from the upstream."
    assert answer.choices[0].finish_reason == "stop"
    assert answer.usage is not None and answer.usage.prompt_tokens == 10
    assert raw.headers["x-maestro-route"] == "chat-route"
    assert raw.headers["x-maestro-served-by"] == "alpha/m1"
    assert raw.headers["x-maestro-decision-id"].startswith("dec_")
    assert float(raw.headers["x-maestro-cost-usd"]) == pytest.approx((10 * 1.0 + 5 * 2.0) / 1e6)
    sent = rig.fakes["alpha"].bodies[0]
    assert sent["model"] == "m1" and sent["stream"] is True  # always streamed upstream
    assert rig.fakes["alpha"].headers[0]["authorization"] == f"Bearer {KEYS['alpha']}"


def test_streaming_answer_with_usage(tmp_path: Path) -> None:
    with (
        two_up(tmp_path) as rig,
        served(rig.config) as url,
        client(url) as c,
        c.chat.completions.with_streaming_response.create(
            model="chat", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
        ) as raw,
    ):
        headers = raw.headers
        chunks = list(raw.parse())
    text = "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices)
    assert text == "Hello from the upstream."
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 5
    assert headers["x-maestro-served-by"] == "alpha/m1"
    assert headers["x-maestro-cost-kind"] == "estimate"


def test_streaming_without_usage_option_drops_the_usage_chunk(tmp_path: Path) -> None:
    with two_up(tmp_path) as rig, served(rig.config) as url, client(url) as c:
        chunks = list(c.chat.completions.create(model="chat", messages=MESSAGES, stream=True))
    assert all(ch.usage is None for ch in chunks)
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_provider_fault_falls_back_and_says_who_served(tmp_path: Path) -> None:
    faults = {"alpha": Faults(error_rate=1.0)}
    with two_up(tmp_path, faults) as rig, served(rig.config) as url, client(url) as c:
        raw = c.chat.completions.with_raw_response.create(model="chat", messages=MESSAGES)
    assert raw.headers["x-maestro-served-by"] == "beta/m1"
    assert raw.parse().choices[0].message.content == "Hello from the upstream."
    assert [o for _, o in rig.fakes["alpha"].calls] == ["error"]
    assert float(raw.headers["x-maestro-cost-usd"]) == pytest.approx((10 * 0.5 + 5 * 1.0) / 1e6)


def test_caller_fault_is_returned_as_is_and_never_cools(tmp_path: Path) -> None:
    faults = {"alpha": Faults(error_rate=1.0, error_status=400)}
    with (
        two_up(tmp_path, faults, breaker=BreakerSettings(failures=1, cooldown_s=60)) as rig,
        served(rig.config) as url,
        client(url) as c,
    ):
        for _ in range(3):
            with pytest.raises(openai.BadRequestError) as caught:
                c.chat.completions.create(model="chat", messages=MESSAGES)
        health = httpx.get(url + "/healthz").json()
    assert caught.value.response.headers["x-maestro-served-by"] == "alpha/m1"
    assert caught.value.body["message"] == "injected failure"
    assert rig.fakes["beta"].calls == []  # no fallback on a caller fault
    assert len(rig.fakes["alpha"].calls) == 3  # and no circuit opened by it
    assert health["circuits"] == {}


def test_stream_cut_mid_answer_ends_with_an_error_event(tmp_path: Path) -> None:
    faults = {"alpha": Faults(cut_rate=1.0)}
    with two_up(tmp_path, faults) as rig, served(rig.config) as url, client(url) as c:
        received = []
        with pytest.raises(openai.APIError) as caught:
            for ch in c.chat.completions.create(model="chat", messages=MESSAGES, stream=True):
                received.append(ch.choices[0].delta.content or "")
    assert "".join(received) == "Hello"  # what arrived before the cut, and nothing that looks complete
    assert "incomplete" in caught.value.message
    assert rig.fakes["beta"].calls == []


def test_raw_stream_cut_has_no_done_marker(tmp_path: Path) -> None:
    faults = {"alpha": Faults(cut_rate=1.0)}
    with two_up(tmp_path, faults) as rig, served(rig.config) as url:
        body = {"model": "chat", "messages": MESSAGES, "stream": True}
        text = httpx.post(url + "/v1/chat/completions", json=body, timeout=10).text
    assert "[DONE]" not in text
    assert '"code":"stream_interrupted"' in text
    assert "\n: x-maestro-cost-usd 0.000" in text  # what the cut answer cost, before its error event


def test_a_stream_ends_with_its_real_cost(tmp_path: Path) -> None:
    with two_up(tmp_path) as rig, served(rig.config) as url:
        body = {"model": "chat", "messages": MESSAGES, "stream": True, "max_tokens": 500}
        with httpx.stream("POST", url + "/v1/chat/completions", json=body, timeout=10) as response:
            estimate = float(response.headers["x-maestro-cost-usd"])
            text = response.read().decode()
        metrics = httpx.get(url + "/metrics").text
    *_, comment, done, _ = text.split("\n\n")
    assert done == "data: [DONE]" and comment.startswith(": x-maestro-cost-usd ")
    cost = float(comment.removeprefix(": x-maestro-cost-usd "))
    assert 0 < cost < estimate  # the estimate counted all 500 tokens; the answer had 5
    line = next(x for x in metrics.splitlines() if x.startswith('maestro_gateway_cost_usd_total{deployment="alpha/m1"'))
    assert float(line.rsplit(" ", 1)[1]) == pytest.approx(cost, abs=1e-8)  # the metric and the budget got the same


def test_a_primary_that_never_answers_is_rescued_within_the_first_token_deadline(tmp_path: Path) -> None:
    faults = {"alpha": Faults(hang_rate=1.0)}
    with two_up(tmp_path, faults) as rig, served(rig.config) as url, client(url) as c:
        started = time.monotonic()
        raw = c.chat.completions.with_raw_response.create(model="chat", messages=MESSAGES)
        took = time.monotonic() - started
    assert raw.headers["x-maestro-served-by"] == "beta/m1" and raw.headers["x-maestro-attempts"] == "2"
    assert [outcome for _, outcome in rig.fakes["alpha"].calls] == ["hang"]
    assert took >= 1.0  # firstTokenTimeout is 1 s in the test route: alpha had all of it
    assert took < within(2.0)  # and no more: the rescue did not wait for the hang


def test_open_circuit_keeps_requests_off_a_down_primary(tmp_path: Path) -> None:
    faults = {"alpha": Faults(error_rate=1.0)}
    with (
        two_up(tmp_path, faults, breaker=BreakerSettings(failures=2, cooldown_s=60)) as rig,
        served(rig.config) as url,
        client(url) as c,
    ):
        served_by = [
            c.chat.completions.with_raw_response.create(model="chat", messages=MESSAGES).headers["x-maestro-served-by"]
            for _ in range(6)
        ]
        health = httpx.get(url + "/healthz").json()
    assert served_by == ["beta/m1"] * 6
    assert len(rig.fakes["alpha"].calls) == 2
    assert health["circuits"] == {"alpha/m1": "open"}


def test_after_the_cooldown_exactly_one_probe_reaches_the_primary(tmp_path: Path) -> None:
    # the primary fails slowly (500 ms), so each burst's requests all arrive while its one probe is in flight;
    # the cooldown (2 s) is long enough for a loaded machine to send a burst inside it
    faults = {"alpha": Faults(error_rate=1.0, latency_ms=500)}
    with (
        two_up(tmp_path, faults, breaker=BreakerSettings(failures=1, cooldown_s=2.0)) as rig,
        served(rig.config) as url,
    ):
        alpha = rig.fakes["alpha"]

        async def burst(n: int) -> list[str]:
            async with httpx.AsyncClient(base_url=url, timeout=10) as h:
                body = {"model": "chat", "messages": MESSAGES}
                answers = await asyncio.gather(*(h.post("/v1/chat/completions", json=body) for _ in range(n)))
            assert all(a.status_code == 200 for a in answers)
            return [a.headers["x-maestro-served-by"] for a in answers]

        assert asyncio.run(burst(1)) == ["beta/m1"] and len(alpha.calls) == 1  # the failure opens the circuit
        assert asyncio.run(burst(5)) == ["beta/m1"] * 5 and len(alpha.calls) == 1  # open: none reach it
        time.sleep(2.1)
        assert asyncio.run(burst(5)) == ["beta/m1"] * 5
        assert len(alpha.calls) == 2  # half-open: one probe of five; it failed, so the circuit is open again
        assert httpx.get(url + "/healthz").json()["circuits"] == {"alpha/m1": "open"}
        alpha.faults = Faults(latency_ms=500)  # healed, still slow
        time.sleep(2.1)
        assert sorted(asyncio.run(burst(5))) == ["alpha/m1"] + ["beta/m1"] * 4  # the probe answers
        assert len(alpha.calls) == 3
        assert asyncio.run(burst(3)) == ["alpha/m1"] * 3  # closed again: the primary serves
    assert [outcome for _, outcome in alpha.calls] == ["error", "error", "ok", "ok", "ok", "ok"]


def test_everything_down_is_a_503_listing_each_reason(tmp_path: Path) -> None:
    faults = {"alpha": Faults(error_rate=1.0), "beta": Faults(error_rate=1.0, error_status=502)}
    with (
        two_up(tmp_path, faults) as rig,
        served(rig.config) as url,
        client(url) as c,
        pytest.raises(openai.APIStatusError) as caught,
    ):
        c.chat.completions.create(model="chat", messages=MESSAGES)
    assert caught.value.status_code == 503
    reasons = {r["deployment"]: r["reason"] for r in caught.value.body["unavailable"]}
    assert set(reasons) == {"alpha/m1", "beta/m1"}
    assert "HTTP 500" in reasons["alpha/m1"] and "HTTP 502" in reasons["beta/m1"]
    assert caught.value.response.headers["x-maestro-served-by"] == "none"


def test_models_lists_the_route_aliases(tmp_path: Path) -> None:
    with two_up(tmp_path) as rig, served(rig.config) as url, client(url) as c:
        ids = [m.id for m in c.models.list()]
    assert ids == ["chat"]


def test_a_stream_that_stalls_after_it_began_ends_with_an_error_event(tmp_path: Path) -> None:
    faults = {"alpha": Faults(chunk_ms=1500)}
    with two_up(tmp_path, faults, stall_s=0.5) as rig, served(rig.config) as url:
        body = {"model": "chat", "messages": MESSAGES, "stream": True}
        text = httpx.post(url + "/v1/chat/completions", json=body, timeout=10).text
    assert '"content":"Hello"' in text and "[DONE]" not in text
    assert "stream-stall" in text and '"code":"stream_interrupted"' in text


def test_a_slow_first_token_after_an_early_role_chunk_is_rescued(tmp_path: Path) -> None:
    faults = {"alpha": Faults(first_token_ms=3000)}  # the role chunk comes at once, the first word after 3 s
    with two_up(tmp_path, faults) as rig, served(rig.config) as url, client(url) as c:
        started = time.monotonic()
        with c.chat.completions.with_streaming_response.create(model="chat", messages=MESSAGES, stream=True) as raw:
            served_by = raw.headers["x-maestro-served-by"]
            text = "".join(ch.choices[0].delta.content or "" for ch in raw.parse() if ch.choices)
        took = time.monotonic() - started
    assert served_by == "beta/m1" and text == "Hello from the upstream."
    assert took < within(2.0)  # alpha's first word would have come after 3 s


def test_a_caller_that_hangs_up_mid_stream_settles_and_records(tmp_path: Path) -> None:
    import threading

    done = threading.Event()
    seen: list[tuple[str | None, float]] = []

    def record(decision: object, served: str | None, cost: float) -> None:
        seen.append((served, cost))
        done.set()

    faults = {"alpha": Faults(chunk_ms=300)}
    with two_up(tmp_path, faults, record=record) as rig, served(rig.config) as url, client(url) as c:
        stream = c.chat.completions.create(model="chat", messages=MESSAGES, stream=True)
        first = next(iter(stream))
        stream.close()
        assert done.wait(10)
    assert first.choices[0].delta.role == "assistant"
    assert seen[0][0] == "alpha/m1" and seen[0][1] > 0  # an estimate from what was sent before the hang-up


def test_tool_calls_pass_through_streamed_and_merged(tmp_path: Path) -> None:
    tools = [{"type": "function", "function": {"name": "weather", "parameters": {"type": "object"}}}]
    with two_up(tmp_path) as rig, served(rig.config) as url, client(url) as c:
        answer = c.chat.completions.create(model="chat", messages=MESSAGES, tools=tools)  # type: ignore[arg-type]
        chunks = list(c.chat.completions.create(model="chat", messages=MESSAGES, tools=tools, stream=True))  # type: ignore[arg-type]
    call = answer.choices[0].message.tool_calls[0]  # type: ignore[index]
    assert answer.choices[0].finish_reason == "tool_calls"
    assert call.id == "call_1" and call.function.name == "weather"  # type: ignore[union-attr]
    assert call.function.arguments == '{"city": "Paris"}'  # type: ignore[union-attr]
    streamed = [tc for ch in chunks if ch.choices for tc in ch.choices[0].delta.tool_calls or []]
    assert streamed and streamed[0].function is not None and streamed[0].function.name == "weather"
    assert rig.fakes["alpha"].bodies[0]["tools"] == tools


def test_past_max_in_flight_requests_get_a_503_at_once(tmp_path: Path) -> None:
    faults = {"alpha": Faults(chunk_ms=800)}
    with two_up(tmp_path, faults, max_in_flight=1) as rig, served(rig.config) as url, client(url) as c:
        stream = c.chat.completions.create(model="chat", messages=MESSAGES, stream=True)
        next(iter(stream))  # one stream in progress
        started = time.monotonic()
        refused = httpx.post(url + "/v1/chat/completions", json={"model": "chat", "messages": MESSAGES})
        took = time.monotonic() - started
        stream.close()
        time.sleep(0.2)
        after = httpx.post(url + "/v1/chat/completions", json={"model": "chat", "messages": MESSAGES}, timeout=10)
    assert refused.status_code == 503 and refused.json()["error"]["code"] == "overloaded"
    assert refused.headers["retry-after"] == "1" and refused.headers["x-maestro-served-by"] == "none"
    assert took < within(0.5)  # at once: not queued behind the stream in progress (4 s of words)
    assert after.status_code == 200  # the slot came back when the stream ended
    assert len(rig.fakes["alpha"].calls) == 2


def test_an_oversized_chunked_body_is_a_413(tmp_path: Path) -> None:
    def body() -> Iterator[bytes]:  # chunked, no content-length: the gateway must count as it reads
        yield b'{"model": "chat", "messages": [{"role": "user", "content": "'
        for _ in range(64):
            yield b"x" * 1024
        yield b'"}]}'

    with two_up(tmp_path, max_body_bytes=4096) as rig, served(rig.config) as url:
        response = httpx.post(url + "/v1/chat/completions", content=body(), timeout=10)
        after = httpx.post(url + "/v1/chat/completions", json={"model": "chat", "messages": MESSAGES}, timeout=10)
    assert response.status_code == 413 and response.json()["error"]["code"] == "body_too_large"
    assert "4096-byte limit" in response.json()["error"]["message"]
    assert after.status_code == 200  # the process is fine
    assert rig.fakes["alpha"].calls == [(rig.fakes["alpha"].calls[0][0], "ok")]  # only the second reached it
