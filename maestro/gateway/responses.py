"""Responses that carry maestro's decision headers, always."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from starlette.responses import Response

from maestro.gateway.errors import GatewayError

ATTEMPTS = "x-maestro-attempts"  # upstream attempts made for this answer
PASSED_OVER = "x-maestro-passed-over"  # deployments tried or skipped before the one that served, and why
_MAX_HEADER = 2000
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


def passed_over(reasons: Mapping[str, str], served: str) -> dict[str, str]:
    """``{PASSED_OVER: "openai-us/gpt-4o-mini: its API key is not set ...; ..."}``, or nothing when the first
    deployment served; printable ASCII only, cut at 2,000 characters."""
    text = "; ".join(f"{key}: {why}" for key, why in reasons.items() if key != served)
    if not text:
        return {}
    text = "".join(c if " " <= c <= "~" else "?" for c in text)
    return {PASSED_OVER: text if len(text) <= _MAX_HEADER else text[: _MAX_HEADER - 3] + "..."}


def json_response(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    all_headers = decision_headers()
    all_headers.update(headers or {})
    return Response(
        json.dumps(body, separators=(",", ":")).encode(), status, all_headers, media_type="application/json"
    )


def error_response(error: GatewayError, headers: Mapping[str, str] | None = None) -> Response:
    return json_response(error.body(), error.status, {**(headers or {}), **error.headers})
