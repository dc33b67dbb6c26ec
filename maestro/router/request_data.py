"""Turning request data (a JSON or YAML request file, a JSONL line, an OpenAI body) into a Request."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from maestro.router.model import Request
from maestro.router.table import RouterError

_KNOWN = {
    "model",
    "alias",
    "messages",
    "caller",
    "user",
    "team",
    "tags",
    "headers",
    "metadata",
    "input_tokens",
    "max_tokens",
    "max_output_tokens",
    "request_id",
    "id",
}
# OpenAI chat-completion parameters that do not change the routing decision: accepted and ignored, so a
# recorded body replays as it is. A name outside both sets is still an error (a typo is never ignored).
_OPENAI = {
    "audio",
    "frequency_penalty",
    "function_call",
    "functions",
    "logit_bias",
    "logprobs",
    "max_completion_tokens",
    "modalities",
    "n",
    "parallel_tool_calls",
    "prediction",
    "presence_penalty",
    "reasoning_effort",
    "response_format",
    "seed",
    "service_tier",
    "stop",
    "store",
    "stream",
    "stream_options",
    "temperature",
    "tool_choice",
    "tools",
    "top_logprobs",
    "top_p",
}
_OUTPUT_FIELDS = ("max_tokens", "max_completion_tokens", "max_output_tokens")
_DEFAULT_OUTPUT_TOKENS = 256


def parse_request(data: Any, where: str) -> Request:
    """A Request from a mapping shaped like an OpenAI chat body plus maestro's fields; errors say where."""
    if not isinstance(data, Mapping):
        raise RouterError(f"{where}: a request must be a mapping with 'model' and 'messages'")
    unknown = sorted(set(data) - _KNOWN - _OPENAI)
    if unknown:
        raise RouterError(f"{where}: unknown field(s) {', '.join(unknown)}; known: {', '.join(sorted(_KNOWN))}")
    alias = data.get("model", data.get("alias"))
    if not isinstance(alias, str) or not alias:
        raise RouterError(f"{where}: 'model' (the route alias, e.g. \"chat\") is missing")
    messages = data.get("messages", [])
    if not isinstance(messages, list) or not all(isinstance(m, Mapping) and "role" in m for m in messages):
        raise RouterError(f"{where}: 'messages' must be a list of {{role, content}} mappings")
    tags = data.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise RouterError(f"{where}: 'tags' must be a list of tag names")
    return Request(
        alias=alias,
        messages=tuple(messages),
        caller=_text(data.get("caller", data.get("user", "")), "caller", where),
        team=_text(data.get("team", ""), "team", where),
        tags=frozenset(tags),
        headers=_strings(data.get("headers", {}), "headers", where),
        metadata=_strings(data.get("metadata", {}), "metadata", where),
        input_tokens=_count(data.get("input_tokens"), "input_tokens", where),
        max_output_tokens=_output_tokens(data, where),
        request_id=str(data.get("request_id", data.get("id", ""))),
    )


def _text(value: Any, name: str, where: str) -> str:
    if not isinstance(value, str):
        raise RouterError(f"{where}: '{name}' must be a string")
    return value


def _strings(value: Any, name: str, where: str) -> dict[str, str]:
    if not isinstance(value, Mapping) or not all(isinstance(v, str) for v in value.values()):
        raise RouterError(f"{where}: '{name}' must map names to strings")
    return {str(k): v for k, v in value.items()}


def _output_tokens(data: Mapping[str, Any], where: str) -> int:
    """The first of max_tokens, max_completion_tokens, max_output_tokens that is set (null means unset)."""
    counts = [_count(data.get(name), name, where) for name in _OUTPUT_FIELDS]
    return next((c for c in counts if c is not None), _DEFAULT_OUTPUT_TOKENS)


def _count(value: Any, name: str, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():  # JSON has one number type: 244.0 is 244
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise RouterError(f"{where}: '{name}' must be a whole number of tokens")
    return value
