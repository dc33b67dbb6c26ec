"""Sticky assignment: a caller or session kept on one side of a rollout's split, by a hash of its key.

A key hashes to a point in [0, 1) that depends only on the scope (a route, a rollout) and the key, so as the
canary's weight rises a key on the canary stays there and one on stable moves at most once. The gateway uses it
for a Route whose Rollout asks ``stickiness`` (``decide``); the runtime's runs for Agent and Pipeline targets
(``maestro.delivery.variants``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

SESSION_HEADER = "x-maestro-session"


def point(scope: str, key: str) -> float:
    digest = hashlib.sha256(f"sticky:{scope}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def key_of(stickiness: str, *, caller: str, metadata: Mapping[str, str], headers: Mapping[str, str]) -> str:
    """The key ``stickiness`` asks for: the caller, or the session (``metadata.session`` or the
    ``x-maestro-session`` header); '' when there is none, so the request is picked on its own."""
    if stickiness == "caller":
        return caller
    if stickiness == "session":
        return metadata.get("session") or headers.get(SESSION_HEADER) or ""
    return ""
