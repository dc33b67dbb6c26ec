"""`maestro gateway` as a real process, and `maestro chaos drill` through the CLI."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import openai
import pytest
from helpers.cli import run_cli
from helpers.gateway import Rig, Up, environ, rig, route, two_up
from typer.testing import CliRunner

import maestro.cli.main  # noqa: F401  (registers the commands on the app)
from maestro.cli.app import app
from maestro.cli.gateway import is_loopback

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def gateway_process(
    rig: Rig, state: Path | str, stop: signal.Signals = signal.SIGTERM, stderr: list[str] | None = None
) -> Iterator[str]:
    """``maestro gateway`` as its own process in front of ``rig``'s upstreams; yields its URL (and appends what
    it wrote to stderr to ``stderr``, once it has stopped)."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "maestro.cli.main",
        "gateway",
        "-m",
        str(rig.repo / "manifests"),
        "-m",
        str(rig.repo / "policies"),
        "--port",
        str(port),
        "--state",
        str(state),
        "--log-level",
        "warning",
    ]
    env = {**os.environ, **environ()}
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(url + "/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.1)
        yield url
    finally:
        process.send_signal(stop)
        _out, err = process.communicate(timeout=20)
        if stderr is not None:
            stderr.append(err.decode())
    assert process.returncode == 0, err.decode()


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_gateway_command_serves_until_stopped(tmp_path: Path, stop: signal.Signals) -> None:
    stderr: list[str] = []
    with two_up(tmp_path) as rig, gateway_process(rig, tmp_path / "state.db", stop, stderr) as url:
        with openai.OpenAI(base_url=url + "/v1", api_key="k", max_retries=0) as client:
            raw = client.chat.completions.with_raw_response.create(
                model="chat", messages=[{"role": "user", "content": "hi"}]
            )
        assert raw.headers["x-maestro-served-by"] == "alpha/m1"
        assert raw.parse().choices[0].message.content == "Hello from the upstream."
    assert (tmp_path / "state.db").exists()
    assert "gateway: OPEN, no gateway keys ($MAESTRO_GATEWAY_KEYS is unset)" in stderr[0]


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.1.2.3", "gateway.example.com"])
def test_an_open_gateway_refuses_a_non_loopback_host(host: str) -> None:
    result = CliRunner().invoke(app, ["gateway", "--host", host], env={"MAESTRO_GATEWAY_KEYS": ""})
    assert result.exit_code == 2
    assert f"--host {host} would serve the gateway beyond this machine with no gateway keys" in result.output
    assert "--allow-open" in result.output


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        *[("127.0.0.1", True), ("127.8.0.1", True), ("::1", True), ("[::1]", True), ("localhost", True)],
        *[("0.0.0.0", False), ("192.168.1.4", False), ("example.com", False)],
    ],
)
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_two_gateway_processes_share_the_kill_switch_through_the_state_store(tmp_path: Path, state_url: str) -> None:
    body = {"model": "chat", "messages": [{"role": "user", "content": "hi"}]}
    admin = {"authorization": "Bearer admin-token"}
    with two_up(tmp_path) as rig, gateway_process(rig, state_url) as one, gateway_process(rig, state_url) as two:
        before = httpx.post(two + "/v1/chat/completions", json=body, timeout=10)
        engaged = httpx.post(one + "/admin/kill-switch", json={"engaged": True}, headers=admin, timeout=10)
        killed = httpx.post(two + "/v1/chat/completions", json=body, timeout=10)
        httpx.post(one + "/admin/kill-switch", json={"engaged": False}, headers=admin, timeout=10)
        released = httpx.post(two + "/v1/chat/completions", json=body, timeout=10)
    assert engaged.status_code == 200
    assert before.status_code == 200 and released.status_code == 200
    assert killed.status_code == 503 and killed.json()["error"]["code"] == "kill_switch"
    if not state_url.startswith("postgresql:"):
        import sqlite3

        with sqlite3.connect(state_url) as db:
            assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_live_weight_change_reaches_every_gateway_process_without_a_reload(tmp_path: Path, state_url: str) -> None:
    body = {"model": "chat", "messages": [{"role": "user", "content": "hi"}]}
    admin = {"authorization": "Bearer admin-token"}
    both = route("chat-route", "chat", ["alpha", "beta"], [])

    def served_by(url: str) -> set[str]:
        return {
            httpx.post(url + "/v1/chat/completions", json={**body, "user": str(i)}, timeout=10).headers[
                "x-maestro-served-by"
            ]
            for i in range(10)
        }

    def weights(url: str, change: dict[str, object]) -> httpx.Response:
        return httpx.post(url + "/admin/weights", json={"route": "chat-route", **change}, headers=admin, timeout=10)

    with (
        rig(tmp_path, [Up("alpha"), Up("beta")], both) as r,
        gateway_process(r, state_url) as one,
        gateway_process(r, state_url) as two,
    ):
        assert weights(one, {"weights": {"alpha/m1": 0}}).status_code == 200
        only_beta = served_by(two)  # the very next requests of the other process, no sleep, no reload
        assert weights(two, {"weights": {"alpha/m1": 100, "beta/m1": 0}}).status_code == 200
        only_alpha = served_by(one)
        httpx.post(one + "/admin/freeze", json={"engaged": True}, headers=admin, timeout=10)
        more = weights(two, {"weights": {"beta/m1": 50}})
        less = weights(two, {"weights": {"alpha/m1": 20}})
        listed = httpx.get(one + "/admin/weights", headers=admin, timeout=10).json()
    assert only_beta == {"beta/m1"} and only_alpha == {"alpha/m1"}
    assert more.status_code == 409 and more.json()["error"]["code"] == "frozen"
    assert less.status_code == 200
    assert listed == {"chat-route": {"alpha/m1": 20.0, "beta/m1": 0.0}}


