"""OpenAI chat format to and from the Anthropic Messages API (requests, streamed events, tool calls)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from maestro.providers.faults import FaultKind, ProviderFault
from maestro.providers.usage import Usage

DEFAULT_MAX_TOKENS = 1024
_FINISH = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
    "pause_turn": "stop",
    "refusal": "content_filter",
}


def to_anthropic(body: Mapping[str, Any], model: str) -> dict[str, Any]:
    system = [_text(m.get("content")) for m in body.get("messages", []) if m.get("role") in ("system", "developer")]
    out: dict[str, Any] = {
        "model": model,
        "messages": _messages([m for m in body.get("messages", []) if m.get("role") not in ("system", "developer")]),
        "max_tokens": body.get("max_tokens") or body.get("max_completion_tokens") or DEFAULT_MAX_TOKENS,
        "stream": True,
    }
    if system:
        out["system"] = "\n\n".join(system)
    for name in ("temperature", "top_p"):
        if body.get(name) is not None:
            out[name] = body[name]
    stop = body.get("stop")
    if stop:
        out["stop_sequences"] = [stop] if isinstance(stop, str) else list(stop)
    if body.get("tools"):
        out["tools"] = [_tool(t) for t in body["tools"]]
    choice = _tool_choice(body.get("tool_choice"))
    if choice is not None:
        out["tool_choice"] = choice
    if isinstance(body.get("user"), str):
        out["metadata"] = {"user_id": body["user"]}
    return out


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, Mapping))
    return ""


def _blocks(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    out: list[dict[str, Any]] = []
    for part in content or []:
        if part.get("type") == "text":
            out.append({"type": "text", "text": part.get("text", "")})
        elif part.get("type") == "image_url":
            out.append({"type": "image", "source": _image_source((part.get("image_url") or {}).get("url", ""))})
    return out


def _image_source(url: str) -> dict[str, str]:
    """An inline ``data:image/png;base64,...`` URL becomes a base64 source; any other URL stays a URL."""
    head, sep, data = url.partition(",")
    if url.startswith("data:") and sep and head.endswith(";base64"):
        return {"type": "base64", "media_type": head.removeprefix("data:").removesuffix(";base64"), "data": data}
    return {"type": "url", "url": url}


def _messages(messages: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for m in messages:
        role = m.get("role")
        if role in ("tool", "function"):
            blocks = [
                {"type": "tool_result", "tool_use_id": m.get("tool_call_id", ""), "content": _text(m.get("content"))}
            ]
            role = "user"
        elif role == "assistant":
            blocks = _blocks(m.get("content"))
            for call in m.get("tool_calls") or []:
                function = call.get("function") or {}
                try:
                    arguments = json.loads(function.get("arguments") or "{}")
                except json.JSONDecodeError:
                    arguments = {"arguments": function.get("arguments")}
                blocks.append(
                    {"type": "tool_use", "id": call.get("id", ""), "name": function.get("name", ""), "input": arguments}
                )
        else:
            blocks, role = _blocks(m.get("content")), "user"
        if out and out[-1]["role"] == role:  # Anthropic wants roles to alternate: merge neighbours
            out[-1]["content"].extend(blocks)
        else:
            out.append({"role": role, "content": blocks})
    return out


def _tool(tool: Mapping[str, Any]) -> dict[str, Any]:
    function = tool.get("function") or {}
    out = {"name": function.get("name", ""), "input_schema": function.get("parameters") or {"type": "object"}}
    if function.get("description"):
        out["description"] = function["description"]
    return out


def _tool_choice(choice: Any) -> dict[str, Any] | None:
    if choice is None:
        return None
    if isinstance(choice, str):
        return {"auto": {"type": "auto"}, "required": {"type": "any"}, "none": {"type": "none"}}.get(choice)
    name = (choice.get("function") or {}).get("name")
    return {"type": "tool", "name": name} if name else None


class FromAnthropic:
    """Turns Messages stream events into OpenAI chat.completion.chunk dicts."""

    def __init__(self, provider: str, model: str) -> None:
        self.provider = provider
        self.model = model
        self.id = "chatcmpl-anthropic"
        self.input_tokens = 0
        self.output_tokens = 0
        self.finish: str | None = None
        self.done = False
        self._tools: dict[int, int] = {}  # Anthropic block index -> OpenAI tool call index

    @property
    def usage(self) -> Usage:
        return Usage(self.input_tokens, self.output_tokens)

    def feed(self, event: str | None, data: Mapping[str, Any]) -> list[dict[str, Any]]:
        kind = data.get("type", event)
        if kind == "message_start":
            message = data.get("message") or {}
            self.id = message.get("id", self.id)
            self.model = message.get("model", self.model)
            self.input_tokens = int((message.get("usage") or {}).get("input_tokens") or 0)
            return [self._chunk({"role": "assistant", "content": ""})]
        if kind == "content_block_start":
            block = data.get("content_block") or {}
            if block.get("type") == "tool_use":
                index = self._tools.setdefault(int(data.get("index", 0)), len(self._tools))
                call = {
                    "index": index,
                    "id": block.get("id", ""),
                    "type": "function",
                    "function": {"name": block.get("name", ""), "arguments": ""},
                }
                return [self._chunk({"tool_calls": [call]})]
            return []
        if kind == "content_block_delta":
            return self._delta(data)
        if kind == "message_delta":
            self.finish = _FINISH.get((data.get("delta") or {}).get("stop_reason") or "", "stop")
            self.output_tokens = int((data.get("usage") or {}).get("output_tokens") or self.output_tokens)
            return []
        if kind == "message_stop":
            self.done = True
            return [self._chunk({}, self.finish or "stop")]
        if kind == "error":
            error = data.get("error") or {}
            raise ProviderFault(
                self.provider,
                FaultKind.BROKEN_STREAM,
                f"the upstream reported {error.get('type', 'an error')} mid-stream: {error.get('message', '')}",
            )
        return []

    def _delta(self, data: Mapping[str, Any]) -> list[dict[str, Any]]:
        delta = data.get("delta") or {}
        if delta.get("type") == "text_delta":
            return [self._chunk({"content": delta.get("text", "")})]
        if delta.get("type") == "input_json_delta":
            index = self._tools.get(int(data.get("index", 0)), 0)
            return [
                self._chunk(
                    {"tool_calls": [{"index": index, "function": {"arguments": delta.get("partial_json", "")}}]}
                )
            ]
        return []

    def _chunk(self, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": 0,
            "model": self.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }

    def usage_chunk(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": 0,
            "model": self.model,
            "choices": [],
            "usage": self.usage.as_openai(),
        }
