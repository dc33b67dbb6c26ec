"""Spans per request and per upstream attempt; OTLP export configured by the standard OTEL_* variables."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from urllib.parse import unquote

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from maestro.telemetry import attributes as a

_ENDPOINT_VARS = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
_NOT_RECORDED: AbstractContextManager[Span] = nullcontext(trace.INVALID_SPAN)  # reusable: it holds no state


def from_env(environ: Mapping[str, str] | None = None) -> trace.TracerProvider:
    """An SDK provider exporting over OTLP/HTTP when an OTLP endpoint is set (and OTEL_SDK_DISABLED is not
    true); otherwise a no-op provider, so nothing is recorded or sent."""
    env = os.environ if environ is None else environ
    disabled = env.get("OTEL_SDK_DISABLED", "").lower() == "true"
    exporter_off = env.get("OTEL_TRACES_EXPORTER", "").lower() == "none"
    if disabled or exporter_off or not any(env.get(v) for v in _ENDPOINT_VARS):
        return trace.NoOpTracerProvider()
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    provider = TracerProvider(resource=Resource.create({"service.name": env.get("OTEL_SERVICE_NAME", "maestro")}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=_endpoint(env), headers=_headers(env))))
    return provider


def _endpoint(env: Mapping[str, str]) -> str:
    """The traces URL: the signal's own variable as it is, else the base endpoint plus ``/v1/traces``."""
    signal = env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    if signal:
        return signal
    return env["OTEL_EXPORTER_OTLP_ENDPOINT"].rstrip("/") + "/v1/traces"


def _headers(env: Mapping[str, str]) -> dict[str, str]:
    """``key=value`` pairs, comma-separated and URL-encoded, from the base and then the signal's variable."""
    out: dict[str, str] = {}
    for name in ("OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_HEADERS"):
        for pair in env.get(name, "").split(","):
            key, sep, value = pair.partition("=")
            if sep and key.strip():
                out[unquote(key.strip())] = unquote(value.strip())
    return out


class Tracer:
    """The gateway's spans: one ``chat {alias}`` server span per request, one client span per attempt.

    Without a provider (or with OpenTelemetry's no-op one) nothing is recorded or propagated, so no span is
    started at all: every call gets the invalid span, whose methods do nothing, and no context is attached.
    """

    def __init__(self, provider: trace.TracerProvider | None = None) -> None:
        self.recording = provider is not None and not isinstance(provider, trace.NoOpTracerProvider)
        self._tracer = (provider or trace.NoOpTracerProvider()).get_tracer("maestro.gateway")

    def start_request(self, alias: str) -> Span:
        """The request's span, started; the caller ends it (a stream ends it when the stream ends)."""
        if not self.recording:
            return trace.INVALID_SPAN
        return self._tracer.start_span(
            f"chat {alias}",
            kind=SpanKind.SERVER,
            attributes={a.OPERATION: "chat", a.REQUEST_MODEL: alias},
            record_exception=False,
            set_status_on_exception=False,
        )

    def attempt(self, provider: str, model: str, deployment: str, number: int) -> AbstractContextManager[Span]:
        """One upstream attempt's span, current inside the block."""
        if not self.recording:
            return _NOT_RECORDED
        return self._attempt(provider, model, deployment, number)

    @contextmanager
    def _attempt(self, provider: str, model: str, deployment: str, number: int) -> Iterator[Span]:
        with self._tracer.start_as_current_span(
            f"chat {model}", kind=SpanKind.CLIENT, record_exception=False, set_status_on_exception=False
        ) as span:
            span.set_attribute(a.OPERATION, "chat")
            span.set_attribute(a.PROVIDER, provider)
            span.set_attribute(a.REQUEST_MODEL, model)
            span.set_attribute(a.DEPLOYMENT, deployment)
            span.set_attribute(a.ATTEMPT, number)
            yield span


def fail(span: Span, error_type: str, message: str = "") -> None:
    if not span.is_recording():
        return
    span.set_attribute(a.ERROR_TYPE, error_type)
    span.set_status(Status(StatusCode.ERROR, message[:200]))


def usage(
    span: Span, model: str | None, input_tokens: int | None, output_tokens: int | None, cost_usd: float | None
) -> None:
    """The answer's model, tokens and cost on ``span``; what is None is not known (yet) and left out."""
    if not span.is_recording():
        return
    if model:
        span.set_attribute(a.RESPONSE_MODEL, model)
    if input_tokens is not None:
        span.set_attribute(a.INPUT_TOKENS, input_tokens)
    if output_tokens is not None:
        span.set_attribute(a.OUTPUT_TOKENS, output_tokens)
    if cost_usd is not None:
        span.set_attribute(a.COST_USD, cost_usd)
