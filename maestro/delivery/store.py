"""Rollouts in the state store (component ``rollouts``): each one's pinned spec and state, its transitions and
its verdicts.

``update(name, fn)`` reads a rollout, computes its next state with ``fn`` and writes it back under one write
lock (``BEGIN IMMEDIATE``), so the controller and a command (``maestro rollout abort``) in another process
never overwrite each other.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from maestro.delivery.analysis import Outcome, Verdict
from maestro.delivery.errors import RolloutError
from maestro.delivery.machine import ACTIVE, Phase, State, Transition
from maestro.delivery.spec import RolloutSpec
from maestro.state.store import migrate

COMPONENT = "rollouts"
MIGRATIONS = [
    "CREATE TABLE rollouts (name TEXT PRIMARY KEY, run INTEGER NOT NULL, spec TEXT NOT NULL, route TEXT NOT NULL, "
    "phase TEXT NOT NULL, step INTEGER NOT NULL, canary_weight INTEGER NOT NULL, step_started REAL NOT NULL, "
    "waiting TEXT NOT NULL, weight_since REAL NOT NULL, started_at REAL NOT NULL, started_by TEXT NOT NULL);"
    "CREATE TABLE rollout_events (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, run INTEGER NOT NULL, "
    "at REAL NOT NULL, event TEXT NOT NULL, before TEXT NOT NULL, after TEXT NOT NULL, step INTEGER NOT NULL, "
    "canary_weight INTEGER NOT NULL, actor TEXT NOT NULL, reason TEXT NOT NULL);"
    "CREATE TABLE rollout_verdicts (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, run INTEGER NOT NULL, "
    "at REAL NOT NULL, step INTEGER NOT NULL, metric TEXT NOT NULL, outcome TEXT NOT NULL, n_canary INTEGER NOT NULL, "
    "n_stable INTEGER NOT NULL, estimate REAL NOT NULL, low REAL NOT NULL, high REAL NOT NULL, alpha REAL NOT NULL, "
    "reason TEXT NOT NULL)",
]


@dataclass(frozen=True, slots=True)
class Stored:
    spec: RolloutSpec
    state: State
    run: int
    started_at: float
    started_by: str


class RolloutStore:
    def __init__(self, conn: sqlite3.Connection) -> None:
        migrate(conn, COMPONENT, MIGRATIONS)
        self.conn = conn

    def create(self, spec: RolloutSpec, state: State, transition: Transition, actor: str) -> Stored:
        """Store a new run of ``spec``; refuse while it or another rollout of its route is still running."""
        with self._write():
            for other in self._all():
                if other.state.phase in ACTIVE and (other.spec.name == spec.name or other.spec.route == spec.route):
                    raise RolloutError(
                        f"rollout '{other.spec.name}' of route '{other.spec.route}' is {other.state.phase}; "
                        f"wait for it to finish, or `maestro rollout abort {other.spec.name}` first"
                    )
            row = self.conn.execute("SELECT run FROM rollouts WHERE name = ?", (spec.name,)).fetchone()
            run = (row[0] if row else 0) + 1
            self.conn.execute(
                "INSERT INTO rollouts (name, run, spec, route, phase, step, canary_weight, step_started, "
                "waiting, weight_since, started_at, started_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(name) DO UPDATE SET run = excluded.run, spec = excluded.spec, route = excluded.route, "
                "phase = excluded.phase, step = excluded.step, canary_weight = excluded.canary_weight, "
                "step_started = excluded.step_started, waiting = excluded.waiting, "
                "weight_since = excluded.weight_since, started_at = excluded.started_at, "
                "started_by = excluded.started_by",
                (spec.name, run, spec.as_json(), spec.route, *_state_row(state), state.step_started, actor),
            )
            self._event(transition, run, actor)
        stored = self.get(spec.name)
        assert stored is not None
        return stored

    def update(
        self, name: str, fn: Callable[[Stored], tuple[State, Transition | None]], actor: str
    ) -> tuple[Stored, Transition | None]:
        """Apply ``fn`` to the stored rollout under the write lock; store the state and the transition."""
        with self._write():
            stored = self.get(name)
            if stored is None:
                raise RolloutError(f"no rollout named '{name}' has been started; `maestro rollout start {name}`")
            state, transition = fn(stored)
            if state != stored.state:
                self.conn.execute(
                    "UPDATE rollouts SET phase = ?, step = ?, canary_weight = ?, step_started = ?, waiting = ?, "
                    "weight_since = ? WHERE name = ?",
                    (*_state_row(state), name),
                )
            if transition is not None:
                self._event(transition, stored.run, actor)
        return Stored(stored.spec, state, stored.run, stored.started_at, stored.started_by), transition

    def get(self, name: str) -> Stored | None:
        row = self.conn.execute(f"SELECT {_COLUMNS} FROM rollouts WHERE name = ?", (name,)).fetchone()
        return None if row is None else _stored(row)

    def active(self) -> list[Stored]:
        return [s for s in self._all() if s.state.phase in ACTIVE]

    def all(self) -> list[Stored]:
        return self._all()

    def events(self, name: str, run: int | None = None) -> list[dict[str, object]]:
        rows = self.conn.execute(
            "SELECT run, at, event, before, after, step, canary_weight, actor, reason FROM rollout_events "
            f"WHERE name = ?{_RUN if run is not None else ''} ORDER BY id",
            (name,) if run is None else (name, run),
        ).fetchall()
        keys = ("run", "at", "event", "from", "to", "step", "canaryWeight", "actor", "reason")
        return [dict(zip(keys, r, strict=True)) for r in rows]

    def verdicts(self, name: str, run: int | None = None) -> list[dict[str, object]]:
        rows = self.conn.execute(
            "SELECT run, at, step, metric, outcome, n_canary, n_stable, estimate, low, high, alpha, reason "
            f"FROM rollout_verdicts WHERE name = ?{_RUN if run is not None else ''} ORDER BY id",
            (name,) if run is None else (name, run),
        ).fetchall()
        return [
            {
                "run": r[0],
                "at": r[1],
                "step": r[2],
                "metric": r[3],
                "outcome": r[4],
                "n": {"canary": r[5], "stable": r[6]},
                "estimate": r[7],
                "interval": [r[8], r[9]],
                "alpha": r[10],
                "reason": r[11],
            }
            for r in rows
        ]

    def verdict(self, name: str, run: int, step: int, verdict: Verdict, at: float) -> bool:
        """Store ``verdict``: a new row when its outcome differs from the metric's last one in this step (True),
        else the last row's numbers brought up to date (False), so a long inconclusive wait is one row."""
        last = self.conn.execute(
            "SELECT id, outcome FROM rollout_verdicts WHERE name = ? AND run = ? AND step = ? AND metric = ? "
            "ORDER BY id DESC LIMIT 1",
            (name, run, step, verdict.metric),
        ).fetchone()
        values = (
            at,
            str(verdict.outcome),
            verdict.n_canary,
            verdict.n_stable,
            verdict.estimate,
            _finite(verdict.low),
            _finite(verdict.high),
            verdict.alpha,
            verdict.reason,
        )
        if last is not None and Outcome(last[1]) is verdict.outcome:
            self.conn.execute(
                "UPDATE rollout_verdicts SET at = ?, outcome = ?, n_canary = ?, n_stable = ?, estimate = ?, "
                "low = ?, high = ?, alpha = ?, reason = ? WHERE id = ?",
                (*values, last[0]),
            )
            return False
        self.conn.execute(
            "INSERT INTO rollout_verdicts (name, run, step, at, outcome, n_canary, n_stable, estimate, low, high, "
            "alpha, reason, metric) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (name, run, step, *values, verdict.metric),
        )
        return True

    def _all(self) -> list[Stored]:
        return [_stored(r) for r in self.conn.execute(f"SELECT {_COLUMNS} FROM rollouts ORDER BY name").fetchall()]

    def _event(self, t: Transition, run: int, actor: str) -> None:
        self.conn.execute(
            "INSERT INTO rollout_events (name, run, at, event, before, after, step, canary_weight, actor, reason) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (t.name, run, t.at, t.event, str(t.before), str(t.after), t.step, t.canary_weight, actor, t.reason),
        )

    @contextmanager
    def _write(self) -> Iterator[None]:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")


_RUN = " AND run = ?"
_COLUMNS = "spec, phase, step, canary_weight, step_started, waiting, weight_since, run, started_at, started_by"


def _state_row(state: State) -> tuple[str, int, int, float, str, float]:
    return str(state.phase), state.step, state.canary_weight, state.step_started, state.waiting, state.weight_since


def _stored(row: tuple[Any, ...]) -> Stored:
    spec = RolloutSpec.from_json(str(row[0]))
    state = State(spec.name, Phase(str(row[1])), int(row[2]), int(row[3]), float(row[4]), str(row[5]), float(row[6]))
    return Stored(spec, state, int(row[7]), float(row[8]), str(row[9]))


def _finite(x: float) -> float:
    return max(min(x, 1e300), -1e300)  # SQLite has no infinity literal in JSON output; keep a number
