from __future__ import annotations

from pathlib import Path

import pytest
from helpers.delivery import CANARY, STABLE, Clock, spec

from maestro.delivery.controller import Controller
from maestro.delivery.errors import RolloutError, TransitionError
from maestro.delivery.machine import Abort, Phase, Promote, Resume, Undo, freeze_wait
from maestro.delivery.spec import Step
from maestro.ledger import Action
from maestro.state import observations as obs


def _traffic(path: Path | str, clock: Clock, n: int, canary_errors: float, stable_errors: float = 0.01) -> None:
    """``n`` requests on each side through the gateway's recorder (its batch writer thread, then stopped)."""
    recorder = obs.Observations(path, interval_s=0.01, clock=clock)
    recorder.start()
    for i in range(n):
        recorder.record("chat-route", CANARY, ok=(i % 1000) >= canary_errors * 1000, latency_ms=100.0)
        recorder.record("chat-route", STABLE, ok=(i % 1000) >= stable_errors * 1000, latency_ms=100.0)
    recorder.stop()


def _controller(path: Path, clock: Clock, records: list[Action] | None = None) -> Controller:
    return Controller(path, actor="test", record=None if records is None else records.append, clock=clock)


def _run(c: Controller, ticks: int = 10) -> None:
    for _ in range(ticks):
        c.tick()
        c.clock.advance(1)  # type: ignore[attr-defined]


def test_a_healthy_canary_is_promoted_step_by_step(tmp_path: Path) -> None:
    path, clock, records = tmp_path / "state.db", Clock(), []
    c = _controller(path, clock, records)
    c.begin(spec(), "alice")
    c.tick()  # setWeight 10
    assert c.weights.current()["chat-route"] == {STABLE: 90.0, CANARY: 10.0}
    c.tick()  # analysis: no data yet
    stored = c.store.get("r1")
    assert (
        stored is not None and stored.state.phase is Phase.PROGRESSING and "inconclusive holds" in stored.state.waiting
    )
    _traffic(path, clock, 2000, canary_errors=0.01)
    _run(c)
    stored = c.store.get("r1")
    assert stored is not None and stored.state.phase is Phase.PROMOTED
    assert c.weights.current()["chat-route"] == {STABLE: 0.0, CANARY: 100.0}
    events = [e["event"] for e in c.store.events("r1")]
    assert events == ["start", "setWeight", "analysisPassed", "setWeight", "promote"]
    verdicts = c.store.verdicts("r1")
    assert [v["outcome"] for v in verdicts] == ["inconclusive", "pass"]
    assert verdicts[-1]["n"] == {"canary": 2000, "stable": 2000} and verdicts[-1]["alpha"] == 0.01
    low, high = verdicts[-1]["interval"]  # type: ignore[misc]
    assert low < 0 < high < 0.02
    actions = [a.action for a in records]
    assert actions.count("rollout.verdict") == 2 and "rollout.transition" in actions and "weights.set" in actions
    assert all(a.manifests == {"Rollout/r1": "0" * 64} for a in records if a.action.startswith("rollout."))


def test_a_failing_canary_is_rolled_back_and_its_weight_set_to_zero(tmp_path: Path) -> None:
    path, clock = tmp_path / "state.db", Clock()
    c = _controller(path, clock)
    c.begin(spec(), "alice")
    c.tick()
    _traffic(path, clock, 40, canary_errors=0.6)
    c.tick()
    stored = c.store.get("r1")
    assert stored is not None and stored.state.phase is Phase.ROLLED_BACK
    assert c.weights.current()["chat-route"][CANARY] == 0.0
    assert "hard guard" in str(c.store.events("r1")[-1]["reason"])
    assert c.store.active() == []


def test_a_freeze_holds_the_rollout_refuses_promotion_and_still_rolls_back(tmp_path: Path) -> None:
    path, clock = tmp_path / "state.db", Clock()
    c = _controller(path, clock)
    c.begin(spec(), "alice")
    c.tick()
    c.switches.set_freeze(True)
    _traffic(path, clock, 2000, canary_errors=0.01)
    _run(c, 3)
    stored = c.store.get("r1")
    assert (
        stored is not None
        and stored.state.step == 1
        and stored.state.waiting == freeze_wait("the gateway's freeze is engaged (POST /admin/freeze)")
    )
    with pytest.raises(TransitionError, match="freeze"):
        c.send("r1", lambda now, frozen, ok: Promote(now, full=True, frozen=frozen, approved=ok), "bob")
    c.send("r1", lambda now, frozen, ok: Abort(now), "bob")
    assert c.weights.current()["chat-route"] == {STABLE: 100.0, CANARY: 0.0}
    c.switches.set_freeze(False)


