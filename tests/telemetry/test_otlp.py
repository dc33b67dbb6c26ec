"""OTLP export set up by the standard variables, received by a real HTTP collector on 127.0.0.1."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from maestro.gateway.serve import Background
from maestro.telemetry import Tracer, from_env


def test_spans_reach_the_collector_named_by_otel_variables() -> None:
    received: list[tuple[str, bytes]] = []

    async def traces(request: Request) -> Response:
        received.append((request.headers.get("content-type", ""), await request.body()))
        return Response(b"", 200, media_type="application/x-protobuf")

    collector = Starlette(routes=[Route("/v1/traces", traces, methods=["POST"])])
    with Background(collector) as url:
        provider = from_env({"OTEL_EXPORTER_OTLP_ENDPOINT": url, "OTEL_SERVICE_NAME": "maestro-test"})
        span = Tracer(provider).start_request("chat")
        span.set_attribute("maestro.route", "support-chat")
        span.end()
        assert provider.force_flush(10_000)  # type: ignore[attr-defined]
        provider.shutdown()  # type: ignore[attr-defined]
    assert received, "no export reached the collector"
    content_type, body = received[0]
    assert content_type == "application/x-protobuf"
    assert b"maestro.route" in body and b"support-chat" in body and b"maestro-test" in body


def test_the_signal_endpoint_and_headers_variables() -> None:
    from maestro.telemetry.tracing import _endpoint, _headers

    assert _endpoint({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318/"}) == "http://c:4318/v1/traces"
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://t/x"}
    assert _endpoint(env) == "http://t/x"
    headers = {"OTEL_EXPORTER_OTLP_HEADERS": "a=1, b=x%20y", "OTEL_EXPORTER_OTLP_TRACES_HEADERS": "a=2,bad"}
    assert _headers(headers) == {"a": "2", "b": "x y"}
