"""Waiting for /health against a tiny real HTTP server on 127.0.0.1."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from maestro.lane.health import Exited, TimedOut, wait_healthy


class Flaky(BaseHTTPRequestHandler):
    """503 for the first ``fails`` requests, then 200."""

    fails = 3
    seen = 0

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        type(self).seen += 1
        self.send_response(200 if type(self).seen > type(self).fails else 503)
        self.send_header("content-length", "0")
        self.end_headers()


@pytest.fixture
def server() -> Iterator[str]:
    Flaky.seen = 0
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Flaky)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_waits_until_healthy(server: str) -> None:
    assert wait_healthy(server, lambda: True, timeout_s=10, interval_s=0.01) >= 0
    assert Flaky.seen == 4


def test_a_dead_process_stops_the_wait(server: str) -> None:
    with pytest.raises(Exited):
        wait_healthy(server, lambda: False, timeout_s=10, interval_s=0.01)


def test_times_out(server: str) -> None:
    Flaky.fails = 10**6
    try:
        with pytest.raises(TimedOut):
            wait_healthy(server, lambda: True, timeout_s=0.2, interval_s=0.01)
    finally:
        Flaky.fails = 3


def test_nothing_listening() -> None:
    with pytest.raises(TimedOut):
        wait_healthy("http://127.0.0.1:9", lambda: True, timeout_s=0.1, interval_s=0.01)
