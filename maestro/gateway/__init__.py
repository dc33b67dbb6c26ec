"""The OpenAI-compatible gateway: an ASGI app that routes each request, then tries the decision's order through
the route-calling core (``maestro.calls``); the gateway adds HTTP, streaming, keys, budgets' spend and admin.

Use::

    config = gateway.from_manifests(manifests, state_path=".maestro/state.db")
    app = gateway.create_app(config)          # Starlette app; serve it with uvicorn
    # POST /v1/chat/completions, GET /v1/models, /healthz, /metrics, /openapi.json, /admin/...

Errors are answered, never raised: ``GatewayError`` carries the status and OpenAI-style body.
"""

from __future__ import annotations

from maestro.gateway.app import create_app
from maestro.gateway.config import ApiKey, BreakerSettings, GatewayConfig, RecordSink, from_manifests
from maestro.gateway.errors import GatewayError

__all__ = [
    "ApiKey",
    "BreakerSettings",
    "GatewayConfig",
    "GatewayError",
    "RecordSink",
    "create_app",
    "from_manifests",
]
