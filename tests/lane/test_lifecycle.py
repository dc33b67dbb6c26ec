"""Starting and stopping the fake server through the real process code: health, registry, no orphans."""

from __future__ import annotations

import json
import os
import socket
from dataclasses import replace
from pathlib import Path

import pytest
from helpers.lane import Lane

from maestro.lane import lifecycle, process, registry
from maestro.lane.errors import LaneError, LaneStartError


def gone(pid: int) -> bool:
    return not process.alive(pid)


def test_up_waits_for_health_and_records_the_lane(lane: Lane, tmp_path: Path) -> None:
    lane.set(VLLM_FAKE_ARGV=str(tmp_path / "argv.json"))
    done = lifecycle.up(lane.config, lane.paths, lane.conn, wait=True, timeout_s=30, env=lane.env, gpu=False)
    assert done.status == "ready"
    argv = json.loads((tmp_path / "argv.json").read_text())
    assert argv[:2] == ["-m", "vllm.entrypoints.openai.api_server"]
    assert argv[argv.index("--model") + 1] == str(lane.paths.models / "smollm2-135m-instruct")
    assert argv[argv.index("--max-num-seqs") + 1] == "4"
    (record,) = registry.read(lane.conn)
    assert (record.status, record.circuit, record.pid) == ("ready", "closed", done.pid)
    assert record.base_url == f"{lane.config.base}/v1"
    again = lifecycle.up(lane.config, lane.paths, lane.conn, wait=True, env=lane.env, gpu=False)
    assert (again.status, again.pid) == ("already running", done.pid)


def test_status_reads_metrics_and_down_stops_everything(lane: Lane, tmp_path: Path) -> None:
    lane.set(VLLM_FAKE_CHILD="1", VLLM_FAKE_CHILD_PID=str(tmp_path / "child"))
    done = lifecycle.up(lane.config, lane.paths, lane.conn, wait=True, timeout_s=30, env=lane.env, gpu=False)
    child = int((tmp_path / "child").read_text())
    assert process.alive(child)
    seen = lifecycle.status(lane.config, lane.paths, lane.conn)
    assert seen.healthy and seen.signal.kv_cache_usage == 0.25 and seen.signal.circuit == "closed"
    assert registry.deployment_fields(lane.conn) == {"lane-a/tiny": {"circuit": "closed", "saturated": False}}
    # the child ignores SIGTERM: the group gets SIGKILL after the grace period, the child included
    assert lifecycle.down(lane.config, lane.paths, lane.conn, grace_s=1.0) == "killed"
    assert gone(done.pid) and gone(child)
    assert not lane.paths.pid(lane.config.name).exists()
    assert registry.read(lane.conn)[0].status == "stopped"
    after = lifecycle.status(lane.config, lane.paths, lane.conn)
    assert not after.running and after.signal.circuit == "open"
    assert lifecycle.down(lane.config, lane.paths, lane.conn) == "not running"


def test_a_clean_server_stops_on_sigterm(lane: Lane) -> None:
    done = lifecycle.up(lane.config, lane.paths, lane.conn, wait=True, timeout_s=30, env=lane.env, gpu=False)
    # "stopped", not "killed": the server ended on SIGTERM within the grace period, no SIGKILL was needed
    assert lifecycle.down(lane.config, lane.paths, lane.conn, grace_s=10.0) == "stopped"
    assert gone(done.pid)


def test_ignored_sigterm_is_followed_by_sigkill(lane: Lane) -> None:
    lane.set(VLLM_FAKE_MODE="ignore-term")
    done = lifecycle.up(lane.config, lane.paths, lane.conn, wait=True, timeout_s=30, env=lane.env, gpu=False)
    assert lifecycle.down(lane.config, lane.paths, lane.conn, grace_s=0.5) == "killed"
    assert gone(done.pid)


def test_a_lane_that_exits_during_start_up_shows_its_log(lane: Lane) -> None:
    lane.set(VLLM_FAKE_MODE="exit")
    with pytest.raises(LaneStartError) as e:
        lifecycle.up(lane.config, lane.paths, lane.conn, wait=True, timeout_s=30, env=lane.env, gpu=False)
    assert "exited during start-up" in str(e.value)
    assert "unrecognized arguments: --bogus" in str(e.value)
    assert e.value.cause == "ValueError: unrecognized arguments: --bogus"
    assert not lane.paths.pid(lane.config.name).exists()
    assert registry.read(lane.conn)[0].status == "failed"


def test_an_early_exit_is_caught_without_wait(lane: Lane) -> None:
    lane.set(VLLM_FAKE_MODE="exit")
    with pytest.raises(LaneStartError, match="engine failed to start"):
        lifecycle.up(lane.config, lane.paths, lane.conn, wait=False, env=lane.env, gpu=False)


