"""The Anthropic Messages API behind the gateway, driven by the real openai client; a real fake server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import openai
import pytest
from helpers.anthropic_upstream import FakeAnthropic
from helpers.gateway import KEYS, Up, environ, route, served, write_repo

from maestro.cli.request_files import load_manifests
from maestro.gateway import from_manifests
from maestro.gateway.serve import Background
from maestro.providers.translate import to_anthropic

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "weather",
            "description": "Weather in a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
]


@contextmanager
def gateway(tmp: Path) -> Iterator[tuple[FakeAnthropic, openai.OpenAI]]:
    fake = FakeAnthropic()
    with Background(fake.app()) as up:
        ups = [Up("gamma", type="anthropic", price_in=3.0, price_out=15.0)]
        repo = write_repo(tmp, {"gamma": up}, ups, route("claude-route", "claude", ["gamma"], []))
        config = from_manifests(load_manifests([repo / "manifests", repo / "policies"]), environ=environ())
        with served(config) as url, openai.OpenAI(base_url=url + "/v1", api_key="k", max_retries=0) as client:
            yield fake, client


def test_text_answer_streamed_and_not(tmp_path: Path) -> None:
    with gateway(tmp_path) as (fake, client):
        raw = client.chat.completions.with_raw_response.create(
            model="claude", messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
        )
        answer = raw.parse()
        chunks = list(
            client.chat.completions.create(
                model="claude",
                messages=[{"role": "user", "content": "Hi"}],
                stream=True,
                stream_options={"include_usage": True},
            )
        )
    assert answer.choices[0].message.content == "Bonjour from Claude."
    assert answer.choices[0].finish_reason == "stop"
    assert answer.usage is not None and (answer.usage.prompt_tokens, answer.usage.completion_tokens) == (12, 6)
    assert float(raw.headers["x-maestro-cost-usd"]) == pytest.approx((12 * 3 + 6 * 15) / 1e6)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Bonjour from Claude."
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 6
    sent = fake.bodies[0]
    assert sent["system"] == "Be brief." and sent["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "Hi"}]}
    ]
    # the gateway sends the limit its estimate assumed (its --default-max-tokens, 256, when the caller sets none)
    assert sent["model"] == "m1" and sent["max_tokens"] == 256 and sent["stream"] is True
    assert fake.headers[0]["x-api-key"] == KEYS["gamma"] and fake.headers[0]["anthropic-version"]


def test_tool_calls_come_back_in_openai_shape(tmp_path: Path) -> None:
    with gateway(tmp_path) as (fake, client):
        answer = client.chat.completions.create(
            model="claude", messages=[{"role": "user", "content": "Weather in Paris?"}], tools=TOOLS
        )  # type: ignore[arg-type]
        chunks = list(
            client.chat.completions.create(
                model="claude",
                messages=[{"role": "user", "content": "Weather in Paris?"}],
                tools=TOOLS,  # type: ignore[arg-type]
                stream=True,
            )
        )
    message = answer.choices[0].message
    assert answer.choices[0].finish_reason == "tool_calls"
    assert message.content == "Checking."
    assert message.tool_calls is not None and len(message.tool_calls) == 1
    call = message.tool_calls[0]
    assert call.id == "toolu_1" and call.function.name == "weather"  # type: ignore[union-attr]
    assert json.loads(call.function.arguments) == {"city": "Paris"}  # type: ignore[union-attr]
    arguments = "".join(
        tc.function.arguments or ""
        for c in chunks
        if c.choices
        for tc in c.choices[0].delta.tool_calls or []
        if tc.function
    )
    assert json.loads(arguments) == {"city": "Paris"}
    assert fake.bodies[0]["tools"] == [
        {"name": "weather", "description": "Weather in a city", "input_schema": TOOLS[0]["function"]["parameters"]}
    ]  # type: ignore[index]


def test_an_anthropic_400_is_a_caller_fault_in_openai_shape(tmp_path: Path) -> None:
    with gateway(tmp_path) as (_fake, client), pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="claude", messages=[{"role": "user", "content": "x"}], max_tokens=60_000)
    assert caught.value.body["message"] == "max_tokens is too large"  # type: ignore[index]
    assert caught.value.body["type"] == "invalid_request_error"  # type: ignore[index]


def test_tool_results_and_assistant_tool_calls_translate() -> None:
    body = {
        "messages": [
            {"role": "user", "content": "Weather?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": "t1", "type": "function", "function": {"name": "weather", "arguments": '{"city": "Paris"}'}}
                ],
            },
            {"role": "tool", "tool_call_id": "t1", "content": "sunny"},
            {"role": "user", "content": "Thanks"},
        ],
        "stop": "END",
        "tool_choice": "required",
        "max_completion_tokens": 50,
    }
    out = to_anthropic(body, "claude-x")
    assert out["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "Weather?"}]},
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "t1", "name": "weather", "input": {"city": "Paris"}}],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "t1", "content": "sunny"},
                {"type": "text", "text": "Thanks"},
            ],
        },
    ]
    assert out["stop_sequences"] == ["END"] and out["tool_choice"] == {"type": "any"} and out["max_tokens"] == 50


def _events(*events: tuple[str, dict[str, object]]) -> bytes:
    return b"".join(f"event: {n}\ndata: {json.dumps({'type': n, **d})}\n\n".encode() for n, d in events)


START = ("message_start", {"message": {"id": "m", "model": "c", "usage": {"input_tokens": 3}}})
TEXT = ("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": "Hi"}})


@pytest.mark.parametrize(
    "body",
    [
        _events(START, TEXT, ("error", {"error": {"type": "overloaded_error", "message": "Overloaded"}})),
        _events(START, TEXT),  # cut: no message_stop
    ],
)
def test_an_anthropic_stream_that_breaks_is_a_provider_fault(body: bytes) -> None:
    import asyncio

    import httpx

    from maestro.providers import FaultKind, ProviderFault, ProviderSpec, Timeouts, pool
    from maestro.providers.usage import Price

    spec = ProviderSpec("a", "anthropic", "http://a.invalid/v1", None, Timeouts(), {"c": Price(1, 1)})
    seen: list[dict[str, object]] = []

    async def go() -> None:
        clients = pool({"a": spec}, {}, {"a": httpx.MockTransport(lambda r: httpx.Response(200, content=body))})
        try:
            stream = await clients["a"].open({"messages": [{"role": "user", "content": "x"}]}, "c")
            async for chunk in stream:
                seen.append(chunk)
        finally:
            await clients.aclose()

    with pytest.raises(ProviderFault) as caught:
        asyncio.run(go())
    assert caught.value.kind == FaultKind.BROKEN_STREAM
    assert [c["choices"][0]["delta"].get("content") for c in seen] == ["", "Hi"]  # type: ignore[index]


def test_images_translate_as_url_or_inline_base64() -> None:
    content = [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": "https://example.invalid/cat.png"}},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
    ]
    out = to_anthropic({"messages": [{"role": "user", "content": content}]}, "c")
    assert out["messages"][0]["content"][1:] == [
        {"type": "image", "source": {"type": "url", "url": "https://example.invalid/cat.png"}},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}},
    ]
