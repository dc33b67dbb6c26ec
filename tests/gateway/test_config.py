"""The gateway's config reads each route's settings and the budgets from the router's table; tests override."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from helpers.gateway import offline_config, route

from maestro.gateway.config import ApiKey, ConfigError, api_keys_from_json
from maestro.router import Budget, RouteSettings


def test_a_routes_settings_are_the_tables_unless_the_config_names_that_route(tmp_path: Path) -> None:
    routes = route("chat-route", "chat", ["alpha"], ["beta"], retries=2, limits=", maxCostUsd: 1")
    routes += route("other-route", "other", ["beta"], [])
    config = offline_config(tmp_path, {}, routes=routes)
    compiled = RouteSettings(retries=2, backoff_s=0.01, first_token_s=1.0)

    assert config.route("chat-route") == config.table.route("chat").settings == compiled
    assert config.route("no-such-route") == RouteSettings()

    override = RouteSettings(first_token_s=5.0)
    overridden = replace(config, routes={"other-route": override})
    assert overridden.route("other-route") == override
    assert overridden.route("chat-route") == compiled


def test_the_budgets_are_the_tables_unless_given(tmp_path: Path) -> None:
    config = offline_config(tmp_path, {})
    assert config.budgets == config.table.budgets != ()

    mine = (Budget("mine", 1.0, "day", "block", team="t"),)
    assert offline_config(tmp_path / "given", {}, budgets=mine).budgets == mine


def test_gateway_keys_carry_a_team_and_a_caller(tmp_path: Path) -> None:
    text = json.dumps(
        [
            {"id": "support-bot", "token": "sk-1", "team": "support", "caller": "helpdesk"},
            {"id": "batch", "token": "sk-2"},
        ]
    )
    keys = api_keys_from_json(text, "$KEYS")
    assert keys == {"sk-1": ApiKey("support-bot", "support", "helpdesk"), "sk-2": ApiKey("batch")}
    assert keys["sk-1"].who == "helpdesk" and keys["sk-2"].who == "batch"  # the caller defaults to the id


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        ([{"id": "a", "token": "sk-1", "caller": 3}], r"\$KEYS\[0\] must be an object .*'caller'"),
        ([{"id": "a", "token": "sk-1", "role": "x"}], r"\$KEYS\[0\] must be an object"),
        ([{"id": "a", "token": "sk-1"}, {"id": "b", "token": "sk-1"}], r"\$KEYS\[1\] \('b'\) reuses the token of 'a'"),
    ],
)
def test_bad_gateway_keys_are_refused_without_showing_a_token(entries: list[object], expected: str) -> None:
    with pytest.raises(ConfigError, match=expected) as caught:
        api_keys_from_json(json.dumps(entries), "$KEYS")
    assert "sk-1" not in str(caught.value)
