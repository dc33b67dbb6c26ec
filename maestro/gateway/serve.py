"""Serving an ASGI app with uvicorn: in the foreground (``maestro gateway``) or on a background thread bound
to a free loopback port (fake upstreams, chaos drills, tests)."""

from __future__ import annotations

import logging
import signal
import socket
import threading
import time
from types import TracebackType
from typing import Any

import uvicorn
from uvicorn.config import LOG_LEVELS

# Idle keep-alive connections are closed after this long. Clients (httpx, the openai client) drop theirs after
# 5 s; a server that also closes at 5 s races them and resets requests sent on a connection it just closed.
KEEP_ALIVE_S = 75


def run(app: Any, host: str, port: int, log_level: str = "info") -> None:
    """Serve until Ctrl-C or SIGTERM, then shut down gracefully and return.

    uvicorn hands the signal back to the process once it has shut down; here both end the run normally.
    Below ``info`` no access line would be written, so uvicorn is not asked to build one per request.
    """
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        lifespan="on",
        timeout_keep_alive=KEEP_ALIVE_S,
        access_log=LOG_LEVELS.get(log_level.lower(), logging.INFO) <= logging.INFO,
    )
    server = uvicorn.Server(config)
    previous = signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


class Background:
    """``with Background(app) as url:`` serves ``app`` on 127.0.0.1 at a free port until the block ends."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0, log_level: str = "critical") -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # TCP: asyncio sets NODELAY
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.host, self.port = self.sock.getsockname()[:2]
        config = uvicorn.Config(
            app,
            log_level=log_level,
            lifespan="on",
            access_log=False,
            timeout_graceful_shutdown=2,
            timeout_keep_alive=KEEP_ALIVE_S,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                self.sock.close()
                raise RuntimeError(f"the server on {self.url} did not start")
            time.sleep(0.01)
        return self.url

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.server.should_exit = True
        self.thread.join(15)
        self.sock.close()
