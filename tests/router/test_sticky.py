"""Sticky assignment: a Rollout's ``stickiness`` keeps each caller (or session) on one side of the split."""

from __future__ import annotations

from typing import Any

import pytest
from helpers.router import pair, provider, route, table

from maestro import router
from maestro.router import LiveState, Request


def _rollout(stickiness: str | None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "target": {"kind": "Route", "name": "r"},
        "change": {"from": "us/m", "to": "eu/m"},
        "steps": [{"setWeight": 10}, {"setWeight": 100}],
    }
    if stickiness:
        spec["stickiness"] = stickiness
    return {"apiVersion": "maestro.dev/v1", "kind": "Rollout", "metadata": {"name": "ro"}, "spec": spec}


def _table(stickiness: str | None) -> router.RouterTable:
    candidates = [pair("us/m", weight=100), pair("eu/m", weight=0)]
    return table(provider("us", "us"), provider("eu", "eu"), route("r", "chat", candidates), _rollout(stickiness))


def _primary(t: router.RouterTable, canary: float, i: int, **who: Any) -> str:
    request = Request(alias="chat", messages=({"role": "user", "content": "hi"},), request_id=f"q{i}", **who)
    state = LiveState(weights={"r": {"us/m": 100 - canary, "eu/m": canary}})
    return router.decide(t, request, state, seed=i).order[0]


def test_a_caller_keeps_its_side_and_the_canary_keeps_its_callers_as_it_grows() -> None:
    t = _table("caller")
    assert t.route("chat").sticky == "caller"
    sides = {}
    for c in range(200):
        seen = {_primary(t, 10, i, caller=f"user-{c}") for i in range(5)}
        assert len(seen) == 1  # five requests of one caller, one side
        sides[c] = seen.pop()
    on_canary = {c for c, side in sides.items() if side == "eu/m"}
    assert 5 <= len(on_canary) <= 40  # about 10% of 200
    at_fifty = {c for c in range(200) if _primary(t, 50, 0, caller=f"user-{c}") == "eu/m"}
    assert on_canary < at_fifty and 70 <= len(at_fifty) <= 130


def test_a_session_key_comes_from_the_metadata_and_without_stickiness_requests_split_on_their_own() -> None:
    t = _table("session")
    for s in range(20):
        assert len({_primary(t, 50, i, metadata={"session": f"s{s}"}) for i in range(6)}) == 1
    loose = _table(None)
    assert loose.route("chat").sticky == ""
    assert len({_primary(loose, 50, i, caller="user-1") for i in range(40)}) == 2


@pytest.mark.parametrize("canary", [0, 100])
def test_the_ends_of_the_split_send_every_key_to_one_side(canary: float) -> None:
    t = _table("caller")
    want = "eu/m" if canary else "us/m"
    assert {_primary(t, canary, 0, caller=f"u{c}") for c in range(50)} == {want}
