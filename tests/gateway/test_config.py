"""The gateway's config reads each route's settings and the budgets from the router's table; tests override."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from helpers.gateway import offline_config, route

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
