"""``maestro lane up --ray ADDRESS``: the lane's replicas as actors on a Ray cluster.

maestro starts one *driver* process in the lane virtualenv (which needs ``ray``: ``maestro lane install
--ray``), as the lane's process group with the usual log and pid file. The driver connects to the cluster,
creates ``replicas`` actors spread over its nodes (``num_cpus`` each), and each actor starts vLLM's server
on a free port of its node (``--host 0.0.0.0``), killed with the actor (``PR_SET_PDEATHSIG``). Since the
replicas listen on every interface, a Ray lane needs ``serve.apiKey``; the key travels in the driver's
environment and the actor's arguments, never on a command line, and each replica's environment is the
node's, cut down to what ``command.kept`` allows. The driver
writes the replicas' URLs to ``run/NAME.replicas.json`` and waits; on SIGTERM (``maestro lane down``) it
stops every replica (SIGTERM, grace, SIGKILL on the node) and exits. The lane virtualenv and the model
folder must exist at the same paths on every node. Route over the replicas with ``affinity.pick``.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Mapping
from pathlib import Path

from maestro.lane import health, process, registry
from maestro.lane.command import KEEP_NAMES, KEEP_PREFIXES, OFFLINE_ENV, SECRET_WORDS, api_key, kept, server_argv
from maestro.lane.config import LaneConfig
from maestro.lane.errors import LaneError, LaneStartError, first_error, log_tail
from maestro.lane.models import resolve
from maestro.lane.paths import LanePaths

REPLICA_GRACE_S = 8.0

# Written to ``run/NAME.ray-driver.py`` and run as ``python FILE JOB_JSON`` in the lane venv.
DRIVER = r"""
import ctypes, json, os, signal, socket, subprocess, sys, threading, time
import ray

job = json.loads(sys.argv[1])
ray.init(address=job["address"], log_to_driver=False)


def kept(name):
    if any(word in name.upper() for word in job["secret_words"]):
        return False
    return name in job["keep_names"] or name.startswith(tuple(job["keep_prefixes"]))


def _die_with_parent():
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    os.setpgrp()


@ray.remote
class Replica:
    def __init__(self, index, key):
        with socket.socket() as s:
            s.bind(("", 0))
            self.port = s.getsockname()[1]
        self.host = ray.util.get_node_ip_address()
        log = open(os.path.join(job["log_dir"], f"{job['name']}.replica-{index}.log"), "ab")
        argv = [*job["argv"], "--host", "0.0.0.0", "--port", str(self.port)]
        env = {k: v for k, v in os.environ.items() if kept(k)}
        env.update(job["env"], VLLM_API_KEY=key)
        self.proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL,
                                     stdout=log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)

    def endpoint(self):
        return f"http://{self.host}:{self.port}"

    def stop(self, grace):
        for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                return "gone"
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    try:
                        os.killpg(self.proc.pid, 0)
                    except ProcessLookupError:
                        return "stopped" if sig == signal.SIGTERM else "killed"
                time.sleep(0.05)
        return "survived"


key = os.environ.pop("VLLM_API_KEY")
replicas = [Replica.options(num_cpus=job["cpus"], scheduling_strategy="SPREAD").remote(i, key)
            for i in range(job["replicas"])]
endpoints = ray.get([r.endpoint.remote() for r in replicas])
tmp = job["endpoints"] + ".tmp"
with open(tmp, "w") as f:
    json.dump(endpoints, f)
os.replace(tmp, job["endpoints"])
print(f"maestro ray driver: {len(endpoints)} replicas: {' '.join(endpoints)}", flush=True)
done = threading.Event()
signal.signal(signal.SIGTERM, lambda *_: done.set())
signal.signal(signal.SIGINT, lambda *_: done.set())
while not done.wait(1.0):
    pass
print("maestro ray driver: stopping", ray.get([r.stop.remote(job["grace"]) for r in replicas],
                                                timeout=job["grace"] + 10), flush=True)
