"""Reading a chat body: identity from the key, the limits maestro computes, and bodies nested too deep."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers.gateway import offline_config, two_up

from maestro.gateway import create_app
from maestro.gateway.body import MAX_DEPTH, parse_chat
from maestro.gateway.config import ApiKey
from maestro.gateway.errors import GatewayError
from maestro.gateway.serve import Background
from maestro.router import RouterTable

MESSAGES = [{"role": "user", "content": "hello"}]
KEY = ApiKey("support-bot", "support", "helpdesk")


@pytest.fixture
def table(tmp_path: Path) -> RouterTable:
    return offline_config(tmp_path, {}).table


def parse(table: RouterTable, body: dict[str, Any], headers: dict[str, str] | None = None, **options: Any) -> Any:
    raw = json.dumps({"model": "chat", "messages": MESSAGES, **body}).encode()
    return parse_chat(raw, headers or {}, "req-1", table, **options)


def test_with_a_key_the_request_is_the_keys_team_and_caller(table: RouterTable) -> None:
    call = parse(table, {"team": "support", "caller": "helpdesk", "user": "end-user-7"}, key=KEY)
    assert (call.request.team, call.request.caller) == ("support", "helpdesk")
    assert call.upstream["user"] == "end-user-7"  # OpenAI's end-user id is relayed, never an identity
    quiet = parse(table, {}, {"x-maestro-team": "support"}, key=KEY)
    assert (quiet.request.team, quiet.request.caller) == ("support", "helpdesk")


@pytest.mark.parametrize(
    ("body", "headers", "where"),
    [
        ({"team": "finance"}, {}, "the body's 'team' names team 'finance'"),
        ({"team": ""}, {}, "the body's 'team' names team ''"),
        ({}, {"x-maestro-team": "finance"}, "x-maestro-team names team 'finance'"),
        ({"caller": "admin"}, {}, "the body's 'caller' names caller 'admin'"),
        ({}, {"x-maestro-caller": "admin"}, "x-maestro-caller names caller 'admin'"),
    ],
)
def test_another_team_or_caller_than_the_keys_is_a_403(
    table: RouterTable, body: dict[str, Any], headers: dict[str, str], where: str
) -> None:
    with pytest.raises(GatewayError) as caught:
        parse(table, body, headers, key=KEY)
    assert caught.value.status == 403 and caught.value.code == "identity_mismatch"
    assert caught.value.message.startswith(where) and "'support-bot'" in caught.value.message


def test_without_keys_the_body_and_headers_name_the_team(table: RouterTable) -> None:
    assert parse(table, {"team": "finance"}).request.team == "finance"
    assert parse(table, {}, {"x-maestro-team": "ops"}).request.team == "ops"


@pytest.mark.parametrize(
    ("body", "field", "limit"),
    [
        ({}, "max_tokens", 300),
        ({"max_tokens": 40}, "max_tokens", 40),
        ({"max_tokens": 40.0}, "max_tokens", 40),
        ({"max_completion_tokens": 70}, "max_completion_tokens", 70),
        ({"max_tokens": 40, "max_completion_tokens": 70}, "max_tokens", 40),
        ({"n": 1}, "max_tokens", 300),
    ],
)
def test_the_output_limit_is_the_callers_or_the_default(
    table: RouterTable, body: dict[str, Any], field: str, limit: int
) -> None:
    call = parse(table, body, default_max_tokens=300)
    assert (call.limit_field, call.request.max_output_tokens) == (field, limit)
    assert call.request.input_tokens is None
    assert "max_tokens" not in call.upstream and "max_completion_tokens" not in call.upstream  # sent per model


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"input_tokens": 0}, "computed_field"),
        ({"max_output_tokens": 0}, "computed_field"),
        ({"max_tokens": 0}, "invalid_request"),
        ({"max_tokens": 10, "max_completion_tokens": 0}, "invalid_request"),
        ({"max_tokens": True}, "invalid_request"),
        ({"n": 2}, "n_not_supported"),
        ({"n": True}, "n_not_supported"),
        ({"n": "1"}, "n_not_supported"),
    ],
)
def test_cost_inputs_the_caller_may_not_set_are_a_400(table: RouterTable, body: dict[str, Any], code: str) -> None:
    with pytest.raises(GatewayError) as caught:
        parse(table, body)
    assert caught.value.status == 400 and caught.value.code == code


def nested(depth: int) -> Any:
    value: Any = "leaf"
    for i in range(depth):
        value = [value] if i % 2 else {"k": value}
    return value


def test_a_body_nested_to_the_limit_is_read_and_one_level_more_is_a_400(table: RouterTable) -> None:
    # the body object is level 1, so a value nested MAX_DEPTH - 1 levels deep is the deepest that fits
    assert parse(table, {"response_format": nested(MAX_DEPTH - 1)}).upstream["response_format"]
    with pytest.raises(GatewayError) as caught:
        parse(table, {"response_format": nested(MAX_DEPTH)})
    assert caught.value.status == 400 and caught.value.code == "too_deep"


def test_deeply_nested_json_over_http_is_a_400_not_a_500(tmp_path: Path) -> None:
    deep = b'{"model": "chat", "messages": [], "metadata": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    with two_up(tmp_path) as rig, Background(create_app(rig.config)) as url:
        answer = httpx.post(url + "/v1/chat/completions", content=deep, timeout=30)
        health = httpx.get(url + "/healthz")
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "too_deep"
    assert "nested more than 64 levels" in answer.json()["error"]["message"]
    assert health.status_code == 200
