"""Freezes a rollout respects: the gateway's freeze switch, ad-hoc freeze windows (``maestro freeze add``,
component ``freezes``) and the windows written in the Policy and the Rollout (pinned with its spec).

``reason(...)`` says which one holds now ('' when none): deny wins, so any open window freezes.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from maestro.delivery.errors import DeliveryError
from maestro.manifests.windows import Window
from maestro.state.store import migrate

COMPONENT = "freezes"
MIGRATIONS = [
    "CREATE TABLE freeze_windows (name TEXT PRIMARY KEY, start REAL NOT NULL, end_at REAL NOT NULL, "
    "reason TEXT NOT NULL, created_by TEXT NOT NULL, created_at REAL NOT NULL)"
]


@dataclass(frozen=True, slots=True)
class AdHoc:
    name: str
    start: float
    end: float
    reason: str
    created_by: str

    def as_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "start": _iso(self.start),
            "end": _iso(self.end),
            "reason": self.reason,
            "createdBy": self.created_by,
        }


class Freezes:
    """The ad-hoc freeze windows in the state store."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        migrate(conn, COMPONENT, MIGRATIONS)
        self.conn = conn

    def add(self, name: str, start: float, end: float, reason: str, actor: str) -> AdHoc:
        if end <= start:
            raise DeliveryError(f"freeze '{name}' would end before it starts; give a later --until or a --duration")
        if self.conn.execute("SELECT 1 FROM freeze_windows WHERE name = ?", (name,)).fetchone():
            raise DeliveryError(f"a freeze named '{name}' exists; `maestro freeze remove {name}` first or pick a name")
        self.conn.execute(
            "INSERT INTO freeze_windows (name, start, end_at, reason, created_by, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (name, start, end, reason, actor, time.time()),
        )
        return AdHoc(name, start, end, reason, actor)

    def remove(self, name: str) -> AdHoc:
        found = [w for w in self.all() if w.name == name]
        if not found:
            known = ", ".join(w.name for w in self.all()) or "none"
            raise DeliveryError(f"no freeze named '{name}'; freezes: {known}")
        self.conn.execute("DELETE FROM freeze_windows WHERE name = ?", (name,))
        return found[0]

    def all(self) -> list[AdHoc]:
        rows = self.conn.execute(
            "SELECT name, start, end_at, reason, created_by FROM freeze_windows ORDER BY start, name"
        ).fetchall()
        return [AdHoc(str(r[0]), float(r[1]), float(r[2]), str(r[3]), str(r[4])) for r in rows]

    def windows(self) -> list[Window]:
        return [Window(w.name, w.reason, start=w.start, end=w.end) for w in self.all()]


def reason(now: float, switch: bool, windows: Iterable[tuple[str, Window]]) -> str:
    """Why changes are frozen at ``now`` ('' when they are not): the switch, else the first open window."""
    if switch:
        return "the gateway's freeze is engaged (POST /admin/freeze)"
    for source, window in windows:
        until = window.open_until(now)
        if until is not None:
            why = f": {window.reason}" if window.reason else ""
            return f"freeze window '{window.name}' ({source}{why}) is open until {_iso(until)}"
    return ""


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
