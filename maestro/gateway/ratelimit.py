"""Staying under each provider's own rate limits (the Provider manifest's ``rateLimits``), per process.

Requests are counted when an attempt starts, tokens when an answer's usage is known, both over the last
60 seconds. A provider at either limit is passed over, with the reason, for the rest of the order; its
upstream is never sent a request that it would refuse with a 429.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Mapping

from maestro.providers import ProviderSpec

WINDOW_S = 60.0


class ProviderLimits:
    def __init__(self, specs: Mapping[str, ProviderSpec], clock: Callable[[], float] = time.monotonic) -> None:
        self.rpm = {n: s.requests_per_minute for n, s in specs.items() if s.requests_per_minute}
        self.tpm = {n: s.tokens_per_minute for n, s in specs.items() if s.tokens_per_minute}
        self.clock = clock
        self._requests: dict[str, deque[float]] = {}
        self._tokens: dict[str, deque[tuple[float, int]]] = {}
        self._token_sums: dict[str, int] = {}

    def reason(self, provider: str) -> str | None:
        """Why ``provider`` must not be sent a request now, or None."""
        now = self.clock()
        rpm, tpm = self.rpm.get(provider), self.tpm.get(provider)
        if rpm is not None:
            sent = self._requests.setdefault(provider, deque())
            while sent and now - sent[0] >= WINDOW_S:
                sent.popleft()
            if len(sent) >= rpm:
                return f"it is at its rate limit of {rpm} requests a minute"
        if tpm is not None and self._prune_tokens(provider, now) >= tpm:
            return f"it is at its rate limit of {tpm} tokens a minute"
        return None

    def sent(self, provider: str) -> None:
        if provider in self.rpm:
            self._requests.setdefault(provider, deque()).append(self.clock())

    def used(self, provider: str, tokens: int) -> None:
        if provider in self.tpm and tokens > 0:
            self._tokens.setdefault(provider, deque()).append((self.clock(), tokens))
            self._token_sums[provider] = self._token_sums.get(provider, 0) + tokens

    def _prune_tokens(self, provider: str, now: float) -> int:
        used = self._tokens.get(provider)
        while used and now - used[0][0] >= WINDOW_S:
            self._token_sums[provider] -= used.popleft()[1]
        return self._token_sums.get(provider, 0)
