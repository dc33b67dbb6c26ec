"""The chat endpoint's trust boundaries, attacked over HTTP as a caller would: identity from keys, cost inputs.

Each test serves the real gateway on 127.0.0.1 in front of fake upstreams and sends what an attacker would send.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from helpers.gateway import Up, rig, route, served

from maestro import state
from maestro.gateway.budgets import Budgets
from maestro.gateway.config import ApiKey
from maestro.router import Budget

MESSAGES = [{"role": "user", "content": "hello"}]
KEYS = {
    "sk-interns-0001": ApiKey("intern-bot", "interns"),
    "sk-eng-0002": ApiKey("eng-bot", "eng"),
    "sk-vip-0003": ApiKey("vip-key", "eng", caller="vip"),
}
RULES = """  rules:
    - {name: no-interns, when: "request.team == 'interns'", deny: true}
  pins:
    - {name: vip-to-beta, when: "request.caller == 'vip'", target: {provider: beta, model: m1}}
---
"""


def _routes() -> str:
    return route("chat-route", "chat", ["alpha"], ["beta"]).removesuffix("---\n") + RULES


def _post(url: str, token: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> httpx.Response:
    headers = {"authorization": f"Bearer {token}", **(headers or {})}
    return httpx.post(
        url + "/v1/chat/completions", json={"model": "chat", "messages": MESSAGES, **body}, headers=headers
    )


def test_a_key_whose_team_budget_is_spent_cannot_bill_another_team(tmp_path: Path) -> None:
    interns = Budget("interns-day", 0.01, "day", "block", team="interns")
    support = Budget("support-day", 10.0, "day", "block", team="support")
    store = tmp_path / "s.db"
    spent = Budgets(state.connect(store), [interns, support])
    spent.settle(spent.reserve([interns], ("alpha/m1",), {"alpha/m1": 0.01}), 0.01)  # interns' day is spent
    with (
        rig(
            tmp_path,
            [Up("alpha"), Up("beta")],
            route("chat-route", "chat", ["alpha"], ["beta"]),
            api_keys=KEYS,
            budgets=(interns, support),
            state_path=store,
        ) as r,
        served(r.config) as url,
    ):
        client = openai.OpenAI(base_url=url + "/v1", api_key="sk-interns-0001", max_retries=0)
        with pytest.raises(openai.RateLimitError):  # its own team's budget
            client.chat.completions.create(model="chat", messages=MESSAGES)  # type: ignore[arg-type]
        with pytest.raises(openai.PermissionDeniedError) as body_team:
            client.chat.completions.create(
                model="chat",
                messages=MESSAGES,  # type: ignore[arg-type]
                extra_body={"team": "support"},
            )
        header_team = _post(url, "sk-interns-0001", {}, {"x-maestro-team": "support"})
    assert body_team.value.status_code == 403
    assert body_team.value.code == "identity_mismatch"
    assert "'intern-bot' is team 'interns'" in str(body_team.value)
    assert header_team.status_code == 403 and header_team.json()["error"]["code"] == "identity_mismatch"
    assert r.fakes["alpha"].bodies == [] and r.fakes["beta"].bodies == []  # nothing was served
    assert Budgets(state.connect(store), [support]).spent(support) == 0.0  # nor billed to support


def test_a_rule_denying_a_team_cannot_be_lifted_by_naming_another(tmp_path: Path) -> None:
    with rig(tmp_path, [Up("alpha"), Up("beta")], _routes(), api_keys=KEYS) as r, served(r.config) as url:
        plain = _post(url, "sk-interns-0001", {})
        named = _post(url, "sk-interns-0001", {"team": "eng"})
        header = _post(url, "sk-interns-0001", {}, {"x-maestro-team": "eng"})
        own_name = _post(url, "sk-interns-0001", {"team": "interns"})
        eng = _post(url, "sk-eng-0002", {})
    assert plain.status_code == 403 and plain.json()["error"]["code"] == "policy_denied"
    assert named.status_code == 403 and named.json()["error"]["code"] == "identity_mismatch"
    assert header.status_code == 403 and header.json()["error"]["code"] == "identity_mismatch"
    assert own_name.status_code == 403 and own_name.json()["error"]["code"] == "policy_denied"
    assert eng.status_code == 200


def test_pins_read_the_keys_caller_not_the_body(tmp_path: Path) -> None:
    with rig(tmp_path, [Up("alpha"), Up("beta")], _routes(), api_keys=KEYS) as r, served(r.config) as url:
        vip = _post(url, "sk-vip-0003", {})
        claimed = _post(url, "sk-eng-0002", {"caller": "vip"})
        claimed_header = _post(url, "sk-eng-0002", {}, {"x-maestro-caller": "vip"})
        end_user = _post(url, "sk-eng-0002", {"user": "vip"})  # OpenAI's end-user id: relayed, not an identity
    assert vip.status_code == 200 and vip.headers["x-maestro-served-by"] == "beta/m1"
    assert claimed.status_code == 403 and "'eng-bot' is caller 'eng-bot'" in claimed.json()["error"]["message"]
    assert claimed_header.status_code == 403
    assert end_user.status_code == 200 and end_user.headers["x-maestro-served-by"] == "alpha/m1"
    assert r.fakes["alpha"].bodies[-1]["user"] == "vip"


def test_zeros_in_token_fields_do_not_lower_the_estimate(tmp_path: Path) -> None:
    # 2,000 characters at $1,000 per 1M tokens: about $0.50 of prompt alone, against a $0.05 cap
    ups = [Up("alpha", price_in=1000, price_out=1000), Up("beta", price_in=1000, price_out=1000)]
    routes = route("chat-route", "chat", ["alpha"], ["beta"], limits=", maxCostUsd: 0.05")
    big = [{"role": "user", "content": "x" * 2000}]
    with rig(tmp_path, ups, routes) as r, served(r.config) as url:
        asked = [
            httpx.post(url + "/v1/chat/completions", json={"model": "chat", "messages": big, **extra})
            for extra in (
                {},
                {"input_tokens": 0, "max_output_tokens": 0},
                {"input_tokens": 0},
                {"max_output_tokens": 0},
                {"max_tokens": 0},
                {"max_tokens": 1},
            )
        ]
    plain, zeros, input_zero, output_zero, max_zero, one = asked
    assert plain.status_code == 400 and plain.json()["error"]["code"] == "request_too_large"
    assert [a.json()["error"]["code"] for a in (zeros, input_zero, output_zero)] == ["computed_field"] * 3
    assert max_zero.status_code == 400
    assert one.status_code == 400 and one.json()["error"]["code"] == "request_too_large"  # the prompt alone is over
    assert r.fakes["alpha"].bodies == [] and r.fakes["beta"].bodies == []


def test_the_limit_the_estimate_assumed_is_sent_upstream_capped_by_the_model(tmp_path: Path) -> None:
    ups = [Up("alpha", max_output_tokens=100), Up("beta")]
    routes = route("chat-route", "chat", ["alpha"], ["beta"])
    with rig(tmp_path, ups, routes, default_max_tokens=300) as r, served(r.config) as url:
        client = openai.OpenAI(base_url=url + "/v1", api_key="unused", max_retries=0)
        client.chat.completions.create(model="chat", messages=MESSAGES)  # type: ignore[arg-type]
        client.chat.completions.create(model="chat", messages=MESSAGES, max_tokens=50)  # type: ignore[arg-type]
        client.chat.completions.create(model="chat", messages=MESSAGES, max_tokens=5000)  # type: ignore[arg-type]
        client.chat.completions.create(
            model="chat",
            messages=MESSAGES,  # type: ignore[arg-type]
            max_completion_tokens=70,
        )
        with pytest.raises(openai.BadRequestError) as n:
            client.chat.completions.create(model="chat", messages=MESSAGES, n=3)  # type: ignore[arg-type]
    sent = [(b.get("max_tokens"), b.get("max_completion_tokens")) for b in r.fakes["alpha"].bodies]
    assert sent == [(100, None), (50, None), (100, None), (None, 70)]
    assert n.value.code == "n_not_supported"
    assert len(r.fakes["alpha"].bodies) == 4  # the n=3 request never went upstream


def test_the_budget_estimate_assumes_the_capped_limit_not_the_callers_counts(tmp_path: Path) -> None:
    # alpha's model stops at 10 tokens: a request asking for 50,000 is estimated (and reserved) at 10
    budget = Budget("eng-day", 0.0005, "day", "block", team="eng")
    ups = [Up("alpha", price_in=1.0, price_out=40.0, max_output_tokens=10), Up("beta")]
    with (
        rig(tmp_path, ups, route("chat-route", "chat", ["alpha"], []), api_keys=KEYS, budgets=(budget,)) as r,
        served(r.config) as url,
    ):
        capped = _post(url, "sk-eng-0002", {"max_tokens": 50_000})
    assert capped.status_code == 200
    assert r.fakes["alpha"].bodies[0]["max_tokens"] == 10
