"""The compiled table carries what the gateway reads: each route's resilience settings and the budgets."""

from __future__ import annotations

from typing import Any

import pytest
from helpers.router import pair, policy, provider, route, table

from maestro.router import Budget, RouteSettings


def test_a_route_compiles_its_retry_first_token_deadline_and_hedge() -> None:
    routes = table(
        provider("us", "us"),
        route(
            "r",
            "chat",
            [pair("us/m")],
            retry={"attempts": 2, "backoff": "250ms"},
            limits={"firstTokenTimeout": "3s", "maxCostUsd": 0.02},
            hedge={"after": "800ms", "maxCostUsd": 0.001},
        ),
    ).routes

    assert routes["chat"].settings == RouteSettings(
        retries=2, backoff_s=0.25, first_token_s=3.0, hedge_after_s=0.8, hedge_max_cost_usd=0.001
    )


@pytest.mark.parametrize(("spec", "retries"), [({}, 0), ({"retry": {"attempts": 1}, "limits": {"maxCostUsd": 1}}, 1)])
def test_a_route_without_them_gets_the_defaults(spec: dict[str, Any], retries: int) -> None:
    s = table(provider("us", "us"), route("r", "chat", [pair("us/m")], **spec)).route("chat").settings

    assert (s.retries, s.backoff_s, s.first_token_s, s.hedge_after_s, s.hedge_max_cost_usd) == (
        retries,
        0.25,
        None,
        None,
        0.0,
    )


BUDGETS = [
    {"name": "route-r", "scope": {"route": "r"}, "limitUsd": 10, "period": "month"},
    {"name": "research", "scope": {"team": "research"}, "limitUsd": 5.5, "period": "day", "onExceed": "downgrade"},
    {"name": "bot", "scope": {"apiKey": "support-bot"}, "limitUsd": 1, "period": "hour", "onExceed": "alert"},
]


def test_policy_budgets_compile_with_their_period_and_scope() -> None:
    compiled = table(provider("us", "us"), route("r", "chat", [pair("us/m")]), policy("money", budgets=BUDGETS))
    budgets = tuple(b for b in compiled.budgets if b.name in {"route-r", "research", "bot"})  # not the default's

    assert budgets == (
        Budget("route-r", 10.0, "month", "block", route="r"),
        Budget("research", 5.5, "day", "downgrade", team="research"),
        Budget("bot", 1.0, "hour", "alert", api_key="support-bot"),
    )
    assert all(isinstance(b.limit_usd, float) for b in budgets)


@pytest.mark.parametrize(
    ("budget", "route_name", "team", "api_key", "applies"),
    [
        (Budget("b", 1.0, "day", "block", route="r"), "r", "", "", True),
        (Budget("b", 1.0, "day", "block", route="r"), "r2", "r", "r", False),
        (Budget("b", 1.0, "day", "block", team="t"), "r", "t", "", True),
        (Budget("b", 1.0, "day", "block", team="t"), "t", "u", "t", False),
        (Budget("b", 1.0, "day", "block", api_key="k"), "r", "", "k", True),
        (Budget("b", 1.0, "day", "block", api_key="k"), "k", "k", "other", False),
        (Budget("b", 1.0, "day", "block"), "r", "", "", False),  # no scope: nothing, not everything
    ],
)
def test_a_budget_applies_only_to_its_own_scope(
    budget: Budget, route_name: str, team: str, api_key: str, applies: bool
) -> None:
    assert budget.applies(route_name, team, api_key) is applies
