"""Prefix affinity: requests that share a prompt prefix go to the same replica, so its prefix cache hits.

Pure. ``prefix_key`` takes the first ``prefix_chars`` characters of the rendered conversation;
``pick`` chooses a replica by rendezvous (highest-random-weight) hashing, a consistent hash: adding or
removing a replica moves only the keys that replica gains or held, about 1/n of them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

DEFAULT_PREFIX_CHARS = 512


def prefix_key(messages: Sequence[Mapping[str, Any]], prefix_chars: int = DEFAULT_PREFIX_CHARS) -> str:
    """The start of the conversation as one string: ``role: content`` lines, cut at ``prefix_chars``."""
    parts: list[str] = []
    size = 0
    for message in messages:
        content = message.get("content")
        if isinstance(content, list):  # OpenAI content parts: keep the text ones
            content = "".join(p.get("text", "") for p in content if isinstance(p, Mapping))
        line = f"{message.get('role', '')}: {content or ''}\n"
        parts.append(line)
        size += len(line)
        if size >= prefix_chars:
            break
    return "".join(parts)[:prefix_chars]


def _weight(key: str, replica: str) -> int:
    digest = hashlib.blake2b(f"{replica}\x00{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def rank(key: str, replicas: Sequence[str]) -> list[str]:
    """Every replica, best first for ``key`` (the rest are the fallback order)."""
    return sorted(replicas, key=lambda r: (-_weight(key, r), r))


def pick(key: str, replicas: Sequence[str]) -> str:
    """The replica for ``key``; a ValueError when there is none."""
    if not replicas:
        raise ValueError("no replicas to pick from")
    return rank(key, replicas)[0]
