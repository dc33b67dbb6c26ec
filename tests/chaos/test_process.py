"""A fake upstream in a process of its own: served, its faults changed over HTTP, its calls logged on the
machine's one monotonic clock, and the process gone when the block ends."""

from __future__ import annotations

import asyncio
import os
import time

import httpx
import pytest

from maestro.chaos.process import UpstreamProcess, set_faults
from maestro.chaos.upstream import Faults

BODY = {"model": "m1", "messages": [{"role": "user", "content": "hi"}]}


async def _heal(url: str) -> None:
    async with httpx.AsyncClient() as client:
        await set_faults(client, url, Faults())


def test_an_upstream_process_takes_new_faults_and_logs_its_calls() -> None:
    before = time.monotonic()
    with UpstreamProcess("solo", Faults(error_rate=1.0, error_status=503)) as up:
        pid = up.pid
        assert pid is not None and pid != os.getpid()
        first = httpx.post(up.url + "/v1/chat/completions", json=BODY, timeout=30)
        asyncio.run(_heal(up.url))
        second = httpx.post(up.url + "/v1/chat/completions", json=BODY, timeout=30)
        bad = httpx.put(up.url + "/_chaos/faults", json={"error_rat": 1}, timeout=30)
        calls = up.calls()
    after = time.monotonic()
    assert (first.status_code, second.status_code) == (503, 200)
    assert second.json()["choices"][0]["message"]["content"] == "Hello from the upstream."
    assert bad.status_code == 400 and "error_rat" in bad.json()["error"]["message"]
    assert [outcome for _, outcome in calls] == ["error", "ok"]
    assert all(before <= t <= after for t, _ in calls)  # the child's clock is the drill's
    with pytest.raises(ProcessLookupError):  # killed and reaped
        os.kill(pid, 0)


def test_an_upstream_that_cannot_start_says_why() -> None:
    up = UpstreamProcess("broken")
    up.seed = "not a number"  # type: ignore[assignment]
    with pytest.raises(RuntimeError, match="the fake upstream 'broken' did not start: ValueError"):
        up.__enter__()
    assert up.pid is None
