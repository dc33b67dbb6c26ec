"""`maestro rollout simulate NAME --replay`: the route's decisions recorded in the ledger, replayed through the
live judge and state machine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers.cli import run_cli
from helpers.delivery import CANARY, STABLE, spec
from helpers.ledger import key

from maestro.delivery.errors import RolloutError
from maestro.delivery.machine import Phase
from maestro.delivery.replay import Replay, from_entries
from maestro.delivery.simulate import Traffic, simulate
from maestro.gateway.recording import decision_action
from maestro.ledger import Ledger
from maestro.router.model import Decision

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _predicate(i: int, rate: float, order: list[str], served: str | None, route: str = "chat-route") -> dict[str, Any]:
    when = (T0 + timedelta(seconds=i / rate)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return {"action": "route", "time": when, "details": {"route": route, "order": order, "served_by": served}}


def _recording(seconds: int, rate: float = 50.0, error: float = 0.01, seed: int = 1) -> list[dict[str, Any]]:
    """Decisions of a route served by stable alone (the canary, at weight 0, never first), stable failing at
    ``error`` and its fallback (the canary) then serving."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(int(seconds * rate)):
        failed = rng.random() < error
        out.append(_predicate(i, rate, [STABLE, CANARY], CANARY if failed else STABLE))
    return out


def test_recorded_requests_become_the_rollouts_traffic_and_failed_attempts_count() -> None:
    entries = [
        _predicate(0, 1, [STABLE, CANARY], STABLE),
        _predicate(1, 1, [STABLE, CANARY], CANARY),  # stable failed, the canary served
        _predicate(2, 1, [STABLE, CANARY], None),  # both failed
        _predicate(3, 1, ["gamma/m1", STABLE], STABLE),  # another candidate first: not the rollout's
        _predicate(4, 1, [STABLE], STABLE, route="other"),
        {"action": "weights.set", "time": "2026-12-01T09:00:05.000000Z", "details": {}},
    ]
    recorded = from_entries(spec(), entries)
    assert recorded.times == (0.0, 1.0, 2.0)
    assert recorded.outcomes == {STABLE: (True, False, False), CANARY: (True, False)}
    with pytest.raises(RolloutError, match="no recorded decision of route 'chat-route'"):
        from_entries(spec(), entries[3:])


def test_a_replayed_healthy_recording_promotes_and_an_injected_regression_rolls_back() -> None:
    s = spec()
    recorded = from_entries(s, _recording(600))
    healthy = simulate(s, Traffic(), seed=3, replay=Replay(s, recorded, None, 0.0))
    assert healthy.phase is Phase.PROMOTED
    assert healthy.requests <= len(recorded.times)
    bad = simulate(s, Traffic(onset_s=20), seed=3, replay=Replay(s, recorded, 0.06, 20.0))
    assert bad.phase is Phase.ROLLED_BACK and bad.detected_s is not None and bad.detected_s < 120
    assert [e for _, e, _ in bad.events][-1] == "rollback"


def test_a_recording_that_ends_first_leaves_the_rollout_running() -> None:
    s = spec()
    short = from_entries(s, _recording(5))
    run = simulate(s, Traffic(), seed=3, replay=Replay(s, short, None, 0.0))
    assert run.phase is Phase.PROGRESSING and run.seconds <= 6
    assert run.requests == len(short.times)


ROLLOUT = """apiVersion: maestro.dev/v1
kind: Route
metadata: {name: chat-route}
spec:
  alias: chat
  candidates:
    - {provider: alpha, model: m1, weight: 100}
    - {provider: beta, model: m1, weight: 0}
---
apiVersion: maestro.dev/v1
kind: Rollout
metadata: {name: chat-beta}
spec:
  target: {kind: Route, name: chat-route}
  change: {from: alpha/m1, to: beta/m1}
  steps: [{setWeight: 10}, {analysis: health}, {setWeight: 50}]
  analysis:
    - name: health
      metrics: [{name: error_rate, source: gateway}]
"""


def test_the_command_replays_the_decisions_the_gateway_recorded_in_the_ledger(tmp_path: Path) -> None:
    from helpers.gateway import Up, write_repo

    ups = [Up("alpha"), Up("beta")]
    write_repo(tmp_path, {u.name: f"http://{u.name}.invalid" for u in ups}, ups, ROLLOUT)
    db = tmp_path / "state.db"
    decisions = [
        decision_action(
            Decision(f"d{i}", "chat-route", "chat", (STABLE, CANARY), (), (), frozenset(), frozenset(), frozenset()),
            STABLE,
            0.0,
            "gateway:alice",
        )
        for i in range(300)
    ]
    with Ledger.open(db) as ledger:
        ledger.append(decisions, key("alice"))
    manifests = ["-m", str(tmp_path / "manifests")]
    result = run_cli("rollout", "simulate", "chat-beta", *manifests, "--replay", "--state", str(db))
    assert result.exit_code == 0, result.output
    assert "replayed 300 recorded requests of route chat-route" in result.output
    assert "would still be running (the recording ended)" in result.output
    assert "the canary beta/m1 has no recorded attempts: it replays stable's outcomes" in result.output
    empty = run_cli("rollout", "simulate", "chat-beta", *manifests, "--replay", "--state", str(tmp_path / "no.db"))
    assert empty.exit_code == 2 and "nothing recorded to replay" in empty.output
    mixed = run_cli("rollout", "simulate", "chat-beta", *manifests, "--since", "7d")
    assert mixed.exit_code == 2 and "--since reads the ledger" in mixed.output