def test_a_manual_pause_waits_for_resume_and_undo_returns_to_stable(tmp_path: Path) -> None:
    path, clock = tmp_path / "state.db", Clock()
    c = _controller(path, clock)
    c.begin(spec(Step("setWeight", weight=20), Step("pause"), Step("setWeight", weight=60)), "alice")
    _run(c, 5)
    stored = c.store.get("r1")
    assert stored is not None and stored.state.phase is Phase.PAUSED and stored.state.canary_weight == 20
    c.send("r1", lambda now, frozen, ok: Resume(now, ok), "bob")
    _run(c, 3)
    stored = c.store.get("r1")
    assert stored is not None and stored.state.phase is Phase.PROMOTED
    c.send("r1", lambda now, frozen, ok: Undo(now), "bob")
    stored = c.store.get("r1")
    assert stored is not None and stored.state.phase is Phase.ROLLED_BACK
    assert c.weights.current()["chat-route"] == {STABLE: 100.0, CANARY: 0.0}
    with pytest.raises(TransitionError, match="already on stable"):
        c.send("r1", lambda now, frozen, ok: Undo(now), "bob")


def test_a_timed_pause_waits_its_duration(tmp_path: Path) -> None:
    clock = Clock()
    c = _controller(tmp_path / "state.db", clock)
    c.begin(spec(Step("setWeight", weight=20), Step("pause", pause_s=30.0)), "alice")
    _run(c, 10)
    stored = c.store.get("r1")
    assert stored is not None and stored.state.phase is Phase.PROGRESSING and stored.state.waiting == "pausing 30s"
    _run(c, 30)
    stored = c.store.get("r1")
    assert stored is not None and stored.state.phase is Phase.PROMOTED


def test_a_second_rollout_of_the_same_route_is_refused(tmp_path: Path) -> None:
    c = _controller(tmp_path / "state.db", Clock())
    c.begin(spec(), "alice")
    with pytest.raises(RolloutError, match="rollout 'r1' of route 'chat-route' is Progressing"):
        c.begin(spec(name="r2"), "alice")


def test_only_the_lease_holder_acts(tmp_path: Path) -> None:
    path, clock = tmp_path / "state.db", Clock()
    first, second = _controller(path, clock), Controller(path, actor="other", clock=clock)
    first.begin(spec(), "alice")
    assert [t.event for t in first.tick()] == ["setWeight"]
    assert second.tick() == []
    assert second.lease.holder_now(clock.now) == "test"
    clock.advance(10)  # the first holder stopped renewing: its lease expired
    second.tick()
    assert second.lease.holder_now(clock.now) == "other"
    first.tick()
    assert first.lease.holder_now(clock.now) == "other"
    stored = first.store.get("r1")
    assert stored is not None and "inconclusive holds" in stored.state.waiting  # the new holder ticked it


def test_the_kill_switch_aborts(tmp_path: Path) -> None:
    c = _controller(tmp_path / "state.db", Clock())
    c.begin(spec(), "alice")
    c.tick()
    c.switches.set_kill("chat-route", True)
    c.tick()
    stored = c.store.get("r1")
    assert stored is not None and stored.state.phase is Phase.ABORTED
    assert c.weights.current()["chat-route"][CANARY] == 0.0


def test_on_each_store_a_rollout_runs_and_rolls_back(state_url: str) -> None:
    clock = Clock()
    c = Controller(state_url, actor="test", clock=clock)
    c.begin(spec(), "alice")
    c.tick()
    _traffic(state_url, clock, 200, canary_errors=0.3)
    c.tick()
    stored = c.store.get("r1")
    assert stored is not None and stored.state.phase is Phase.ROLLED_BACK
    assert [e["event"] for e in c.store.events("r1", stored.run)] == ["start", "setWeight", "rollback"]
    assert c.store.verdicts("r1")[-1]["outcome"] == "fail"
    assert c.weights.current()["chat-route"][CANARY] == 0.0
    c.begin(spec(), "alice")  # a second run of the same rollout once the first has ended
    assert c.store.get("r1").run == 2  # type: ignore[union-attr]
    c.close()
