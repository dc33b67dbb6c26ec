"""Traces (OpenTelemetry, GenAI semantic conventions) and Prometheus metrics for the gateway.

Use::

    provider = tracing.from_env()                 # OTLP export only when OTEL_* variables ask for it
    tracer = tracing.Tracer(provider)
    metrics = Metrics()                           # its own registry: no process-wide state

Nothing of maestro is imported here, and nothing is installed globally: the caller owns both objects.
"""

from __future__ import annotations

from maestro.telemetry import attributes
from maestro.telemetry.metrics import Metrics
from maestro.telemetry.tracing import Tracer, from_env

__all__ = ["Metrics", "Tracer", "attributes", "from_env"]
