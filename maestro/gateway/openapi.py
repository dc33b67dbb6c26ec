"""The gateway's OpenAPI 3.1 document (served at /openapi.json; a copy is kept in docs/gateway.openapi.json)."""

from __future__ import annotations

from typing import Any

_HEADERS = {
    name: {"description": text, "schema": {"type": "string"}}
    for name, text in {
        "x-maestro-route": "The route (Route manifest name) that decided, or `none`.",
        "x-maestro-served-by": "The deployment (provider/model) that served the answer, or `none`.",
        "x-maestro-decision-id": "The routing decision's id (as recorded in the ledger), or `none`.",
        "x-maestro-cost-usd": "Cost of the answer in USD; an estimate for streams (see x-maestro-cost-kind).",
    }.items()
}
_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["message", "type", "code"],
            "properties": {
                "message": {"type": "string"},
                "type": {"type": "string"},
                "code": {"type": ["string", "null"]},
                "unavailable": {
                    "type": "array",
                    "description": "Why each deployment could not serve (503 only).",
                    "items": {
                        "type": "object",
                        "properties": {"deployment": {"type": "string"}, "reason": {"type": "string"}},
                    },
                },
            },
        }
    },
}
_MESSAGE = {
    "type": "object",
    "required": ["role"],
    "properties": {
        "role": {"type": "string", "enum": ["system", "developer", "user", "assistant", "tool", "function"]},
        "content": {"type": ["string", "array", "null"]},
        "name": {"type": "string"},
        "tool_calls": {"type": "array", "items": {"type": "object"}},
        "tool_call_id": {"type": "string"},
    },
}
_CHAT_REQUEST = {
    "type": "object",
    "required": ["model", "messages"],
    "properties": {
        "model": {"type": "string", "description": "A route alias (see GET /v1/models)."},
        "messages": {"type": "array", "minItems": 1, "items": {"$ref": "#/components/schemas/Message"}},
        "stream": {"type": "boolean"},
        "stream_options": {
            "type": "object",
            "properties": {"include_usage": {"type": "boolean"}},
            "additionalProperties": False,
        },
        "max_tokens": {"type": ["integer", "null"], "minimum": 0},
        "max_completion_tokens": {"type": ["integer", "null"], "minimum": 0},
        "temperature": {"type": "number"},
        "top_p": {"type": "number"},
        "stop": {"type": ["string", "array", "null"]},
        "tools": {"type": "array", "items": {"type": "object"}},
        "tool_choice": {"type": ["string", "object"]},
        "user": {"type": "string"},
        "tags": {"type": "array", "items": {"type": "string"}, "description": "maestro: data tags of the request."},
        "team": {"type": "string", "description": "maestro: the team billed (budgets)."},
    },
}
_FLAG = {
    "type": "object",
    "required": ["engaged"],
    "properties": {"engaged": {"type": "boolean"}, "route": {"type": ["string", "null"]}},
    "additionalProperties": False,
}


def _errors(*statuses: int) -> dict[str, Any]:
    return {
        str(s): {
            "description": "An error.",
            "headers": _HEADERS,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        for s in statuses
    }


def _ok(description: str, content_type: str = "application/json", schema: Any = None) -> dict[str, Any]:
    return {
        "description": description,
        "headers": _HEADERS,
        "content": {content_type: {"schema": schema or {"type": "object"}}},
    }


def _admin(summary: str, body: bool) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": summary,
        "security": [{"admin": []}],
        "responses": {"200": _ok("The switches now."), **_errors(400, 401, 403, 404, 409)},
    }
    if body:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": _FLAG}}}
    return op


def document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "maestro gateway", "version": "1", "description": "OpenAI-compatible, policy-aware gateway."},
        "paths": {
            "/v1/chat/completions": {
                "post": {
                    "summary": "Create a chat completion (streamed as server-sent events when stream is true).",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ChatRequest"}}},
                    },
                    "responses": {
                        "200": {
                            "description": "The answer.",
                            "headers": _HEADERS,
                            "content": {
                                "application/json": {"schema": {"type": "object"}},
                                "text/event-stream": {"schema": {"type": "string"}},
                            },
                        },
                        **_errors(400, 401, 403, 404, 413, 429, 503),
                    },
                }
            },
            "/v1/models": {"get": {"summary": "The route aliases, as models.", "responses": {"200": _ok("Models.")}}},
            "/healthz": {"get": {"summary": "Liveness, circuits and switches.", "responses": {"200": _ok("Healthy.")}}},
            "/metrics": {
                "get": {
                    "summary": "Prometheus metrics.",
                    "responses": {"200": _ok("Metrics.", "text/plain", {"type": "string"})},
                }
            },
            "/openapi.json": {"get": {"summary": "This document.", "responses": {"200": _ok("OpenAPI.")}}},
            "/admin/switches": {"get": _admin("The kill switch and freeze.", body=False)},
            "/admin/kill-switch": {"post": _admin("Engage or release the kill switch (one route or all).", body=True)},
            "/admin/freeze": {"post": _admin("Engage or release the freeze (no reloads).", body=True)},
            "/admin/reload": {"post": _admin("Rebuild from the manifests, unless frozen.", body=False)},
        },
        "components": {
            "schemas": {"Error": _ERROR, "Message": _MESSAGE, "ChatRequest": _CHAT_REQUEST},
            "securitySchemes": {
                "admin": {"type": "http", "scheme": "bearer", "description": "The token in $MAESTRO_ADMIN_TOKEN."}
            },
        },
    }
