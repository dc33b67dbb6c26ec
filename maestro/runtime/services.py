"""What model nodes share within one process: an event loop on its own thread and one route caller (with its
pooled provider clients) per pinned snapshot.

Building a provider pool costs 15-40 ms (clients, TLS contexts) against a 4 ms call to a local upstream, so a
node must not build one per call; and a pooled async client belongs to one event loop, so the calls of every
DBOS step thread go to this one loop. ``close()`` (called when the engine is destroyed) releases them all.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from maestro.calls import RouteCaller
from maestro.manifests.loader import ManifestSet

T = TypeVar("T")


class Services:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._callers: dict[str, RouteCaller] = {}

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run ``coroutine`` on the shared loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._ensure_loop()).result()

    def caller(self, digest: str, manifests: ManifestSet) -> RouteCaller:
        """The route caller of the snapshot ``digest`` (built once)."""
        from maestro import providers

        with self._lock:
            caller = self._callers.get(digest)
            if caller is None:
                caller = RouteCaller(manifests, providers.pool(providers.specs_of(manifests)))
                self._callers[digest] = caller
            return caller

    def close(self) -> None:
        with self._lock:
            callers, self._callers = list(self._callers.values()), {}
            loop, thread, self._loop, self._thread = self._loop, self._thread, None, None
        if loop is None:
            return
        for caller in callers:
            asyncio.run_coroutine_threadsafe(caller.pool.aclose(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        if thread is not None:
            thread.join(10)
        loop.close()

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                self._thread = threading.Thread(target=loop.run_forever, name="maestro-runtime-loop", daemon=True)
                self._thread.start()
                self._loop = loop
            return self._loop


SERVICES = Services()  # per process, like DBOS itself; emptied by engine.launched() on exit
