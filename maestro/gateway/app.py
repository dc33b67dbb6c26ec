"""The ASGI app: ``create_app(config)`` builds everything; nothing happens at import time.

Starlette rather than FastAPI: the gateway has six endpoints with hand-checked bodies (OpenAI's error shape,
not FastAPI's 422 validation errors), and Starlette adds the least latency per request. The OpenAPI document
is written by hand in ``openapi`` and served at ``/openapi.json``.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from maestro.gateway.admin import Admin
from maestro.gateway.chat import Chat
from maestro.gateway.config import GatewayConfig
from maestro.gateway.errors import GatewayError
from maestro.gateway.info import Info
from maestro.gateway.responses import error_response
from maestro.gateway.runtime import Runtime
from maestro.gateway.shadow import Shadows
from maestro.gateway.shedding import InFlightLimit


def create_app(config: GatewayConfig) -> Starlette:
    rt = Runtime.create(config)
    env = os.environ if config.environ is None else config.environ
    admin = Admin(rt, env.get(config.admin_token_env) or None)
    shadows = Shadows(rt)
    chat, info = Chat(rt, shadows), Info(rt)
    routes = [
        Route("/v1/chat/completions", chat.__call__, methods=["POST"]),
        Route("/v1/models", info.models, methods=["GET"]),
        Route("/healthz", info.healthz, methods=["GET"]),
        Route("/metrics", info.metrics, methods=["GET"]),
        Route("/openapi.json", info.openapi, methods=["GET"]),
        Route("/admin/switches", admin.guarded(admin.switches), methods=["GET"]),
        Route("/admin/kill-switch", admin.guarded(admin.kill), methods=["POST"]),
        Route("/admin/freeze", admin.guarded(admin.freeze), methods=["POST"]),
        Route("/admin/reload", admin.guarded(admin.reload), methods=["POST"]),
        Route("/admin/weights", admin.guarded(admin.weights), methods=["GET", "POST"]),
    ]

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await rt.lanes.start()
        await anyio.to_thread.run_sync(rt.observations.start)  # the store may be busy: never wait on the loop
        for service in config.services:
            await anyio.to_thread.run_sync(service.start)
        yield
        for service in reversed(config.services):
            await anyio.to_thread.run_sync(service.stop)
        await anyio.to_thread.run_sync(rt.observations.stop)
        await shadows.aclose()
        await rt.aclose()

    app = Starlette(
        routes=routes,
        middleware=[Middleware(InFlightLimit, limit=config.max_in_flight, metrics=rt.metrics)],
        lifespan=lifespan,
        exception_handlers={HTTPException: _http_error, Exception: _internal_error},
    )
    app.state.runtime = rt
    return app


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    code = {404: "not_found", 405: "method_not_allowed"}.get(status, "http_error")
    message = f"{request.method} {request.url.path}: {exc.detail if isinstance(exc, HTTPException) else exc}"
    headers = dict(exc.headers or {}) if isinstance(exc, HTTPException) else {}  # a 405's Allow
    return error_response(GatewayError(status, message, code, headers=headers))


async def _internal_error(request: Request, exc: Exception) -> Response:
    return error_response(
        GatewayError(500, "internal error in the gateway; see its log", "internal_error", "server_error")
    )
