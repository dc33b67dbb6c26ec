"""Server-sent events, read line by line from an upstream and written for the gateway's own streams."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(slots=True)
class SseReader:
    """Feeds lines, returns an (event, data) pair when a blank line ends an event with data."""

    event: str | None = None
    data: list[str] | None = None

    def feed(self, line: str) -> tuple[str | None, str] | None:
        if not line:
            if self.data is None:
                self.event = None
                return None
            out = (self.event, "\n".join(self.data))
            self.event, self.data = None, None
            return out
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            self.data = [*(self.data or []), value]
        elif name == "event":
            self.event = value
        return None


def comment(text: str) -> bytes:
    """An SSE comment line: a reader (the openai client among them) skips it; a raw one can read it."""
    return f": {text}\n\n".encode()


def encode(data: Mapping[str, Any] | str) -> bytes:
    """One ``data:`` event (a JSON object, or a literal such as ``[DONE]``)."""
    text = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    return f"data: {text}\n\n".encode()
