"""Governance in one place: the kill switch (manifests' and live), route rules, budgets, and typed refusals."""

from __future__ import annotations

from typing import Any

import pytest
from helpers.router import ROOT, model, pair, policy, provider, route, table

from maestro import router
from maestro.manifests.validate import validate
from maestro.router import Budget, DeploymentState, LiveState, RefusalKind, Request, governance
from maestro.router.governance import fit_budgets


def ask(alias: str = "chat", **fields: Any) -> Request:
    if "tags" in fields:
        fields["tags"] = frozenset(fields["tags"])
    return Request(alias=alias, messages=({"role": "user", "content": "hello"},), **fields)


def _two_routes(**policy_spec: Any) -> router.RouterTable:
    return table(
        provider("us", "us"),
        route("r", "chat", [pair("us/m")]),
        route("r2", "other", [pair("us/m")]),
        policy("gov", **policy_spec),
    )


@pytest.mark.parametrize(
    ("live", "refused"),
    [
        (LiveState(kill_all=True), {"chat", "other"}),
        (LiveState(kill_routes=frozenset({"r2"})), {"other"}),
        (LiveState(kill_routes=frozenset({"nope"})), set()),
        (LiveState(), set()),
    ],
)
def test_the_live_kill_switch_refuses_with_a_typed_reason(live: LiveState, refused: set[str]) -> None:
    routes = _two_routes()
    for alias, name in (("chat", "r"), ("other", "r2")):
        decision = router.decide(routes, ask(alias), live)
        if alias in refused:
            assert decision.order == ()
            assert decision.refusal is not None
            assert (decision.refusal.kind, decision.refusal.route) == (RefusalKind.KILL_SWITCH, name)
            assert decision.denied == f"the kill switch is engaged for route '{name}'"
        else:
            assert decision.refusal is None and decision.order == ("us/m",)


def test_the_manifests_kill_switch_is_the_same_refusal() -> None:
    decision = router.decide(_two_routes(killSwitch={"engaged": True, "routes": ["r"]}), ask("chat"))
    assert decision.refusal is not None and decision.refusal.kind is RefusalKind.KILL_SWITCH
    assert decision.refusal.route == "r"


def test_a_spent_budget_refuses_naming_the_budget() -> None:
    budgets = [{"name": "cap", "scope": {"route": "r"}, "limitUsd": 1, "period": "day", "onExceed": "block"}]
    decision = router.decide(_two_routes(budgets=budgets), ask("chat"), LiveState(spend_usd={"cap": 1.0}))
    assert decision.refusal is not None
    assert (decision.refusal.kind, decision.refusal.rule) == (RefusalKind.BUDGET, "cap")


@pytest.fixture(scope="module")
def example() -> router.RouterTable:
    result = validate([ROOT / "manifests", ROOT / "policies"])
    assert result.summary.errors == 0
    return router.build(result.manifests)


def test_an_unknown_tag_is_its_own_refusal_with_the_tags_sentence(example: router.RouterTable) -> None:
    decision = router.decide(example, ask(tags={"made.up"}))
    assert decision.refusal is not None and decision.refusal.kind is RefusalKind.UNKNOWN_TAG
    assert decision.refusal.message == "tag 'made.up' is unknown, and unknown tags are denied"
    assert decision.denied is not None and decision.denied.startswith("no deployment is allowed and available")


def test_a_denying_route_rule_names_itself(example: router.RouterTable) -> None:
    decision = router.decide(example, ask(tags={"secret.credential"}))
    assert decision.refusal is not None
    assert (decision.refusal.kind, decision.refusal.rule) == (RefusalKind.ROUTE_RULE, "no-credentials")


def _small() -> router.RouterTable:
    return table(provider("us", "us", model("m", context=1000)), route("r", "chat", [pair("us/m")]))


def test_a_request_too_large_for_every_window_is_too_large() -> None:
    decision = router.decide(_small(), ask(input_tokens=5000))
    assert decision.refusal is not None and decision.refusal.kind is RefusalKind.TOO_LARGE


def test_a_saturated_deployment_everywhere_is_unavailable() -> None:
    live = LiveState(deployments={"us/m": DeploymentState(saturated=True)})
    decision = router.decide(_small(), ask(), live)
    assert decision.refusal is not None and decision.refusal.kind is RefusalKind.UNAVAILABLE
    assert "saturated" in decision.refusal.reason


BLOCK = Budget("block", 1.0, "day", "block", route="r")
DOWN = Budget("down", 1.0, "day", "downgrade", route="r")
ALERT = Budget("alert", 1.0, "day", "alert", route="r")
ESTIMATES = {"dear": 0.8, "mid": 0.3, "cheap": 0.1}


@pytest.mark.parametrize(
    ("budget", "left", "order", "alerts", "refused"),
    [
        (BLOCK, 1.0, ("dear", "mid", "cheap"), (), None),
        (BLOCK, 0.5, (), (), "block"),
        (DOWN, 0.5, ("cheap", "mid"), (), None),
        (DOWN, 0.05, (), (), "down"),
        (ALERT, 0.05, ("dear", "mid", "cheap"), ("alert",), None),
    ],
)
def test_fit_budgets_blocks_downgrades_or_alerts(
    budget: Budget, left: float, order: tuple[str, ...], alerts: tuple[str, ...], refused: str | None
) -> None:
    fit = fit_budgets([budget], lambda b: left, ("dear", "mid", "cheap"), ESTIMATES)
    assert fit.order == order
    assert fit.alerts == alerts
    assert (fit.refused.name if fit.refused else None) == refused
    if refused:
        assert (fit.remaining, fit.needed) == (left, 0.8)


@pytest.mark.parametrize(
    ("kill_all", "kill_routes", "covered"),
    [(False, frozenset(), False), (True, frozenset(), True), (False, {"chat"}, True), (False, {"other"}, False)],
)
def test_one_switch_covers_a_route_when_engaged_for_all_or_for_it(
    kill_all: bool, kill_routes: set[str], covered: bool
) -> None:
    """The rule the rollout controller asks of the live switch, and the router of both switches."""
    assert governance.covers(kill_all, kill_routes, "chat") is covered
