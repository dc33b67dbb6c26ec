"""Admin endpoints, behind a bearer token read from an environment variable (off when it is unset).

GET  /admin/switches                  what is engaged
POST /admin/kill-switch {"engaged": true, "route": "support-chat"}   (no route: every route)
POST /admin/freeze      {"engaged": true}                            (refuse reloads while engaged)
POST /admin/reload                    rebuild from the manifests, unless frozen
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from maestro.gateway.errors import GatewayError, bad_request
from maestro.gateway.responses import error_response, json_response
from maestro.gateway.runtime import Runtime

Handler = Callable[[Request], Awaitable[Response]]


class Admin:
    def __init__(self, rt: Runtime, token: str | None) -> None:
        self.rt = rt
        self.token = token

    def guarded(self, handler: Callable[[Request], Awaitable[Any]]) -> Handler:
        async def endpoint(request: Request) -> Response:
            try:
                self._check(request)
                return json_response(await handler(request))
            except GatewayError as e:
                return error_response(e)

        return endpoint

    def _check(self, request: Request) -> None:
        env = self.rt.config.admin_token_env
        if not self.token:
            raise GatewayError(
                403, f"admin endpoints are off: set ${env} to enable them", "admin_disabled", "permission_error"
            )
        given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), self.token.encode()):
            raise GatewayError(
                401, f"a valid admin token (${env}) is required", "invalid_admin_token", "authentication_error"
            )

    async def switches(self, request: Request) -> dict[str, Any]:
        return self.rt.switches.engaged()

    async def kill(self, request: Request) -> dict[str, Any]:
        body = await _flag_body(request, extra={"route"})
        route = body.get("route")
        if route is not None:
            names = {t.name for t in self.rt.config.table.routes.values()}
            if route not in names:
                raise GatewayError(
                    404, f"no route named '{route}'; known: {', '.join(sorted(names))}", "route_not_found"
                )
        switches = self.rt.switches
        await self.rt.store.write(partial(switches.set_kill, route, body["engaged"]))
        return switches.engaged()

    async def freeze(self, request: Request) -> dict[str, Any]:
        body = await _flag_body(request, extra=set())
        await self.rt.store.write(partial(self.rt.switches.set_freeze, body["engaged"]))
        return self.rt.switches.engaged()

    async def reload(self, request: Request) -> dict[str, Any]:
        if self.rt.switches.frozen():
            raise GatewayError(
                409,
                "the gateway is frozen: configuration changes wait until the freeze is lifted",
                "frozen",
                "conflict",
            )
        if self.rt.config.reload is None:
            raise GatewayError(409, "this gateway was not started from a manifest folder", "no_reload", "conflict")
        await self.rt.reload(self.rt.config.reload())
        return {"reloaded": True, "routes": sorted(t.name for t in self.rt.config.table.routes.values())}


async def _flag_body(request: Request, extra: set[str]) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        raise bad_request("the body is not valid JSON (or nested too deep)", "invalid_json") from None
    if not isinstance(body, dict) or not isinstance(body.get("engaged"), bool):
        raise bad_request('send {"engaged": true} or {"engaged": false}', "invalid_body")
    unknown = set(body) - {"engaged"} - extra
    if unknown:
        raise bad_request(f"unknown field(s): {', '.join(sorted(unknown))}", "invalid_body")
    if "route" in body and body["route"] is not None and not isinstance(body["route"], str):
        raise bad_request("'route' must be a route name", "invalid_body")
    return body
