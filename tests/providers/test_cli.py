"""`maestro providers status` and `test` against real fake upstreams; keys are shown set, never shown."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers.cli import run_cli
from helpers.gateway import KEYS, environ, two_up


def test_status_and_test_show_reachability_and_secret_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in environ().items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("BETA_API_KEY")
    with two_up(tmp_path) as rig:
        paths = ["-m", str(rig.repo / "manifests"), "-m", str(rig.repo / "policies")]
        status = run_cli("providers", "status", *paths, "--format", "json")
        text = run_cli("providers", "status", *paths)
        tested = run_cli("providers", "test", "alpha", *paths)
        every = run_cli("providers", "test", *paths, "--format", "json")
        every_text = run_cli("providers", "test", *paths)
        unknown = run_cli("providers", "test", "nope", *paths)
    rows = {r["provider"]: r for r in json.loads(status.output)}
    assert rows["alpha"]["reachable"] and rows["alpha"]["secret_set"] is True and rows["alpha"]["ok"]
    assert rows["beta"]["reachable"] and rows["beta"]["secret_set"] is False and not rows["beta"]["ok"]
    assert status.exit_code == 1  # a key is missing
    assert "$BETA_API_KEY NOT SET" in text.output and "$ALPHA_API_KEY set" in text.output
    assert tested.exit_code == 0, tested.output
    assert "'Hello from the upstream.'" in tested.output and "10+5 tokens" in tested.output
    for result in (status, text, tested):
        assert KEYS["alpha"] not in result.output
    assert unknown.exit_code == 2 and "known: alpha, beta" in unknown.output
    # no NAME: one call to each; beta, whose key is unset, is not called and says why
    both = {r["provider"]: r for r in json.loads(every.output)}
    assert every.exit_code == 1 and set(both) == {"alpha", "beta"}
    assert both["alpha"]["ok"] and both["alpha"]["latency_ms"] > 0 and both["alpha"]["secret_set"] is True
    assert not both["beta"]["ok"] and both["beta"]["secret_set"] is False
    assert both["beta"]["outcome"] == "no-key" and "$BETA_API_KEY is not set" in both["beta"]["detail"]
    assert len(rig.fakes["alpha"].calls) == 3 and rig.fakes["beta"].calls == []  # a call without its key: never
    assert "not called" in every_text.output and "UNREACHABLE" not in every_text.output
    assert rows["alpha"]["latency_ms"] > 0 and rows["beta"]["latency_ms"] > 0  # status: the GET /models
    assert KEYS["alpha"] not in every.output


def test_an_unreachable_provider_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    from helpers.gateway import Up, route, write_repo

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    repo = write_repo(tmp_path, {"alpha": f"http://127.0.0.1:{port}"}, [Up("alpha")], route("r", "chat", ["alpha"], []))
    monkeypatch.setenv("ALPHA_API_KEY", "x" * 10)
    result = run_cli(
        "providers", "status", "-m", str(repo / "manifests"), "-m", str(repo / "policies"), "--format", "json"
    )
    row = json.loads(result.output)[0]
    assert result.exit_code == 1 and row["reachable"] is False and row["outcome"] == "connect-error"
