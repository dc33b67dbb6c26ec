"""Live weights in the state store, on both backends: shared by connections, no more traffic in a freeze."""

from __future__ import annotations

import pytest

from maestro import state
from maestro.state.weights import LiveWeights, WeightError

MANIFEST = {"p/stable": 90.0, "p/canary": 10.0}


def test_a_change_is_seen_by_every_connection(state_url: str) -> None:
    one, two = LiveWeights(state.connect(state_url)), LiveWeights(state.connect(state_url))
    assert two.current() == {}
    change = one.set("r", {"p/canary": 50}, MANIFEST, actor="alice", frozen=False, reason="step 2")
    assert change.before == MANIFEST and change.after == {"p/stable": 90.0, "p/canary": 50.0} and change.adds_traffic
    assert two.current() == {"r": {"p/stable": 90.0, "p/canary": 50.0}}
    one.clear("r", MANIFEST, actor="alice", frozen=False)
    assert two.current() == {}


def test_a_freeze_allows_rollback_and_refuses_more_traffic(state_url: str) -> None:
    weights = LiveWeights(state.connect(state_url))
    weights.set("r", {"p/canary": 50}, MANIFEST, actor="ops", frozen=False)
    rollback = weights.set("r", {"p/canary": 0}, MANIFEST, actor="ops", frozen=True)
    assert not rollback.adds_traffic and weights.current()["r"]["p/canary"] == 0
    with pytest.raises(WeightError, match=r"freeze is engaged.*raises p/canary"):
        weights.set("r", {"p/canary": 5}, MANIFEST, actor="ops", frozen=True)
    with pytest.raises(WeightError, match="freeze"):
        weights.clear("r", MANIFEST, actor="ops", frozen=True)  # the manifest gives the canary 10 back
    assert weights.current()["r"]["p/canary"] == 0  # nothing half-written


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"p/other": 1}, "has no candidate p/other"),
        ({"p/canary": -1}, "numbers from 0"),
        ({"p/canary": "lots"}, "numbers from 0"),
        ({"p/canary": 0, "p/stable": 0}, "at least one candidate"),
    ],
)
def test_bad_changes_are_refused_with_what_to_do(change: dict[str, object], message: str) -> None:
    weights = LiveWeights(state.connect(":memory:"))
    with pytest.raises(WeightError, match=message):
        weights.set("r", change, MANIFEST, actor="ops", frozen=False)  # type: ignore[arg-type]
    assert weights.current() == {}
