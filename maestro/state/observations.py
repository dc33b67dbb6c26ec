"""Per-deployment outcomes the gateway records for an active rollout, read by the controller in any process.

The rollout controller ``watch``es a route's stable and canary deployments while a rollout runs; each gateway
process then records every attempt on a watched (route, deployment) pair: whether it succeeded and its
latency. ``Observations.record`` is on the request path and only appends to a list; a thread writes the list
in one transaction every ``interval_s`` and re-reads what is watched, so nothing is recorded for routes with
no rollout. A rollout with an online eval metric also names its route's grader (``watch(..., evals=...)``): the
gateway then hands each buffered answer of a watched pair to ``sample``, which keeps that share of them; the
writer thread grades them (off the request path) and records pass or fail per deployment in
``rollout_eval_scores``. ``summary`` gives the sufficient statistics (count, errors, sums of latency and its square) the
sequential analysis needs, straight from SQL.
"""

from __future__ import annotations

import random
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
    "CREATE TABLE rollout_eval_watch (route TEXT PRIMARY KEY, sample_rate REAL NOT NULL, checks TEXT NOT NULL);"
    "CREATE TABLE rollout_eval_scores (route TEXT NOT NULL, deployment TEXT NOT NULL, passed INTEGER NOT NULL, "
    "at REAL NOT NULL);"
    "CREATE INDEX rollout_eval_scores_by_route ON rollout_eval_scores (route, deployment, at)",
]
Grader = Callable[[str, str], bool | None]  # (the checks as pinned, an answer) -> passed; None: not gradable


@dataclass(frozen=True, slots=True)
class Summary:
    """One deployment's attempts on a route since a time: count, failures, latency sum and sum of squares."""

    n: int = 0
    errors: int = 0
    latency_sum: float = 0.0
    latency_squares: float = 0.0


def watch(
    conn: sqlite3.Connection, route: str, deployments: Iterable[str], evals: tuple[float, str] | None = None
) -> None:
    """Start recording ``deployments`` on ``route`` in every gateway process sharing the store; ``evals``
    (sample rate, the checks as pinned) also grades that share of their answers."""
    migrate(conn, COMPONENT, MIGRATIONS)
    conn.executemany(
        "INSERT OR IGNORE INTO rollout_watch (route, deployment) VALUES (?, ?)", [(route, d) for d in deployments]
    )
    if evals is not None:
        conn.execute(
            "INSERT OR REPLACE INTO rollout_eval_watch (route, sample_rate, checks) VALUES (?, ?, ?)", (route, *evals)
        )


def unwatch(conn: sqlite3.Connection, route: str) -> None:
    """Stop recording ``route`` (its observations stay, for the rollout's history)."""
    migrate(conn, COMPONENT, MIGRATIONS)
    conn.execute("DELETE FROM rollout_watch WHERE route = ?", (route,))
    conn.execute("DELETE FROM rollout_eval_watch WHERE route = ?", (route,))


def eval_summary(conn: sqlite3.Connection, route: str, deployment: str, since: float) -> Summary:
    """One deployment's graded answers on a route since a time: ``n`` graded, ``errors`` the ones that failed."""
    migrate(conn, COMPONENT, MIGRATIONS)
    row = conn.execute(
        "SELECT count(*), coalesce(sum(1 - passed), 0) FROM rollout_eval_scores "
        "WHERE route = ? AND deployment = ? AND at >= ?",
        (route, deployment, since),
    ).fetchone()
    return Summary(int(row[0]), int(row[1]))


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

    def __init__(
        self,
        path: Path | str,
        interval_s: float = 0.25,
        clock: Callable[[], float] = time.time,
        grader: Grader | None = None,
    ) -> None:
        self.path = path
        self.interval_s = interval_s
        self.clock = clock
        self.grader = grader
        self._watched: frozenset[tuple[str, str]] = frozenset()
        self._graded: dict[str, tuple[float, str]] = {}  # route -> (sample rate, checks)
        self._pending: deque[tuple[str, str, int, float, float]] = deque()  # append/popleft: thread-safe
        self._answers: deque[tuple[str, str, str, float]] = deque()  # sampled answers waiting for the grader
        self._random = random.Random()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def record(self, route: str, deployment: str, ok: bool, latency_ms: float) -> None:
        if (route, deployment) in self._watched:
            self._pending.append((route, deployment, int(ok), latency_ms, self.clock()))

    def sample(self, route: str, deployment: str, text: str) -> None:
        """An answer the gateway has in hand: kept for grading at the route's sample rate (only appends)."""
        graded = self._graded.get(route)
        if graded is not None and (route, deployment) in self._watched and self._random.random() < graded[0]:
            self._answers.append((route, deployment, text, self.clock()))

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
        answers = [self._answers.popleft() for _ in range(len(self._answers))]
        scores = []
        for route, deployment, text, at in answers:
            graded = self._graded.get(route)
            passed = None if graded is None or self.grader is None else self.grader(graded[1], text)
            if passed is not None:
                scores.append((route, deployment, int(passed), at))
        if scores:
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(
                "INSERT INTO rollout_eval_scores (route, deployment, passed, at) VALUES (?, ?, ?, ?)", scores
            )
            conn.execute("COMMIT")

    def _refresh(self, conn: sqlite3.Connection) -> None:
        rows = conn.execute("SELECT route, deployment FROM rollout_watch").fetchall()
        self._watched = frozenset((r, d) for r, d in rows)
        evals = conn.execute("SELECT route, sample_rate, checks FROM rollout_eval_watch").fetchall()
        self._graded = {r: (float(rate), str(checks)) for r, rate, checks in evals} if self.grader else {}
