"""Bringing a lane up, down, and looking at it: the functions behind ``maestro lane up|down|status|logs``."""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from maestro.lane import health, process, registry
from maestro.lane.command import api_key, server_argv, server_env
from maestro.lane.config import LaneConfig
from maestro.lane.errors import LaneError, LaneStartError, first_error, log_tail
from maestro.lane.install import gpu_present
from maestro.lane.models import resolve
from maestro.lane.paths import LanePaths
from maestro.lane.poller import fetch_signal
from maestro.lane.spill import Signal, combine

EARLY_EXIT_S = 3.0  # without --wait, how long `up` watches for a server that dies at once


@dataclass(frozen=True, slots=True)
class Up:
    name: str
    pid: int
    base: str
    status: str  # "ready", "starting" or "already running"
    seconds: float


@dataclass(frozen=True, slots=True)
class Status:
    name: str
    deployment: str
    base: str
    pid: int | None
    running: bool
    healthy: bool
    signal: Signal
    log: str
    replicas: tuple[str, ...] = ()


def up(
    config: LaneConfig,
    paths: LanePaths,
    conn: sqlite3.Connection,
    *,
    wait: bool = False,
    timeout_s: float = 900.0,
    env: Mapping[str, str] | None = None,
    gpu: bool | None = None,
) -> Up:
    """Start the lane's server (or find it running); with ``wait``, return once /health answers."""
    started = time.monotonic()
    pid = process.read_pid(paths.pid(config.name))
    if pid is not None and process.group_alive(pid):
        with httpx.Client(timeout=2.0) as client:
            if health.healthy(client, config.base):
                return Up(config.name, pid, config.base, "already running", 0.0)
        if not wait:
            return Up(config.name, pid, config.base, "starting", 0.0)
        return _await(config, paths, conn, pid, started=started, timeout_s=timeout_s)
    if not paths.python.exists():
        raise LaneError(f"the lane virtualenv {paths.venv} does not exist; run `maestro lane install` first")
    model = resolve(config, paths, env)
    if not process.port_free(config.host, config.port):
        raise LaneError(
            f"{config.source}: port {config.port} on {config.host} (provider '{config.name}' baseUrl) is in use "
            "by a process maestro did not start; stop it, or change the provider's baseUrl"
        )
    argv = server_argv(config, paths.python, model)
    gpu = gpu_present() if gpu is None else gpu
    base = os.environ if env is None else env
    environ = server_env(base, gpu=gpu, api_key=api_key(config, base))
    run = process.start(argv, environ, paths.log(config.name), paths.pid(config.name))
    registry.record_start(conn, config, run.pid, run.log)
    if wait:
        return _await(config, paths, conn, run.pid, started=started, timeout_s=timeout_s)
    deadline = time.monotonic() + EARLY_EXIT_S
    while time.monotonic() < deadline:
        if not process.alive(run.pid):
            _fail(config, paths, conn, run.pid, "exited during start-up")
        time.sleep(0.1)
    return Up(config.name, run.pid, config.base, "starting", time.monotonic() - started)


def _await(
    config: LaneConfig, paths: LanePaths, conn: sqlite3.Connection, pid: int, *, started: float, timeout_s: float
) -> Up:
    try:
        health.wait_healthy(config.base, lambda: process.alive(pid), timeout_s)
    except health.Exited:
        _fail(config, paths, conn, pid, "exited during start-up")
    except health.TimedOut:
        _fail(config, paths, conn, pid, f"did not answer /health within {timeout_s:.0f} s; stopped it")
    registry.record_status(conn, config.name, "ready")
    return Up(config.name, pid, config.base, "ready", time.monotonic() - started)


def _fail(config: LaneConfig, paths: LanePaths, conn: sqlite3.Connection, pid: int, what: str) -> None:
    process.stop(pid, grace_s=5.0)  # the server may be gone while its workers are not
    paths.pid(config.name).unlink(missing_ok=True)
    registry.record_status(conn, config.name, "failed")
    log = paths.log(config.name)
    raise LaneStartError(f"lane '{config.name}' {what}", log, log_tail(log), first_error(log))


def down(config: LaneConfig, paths: LanePaths, conn: sqlite3.Connection, *, grace_s: float = 15.0) -> str:
    """Stop the lane's whole process group; "stopped", "killed" (after the grace period) or "not running"."""
    pid_file = paths.pid(config.name)
    pid = process.read_pid(pid_file)
    outcome = "not running" if pid is None else process.stop(pid, grace_s=grace_s)
    pid_file.unlink(missing_ok=True)
    if conn.execute("SELECT 1 FROM lane_deployments WHERE name=?", (config.name,)).fetchone():
        registry.record_status(conn, config.name, "stopped")
    return "not running" if outcome == "gone" else outcome


def status(config: LaneConfig, paths: LanePaths, conn: sqlite3.Connection) -> Status:
    """Probe the lane now (pid, /health, /metrics of it or each Ray replica) and store the spill signal."""
    pid = process.read_pid(paths.pid(config.name))
    running = pid is not None and process.group_alive(pid)
    record = next((r for r in registry.read(conn) if r.name == config.name), None)
    bases = [r.removesuffix("/v1") for r in record.replicas] if record and record.replicas else [config.base]
    with httpx.Client(timeout=httpx.Timeout(3.0, connect=0.5)) as client:
        up = [b for b in bases if running and health.healthy(client, b)]
        signal = combine([fetch_signal(client, b, config.saturation, config.served_name) for b in up])
    if record is not None:
        registry.record_signal(conn, config.name, signal)
        if up:
            registry.record_status(conn, config.name, "ready")
    return Status(
        config.name,
        config.deployment,
        bases[0],
        pid,
        running,
        bool(up),
        signal,
        str(paths.log(config.name)),
        tuple(bases),
    )


def logs(config: LaneConfig, paths: LanePaths, lines: int = 50) -> list[str]:
    log = paths.log(config.name)
    if not log.exists():
        raise LaneError(f"lane '{config.name}' has no log yet ({log}); start it with `maestro lane up {config.name}`")
    return log_tail(log, lines)
