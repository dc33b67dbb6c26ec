"""Waiting for a lane's ``/health`` while watching that its process still runs."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx


class Exited(Exception):
    """The process stopped before it became healthy."""


class TimedOut(Exception):
    """The server did not answer /health with 200 before the deadline."""


def healthy(client: httpx.Client, base: str) -> bool:
    """Whether ``base/health`` answers 200 now."""
    try:
        return client.get(f"{base}/health").status_code == 200
    except httpx.HTTPError:
        return False


def wait_healthy(
    base: str,
    running: Callable[[], bool],
    timeout_s: float,
    *,
    interval_s: float = 0.5,
    client: httpx.Client | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> float:
    """Poll ``base/health`` until it answers 200; return the seconds waited.

    Raises ``Exited`` as soon as ``running()`` is false, and ``TimedOut`` after ``timeout_s``.
    """
    own = client is None
    http = client or httpx.Client(timeout=httpx.Timeout(5.0, connect=1.0))
    started = clock()
    try:
        while True:
            if healthy(http, base):
                return clock() - started
            if not running():
                raise Exited()
            if clock() - started >= timeout_s:
                raise TimedOut()
            time.sleep(interval_s)
    finally:
        if own:
            http.close()