SCENARIO = {
    "name": "tiny-brownout",
    "upstreams": {"primary": {"faults": {"error_rate": 0.3}}, "fallback": {}},
    "route": {"candidates": ["primary"], "fallback": ["fallback"], "firstTokenTimeout": "1s", "retries": 1},
    "breaker": {"failures": 3, "cooldown_s": 1},
    "load": {"requests": 80, "rate_per_s": 100, "concurrency": 8, "stream_share": 0.5},
    "targets": {"success_rate": 0.999, "policy_violations": 0},
}


def test_chaos_drill_reports_json_and_meets_its_targets(tmp_path: Path) -> None:
    path = tmp_path / "tiny.chaos.json"
    path.write_text(json.dumps(SCENARIO), encoding="utf-8")
    result = run_cli("chaos", "drill", "--scenario", str(path), "--json")
    report = json.loads(result.output)
    assert result.exit_code == 0, result.output
    assert report["requests"] == 80 and report["success_rate"] == 1.0
    for key in ("success_rate", "policy_violations", "p99_added_ms", "max_attempts_to_down_provider_per_cooldown"):
        assert key in report
    assert report["policy_violations"] == 0 and report["silent_truncations"] == 0
    assert report["attempts_per_request"] > 1.0  # the primary failed some and was fallen back from


def test_chaos_drill_exits_1_when_a_target_is_missed(tmp_path: Path) -> None:
    path = tmp_path / "cut.chaos.json"
    scenario = {
        **SCENARIO,
        "upstreams": {"primary": {"faults": {"cut_rate": 1.0}}},
        "route": {"candidates": ["primary"], "retries": 0},
        "load": {"requests": 20, "rate_per_s": 100, "stream_share": 1.0},
        "targets": {"success_rate": 0.5, "silent_truncations": 0},
    }
    path.write_text(json.dumps(scenario), encoding="utf-8")
    result = run_cli("chaos", "drill", "--scenario", str(path))
    assert result.exit_code == 1
    assert "MISSED success_rate 0" in result.output
    # the met target is in the table (in words, with its bound) and not among the missed ones
    assert re.search(r"streams cut without an error +0 +<= 0", result.output), result.output
    missed = next(line for line in result.output.splitlines() if line.startswith("targets:"))
    assert "silent_truncations" not in missed


def test_a_scenario_with_a_typo_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.chaos.json"
    path.write_text(json.dumps({**SCENARIO, "laod": {}}), encoding="utf-8")
    result = run_cli("chaos", "drill", "--scenario", str(path))
    assert result.exit_code == 2
    assert "unknown key(s) laod" in result.output


def test_named_scenarios_ship_and_parse() -> None:
    from maestro.chaos import scenario

    names = sorted(p.name for p in (ROOT / "manifests" / "chaos").glob("*.chaos.json"))
    assert "brownout.chaos.json" in names and "primary-down.chaos.json" in names
    for name in names:
        parsed = scenario.load(ROOT / "manifests" / "chaos" / name)
        assert parsed.targets, name
    brownout = scenario.load(scenario.find("brownout", [ROOT / "manifests" / "chaos"]))
    assert brownout.upstreams[0].faults.error_rate == 0.3 and brownout.targets["success_rate"] == 0.999


def test_validate_stays_clean_with_the_chaos_scenarios(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = run_cli("validate", "--no-ledger")
    assert result.exit_code == 0, result.output
