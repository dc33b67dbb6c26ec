"""Reading a chat-completions body: checks with clear 4xx errors, the router's Request, the upstream body."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from maestro.gateway.errors import GatewayError, bad_request
from maestro.router import Request, RouterError, RouterTable
from maestro.router.requests import parse_request

# maestro's own fields: read by the router, never sent upstream
_MAESTRO_FIELDS = frozenset(
    {"alias", "caller", "team", "tags", "headers", "metadata", "input_tokens", "max_output_tokens", "request_id", "id"}
)
_ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})


@dataclass(frozen=True, slots=True)
class ChatCall:
    request: Request
    upstream: Mapping[str, Any]  # the OpenAI body to send, without "model" and maestro's fields
    stream: bool
    include_usage: bool


def parse_chat(raw: bytes, headers: Mapping[str, str], request_id: str, table: RouterTable) -> ChatCall:
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise bad_request(f"the body is not valid JSON: {e}", "invalid_json") from None
    if not isinstance(data, dict):
        raise bad_request("the body must be a JSON object with 'model' and 'messages'", "invalid_body")
    _check_messages(data.get("messages"))
    stream, include_usage = _stream_options(data)
    alias = data.get("model")
    if not isinstance(alias, str) or not alias:
        raise bad_request("'model' (a route alias, e.g. \"chat\") is missing", "missing_model")
    if alias not in table.routes:
        known = ", ".join(sorted(table.routes)) or "none"
        raise GatewayError(404, f"the model '{alias}' does not exist; known: {known}", "model_not_found")
    data = _with_headers(data, headers)
    try:
        request = parse_request(data, "request body")
    except RouterError as e:
        raise bad_request(str(e), "invalid_request") from None
    request = replace(request, request_id=request.request_id or request_id)
    upstream = {k: v for k, v in data.items() if k not in _MAESTRO_FIELDS and k not in ("model", "stream_options")}
    return ChatCall(request, upstream, stream, include_usage)


def _check_messages(messages: Any) -> None:
    if messages is None:
        raise bad_request("'messages' is missing: send a list of {role, content} messages", "missing_messages")
    if not isinstance(messages, list) or not messages:
        raise bad_request("'messages' must be a non-empty list of {role, content} messages", "invalid_messages")
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or not isinstance(m.get("role"), str) or m["role"] not in _ROLES:
            raise bad_request(
                f"messages[{i}] must be an object whose 'role' is one of {', '.join(sorted(_ROLES))}",
                "invalid_messages",
            )


def _stream_options(data: Mapping[str, Any]) -> tuple[bool, bool]:
    stream = data.get("stream", False)
    if stream is None:
        stream = False
    if not isinstance(stream, bool):
        raise bad_request("'stream' must be true or false", "invalid_stream")
    options = data.get("stream_options")
    if options is None:
        return stream, False
    if not stream:
        raise bad_request("'stream_options' is only allowed when 'stream' is true", "invalid_stream_options")
    if not isinstance(options, dict) or set(options) - {"include_usage"}:
        raise bad_request("'stream_options' may hold only 'include_usage'", "invalid_stream_options")
    include = options.get("include_usage", False)
    if not isinstance(include, bool):
        raise bad_request("'stream_options.include_usage' must be true or false", "invalid_stream_options")
    return stream, include


def _with_headers(data: dict[str, Any], headers: Mapping[str, str]) -> dict[str, Any]:
    """Tags and team may come as headers (``x-maestro-tags: a,b``, ``x-maestro-team``) as well as in the body."""
    out = dict(data)
    tags = headers.get("x-maestro-tags")
    if tags:
        body_tags = out.get("tags", [])
        if not isinstance(body_tags, list):
            raise bad_request("'tags' must be a list of tag names", "invalid_request")
        out["tags"] = [*body_tags, *(t.strip() for t in tags.split(",") if t.strip())]
    team = headers.get("x-maestro-team")
    if team and "team" not in out:
        out["team"] = team
    return out
