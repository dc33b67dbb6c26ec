"""Rollout specs for the delivery tests, and a clock the tests move by hand."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from maestro.delivery.spec import Metric, RolloutSpec, Step

STABLE, CANARY = "alpha/m1", "beta/m1"


def spec(*steps: Step, name: str = "r1", route: str = "chat-route", automatic: bool = True) -> RolloutSpec:
    return RolloutSpec(
        name=name,
        digest="sha256:" + "0" * 64,
        route=route,
        stable=STABLE,
        canary=CANARY,
        steps=steps
        or (Step("setWeight", weight=10), Step("analysis", analysis="health"), Step("setWeight", weight=50)),
        analyses={"health": (Metric("error_rate", "gateway"),)},
        weights={STABLE: 100.0, CANARY: 0.0},
        automatic_rollback=automatic,
    )


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now


@contextmanager
def gateway_process(repo: Path, state: Path, env: dict[str, str]) -> Iterator[str]:
    """``maestro gateway`` as its own process on ``repo``'s manifests and the store ``state``; yields its URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    command = [sys.executable, "-m", "maestro.cli.main", "gateway", "-m", str(repo / "manifests"), "-m"]
    command += [str(repo / "policies"), "--port", str(port), "--state", str(state), "--log-level", "warning"]
    process = subprocess.Popen([*command, "--no-ledger"], env={**os.environ, **env}, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(url + "/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                if process.poll() is not None:
                    raise
                time.sleep(0.1)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err.decode()


@dataclass
class Hook:
    """A webhook receiver on 127.0.0.1 that answers 503 to its first ``fail`` requests."""

    fail: int
    seen: list[dict[str, Any]] = field(default_factory=list)
    calls: int = 0

    def app(self) -> Starlette:
        async def receive(request: Request) -> JSONResponse:
            self.calls += 1
            if self.calls <= self.fail:
                return JSONResponse({"error": "busy"}, status_code=503)
            self.seen.append(await request.json())
            return JSONResponse({"ok": True})

        return Starlette(routes=[Route("/hook", receive, methods=["POST"])])
