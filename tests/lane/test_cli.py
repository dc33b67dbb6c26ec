"""maestro lane ... through the real CLI (CliRunner), with the fake server as the lane's python."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from helpers.cli import run_cli
from helpers.lane import Lane, write_repo

from maestro.lane import process


@pytest.fixture
def here(lane: Lane, monkeypatch: pytest.MonkeyPatch) -> Lane:
    monkeypatch.chdir(lane.root)
    return lane


def test_up_status_logs_down(here: Lane) -> None:
    up = run_cli("lane", "up", "--wait", "--timeout", "30")
    assert up.exit_code == 0, up.output
    assert "lane-a: ready in" in up.output and f"{here.config.base}/v1" in up.output
    status = run_cli("lane", "status", "--json")
    assert status.exit_code == 0, status.output
    (row,) = json.loads(status.output)
    assert row["healthy"] and row["signal"]["circuit"] == "closed" and row["signal"]["kv_cache_usage"] == 0.25
    text = run_cli("lane", "status")
    assert "lane-a (lane-a/tiny) healthy" in text.output and "circuit closed, saturated no" in text.output
    assert "fake vllm: listening" in run_cli("lane", "logs", "lane-a").output
    pid = process.read_pid(here.paths.pid("lane-a"))
    down = run_cli("lane", "down", "lane-a")
    assert down.exit_code == 0 and "lane-a: stopped" in down.output
    assert pid is not None and not process.alive(pid)
    assert "down" in run_cli("lane", "status").output


def test_a_lane_that_exits_is_exit_2_with_its_log(here: Lane, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VLLM_FAKE_MODE", "exit")
    result = run_cli("lane", "up", "--wait")
    assert result.exit_code == 2
    assert "lane 'lane-a' exited during start-up" in result.output
    assert "unrecognized arguments: --bogus" in result.output


def test_port_in_use_is_exit_2(here: Lane) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", here.config.port))
        s.listen()
        result = run_cli("lane", "up")
    assert result.exit_code == 2 and "is in use" in result.output


def test_unknown_lane_is_exit_2(here: Lane) -> None:
    result = run_cli("lane", "down", "nope")
    assert result.exit_code == 2 and "no lane named 'nope'" in result.output


def test_an_unknown_engine_argument_is_exit_2(
    tmp_path: Path, fake_home: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(write_repo(tmp_path / "bad", serve='    extraArgs: ["--max-num-seq", "4"]'))
    result = run_cli("lane", "up")
    assert result.exit_code == 2
    assert (
        "'--max-num-seq' is not a vLLM engine argument; did you mean '--max-num-seqs'? set it with serve.maxNumSeqs"
        in result.output
    )


def test_a_missing_model_path_is_exit_2(tmp_path: Path, fake_home: object, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(write_repo(tmp_path / "bad", serve=f"    model: {tmp_path / 'no-such-model'}"))
    result = run_cli("lane", "up")
    assert result.exit_code == 2 and "no-such-model' does not exist" in result.output


def test_bench_levels_are_checked(here: Lane) -> None:
    result = run_cli("lane", "bench", "--levels", "1,x")
    assert result.exit_code == 2 and "is not a list of integers" in result.output


def test_bench_json_without_baseline(here: Lane) -> None:
    assert run_cli("lane", "up", "--wait", "--timeout", "30").exit_code == 0
    result = run_cli("lane", "bench", "--json", "--no-baseline", "--levels", "1,2", "--max-tokens", "4")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [lv["concurrency"] for lv in data["levels"]] == [1, 2] and data["ratios"] == {}


def test_up_wait_off_a_terminal_prints_a_heartbeat_while_it_waits(here: Lane, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VLLM_FAKE_DELAY", "1.5")
    monkeypatch.setenv("MAESTRO_HEARTBEAT_S", "0.1")
    try:
        result = run_cli("lane", "up", "--wait", "--timeout", "30")
    finally:
        run_cli("lane", "down")
    assert result.exit_code == 0, result.output
    waiting = f"lane up: lane-a: waiting for {here.config.base}/health (at most 30 s)"
    lines = result.stderr.splitlines()
    assert lines[0] == waiting
    assert any(line.startswith(f"{waiting}: still running (") for line in lines[1:]), lines


def test_a_bad_heartbeat_interval_is_a_usage_error(here: Lane, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAESTRO_HEARTBEAT_S", "often")
    result = run_cli("lane", "up", "--wait")
    assert result.exit_code == 2
    assert "$MAESTRO_HEARTBEAT_S is 'often'" in result.output


def test_up_status_and_down_print_json_with_dash_o_json(here: Lane) -> None:
    try:
        up = run_cli("lane", "up", "--wait", "--timeout", "30", "-o", "json")
        assert up.exit_code == 0, up.output
        (started,) = json.loads(up.stdout)
        assert started["name"] == "lane-a" and started["status"] == "ready"
        assert started["url"] == f"{here.config.base}/v1"
        logs = json.loads(run_cli("lane", "logs", "lane-a", "--json").stdout)
        assert logs["name"] == "lane-a" and any("fake vllm: listening" in line for line in logs["lines"])
    finally:
        down = run_cli("lane", "down", "--json")
    assert json.loads(down.stdout) == [{"name": "lane-a", "result": "stopped"}]
