"""Reading a chat-completions body: checks with clear 4xx errors, the router's Request, the upstream body.

Trust boundaries drawn here:
- identity: when gateway keys are configured, the request's ``team`` and ``caller`` are the key's; a body
  field or header naming another one is refused (403), never believed;
- cost inputs: maestro estimates the prompt from the messages; the caller's ``input_tokens`` and
  ``max_output_tokens`` are refused (400), ``n`` above 1 is refused (400: estimates, budgets and the route's
  ``maxCostUsd`` are for one choice), and the output limit the estimate assumed is sent upstream as
  ``max_tokens`` (or ``max_completion_tokens``, whichever the caller used), capped by each model's
  ``maxOutputTokens``;
- shape: JSON nested deeper than ``MAX_DEPTH`` is refused (400) before anything walks it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from maestro.gateway.config import ApiKey
from maestro.gateway.errors import GatewayError, bad_request
from maestro.router import Deployment, Request, RouterError, RouterTable
from maestro.router.request_data import parse_request

# maestro's own fields: read by the router, never sent upstream
_MAESTRO_FIELDS = frozenset(
    {"alias", "caller", "team", "tags", "headers", "metadata", "input_tokens", "max_output_tokens", "request_id", "id"}
)
_ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})
_LIMIT_FIELDS = ("max_tokens", "max_completion_tokens")
# maestro computes these; a caller's value would let it pick its own cost estimate
_COMPUTED = {
    "input_tokens": "maestro estimates the prompt's tokens from the messages",
    "max_output_tokens": "set 'max_tokens' instead: it is the limit sent upstream",
}
MAX_DEPTH = 64  # objects and lists inside each other; OpenAI bodies (tool schemas included) stay far below


@dataclass(frozen=True, slots=True)
class ChatCall:
    request: Request  # its max_output_tokens: the limit for one choice that the estimate assumes
    upstream: Mapping[str, Any]  # the OpenAI body to send, without "model", maestro's fields and the limit
    stream: bool
    include_usage: bool
    limit_field: str = "max_tokens"  # how the limit is sent upstream: the caller's own spelling

    def output_tokens(self, d: Deployment) -> int:
        """The output limit for ``d``: the request's, capped by the model's ``maxOutputTokens``."""
        limit = self.request.max_output_tokens
        return limit if d.max_output_tokens is None else min(limit, d.max_output_tokens)


def parse_chat(
    raw: bytes,
    headers: Mapping[str, str],
    request_id: str,
    table: RouterTable,
    *,
    key: ApiKey | None = None,
    default_max_tokens: int = 256,
) -> ChatCall:
    """The call a body asks for. ``key``: the caller's gateway key (None when the gateway has no keys)."""
    data = _json_object(raw)
    _check_messages(data.get("messages"))
    limit_field, limit = _limit(data, default_max_tokens)
    stream, include_usage = _stream_options(data)
    alias = data.get("model")
    if not isinstance(alias, str) or not alias:
        raise bad_request("'model' (a route alias, e.g. \"chat\") is missing", "missing_model")
    if alias not in table.routes:
        known = ", ".join(sorted(table.routes)) or "none"
        raise GatewayError(404, f"the model '{alias}' does not exist; known: {known}", "model_not_found")
    data = _with_headers(data, headers) if key is None else _with_key(data, headers, key)
    try:
        request = parse_request(data, "request body")
    except RouterError as e:
        raise bad_request(str(e), "invalid_request") from None
    request = replace(request, request_id=request.request_id or request_id, max_output_tokens=limit)
    dropped = {*_MAESTRO_FIELDS, *_LIMIT_FIELDS, "model", "stream_options"}
    upstream = {k: v for k, v in data.items() if k not in dropped}
    return ChatCall(request, upstream, stream, include_usage, limit_field)


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise bad_request(f"the body is not valid JSON: {e}", "invalid_json") from None
    except RecursionError:  # nested past what the parser can hold
        data = None
    if data is None or _too_deep(data):
        raise bad_request(f"the body is nested more than {MAX_DEPTH} levels deep; flatten it", "too_deep")
    if not isinstance(data, dict):
        raise bad_request("the body must be a JSON object with 'model' and 'messages'", "invalid_body")
    return data


def _too_deep(data: Any) -> bool:
    """Whether objects and lists nest past ``MAX_DEPTH`` (walked without recursion)."""
    pending = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict):
            value = value.values()
        elif not isinstance(value, list):
            continue
        if depth > MAX_DEPTH:
            return True
        pending.extend((v, depth + 1) for v in value if isinstance(v, dict | list))
    return False


def _limit(data: Mapping[str, Any], default: int) -> tuple[str, int]:
    """How the caller spells the output limit, and its value (``default`` when unset); refuse computed fields."""
    for name, why in _COMPUTED.items():
        if data.get(name) is not None:
            raise bad_request(f"'{name}' is not accepted here: {why}; remove it", "computed_field")
    n = data.get("n")
    if n is not None and (isinstance(n, bool) or n != 1):
        raise bad_request(
            "'n' must be 1: the gateway estimates, budgets and caps the cost of one choice; send several requests",
            "n_not_supported",
        )
    given = []
    for name in _LIMIT_FIELDS:
        value = data.get(name)
        if value is None:
            continue
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise bad_request(f"'{name}' must be a whole number of tokens, 1 or more", "invalid_request")
        given.append((name, value))
    if given:
        return given[0]
    return "max_tokens", default


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


def _with_key(data: dict[str, Any], headers: Mapping[str, str], key: ApiKey) -> dict[str, Any]:
    """The body with the key's team and caller; a field or header that names another one is refused."""
    out = _with_headers(data, headers)
    for name, own in (("team", key.team), ("caller", key.who)):
        header = f"x-maestro-{name}"
        for where, value in ((f"the body's '{name}'", data.get(name)), (header, headers.get(header))):
            if value is not None and value != own:
                raise GatewayError(
                    403,
                    f"{where} names {name} '{str(value)[:64]}', but the gateway key '{key.id}' is {name} '{own}': "
                    f"the key decides the {name}; drop the field or use a key of that {name}",
                    "identity_mismatch",
                    "permission_error",
                )
    out["team"], out["caller"] = key.team, key.who
    return out
