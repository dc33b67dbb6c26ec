"""The gateway's OpenAPI 3.1 document (served at /openapi.json; a copy is kept in docs/gateway.openapi.json).

It says what the gateway itself accepts and refuses: a chat body with a field outside ``ChatRequest`` is
refused (400), and so is one that breaks a rule below. OpenAI's own parameters (temperature, tools, ...) are
relayed to the upstream as they are; the upstream checks them, and its refusal (a 4xx) is returned as it is.
``tests/gateway/test_schemathesis.py`` fuzzes the served gateway from this document.
"""

from __future__ import annotations

from typing import Any

_DECISION_HEADERS = {
    "x-maestro-route": "The route (Route manifest name) that decided, or `none`.",
    "x-maestro-served-by": "The deployment (provider/model) that served the answer, or `none`.",
    "x-maestro-decision-id": "The routing decision's id (as recorded in the ledger), or `none`.",
    "x-maestro-cost-usd": "Cost of the answer in USD (8 decimals); an estimate for streams (see x-maestro-cost-kind).",
}
_HEADERS: dict[str, Any] = {
    name: {"description": text, "required": True, "schema": {"type": "string"}}
    for name, text in _DECISION_HEADERS.items()
}
_CHAT_HEADERS: dict[str, Any] = {
    **_HEADERS,
    "x-maestro-attempts": {
        "description": "Upstream attempts made for this answer (absent when none was made).",
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    },
    "x-maestro-passed-over": {
        "description": "The deployments tried or skipped before the one that served, and why (`key: reason; ...`).",
        "schema": {"type": "string"},
    },
    "x-maestro-cost-kind": {
        "description": "`estimate` on a stream: its x-maestro-cost-usd was estimated before the answer was read; "
        "the real cost comes at the stream's end, in the comment `: x-maestro-cost-usd 0.00001100` before "
        "`[DONE]` (or before the error event of a cut answer).",
        "schema": {"type": "string", "enum": ["estimate"]},
    },
    "retry-after": {
        "description": "Seconds to wait before retrying (a 503 when the gateway is at its in-flight limit).",
        "schema": {"type": "string"},
    },
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
                    "description": "Why each deployment could not serve (503, and 400/403 refusals by the router).",
                    "items": {
                        "type": "object",
                        "required": ["deployment", "reason"],
                        "properties": {"deployment": {"type": "string"}, "reason": {"type": "string"}},
                    },
                },
            },
        }
    },
}
_CONTENT_PART = {
    "type": "object",
    "required": ["type"],
    "properties": {"type": {"type": "string"}, "text": {"type": "string"}},
}
_MESSAGE = {
    "type": "object",
    "required": ["role"],
    "properties": {
        "role": {"type": "string", "enum": ["system", "developer", "user", "assistant", "tool", "function"]},
        "content": {"type": ["string", "array", "null"], "items": {"$ref": "#/components/schemas/ContentPart"}},
        "name": {"type": "string"},
        "tool_calls": {"type": "array", "items": {"type": "object"}},
        "tool_call_id": {"type": "string"},
    },
}
_LIMIT = {
    "type": ["integer", "null"],
    "minimum": 1,
    "description": "The answer's limit in tokens (default: the gateway's --default-max-tokens). The cost estimate "
    "assumes it, and it is sent upstream, capped by the model's maxOutputTokens.",
}
_KEYED = "With gateway keys, the key's; naming another is a 403."
_STRINGS = {"type": "object", "additionalProperties": {"type": "string"}}
_ANY = "Any JSON value."
# OpenAI's parameters: relayed to the upstream unchecked (the upstream refuses what it does not take)
_OPENAI: dict[str, Any] = {
    "temperature": {"type": ["number", "null"], "minimum": 0, "maximum": 2},
    "top_p": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
    "n": {
        "type": ["integer", "null"],
        "minimum": 1,
        "maximum": 1,
        "description": "One choice only: estimates, budgets and maxCostUsd are per choice (n > 1 is a 400).",
    },
    "stop": {"type": ["string", "array", "null"], "items": {"type": "string"}},
    "tools": {"type": "array", "items": {"type": "object"}},
    "tool_choice": {"type": ["string", "object"]},
    "parallel_tool_calls": {"type": "boolean"},
    "functions": {"type": "array", "items": {"type": "object"}},
    "function_call": {"type": ["string", "object"]},
    "frequency_penalty": {"type": ["number", "null"], "minimum": -2, "maximum": 2},
    "presence_penalty": {"type": ["number", "null"], "minimum": -2, "maximum": 2},
    "logit_bias": {"type": ["object", "null"], "additionalProperties": {"type": "number"}},
    "logprobs": {"type": ["boolean", "null"]},
    "top_logprobs": {"type": ["integer", "null"], "minimum": 0, "maximum": 20},
    "seed": {"type": ["integer", "null"]},
    "response_format": {"type": "object"},
    "store": {"type": ["boolean", "null"]},
    "service_tier": {"type": ["string", "null"]},
    "reasoning_effort": {"type": ["string", "null"]},
    "modalities": {"type": ["array", "null"], "items": {"type": "string"}},
    "audio": {"type": ["object", "null"]},
    "prediction": {"type": ["object", "null"]},
}
_CHAT_REQUEST = {
    "type": "object",
    "required": ["model", "messages"],
    "additionalProperties": False,
    "properties": {
        "model": {"type": "string", "minLength": 1, "examples": ["chat"], "description": "A route alias."},
        "messages": {"type": "array", "minItems": 1, "items": {"$ref": "#/components/schemas/Message"}},
        "stream": {"type": ["boolean", "null"]},
        "stream_options": {
            "type": ["object", "null"],
            "description": "Only with `stream: true`.",
            "properties": {"include_usage": {"type": "boolean"}},
            "additionalProperties": False,
        },
        "max_tokens": _LIMIT,
        "max_completion_tokens": _LIMIT,
        "user": {"type": "string", "description": "The caller, unless `caller` is given (or a gateway key is)."},
        **_OPENAI,
        "tags": {
            "type": "array",
            "items": {"type": "string"},
            "description": "maestro: data tags of the request (also `x-maestro-tags`); an unknown tag is a 400.",
        },
        "team": {
            "type": "string",
            "description": f"maestro: the team billed (budgets); also `x-maestro-team`. {_KEYED}",
        },
        "caller": {"type": "string", "description": f"maestro: who calls (route rules may read it). {_KEYED}"},
        "headers": {**_STRINGS, "description": "maestro: request headers route rules may read."},
        "metadata": {**_STRINGS, "description": "maestro: request metadata route rules may read."},
        "request_id": {"description": f"maestro: the request's id (default: x-request-id). {_ANY}"},
        "id": {"description": f"maestro: the request's id, when request_id is not given. {_ANY}"},
        "alias": {"description": f"maestro: read in request files; the gateway reads `model`. {_ANY}"},
    },
    "if": {"required": ["stream_options"], "properties": {"stream_options": {"type": "object"}}},
    "then": {"required": ["stream"], "properties": {"stream": {"const": True}}},
}
_COMPLETION = {
    "type": "object",
    "required": ["id", "object", "created", "model", "choices"],
    "properties": {
        "id": {"type": "string"},
        "object": {"const": "chat.completion"},
        "created": {"type": "integer"},
        "model": {"type": "string"},
        "choices": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["index", "message", "finish_reason"],
                "properties": {
                    "index": {"type": "integer"},
                    "message": {
                        "type": "object",
                        "required": ["role", "content"],
                        "properties": {
                            "role": {"const": "assistant"},
                            "content": {"type": ["string", "null"]},
                            "refusal": {"type": "string"},
                            "tool_calls": {"type": "array", "items": {"type": "object"}},
                        },
                    },
                    "finish_reason": {"type": ["string", "null"]},
                },
            },
        },
        "usage": {
            "type": "object",
            "required": ["prompt_tokens", "completion_tokens", "total_tokens"],
            "properties": {
                "prompt_tokens": {"type": "integer"},
                "completion_tokens": {"type": "integer"},
                "total_tokens": {"type": "integer"},
            },
        },
    },
}
_CHUNK = {
    "type": "object",
    "required": ["object", "choices"],
    "properties": {"object": {"const": "chat.completion.chunk"}, "choices": {"type": "array"}},
}
_EVENT = {  # one server-sent event (OpenAPI 3.1 has a stream's schema describe each of its events)
    "type": "object",
    "required": ["data"],
    "properties": {
        "data": {
            "description": "A chat.completion.chunk; then `[DONE]`, or an error when the answer was cut off.",
            "anyOf": [
                {"const": "[DONE]"},
                {
                    "type": "string",
                    "contentMediaType": "application/json",
                    "contentSchema": {"anyOf": [_CHUNK, {"$ref": "#/components/schemas/Error"}]},
                },
            ],
        }
    },
}
_SWITCHES = {
    "type": "object",
    "required": ["killAll", "killRoutes", "frozen"],
    "additionalProperties": False,
    "properties": {
        "killAll": {"type": "boolean"},
        "killRoutes": {"type": "array", "items": {"type": "string"}},
        "frozen": {"type": "boolean"},
    },
}
_MODELS = {
    "type": "object",
    "required": ["object", "data"],
    "properties": {
        "object": {"const": "list"},
        "data": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "object", "created", "owned_by", "route"],
                "properties": {
                    "id": {"type": "string"},
                    "object": {"const": "model"},
                    "created": {"type": "integer"},
                    "owned_by": {"type": "string"},
                    "route": {"type": "string"},
                },
            },
        },
    },
}
_HEALTH = {
    "type": "object",
    "required": ["status", "routes", "circuits", "switches"],
    "properties": {
        "status": {"const": "ok"},
        "routes": {"type": "integer", "minimum": 0},
        "circuits": {"type": "object", "additionalProperties": {"enum": ["closed", "half-open", "open"]}},
        "switches": {"$ref": "#/components/schemas/Switches"},
    },
}
_RELOADED = {
    "type": "object",
    "required": ["reloaded", "routes"],
    "properties": {"reloaded": {"const": True}, "routes": {"type": "array", "items": {"type": "string"}}},
}
_FREEZE = {
    "type": "object",
    "required": ["engaged"],
    "properties": {"engaged": {"type": "boolean"}},
    "additionalProperties": False,
}
_KILL = {
    **_FREEZE,
    "properties": {
        "engaged": {"type": "boolean"},
        "route": {"type": ["string", "null"], "description": "A Route manifest's name; absent or null: every route."},
    },
}
_RELAYED = "An OpenAI-style refusal relayed from the upstream (any 4xx it answers except 401, 403, 408 and 429)."


