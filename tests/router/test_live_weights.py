"""Live weights: overrides from the state store change who leads without a rebuild; a weight of 0 is no traffic."""

from __future__ import annotations

from collections import Counter

from helpers.router import pair, provider, route, table

from maestro import router
from maestro.router import LiveState, Request, Stage


def _table() -> router.RouterTable:
    return table(
        provider("us", "us"),
        provider("eu", "eu"),
        route("r", "chat", [pair("us/m", weight=90), pair("eu/m", weight=10)]),
    )


def _leaders(state: LiveState, n: int = 400) -> Counter[str]:
    t = _table()
    out: Counter[str] = Counter()
    for i in range(n):
        request = Request(alias="chat", messages=({"role": "user", "content": "hi"},), request_id=f"r{i}")
        out[router.decide(t, request, state).order[0]] += 1
    return out


def test_the_manifest_weights_hold_without_overrides() -> None:
    leaders = _leaders(LiveState())
    assert leaders["us/m"] > leaders["eu/m"] > 0


def test_an_override_moves_the_split() -> None:
    leaders = _leaders(LiveState(weights={"r": {"us/m": 10, "eu/m": 90}}))
    assert leaders["eu/m"] > leaders["us/m"] > 0


def test_a_live_weight_of_zero_takes_every_request_away_even_as_a_fallback() -> None:
    t = _table()
    state = LiveState(weights={"r": {"eu/m": 0}})
    for i in range(100):
        decision = router.decide(
            t, Request(alias="chat", messages=({"role": "user", "content": "hi"},), request_id=str(i)), state
        )
        assert decision.order == ("us/m",)
    removal = next(r for r in decision.removed if r.deployment == "eu/m")
    assert removal.stage is Stage.WEIGHT and "live weight" in removal.reason


def test_overrides_of_another_route_change_nothing() -> None:
    assert _leaders(LiveState(weights={"other": {"us/m": 0}})) == _leaders(LiveState())
