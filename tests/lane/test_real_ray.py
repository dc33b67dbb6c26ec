"""Replicas on a real local Ray cluster (the fake server as vLLM): placed, healthy, recorded, stopped.

Installs ``ray`` into the lane virtualenv when it is not there (``maestro lane install --ray``): marked
``lane``; MAESTRO_LANE_TESTS=0 skips it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from helpers.cli import run_cli
from helpers.lane import FAKE, config_of, free_port, stop_processes_mentioning, write_repo

from maestro import state
from maestro.lane import cluster, lifecycle, process, registry
from maestro.lane.paths import LanePaths


@pytest.fixture
def ray_head() -> Iterator[str]:
    ray = LanePaths.default().venv / "bin" / "ray"
    if not ray.exists():  # the lane venv of the real-lane test (or a fresh one) gets Ray added
        result = run_cli("lane", "install", "--ray")
        assert result.exit_code == 0, result.output
    port, temp = free_port(), tempfile.mkdtemp(prefix="ray", dir="/tmp")
    start = [str(ray), "start", "--head", f"--port={port}", "--num-cpus=2", "--include-dashboard=false"]
    subprocess.run(
        [*start, "--disable-usage-stats", f"--temp-dir={temp}"], check=True, capture_output=True, timeout=180
    )
    try:
        yield f"127.0.0.1:{port}"
    finally:
        # only the cluster this test started: its processes all name its temp folder (never `ray stop --force`,
        # which ends every Ray process of the user)
        stop_processes_mentioning(temp)
        shutil.rmtree(temp, ignore_errors=True)


@pytest.mark.lane
def test_replicas_on_ray(ray_head: str, tmp_path: Path) -> None:
    fake = tmp_path / "fake-python"
    fake.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE}" "$@"\n')
    fake.chmod(0o755)
    paths = LanePaths.default()
    keyed = "    servedName: tiny\n    maxNumSeqs: 4\n    apiKey: {env: LANE_API_KEY}"  # replicas bind 0.0.0.0
    config = config_of(write_repo(tmp_path / "repo", serve=keyed, name="ray-lane"))
    conn = registry.connect(state.default_path(tmp_path / "repo"))
    env = {**os.environ, "LANE_API_KEY": "lane-key-1"}
    urls = cluster.up_on_ray(
        config, paths, conn, ray_head, replicas=2, cpus=0.5, timeout_s=180, server_python=fake, env=env
    )
    try:
        assert len(set(urls)) == 2
        assert all(httpx.get(f"{u}/health", timeout=5).status_code == 200 for u in urls)
        (record,) = registry.read(conn)
        assert record.status == "ready" and record.replicas == tuple(f"{u}/v1" for u in urls)
        seen = lifecycle.status(config, paths, conn)
        assert seen.healthy and seen.replicas == tuple(urls)
        assert (seen.signal.circuit, seen.signal.waiting, seen.signal.kv_cache_usage) == ("closed", 0, 0.25)
    finally:
        pid = process.read_pid(paths.pid(config.name))
        assert lifecycle.down(config, paths, conn, grace_s=20) == "stopped"
    assert pid is not None and not process.group_alive(pid)
    for url in urls:
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{url}/health", timeout=2)
    assert "stopping" in paths.log(config.name).read_text()
