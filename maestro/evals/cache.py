"""Content-hashed caches in the state store: generations, grades, and the history of scorecards.

A generation is keyed by what was sent (route, the router's order, messages, repeat index), so an unchanged
suite is answered from the store with no model call. A grade is keyed by the generation's text, the check
and the case fields it reads, so ``--regrade`` can score again without generating again. Scorecards are kept
by suite, suite hash and git revision: the history, and the baseline's cached results.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from dataclasses import dataclass
from typing import Any

from maestro import state
from maestro.evals.generate import Generation

MIGRATIONS = [
    """
    CREATE TABLE eval_generations (
        key TEXT PRIMARY KEY, output TEXT NOT NULL, deployment TEXT NOT NULL, cost_usd REAL NOT NULL,
        latency_ms REAL NOT NULL, input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL,
        created REAL NOT NULL
    );
    CREATE TABLE eval_grades (key TEXT PRIMARY KEY, grade TEXT NOT NULL, created REAL NOT NULL);
    CREATE TABLE eval_scorecards (
        id INTEGER PRIMARY KEY AUTOINCREMENT, suite TEXT NOT NULL, digest TEXT NOT NULL,
        revision TEXT NOT NULL, created REAL NOT NULL, scorecard TEXT NOT NULL
    );
    CREATE INDEX eval_scorecards_by_key ON eval_scorecards (suite, digest, revision);
    """,
]


def digest(*parts: Any) -> str:
    """A stable hash of JSON-able parts."""
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class Store:
    """The eval tables of one state store connection."""

    conn: sqlite3.Connection

    @classmethod
    def open(cls, path: str) -> Store:
        conn = state.connect(path)
        state.migrate(conn, "evals", MIGRATIONS)
        return cls(conn)

    def generation(self, key: str) -> Generation | None:
        row = self.conn.execute(
            "SELECT output, deployment, cost_usd, latency_ms, input_tokens, output_tokens "
            "FROM eval_generations WHERE key = ?",
            (key,),
        ).fetchone()
        return Generation(row[0], row[1], row[2], row[3], row[4], row[5]) if row else None

    def put_generation(self, key: str, g: Generation) -> None:
        self.conn.execute(
            "INSERT INTO eval_generations VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET "
            "output = excluded.output, deployment = excluded.deployment, cost_usd = excluded.cost_usd, "
            "latency_ms = excluded.latency_ms, input_tokens = excluded.input_tokens, "
            "output_tokens = excluded.output_tokens, created = excluded.created",
            (key, g.output, g.deployment, g.cost_usd, g.latency_ms, g.input_tokens, g.output_tokens, time.time()),
        )

    def grade(self, key: str) -> dict[str, Any] | None:
        row = self.conn.execute("SELECT grade FROM eval_grades WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def put_grade(self, key: str, grade: dict[str, Any]) -> None:
        self.conn.execute(
            "INSERT INTO eval_grades VALUES (?, ?, ?) "
            "ON CONFLICT(key) DO UPDATE SET grade = excluded.grade, created = excluded.created",
            (key, json.dumps(grade), time.time()),
        )

    def put_scorecard(self, suite: str, suite_digest: str, revision: str, scorecard: dict[str, Any]) -> None:
        self.conn.execute(
            "INSERT INTO eval_scorecards (suite, digest, revision, created, scorecard) VALUES (?, ?, ?, ?, ?)",
            (suite, suite_digest, revision, time.time(), json.dumps(scorecard)),
        )

    def scorecard(self, suite: str, suite_digest: str, revision: str) -> dict[str, Any] | None:
        """The latest scorecard of ``suite`` at this suite hash and revision (a cached baseline)."""
        row = self.conn.execute(
            "SELECT scorecard FROM eval_scorecards WHERE suite = ? AND digest = ? AND revision = ? "
            "ORDER BY id DESC LIMIT 1",
            (suite, suite_digest, revision),
        ).fetchone()
        return json.loads(row[0]) if row else None

    def history(self, suite: str, limit: int = 20) -> list[tuple[str, str, float, dict[str, Any]]]:
        """(digest, revision, created, scorecard) of the suite's latest runs, newest first."""
        rows = self.conn.execute(
            "SELECT digest, revision, created, scorecard FROM eval_scorecards WHERE suite = ? ORDER BY id DESC LIMIT ?",
            (suite, limit),
        ).fetchall()
        return [(r[0], r[1], r[2], json.loads(r[3])) for r in rows]

    def suites(self) -> list[str]:
        """The suites with a scorecard in the history, by name."""
        return [r[0] for r in self.conn.execute("SELECT DISTINCT suite FROM eval_scorecards ORDER BY suite")]

    def close(self) -> None:
        self.conn.close()
