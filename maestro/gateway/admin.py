"""Admin endpoints, behind a bearer token read from an environment variable (off when it is unset).

GET  /admin/switches                  what is engaged
POST /admin/kill-switch {"engaged": true, "route": "support-chat"}   (no route: every route)
POST /admin/freeze      {"engaged": true}                            (refuse reloads while engaged)
POST /admin/reload                    rebuild from the manifests, unless frozen
GET  /admin/weights                   the live weight overrides, by route
POST /admin/weights     {"route": "support-chat", "weights": {"openai-us/gpt-4o": 0}}   (or "clear": true)
                        applied by every process sharing the store; in a freeze only a change that raises no
                        weight (a rollback) is accepted
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
from maestro.state.weights import WeightError

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

    async def weights(self, request: Request) -> dict[str, Any]:
        live = self.rt.live.weights
        if request.method == "POST" and live is not None:
            body = await _weights_body(request)
            route = self._route(body["route"])
            manifest = {d.key: float(w) for d, w in route.candidates}
            frozen = self.rt.switches.frozen()
            actor, reason = "admin", str(body.get("reason", ""))
            try:
                if body.get("clear"):
                    work = partial(live.clear, route.name, manifest, actor=actor, frozen=frozen)
                else:
                    weights = body["weights"]
                    work = partial(live.set, route.name, weights, manifest, actor=actor, frozen=frozen, reason=reason)
                change = await self.rt.store.write(work)
            except WeightError as e:
                raise GatewayError(409 if frozen else 400, str(e), "frozen" if frozen else "invalid_weights") from e
            if self.rt.config.record_change is not None:
                self.rt.config.record_change(change)
        return {name: dict(w) for name, w in (live.current() if live is not None else {}).items()}

    def _route(self, name: object) -> Any:
        routes = {t.name: t for t in self.rt.config.table.routes.values()}
        if name not in routes:
            raise GatewayError(404, f"no route named '{name}'; known: {', '.join(sorted(routes))}", "route_not_found")
        return routes[str(name)]

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


async def _weights_body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise bad_request("the body is not valid JSON", "invalid_json") from None
    if not isinstance(body, dict) or not isinstance(body.get("route"), str):
        raise bad_request(
            'send {"route": NAME, "weights": {"provider/model": WEIGHT}} or {"route": NAME, "clear": true}',
            "invalid_body",
        )
    weights = body.get("weights")
    if not body.get("clear") and not (isinstance(weights, dict) and weights):
        raise bad_request('"weights" must map deployments ("provider/model") to numbers', "invalid_body")
    return body
