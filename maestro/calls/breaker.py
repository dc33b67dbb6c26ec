"""A circuit breaker per deployment: closed, open for a cooldown, then half-open with exactly one probe.

The router removes deployments whose circuit is OPEN, so ``circuit`` reports a half-open deployment whose probe
is already in flight as OPEN too: no second request is sent its way until the probe has answered.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from maestro.router import Circuit


class BreakerSettings(Protocol):
    """When a circuit opens (``failures`` provider faults in a row) and for how long (``cooldown_s``)."""

    @property
    def failures(self) -> int: ...

    @property
    def cooldown_s(self) -> float: ...


@dataclass(frozen=True, slots=True)
class Never:
    """Settings under which no circuit opens: a measurement (an eval) judges each case on its own, so one
    case's faults must not change where the next one goes."""

    failures: int = 2**62
    cooldown_s: float = 0.0


@dataclass(slots=True)
class _Entry:
    failures: int = 0
    opened_at: float | None = None
    probing: bool = False


class Breakers:
    def __init__(self, settings: BreakerSettings, clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self.clock = clock
        self._entries: dict[str, _Entry] = {}
        self.openings: deque[tuple[float, str]] = deque(maxlen=10_000)  # (clock time, deployment), newest last

    def circuit(self, key: str) -> Circuit:
        entry = self._entries.get(key)
        if entry is None or entry.opened_at is None:
            return Circuit.CLOSED
        if entry.probing or self.clock() - entry.opened_at < self.settings.cooldown_s:
            return Circuit.OPEN
        return Circuit.HALF_OPEN

    def circuits(self) -> dict[str, Circuit]:
        return {key: self.circuit(key) for key in self._entries}

    def admit(self, key: str) -> bool:
        """May a request go to ``key`` now? Half-open admits one probe and then reads as open."""
        state = self.circuit(key)
        if state == Circuit.HALF_OPEN:
            self._entries[key].probing = True
        return state != Circuit.OPEN

    def success(self, key: str) -> None:
        self._entries.pop(key, None)

    def failure(self, key: str) -> None:
        entry = self._entries.setdefault(key, _Entry())
        entry.failures += 1
        if entry.probing or entry.failures >= self.settings.failures:
            entry.opened_at = self.clock()
            entry.probing = False
            self.openings.append((entry.opened_at, key))

    def release(self, key: str) -> None:
        """The admitted request ended without telling anything (a caller fault, a cancel): free the probe."""
        entry = self._entries.get(key)
        if entry is not None:
            entry.probing = False
