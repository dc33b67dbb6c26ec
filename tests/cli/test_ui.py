"""`maestro ui`: refused without login keys; served for real as a process, with a person's login working."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from helpers.cli import run_cli
from helpers.ui import KEYS_JSON, TOKENS, make


def test_without_keys_it_says_how_to_set_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MAESTRO_UI_KEYS", raising=False)
    result = run_cli("ui")
    assert result.exit_code == 2
    assert "$MAESTRO_UI_KEYS holds no login keys" in result.output and '"role": "operator"' in result.output


def test_a_key_without_a_role_is_refused_where_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UI_KEYS", '[{"id": "a", "token": "t"}]')
    result = run_cli("ui", "--keys-env", "UI_KEYS")
    assert result.exit_code == 2 and "$UI_KEYS[0] ('a') needs a 'role'" in result.output


def test_maestro_ui_serves_the_repository_and_a_person_logs_in(tmp_path: Path) -> None:
    repo = make(tmp_path)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "MAESTRO_UI_KEYS": KEYS_JSON, "XDG_CONFIG_HOME": str(tmp_path / "no-config")}
    env.pop("MAESTRO_LEDGER_KEY", None)
    command = [sys.executable, "-m", "maestro.cli.main", "ui", "--port", str(port), "--log-level", "warning"]
    process = subprocess.Popen(command, cwd=repo.root, env=env, stderr=subprocess.PIPE, text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=url, timeout=10) as client:
            _wait(client, process)
            page = client.get("/providers.json", headers={"authorization": f"Bearer {TOKENS['operator']}"})
            assert page.status_code == 200 and page.json()["providers"]
            refused = client.post(
                "/actions/kill", data={"engaged": "true"}, headers={"authorization": f"Bearer {TOKENS['operator']}"}
            )
            assert refused.status_code == 503  # no signing key here: nothing is done unrecorded
    finally:
        process.terminate()
        _, err = process.communicate(timeout=20)
    assert "actions are refused" in err


def _wait(client: httpx.Client, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[1]
        try:
            client.get("/login")
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("maestro ui did not start within 60 s")