"""


def endpoints_file(paths: LanePaths, name: str) -> Path:
    return paths.run_dir() / f"{name}.replicas.json"


def up_on_ray(
    config: LaneConfig,
    paths: LanePaths,
    conn: sqlite3.Connection,
    address: str,
    *,
    replicas: int = 1,
    cpus: float = 1.0,
    timeout_s: float = 900.0,
    env: Mapping[str, str] | None = None,
    server_python: Path | None = None,
) -> list[str]:
    """Start the driver, wait until every replica answers /health, record them; return their URLs."""
    pid = process.read_pid(paths.pid(config.name))
    if pid is not None and process.group_alive(pid):
        raise LaneError(f"lane '{config.name}' already runs (pid {pid}); `maestro lane down {config.name}` first")
    if not paths.python.exists():
        raise LaneError(f"the lane virtualenv {paths.venv} does not exist; run `maestro lane install --ray` first")
    if config.api_key_env is None:
        raise LaneError(
            f"{config.source}: lane '{config.name}' on Ray listens on every interface of its nodes, so it needs "
            "serve.apiKey: {env: LANE_API_KEY} (and the same apiKey on the provider)"
        )
    key = api_key(config, os.environ if env is None else env) or ""
    spec = {
        "address": address,
        "name": config.name,
        "replicas": replicas,
        "cpus": cpus,
        "argv": _without_host_port(server_argv(config, server_python or paths.python, resolve(config, paths, env))),
        "env": {**OFFLINE_ENV, "PYTHONUNBUFFERED": "1"},
        "keep_names": sorted(KEEP_NAMES),
        "keep_prefixes": list(KEEP_PREFIXES),
        "secret_words": list(SECRET_WORDS),
        "log_dir": str(paths.run_dir()),
        "endpoints": str(endpoints_file(paths, config.name)),
        "grace": REPLICA_GRACE_S,
    }
    endpoints_file(paths, config.name).unlink(missing_ok=True)
    paths.run_dir().mkdir(parents=True, exist_ok=True)
    script = paths.run_dir() / f"{config.name}.ray-driver.py"
    script.write_text(DRIVER, encoding="utf-8")
    driver = [str(paths.python), str(script), json.dumps(spec)]
    base = os.environ if env is None else env
    driver_env = {k: v for k, v in base.items() if kept(k)} | {"VLLM_API_KEY": key}
    run = process.start(driver, driver_env, paths.log(config.name), paths.pid(config.name))
    registry.record_start(conn, config, run.pid, run.log)
    started = time.monotonic()
    urls = _await_endpoints(config, paths, conn, run.pid, deadline=started + timeout_s)
    for url in urls:
        left = max(1.0, timeout_s - (time.monotonic() - started))
        try:
            health.wait_healthy(url, lambda: process.alive(run.pid), left)
        except (health.Exited, health.TimedOut):
            _fail(config, paths, conn, run.pid, f"replica {url} did not become healthy")
    registry.record_replicas(conn, config.name, urls)
    registry.record_status(conn, config.name, "ready")
    return urls


def _without_host_port(argv: list[str]) -> list[str]:
    """``argv`` less its ``--host H --port P`` (each replica listens on its own node and port)."""
    i = argv.index("--host")
    return argv[:i] + argv[i + 4 :]


def _await_endpoints(
    config: LaneConfig, paths: LanePaths, conn: sqlite3.Connection, pid: int, *, deadline: float
) -> list[str]:
    target = endpoints_file(paths, config.name)
    while not target.exists():
        if not process.alive(pid):
            _fail(config, paths, conn, pid, "Ray driver exited before its replicas started")
        if time.monotonic() > deadline:
            _fail(config, paths, conn, pid, "Ray did not place the replicas in time (too few free CPUs?)")
        time.sleep(0.2)
    urls: list[str] = json.loads(target.read_text(encoding="utf-8"))
    return urls


def _fail(config: LaneConfig, paths: LanePaths, conn: sqlite3.Connection, pid: int, what: str) -> None:
    process.stop(pid, grace_s=REPLICA_GRACE_S + 7)
    paths.pid(config.name).unlink(missing_ok=True)
    registry.record_status(conn, config.name, "failed")
    log = paths.log(config.name)
    raise LaneStartError(f"lane '{config.name}' {what}", log, log_tail(log), first_error(log))
