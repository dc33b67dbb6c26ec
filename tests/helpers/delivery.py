"""Rollout specs for the delivery tests, and a clock the tests move by hand."""

from __future__ import annotations

from maestro.delivery.spec import Metric, RolloutSpec, Step

STABLE, CANARY = "alpha/m1", "beta/m1"


def spec(*steps: Step, name: str = "r1", route: str = "chat-route", automatic: bool = True) -> RolloutSpec:
    return RolloutSpec(
        name=name,
        digest="sha256:" + "0" * 64,
        route=route,
        stable=STABLE,
        canary=CANARY,
        steps=steps
        or (Step("setWeight", weight=10), Step("analysis", analysis="health"), Step("setWeight", weight=50)),
        analyses={"health": (Metric("error_rate", "gateway"),)},
        weights={STABLE: 100.0, CANARY: 0.0},
        automatic_rollback=automatic,
    )


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now