def _errors(*statuses: int | str, description: str = "An error.", headers: Any = None) -> dict[str, Any]:
    return {
        str(s): {
            "description": description,
            "headers": headers or _HEADERS,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        for s in statuses
    }


def _ok(description: str, schema: Any, content_type: str = "application/json") -> dict[str, Any]:
    return {"description": description, "headers": _HEADERS, "content": {content_type: {"schema": schema}}}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _admin(summary: str, body: Any, ok: Any, *refusals: int) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": summary,
        "security": [{"admin": []}],
        "responses": {"200": _ok("Done.", ok), **_errors(401, 403, *refusals)},
    }
    if body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    return op


def _header(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "header", "required": False, "description": description, "schema": {"type": "string"}}


def _chat() -> dict[str, Any]:
    return {
        "summary": "Create a chat completion (streamed as server-sent events when stream is true).",
        "security": [{}, {"gatewayKey": []}],
        "parameters": [
            _header("x-maestro-tags", "More data tags, comma-separated (added to the body's `tags`)."),
            _header("x-maestro-team", "The team billed, unless the body names one (with gateway keys: the key's)."),
            _header("x-maestro-caller", "With gateway keys: must be the key's caller, if sent (else a 403)."),
            _header("x-request-id", "The request's id, unless the body gives one."),
        ],
        "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("ChatRequest")}}},
        "responses": {
            "200": {
                "description": "The answer.",
                "headers": _CHAT_HEADERS,
                "content": {
                    "application/json": {"schema": _ref("ChatCompletion")},
                    "text/event-stream": {"schema": _EVENT},
                },
            },
            **_errors(400, 401, 403, 404, 408, 413, 429, 503, headers=_CHAT_HEADERS),
            **_errors("4XX", description=_RELAYED, headers=_CHAT_HEADERS),
        },
    }


