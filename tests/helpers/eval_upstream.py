"""A small OpenAI-compatible chat upstream on 127.0.0.1 for eval tests: a real HTTP server that answers each
request with what a Python function says, streamed as server-sent events, and counts what it received."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# body -> answer text, or (HTTP status, error message), or {"tool_calls": [{"name", "arguments": {...}}]}
Answer = Callable[[dict[str, Any]], "str | tuple[int, str] | dict[str, Any]"]


@dataclass
class Upstream:
    answer: Answer
    url: str = ""
    bodies: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def requests(self) -> int:
        with self.lock:
            return len(self.bodies)

    def user_messages(self) -> list[str]:
        with self.lock:
            return [m["content"] for b in self.bodies for m in b["messages"] if m["role"] == "user"]


def _handler(up: Upstream) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            """Quiet."""

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["content-length"])))
            with up.lock:
                up.bodies.append(body)
            answer = up.answer(body)
            if isinstance(answer, tuple):
                data = json.dumps({"error": {"message": answer[1], "type": "server_error"}}).encode()
                self.send_response(answer[0])
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.send_header("connection", "close")
            self.end_headers()
            chunks = (
                _calls(answer["tool_calls"]) if isinstance(answer, dict) else _chunks(body.get("model", "m1"), answer)
            )
            for chunk in chunks:
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
            self.close_connection = True

    return Handler


def _chunks(model: str, text: str) -> list[dict[str, Any]]:
    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> dict[str, Any]:
        choices = [{"index": 0, "delta": delta, "finish_reason": finish}] if delta or finish else []
        return {
            "id": "c1",
            "object": "chat.completion.chunk",
            "created": 0,
            "model": model,
            "choices": choices,
            **extra,
        }

    words = text.split(" ")
    out = [chunk({"role": "assistant", "content": ""})]
    out += [chunk({"content": w if i == 0 else " " + w}) for i, w in enumerate(words)]
    out.append(chunk({}, "stop"))
    usage = {"prompt_tokens": 100, "completion_tokens": len(words), "total_tokens": 100 + len(words)}
    out.append(chunk({}, None, usage=usage))
    return out


def _calls(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A streamed answer asking for tool calls, each call's arguments split over two chunks as OpenAI does."""
    out = []
    for i, call in enumerate(calls):
        arguments = json.dumps(call["arguments"])
        half = len(arguments) // 2
        first = {"index": i, "id": f"call_{i}", "type": "function", "function": {"name": call["name"], "arguments": ""}}
        out.append({"index": i, "function": {"arguments": arguments[:half]}})
        out.append({"index": i, "function": {"arguments": arguments[half:]}})
        out.insert(len(out) - 2, first)
    chunks = [{"choices": [{"index": 0, "delta": {"tool_calls": [d]}, "finish_reason": None}]} for d in out]
    chunks.append({"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]})
    chunks.append({"choices": [], "usage": {"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110}})
    return [{"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": "m1", **c} for c in chunks]


@contextmanager
def serve(answer: Answer) -> Iterator[Upstream]:
    up = Upstream(answer)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(up))
    server.daemon_threads = True
    up.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield up
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
