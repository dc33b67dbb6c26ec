"""The Ray driver's failure paths without Ray (the real cluster is in test_real_ray.py)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from helpers.lane import Lane

from maestro.lane import cluster, lifecycle, process, registry
from maestro.lane.errors import LaneError, LaneStartError


def test_replica_argv_has_no_host_or_port() -> None:
    argv = ["py", "-m", "m", "--model", "x", "--served-model-name", "n", "--host", "h", "--port", "1", "--seed", "2"]
    assert cluster._without_host_port(argv) == [
        "py",
        "-m",
        "m",
        "--model",
        "x",
        "--served-model-name",
        "n",
        "--seed",
        "2",
    ]


def test_a_driver_that_exits_is_a_clear_error(lane: Lane) -> None:
    # the fake venv python is no Ray driver: it exits at once
    lane.set(LANE_API_KEY="k")
    config = replace(lane.config, api_key_env="LANE_API_KEY")
    with pytest.raises(LaneStartError, match="Ray driver exited before its replicas started"):
        cluster.up_on_ray(config, lane.paths, lane.conn, "127.0.0.1:1", env=lane.env, timeout_s=30)
    assert registry.read(lane.conn)[0].status == "failed"
    assert not lane.paths.pid(lane.config.name).exists()


def test_a_running_lane_is_not_started_again(lane: Lane) -> None:
    done = lifecycle.up(lane.config, lane.paths, lane.conn, wait=True, timeout_s=30, env=lane.env, gpu=False)
    with pytest.raises(LaneError, match=f"already runs \\(pid {done.pid}\\)"):
        cluster.up_on_ray(lane.config, lane.paths, lane.conn, "auto", env=lane.env)
    assert process.alive(done.pid)


def test_a_ray_lane_needs_a_key(lane: Lane) -> None:
    # replicas listen on every interface of their nodes
    with pytest.raises(LaneError, match=r"needs serve.apiKey"):
        cluster.up_on_ray(lane.config, lane.paths, lane.conn, "auto", env=lane.env)
    assert not lane.paths.pid(lane.config.name).exists()


def test_the_driver_needs_the_venv(lane: Lane) -> None:
    lane.paths.python.unlink()
    with pytest.raises(LaneError, match="install --ray"):
        cluster.up_on_ray(lane.config, lane.paths, lane.conn, "auto", env=lane.env)
