"""Per-deployment outcomes the gateway records for an active rollout, read by the controller in any process.

The rollout controller ``watch``es a route's stable and canary deployments while a rollout runs; each gateway
process then records every attempt on a watched (route, deployment) pair: whether it succeeded and its
latency. ``Observations.record`` is on the request path and only appends to a list; a thread writes the list
in one transaction every ``interval_s`` and re-reads what is watched, so nothing is recorded for routes with
no rollout. ``summary`` gives the sufficient statistics (count, errors, sums of latency and its square) the
sequential analysis needs, straight from SQL.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from maestro.state.store import connect, migrate

COMPONENT = "observations"
MIGRATIONS = [
    "CREATE TABLE rollout_watch (route TEXT NOT NULL, deployment TEXT NOT NULL, PRIMARY KEY (route, deployment));"
    "CREATE TABLE rollout_observations (route TEXT NOT NULL, deployment TEXT NOT NULL, ok INTEGER NOT NULL, "
    "latency_ms REAL NOT NULL, at REAL NOT NULL);"
    "CREATE INDEX rollout_observations_by_route ON rollout_observations (route, deployment, at)",
]


@dataclass(frozen=True, slots=True)
class Summary:
    """One deployment's attempts on a route since a time: count, failures, latency sum and sum of squares."""

    n: int = 0
    errors: int = 0
    latency_sum: float = 0.0
    latency_squares: float = 0.0


def watch(conn: sqlite3.Connection, route: str, deployments: Iterable[str]) -> None:
    """Start recording ``deployments`` on ``route`` in every gateway process sharing the store."""
    migrate(conn, COMPONENT, MIGRATIONS)
    conn.executemany(
        "INSERT OR IGNORE INTO rollout_watch (route, deployment) VALUES (?, ?)", [(route, d) for d in deployments]
    )


def unwatch(conn: sqlite3.Connection, route: str) -> None:
    """Stop recording ``route`` (its observations stay, for the rollout's history)."""
    migrate(conn, COMPONENT, MIGRATIONS)
    conn.execute("DELETE FROM rollout_watch WHERE route = ?", (route,))


def summary(conn: sqlite3.Connection, route: str, deployment: str, since: float) -> Summary:
    migrate(conn, COMPONENT, MIGRATIONS)
    row = conn.execute(
        "SELECT count(*), coalesce(sum(1 - ok), 0), coalesce(sum(latency_ms), 0), "
        "coalesce(sum(latency_ms * latency_ms), 0) FROM rollout_observations "
        "WHERE route = ? AND deployment = ? AND at >= ?",
        (route, deployment, since),
    ).fetchone()
    return Summary(int(row[0]), int(row[1]), float(row[2]), float(row[3]))


def add(conn: sqlite3.Connection, route: str, deployment: str, *, ok: bool, latency_ms: float, at: float) -> bool:
    """Record one outcome now when (route, deployment) is watched (a run's end); whether it was recorded."""
    migrate(conn, COMPONENT, MIGRATIONS)
    watched = conn.execute(
        "SELECT 1 FROM rollout_watch WHERE route = ? AND deployment = ?", (route, deployment)
    ).fetchone()
    if watched is not None:
        conn.execute(
            "INSERT INTO rollout_observations (route, deployment, ok, latency_ms, at) VALUES (?, ?, ?, ?, ?)",
            (route, deployment, int(ok), latency_ms, at),
        )
    return watched is not None


def per_second(
    conn: sqlite3.Connection, route: str, deployments: tuple[str, str], since: float, until: float
) -> list[tuple[int, int, int, int]]:
    """For each whole second from ``since`` to ``until``: (first's attempts, its failures, second's attempts, its
    failures) of ``deployments`` on ``route`` (the rollout change detector's input; seconds with none are zeros)."""
    migrate(conn, COMPONENT, MIGRATIONS)
    out = [[0, 0, 0, 0] for _ in range(max(int(until - since) + 1, 0))]
    rows = conn.execute(
        "SELECT CAST((at - ?) AS INTEGER), deployment, count(*), sum(1 - ok) FROM rollout_observations "
        "WHERE route = ? AND deployment IN (?, ?) AND at >= ? AND at <= ? GROUP BY 1, 2",
        (since, route, *deployments, since, until),
    ).fetchall()
    for second, deployment, n, failed in rows:
        if 0 <= second < len(out):
            side = 0 if deployment == deployments[0] else 2
            out[second][side : side + 2] = [int(n), int(failed)]
    return [(a, b, c, d) for a, b, c, d in out]


class Observations:
    """The gateway side: ``record`` on the request path, a thread that writes in batches (``start``/``stop``)."""

    def __init__(self, path: Path | str, interval_s: float = 0.25, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.interval_s = interval_s
        self.clock = clock
        self._watched: frozenset[tuple[str, str]] = frozenset()
        self._pending: deque[tuple[str, str, int, float, float]] = deque()  # append/popleft: thread-safe
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def record(self, route: str, deployment: str, ok: bool, latency_ms: float) -> None:
        if (route, deployment) in self._watched:
            self._pending.append((route, deployment, int(ok), latency_ms, self.clock()))

    def start(self) -> None:
        """Start the writer thread (a private in-memory store has no other process to share with: nothing)."""
        if self._thread is None and str(self.path) != ":memory:":
            conn = connect(self.path)
            migrate(conn, COMPONENT, MIGRATIONS)
            self._refresh(conn)
            self._thread = threading.Thread(target=self._run, args=(conn,), name="maestro-observations", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None

    def _run(self, conn: sqlite3.Connection) -> None:
        try:
            while not self._stop.wait(self.interval_s):
                self._flush(conn)
                self._refresh(conn)
            self._flush(conn)
        finally:
            conn.close()

    def _flush(self, conn: sqlite3.Connection) -> None:
        batch = [self._pending.popleft() for _ in range(len(self._pending))]
        if batch:
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(
                "INSERT INTO rollout_observations (route, deployment, ok, latency_ms, at) VALUES (?, ?, ?, ?, ?)", batch
            )
            conn.execute("COMMIT")

    def _refresh(self, conn: sqlite3.Connection) -> None:
        rows = conn.execute("SELECT route, deployment FROM rollout_watch").fetchall()
        self._watched = frozenset((r, d) for r, d in rows)
