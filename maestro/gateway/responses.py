"""Responses that carry maestro's decision headers, always."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from starlette.responses import Response

from maestro.gateway.errors import GatewayError

ATTEMPTS = "x-maestro-attempts"  # upstream attempts made for this answer
ROUTE, SERVED_BY, DECISION_ID, COST = (
    "x-maestro-route",
    "x-maestro-served-by",
    "x-maestro-decision-id",
    "x-maestro-cost-usd",
)


def decision_headers(
    route: str | None = None, served_by: str | None = None, decision_id: str | None = None, cost_usd: float = 0.0
) -> dict[str, str]:
    return {
        ROUTE: route or "none",
        SERVED_BY: served_by or "none",
        DECISION_ID: decision_id or "none",
        COST: f"{cost_usd:.8f}",
    }


def json_response(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    all_headers = decision_headers()
    all_headers.update(headers or {})
    return Response(
        json.dumps(body, separators=(",", ":")).encode(), status, all_headers, media_type="application/json"
    )


def error_response(error: GatewayError, headers: Mapping[str, str] | None = None) -> Response:
    return json_response(error.body(), error.status, {**(headers or {}), **error.headers})
