"""The state store as the gateway's event loop sees it: SQLite connections worked on off the loop.

A call on a connection may wait up to the busy timeout for another process's write lock, and SQLite holds the
connection's mutex while it waits, so no call is made on the event loop: each runs in a worker thread (anyio's).
Two connections keep reads apart from writes. Every write (budgets' reservations and settlements, the admin's
switch changes) takes its turn on ``writes`` (``write``). The switches are read on ``reads``, straight from
the event loop: a cached pragma on a connection that only ever reads never waits for a lock (WAL readers do
not). The lane registry is read there too, in a worker thread (``read``). So a health check or the kill-switch
check of a request is never queued behind a reservation waiting for another process's lock, and a request
with no budget makes no thread hop (one costs ~70 us, and milliseconds at p99 on a loaded machine).
An in-memory store (tests) is one connection, private to the process, used by one thread at a time.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import anyio
import anyio.to_thread

from maestro import state
from maestro.gateway.errors import unavailable

T = TypeVar("T")


class Store:
    def __init__(self, writes: sqlite3.Connection, reads: sqlite3.Connection | None = None) -> None:
        self.writes = writes
        self.reads = reads or writes
        self._limiters: tuple[anyio.CapacityLimiter, anyio.CapacityLimiter] | None = None  # made in the loop

    @classmethod
    def open(cls, path: Path | str) -> Store:
        writes = state.connect(path)
        return cls(writes, None if str(path) == ":memory:" else state.connect(path))

    async def write(self, work: Callable[[], T]) -> T:
        """``work()`` (on ``writes``) in a worker thread, after the earlier writes have finished."""
        return await self._run(work, 0)

    async def read(self, work: Callable[[], T]) -> T:
        """``work()`` (on ``reads``) in a worker thread, after the earlier reads have finished."""
        return await self._run(work, 1)

    def close(self) -> None:
        self.writes.close()
        if self.reads is not self.writes:
            self.reads.close()

    async def _run(self, work: Callable[[], T], which: int) -> T:
        """A store that stays locked past the busy timeout is a 503 (``state_unavailable``), not an internal error."""
        if self._limiters is None:
            one = anyio.CapacityLimiter(1)
            self._limiters = (one, one if self.reads is self.writes else anyio.CapacityLimiter(1))
        try:
            return await anyio.to_thread.run_sync(work, limiter=self._limiters[which])
        except sqlite3.OperationalError as e:
            raise unavailable(f"the state store is unavailable ({e}); retry shortly", "state_unavailable") from None
