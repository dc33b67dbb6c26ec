"""The read-only endpoints: models (the route aliases), health, Prometheus metrics, the OpenAPI document."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from maestro.gateway.openapi import document
from maestro.gateway.responses import decision_headers, json_response
from maestro.gateway.runtime import Runtime
from maestro.telemetry.metrics import CIRCUIT_VALUES


class Info:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    async def models(self, request: Request) -> Response:
        data = [
            {"id": alias, "object": "model", "created": 0, "owned_by": "maestro", "route": t.name}
            for alias, t in sorted(self.rt.config.table.routes.items())
        ]
        return json_response({"object": "list", "data": data})

    async def healthz(self, request: Request) -> Response:
        rt = self.rt
        circuits = {k: c.value for k, c in sorted(rt.breakers.circuits().items())}
        body = {
            "status": "ok",
            "routes": len(rt.config.table.routes),
            "circuits": circuits,
            "switches": rt.switches.engaged(),  # cached; never waits for a lock
        }
        return json_response(body)

    async def metrics(self, request: Request) -> Response:
        m = self.rt.metrics
        for key, circuit in self.rt.breakers.circuits().items():
            m.circuit.labels(key).set(CIRCUIT_VALUES[circuit.value])
        body, content_type = m.render(request.headers.get("accept", ""))
        return Response(body, 200, decision_headers(), media_type=content_type)

    async def openapi(self, request: Request) -> Response:
        return json_response(document())
