"""Spans per request and per attempt with GenAI attributes, recorded by the SDK's in-memory exporter."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import httpx
import pytest
from helpers.gateway import KEYS, offline_config, sse_body
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from maestro.gateway import create_app
from maestro.telemetry import Tracer, from_env

MESSAGES = [{"role": "user", "content": "hello"}]


def ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, content=sse_body())


def leaky(request: httpx.Request) -> httpx.Response:
    key = request.headers["authorization"].removeprefix("Bearer ")
    return httpx.Response(401, json={"error": {"message": f"Incorrect API key provided: {key}"}})


async def serve(config: object, body: dict[str, object]) -> tuple[httpx.Response, str, str]:
    app = create_app(config)  # type: ignore[arg-type]
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as c:
            response = await c.post("/v1/chat/completions", json=body)
            text = response.text
            metrics = (await c.get("/metrics")).text
    return response, text, metrics


@pytest.fixture
def spans() -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


@pytest.mark.parametrize("stream", [False, True])
def test_request_and_attempt_spans_and_no_key_anywhere(
    tmp_path: Path,
    spans: tuple[TracerProvider, InMemorySpanExporter],
    stream: bool,
    caplog: pytest.LogCaptureFixture,
) -> None:
    provider, exporter = spans
    recorded: list[str] = []
    config = offline_config(
        tmp_path,
        {"alpha": httpx.MockTransport(leaky), "beta": httpx.MockTransport(ok)},
        tracer_provider=provider,
        record=lambda d, s, c: recorded.append(repr((d, s, c))),
    )
    caplog.set_level(logging.DEBUG)
    response, text, metrics = asyncio.run(serve(config, {"model": "chat", "messages": MESSAGES, "stream": stream}))
    assert response.status_code == 200 and response.headers["x-maestro-served-by"] == "beta/m1"
    finished = exporter.get_finished_spans()
    server = [s for s in finished if s.kind == trace.SpanKind.SERVER]
    client = [s for s in finished if s.kind == trace.SpanKind.CLIENT]
    assert len(server) == 1 and len(client) == 2
    attrs = dict(server[0].attributes or {})
    assert attrs["gen_ai.operation.name"] == "chat"
    assert attrs["gen_ai.request.model"] == "chat"
    assert attrs["gen_ai.response.model"] == "m1"
    assert attrs["gen_ai.usage.input_tokens"] == 7 and attrs["gen_ai.usage.output_tokens"] == 2
    assert attrs["maestro.route"] == "chat-route"
    assert attrs["maestro.decision.id"] == response.headers["x-maestro-decision-id"]
    assert attrs["maestro.cost.usd"] == pytest.approx((7 * 0.5 + 2 * 1.0) / 1e6)
    first, second = sorted(client, key=lambda s: s.start_time or 0)
    assert first.attributes["gen_ai.provider.name"] == "alpha"  # type: ignore[index]
    assert first.attributes["error.type"] == "auth"  # type: ignore[index]
    assert second.attributes["gen_ai.provider.name"] == "beta"  # type: ignore[index]
    served = dict(second.attributes or {})
    assert served["gen_ai.request.model"] == "m1" and served["gen_ai.response.model"] == "m1"
    assert served["maestro.deployment"] == "beta/m1" and served["maestro.attempt"] == 2
    if stream:  # the attempt span ends when the answer starts flowing: its usage is only on the request span
        assert "gen_ai.usage.output_tokens" not in served
    else:
        assert (served["gen_ai.usage.input_tokens"], served["gen_ai.usage.output_tokens"]) == (7, 2)
        assert served["maestro.cost.usd"] == pytest.approx(attrs["maestro.cost.usd"])
    assert "gen_ai.response.model" not in dict(first.attributes or {})  # the failed attempt got no answer
    assert all(s.parent is not None and s.parent.span_id == server[0].context.span_id for s in client)
    everything = " ".join(
        [
            text,
            metrics,
            caplog.text,
            *recorded,
            *(repr(s.attributes) + repr(s.status) + repr(s.events) for s in finished),
        ]
    )
    assert KEYS["alpha"] not in everything and KEYS["beta"] not in everything


def test_no_otlp_export_unless_an_endpoint_is_set() -> None:
    assert isinstance(from_env({}), trace.NoOpTracerProvider)
    assert isinstance(
        from_env({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_SDK_DISABLED": "true"}),
        trace.NoOpTracerProvider,
    )
    provider = from_env({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"})
    assert isinstance(provider, TracerProvider)
    provider.shutdown()


@pytest.mark.parametrize("provider", [None, trace.NoOpTracerProvider()])
def test_without_a_recording_provider_no_span_is_started(provider: trace.TracerProvider | None) -> None:
    tracer = Tracer(provider)
    request = tracer.start_request("chat")
    with tracer.attempt("alpha", "m1", "alpha/m1", 1) as attempt:
        assert trace.get_current_span() is trace.INVALID_SPAN  # no context was attached
    assert not tracer.recording and not request.is_recording() and not attempt.is_recording()


def test_with_a_provider_the_attempt_span_is_current_inside_its_block(
    spans: tuple[TracerProvider, InMemorySpanExporter],
) -> None:
    provider, exporter = spans
    with Tracer(provider).attempt("alpha", "m1", "alpha/m1", 1) as attempt:
        assert trace.get_current_span() is attempt and attempt.is_recording()
    (finished,) = exporter.get_finished_spans()
    assert dict(finished.attributes or {})["maestro.deployment"] == "alpha/m1"
