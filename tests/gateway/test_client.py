"""maestro ask: one request through a gateway (its own or a running one), who served it and why."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers.cli import run_cli
from helpers.gateway import Up, environ, rig, route, served

from maestro.chaos.upstream import Faults


def test_ask_says_who_served_and_why_the_primary_did_not(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    routes = route("chat-route", "chat", ["alpha"], ["beta"])
    with rig(tmp_path, [Up("alpha"), Up("beta")], routes) as r:
        monkeypatch.chdir(r.repo)
        monkeypatch.setenv("BETA_API_KEY", environ()["BETA_API_KEY"])
        monkeypatch.delenv("ALPHA_API_KEY", raising=False)
        result = run_cli("ask", "Hello?", "-m", "manifests", "-m", "policies")
        assert result.exit_code == 0, result.output
        assert result.output.startswith("Hello from the upstream.")
        assert "served by    beta/m1  (route chat-route, 1 attempt," in result.output
        assert "passed over  alpha/m1: its API key is not set: $ALPHA_API_KEY is empty" in result.output
        assert r.fakes["alpha"].calls == [] and len(r.fakes["beta"].calls) == 1
        assert environ()["BETA_API_KEY"] not in result.output


def test_ask_a_running_gateway_in_json_and_a_503_lists_every_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    routes = route("chat-route", "chat", ["alpha"], ["beta"])
    with rig(tmp_path, [Up("alpha"), Up("beta")], routes) as r, served(r.config) as url:
        monkeypatch.chdir(r.repo)
        result = run_cli("ask", "Hi", "--model", "chat-route", "--gateway", url, "-f", "json", "-m", "manifests")
        assert result.exit_code == 0, result.output
        answer = json.loads(result.output)
        assert answer["servedBy"] == "alpha/m1" and answer["passedOver"] == [] and answer["attempts"] == 1
        r.fakes["alpha"].faults = r.fakes["beta"].faults = Faults(error_rate=1.0)
        down = run_cli("ask", "Hi", "--gateway", url, "-m", "manifests")
    assert down.exit_code == 1
    assert "no answer (503)" in down.output and "alpha/m1: server-error" in down.output
    assert "beta/m1: server-error" in down.output


def test_ask_needs_a_known_route_and_a_reachable_gateway(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    routes = route("chat-route", "chat", ["alpha"], []) + route("other", "other", ["alpha"], [])
    with rig(tmp_path, [Up("alpha")], routes) as r:
        monkeypatch.chdir(r.repo)
        unnamed = run_cli("ask", "Hi", "-m", "manifests")
        unknown = run_cli("ask", "Hi", "--model", "nope", "-m", "manifests")
        unreachable = run_cli("ask", "Hi", "--model", "chat", "--gateway", "http://127.0.0.1:9", "-m", "manifests")
    assert unnamed.exit_code == 2 and "name the route to ask with --model ALIAS" in unnamed.output
    assert "chat (chat-route), other (other)" in unnamed.output
    assert unknown.exit_code == 2 and "no route has the alias or name 'nope'" in unknown.output
    assert unreachable.exit_code == 2 and "cannot reach the gateway at http://127.0.0.1:9" in unreachable.output
    assert "Traceback" not in unreachable.output
