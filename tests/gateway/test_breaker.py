"""Circuit breakers: open after N provider faults, one probe when half-open, closed again on success."""

from __future__ import annotations

from maestro.gateway.breaker import Breakers
from maestro.gateway.config import BreakerSettings
from maestro.router import Circuit


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_opens_after_consecutive_failures_and_a_success_resets() -> None:
    b = Breakers(BreakerSettings(failures=3, cooldown_s=10), Clock())
    b.failure("d")
    b.failure("d")
    b.success("d")
    b.failure("d")
    b.failure("d")
    assert b.circuit("d") == Circuit.CLOSED
    b.failure("d")
    assert b.circuit("d") == Circuit.OPEN
    assert not b.admit("d")


def test_half_open_lets_exactly_one_probe_through() -> None:
    clock = Clock()
    b = Breakers(BreakerSettings(failures=1, cooldown_s=10), clock)
    b.failure("d")
    clock.now = 9.9
    assert not b.admit("d")
    clock.now = 10.0
    assert b.circuit("d") == Circuit.HALF_OPEN
    assert b.admit("d")  # the probe
    assert b.circuit("d") == Circuit.OPEN  # the router sees it unavailable while the probe is out
    assert [b.admit("d") for _ in range(5)] == [False] * 5
    b.failure("d")  # the probe failed: open for another cooldown
    clock.now = 19.9
    assert not b.admit("d")
    clock.now = 20.0
    assert b.admit("d")
    b.success("d")
    assert b.circuit("d") == Circuit.CLOSED
    assert all(b.admit("d") for _ in range(3))


def test_a_released_probe_frees_the_slot() -> None:
    clock = Clock()
    b = Breakers(BreakerSettings(failures=1, cooldown_s=1), clock)
    b.failure("d")
    clock.now = 1
    assert b.admit("d")
    b.release("d")  # e.g. the probe met a caller fault: it told nothing
    assert b.circuit("d") == Circuit.HALF_OPEN
    assert b.admit("d")
