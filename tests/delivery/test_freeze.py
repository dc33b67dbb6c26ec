from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from helpers.delivery import CANARY, STABLE, Clock, spec

from maestro.delivery.controller import Controller
from maestro.delivery.errors import DeliveryError, TransitionError
from maestro.delivery.machine import Abort, Promote
from maestro.delivery.spec import RolloutSpec, Step


def _weekly(clock: Clock) -> RolloutSpec:
    base = spec(Step("setWeight", weight=10), Step("setWeight", weight=50))
    window = {"name": "friday", "cron": "0 18 * * 5", "duration": "62h", "timeZone": "UTC", "reason": "weekend"}
    return RolloutSpec(**{**{f: getattr(base, f) for f in base.__slots__}, "freezes": (("Policy/default", window),)})  # type: ignore[arg-type]


def test_an_ad_hoc_freeze_holds_the_rollout_and_its_removal_lets_it_go_on(tmp_path: Path) -> None:
    clock = Clock()
    c = Controller(tmp_path / "state.db", actor="test", clock=clock)
    c.begin(spec(Step("setWeight", weight=10), Step("setWeight", weight=50)), "alice")
    c.freezes.add("release", clock.now, clock.now + 3600, "release night", "bob")
    c.tick()
    stored = c.store.get("r1")
    assert stored is not None and stored.state.canary_weight == 0
    assert "freeze window 'release' (maestro freeze: release night) is open until" in stored.state.waiting
    with pytest.raises(TransitionError, match="freeze window 'release'"):
        c.send("r1", lambda now, frozen, ok: Promote(now, True, frozen, ok), "carol")
    with pytest.raises(DeliveryError, match="exists"):
        c.freezes.add("release", clock.now, clock.now + 60, "", "bob")
    c.freezes.remove("release")
    c.tick()
    c.tick()
    stored = c.store.get("r1")
    assert stored is not None and stored.state.canary_weight == 50
    assert c.weights.current()["chat-route"] == {STABLE: 50.0, CANARY: 50.0}


def test_a_policy_window_pinned_with_the_spec_holds_advancing_but_not_an_abort(tmp_path: Path) -> None:
    clock = Clock(datetime(2026, 12, 4, 17, 59, 30, tzinfo=UTC).timestamp())  # a Friday, 30 s before 18:00
    c = Controller(tmp_path / "state.db", actor="test", clock=clock)
    c.begin(_weekly(clock), "alice")
    c.tick()  # setWeight 10, before the window opens
    clock.advance(60)
    c.tick()
    stored = c.store.get("r1")
    assert stored is not None and stored.state.canary_weight == 10
    assert "'friday' (Policy/default: weekend) is open until 2026-12-07T08:00:00Z" in stored.state.waiting
    c.send("r1", lambda now, frozen, ok: Abort(now), "bob")
    assert c.weights.current()["chat-route"] == {STABLE: 100.0, CANARY: 0.0}


def test_the_window_closes_and_the_rollout_goes_on(tmp_path: Path) -> None:
    clock = Clock(datetime(2026, 12, 5, 12, 0, tzinfo=UTC).timestamp())  # inside the weekend window
    c = Controller(tmp_path / "state.db", actor="test", clock=clock)
    c.begin(_weekly(clock), "alice")
    c.tick()
    stored = c.store.get("r1")
    assert stored is not None and stored.state.canary_weight == 0
    clock.now = datetime(2026, 12, 7, 8, 0, tzinfo=UTC).timestamp()
    c.tick()
    stored = c.store.get("r1")
    assert stored is not None and stored.state.canary_weight == 10 and stored.state.waiting == ""
