"""The attack from issue 13, over HTTP against a served gateway: credentials in a prompt never reach an EU or
public upstream (each fake upstream records every body it receives)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from helpers.gateway import Up, rig, route, served

from maestro.policy.detect import Limits

AWS = "AKIAIOSFODNN7EXAMPLE"
GITHUB = "ghp_x7Kq2mP9vL4nR8tY1wE5zU3oI6aS0dF2gH4j"
SLACK = "xoxb-1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
PROMPT = (
    f"Our deploy broke. Env: AWS_ACCESS_KEY_ID={AWS}, GITHUB_TOKEN={GITHUB}, SLACK_BOT_TOKEN={SLACK}. "
    "Contact jane.doe@example.com, SSN 536-90-4399, card 4111 1111 1111 1111. What is wrong?"
)
UPS = [Up("alpha", "us"), Up("beta", "eu"), Up("gamma", "onprem", price_in=50, price_out=50)]  # gamma: last resort


def _post(url: str, content: str) -> httpx.Response:
    body = {"model": "chat", "messages": [{"role": "user", "content": content}]}
    return httpx.post(f"{url}/v1/chat/completions", json=body, timeout=30)


def _received(bodies: list[dict[str, object]]) -> str:
    return json.dumps(bodies)


def test_credentials_never_reach_a_public_or_eu_upstream_and_go_on_prem(tmp_path: Path) -> None:
    routes = route("chat-route", "chat", ["alpha", "beta", "gamma"], [])
    with rig(tmp_path, UPS, routes) as r, served(r.config) as url:
        response = _post(url, PROMPT)
        assert response.status_code == 200, response.text
        assert response.headers["x-maestro-served-by"].startswith("gamma/")
        assert r.fakes["alpha"].bodies == [] and r.fakes["beta"].bodies == []
        assert AWS in _received(r.fakes["gamma"].bodies)


def test_credentials_are_refused_where_no_upstream_may_take_them(tmp_path: Path) -> None:
    routes = route("chat-route", "chat", ["alpha", "beta"], [])
    with rig(tmp_path, UPS, routes) as r, served(r.config) as url:
        for secret in (AWS, GITHUB, SLACK):
            response = _post(url, f"please keep {secret} safe")
            assert response.status_code == 403, response.text
            assert response.json()["error"]["code"] == "policy_denied"
            assert secret not in response.text
        assert r.fakes["alpha"].bodies == [] and r.fakes["beta"].bodies == []
        clean = _post(url, "Contact jane.doe@example.com about the invoice")  # personal data may go to the EU
        assert clean.status_code == 200, clean.text
        assert clean.headers["x-maestro-served-by"].startswith("beta/")
        assert r.fakes["alpha"].bodies == []


def test_a_large_body_is_scanned_and_one_past_the_scan_limit_goes_on_prem_only(tmp_path: Path) -> None:
    routes = route("chat-route", "chat", ["alpha", "beta", "gamma"], [])
    with rig(tmp_path, UPS, routes) as r, served(r.config) as url:
        prose = "nothing sensitive at all. " * (Limits().characters // 26 - 100)
        assert _post(url, prose + "mail jane@example.com").headers["x-maestro-served-by"].startswith("beta/")
        past = prose + "nothing sensitive at all. " * 101  # past the limit, fails closed: every tag
        assert _post(url, past).headers["x-maestro-served-by"].startswith("gamma/")
        many = "a@b.cc 8.8.8.8 " * (Limits().checks + 1)  # more candidates than one scan checks
        assert _post(url, many).headers["x-maestro-served-by"].startswith("gamma/")
        assert r.fakes["alpha"].bodies == []