def test_a_lane_that_never_gets_healthy_is_stopped(lane: Lane, tmp_path: Path) -> None:
    lane.set(VLLM_FAKE_DELAY="60", VLLM_FAKE_CHILD="1", VLLM_FAKE_CHILD_PID=str(tmp_path / "child"))
    with pytest.raises(LaneStartError, match="did not answer /health within 1 s"):
        lifecycle.up(lane.config, lane.paths, lane.conn, wait=True, timeout_s=1, env=lane.env, gpu=False)
    assert gone(int((tmp_path / "child").read_text()))


def test_port_in_use_is_refused_before_starting(lane: Lane) -> None:
    with socket.socket() as s:
        s.bind((lane.config.host, lane.config.port))
        s.listen()
        with pytest.raises(LaneError, match=f"port {lane.config.port} on 127.0.0.1 .* is in use"):
            lifecycle.up(lane.config, lane.paths, lane.conn, wait=True, env=lane.env, gpu=False)
    assert not lane.paths.pid(lane.config.name).exists()


def test_not_installed(lane: Lane) -> None:
    lane.paths.python.unlink()
    with pytest.raises(LaneError, match="run `maestro lane install` first"):
        lifecycle.up(lane.config, lane.paths, lane.conn, env=lane.env, gpu=False)


def test_logs(lane: Lane) -> None:
    with pytest.raises(LaneError, match="has no log yet"):
        lifecycle.logs(lane.config, lane.paths)
    lifecycle.up(lane.config, lane.paths, lane.conn, wait=True, timeout_s=30, env=lane.env, gpu=False)
    assert any("fake vllm: listening" in line for line in lifecycle.logs(lane.config, lane.paths))


def test_server_env_is_offline(lane: Lane, tmp_path: Path) -> None:
    from maestro.lane.command import server_env

    env = server_env({"VIRTUAL_ENV": "/x", "PATH": os.environ["PATH"]}, gpu=False)
    assert env["HF_HUB_OFFLINE"] == "1" and "VIRTUAL_ENV" not in env and env["VLLM_TARGET_DEVICE"] == "cpu"


SECRETS = {
    "OPENAI_API_KEY": "sk-openai",
    "MAESTRO_ADMIN_TOKEN": "admin",
    "MAESTRO_GATEWAY_KEYS": "/keys.json",
    "GITHUB_TOKEN": "ghs_x",
    "HF_TOKEN": "hf_x",
    "VLLM_API_KEY": "not-the-lane-key",
    "PYTHONPATH": "/evil",
    "LD_PRELOAD": "/evil.so",
}


def test_the_server_starts_with_a_minimal_environment(lane: Lane, tmp_path: Path) -> None:
    lane.set(**SECRETS, VLLM_FAKE_ENV=str(tmp_path / "env.json"), HF_HOME="/hf", LC_ALL="C.UTF-8", OMP_NUM_THREADS="2")
    lifecycle.up(lane.config, lane.paths, lane.conn, wait=True, timeout_s=30, env=lane.env, gpu=False)
    env = json.loads((tmp_path / "env.json").read_text())
    assert not set(SECRETS) & set(env), "a secret reached the lane's server"
    assert (env["HF_HOME"], env["LC_ALL"], env["OMP_NUM_THREADS"]) == ("/hf", "C.UTF-8", "2")
    assert env["PATH"] == os.environ["PATH"]
    assert env["HF_HUB_OFFLINE"] == "1"


def test_the_lane_key_reaches_the_server_in_its_environment_only(lane: Lane, tmp_path: Path) -> None:
    config = replace(lane.config, api_key_env="LANE_API_KEY")
    lane.set(LANE_API_KEY="lane-secret-1", VLLM_FAKE_ENV=str(tmp_path / "env.json"))
    lane.set(VLLM_FAKE_ARGV=str(tmp_path / "argv.json"))
    lifecycle.up(config, lane.paths, lane.conn, wait=True, timeout_s=30, env=lane.env, gpu=False)
    env = json.loads((tmp_path / "env.json").read_text())
    assert env["VLLM_API_KEY"] == "lane-secret-1" and "LANE_API_KEY" not in env
    assert "lane-secret-1" not in (tmp_path / "argv.json").read_text()


def test_a_lane_key_that_is_not_set_is_a_clear_error(lane: Lane) -> None:
    config = replace(lane.config, api_key_env="LANE_API_KEY")
    lane.env.pop("LANE_API_KEY", None)
    with pytest.raises(LaneError, match=r"serve.apiKey names \$LANE_API_KEY, which is empty"):
        lifecycle.up(config, lane.paths, lane.conn, env=lane.env, gpu=False)


def test_first_error_is_from_the_latest_start(tmp_path: Path) -> None:
    from maestro.lane.errors import first_error

    log = tmp_path / "x.log"
    log.write_text(
        "--- maestro: starting a\nOSError: old\n--- maestro: starting b\n(Worker) ERROR ValueError: Available memory "
        "is less than desired\nTraceback\nRuntimeError: Engine core initialization failed. See root cause above.\n"
    )
    assert first_error(log) == "ValueError: Available memory is less than desired"
    assert first_error(tmp_path / "none.log") is None