def document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "maestro gateway", "version": "1", "description": "OpenAI-compatible, policy-aware gateway."},
        "paths": {
            "/v1/chat/completions": {"post": _chat()},
            "/v1/models": {
                "get": {
                    "summary": "The route aliases, as models.",
                    "responses": {"200": _ok("Models.", _ref("Models"))},
                }
            },
            "/healthz": {
                "get": {"summary": "Liveness, circuits and switches.", "responses": {"200": _ok("Healthy.", _HEALTH)}}
            },
            "/metrics": {
                "get": {
                    "summary": "Prometheus metrics: the text format, or OpenMetrics with the decision id as exemplars "
                    "when the Accept header asks for application/openmetrics-text.",
                    "responses": {
                        "200": {
                            **_ok("Metrics.", {"type": "string"}, "text/plain"),
                            "content": {
                                "text/plain": {"schema": {"type": "string"}},
                                "application/openmetrics-text": {"schema": {"type": "string"}},
                            },
                        }
                    },
                }
            },
            "/openapi.json": {
                "get": {
                    "summary": "This document.",
                    "responses": {"200": _ok("OpenAPI.", {"type": "object", "required": ["openapi", "paths"]})},
                }
            },
            "/admin/switches": {"get": _admin("The kill switch and freeze.", None, _ref("Switches"))},
            "/admin/kill-switch": {
                "post": _admin(
                    "Engage or release the kill switch (one route or all).", _KILL, _ref("Switches"), 400, 404
                )
            },
            "/admin/freeze": {
                "post": _admin("Engage or release the freeze (no reloads).", _FREEZE, _ref("Switches"), 400)
            },
            "/admin/reload": {"post": _admin("Rebuild from the manifests, unless frozen.", None, _RELOADED, 409)},
        },
        "components": {
            "schemas": {
                "Error": _ERROR,
                "Message": _MESSAGE,
                "ContentPart": _CONTENT_PART,
                "ChatRequest": _CHAT_REQUEST,
                "ChatCompletion": _COMPLETION,
                "Models": _MODELS,
                "Switches": _SWITCHES,
            },
            "securitySchemes": {
                "admin": {"type": "http", "scheme": "bearer", "description": "The token in $MAESTRO_ADMIN_TOKEN."},
                "gatewayKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A gateway key, when the gateway was started with keys ($MAESTRO_GATEWAY_KEYS).",
                },
            },
        },
    }
