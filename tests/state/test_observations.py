from __future__ import annotations

from pathlib import Path

from maestro import state
from maestro.state import observations as obs


def test_only_watched_pairs_are_recorded_and_summed_across_connections(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    controller = state.connect(db)
    obs.watch(controller, "chat", ["a/m", "b/m"])
    gateway = obs.Observations(db, interval_s=0.01, clock=lambda: 100.0)
    gateway.start()  # reads what is watched
    for ok, ms in ((True, 10.0), (False, 30.0), (True, 20.0)):
        gateway.record("chat", "b/m", ok, ms)
    gateway.record("chat", "c/m", True, 5.0)  # not watched
    gateway.record("other", "b/m", True, 5.0)  # another route
    gateway.stop()  # writes what is queued
    assert obs.summary(controller, "chat", "b/m", since=0.0) == obs.Summary(3, 1, 60.0, 1400.0)
    assert obs.summary(controller, "chat", "c/m", since=0.0) == obs.Summary()
    assert obs.summary(controller, "other", "b/m", since=0.0) == obs.Summary()
    assert obs.summary(controller, "chat", "b/m", since=100.5) == obs.Summary()


def test_nothing_is_recorded_once_the_route_is_unwatched(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    controller = state.connect(db)
    obs.watch(controller, "chat", ["b/m"])
    obs.unwatch(controller, "chat")
    gateway = obs.Observations(db, interval_s=0.01)
    gateway.start()
    gateway.record("chat", "b/m", False, 1.0)
    gateway.stop()
    assert obs.summary(controller, "chat", "b/m", since=0.0).n == 0
