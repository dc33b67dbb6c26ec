"""Attempts still waiting for their first token, per deployment: a deployment that has left one waiting past
part of its deadline is *silent*, and new requests try the rest of the order before it.

A circuit opens only when an attempt has failed, which for a provider that accepts connections and never
answers takes the whole first-token deadline; meanwhile every new request would be sent its way too. With
the watch, once one attempt has waited ``fraction`` of its deadline, later requests go elsewhere first (and
come back to it only if nothing else answers), so far fewer requests queue behind a silent provider.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable


class FirstTokenWatch:
    def __init__(self, fraction: float = 0.5, clock: Callable[[], float] = time.monotonic) -> None:
        self.fraction = fraction
        self.clock = clock
        self._waiting: dict[str, dict[int, tuple[float, float]]] = {}  # key -> token -> (start, deadline)
        self._tokens = itertools.count()

    def begin(self, key: str, deadline_s: float) -> int:
        token = next(self._tokens)
        self._waiting.setdefault(key, {})[token] = (self.clock(), deadline_s)
        return token

    def end(self, key: str, token: int) -> None:
        waiting = self._waiting.get(key)
        if waiting is not None:
            waiting.pop(token, None)
            if not waiting:
                del self._waiting[key]

    def silent(self, key: str) -> bool:
        if self.fraction <= 0:
            return False
        now = self.clock()
        return any(now - start > self.fraction * deadline for start, deadline in self._waiting.get(key, {}).values())
