"""The kill switch (all routes or one) and the freeze, kept in the state store so every gateway process
sharing ``.maestro/state.db`` sees a change on its next request.

What is engaged is read once and kept until the store changes: SQLite's ``PRAGMA data_version`` tells when
another connection has committed since, and this object's own writes drop what was kept. A request then
costs one pragma instead of a query of the table, cheap enough for the event loop: the connection it reads
(``conn``) never waits for a lock (WAL readers do not), because the switches are written on another one
(``writes``, in a worker thread: see ``store``).

The freeze stops configuration changes from going live: while it holds, ``POST /admin/reload`` is refused
and the gateway keeps serving the manifests it has.
"""

from __future__ import annotations

import sqlite3
import time

from maestro import state

COMPONENT = "gateway"
MIGRATIONS = [
    "CREATE TABLE gateway_switches (name TEXT PRIMARY KEY, engaged INTEGER NOT NULL, changed_at REAL NOT NULL)",
]
_ALL = "kill:*"
_FREEZE = "freeze"


class Switches:
    def __init__(self, conn: sqlite3.Connection, writes: sqlite3.Connection | None = None) -> None:
        self.writes = writes or conn
        state.migrate(self.writes, COMPONENT, MIGRATIONS)
        self.conn = conn
        self._names: frozenset[str] | None = None  # the engaged switches, as of ``_version``
        self._version = -1
        self._kills: tuple[bool, frozenset[str]] = (False, frozenset())
        self._kills_of: frozenset[str] | None = None  # the names ``_kills`` was read from

    def kills(self) -> tuple[bool, frozenset[str]]:
        """(engaged for all routes, the routes it is engaged for): what the router's decision judges."""
        names = self._engaged_names()
        if names is not self._kills_of:
            routes = frozenset(n.removeprefix("kill:") for n in names if n.startswith("kill:") and n != _ALL)
            self._kills, self._kills_of = (_ALL in names, routes), names
        return self._kills

    def frozen(self) -> bool:
        return _FREEZE in self._engaged_names()

    def set_kill(self, route: str | None, engaged: bool) -> None:
        self._set(f"kill:{route}" if route else _ALL, engaged)

    def set_freeze(self, engaged: bool) -> None:
        self._set(_FREEZE, engaged)

    def engaged(self) -> dict[str, object]:
        names = self._engaged_names()
        return {
            "killAll": _ALL in names,
            "killRoutes": sorted(n.removeprefix("kill:") for n in names if n.startswith("kill:") and n != _ALL),
            "frozen": _FREEZE in names,
        }

    def _engaged_names(self) -> frozenset[str]:
        version = self.conn.execute("PRAGMA data_version").fetchone()[0]
        if self._names is None or version != self._version:
            rows = self.conn.execute("SELECT name FROM gateway_switches WHERE engaged = 1").fetchall()
            self._names, self._version = frozenset(r[0] for r in rows), version
        return self._names

    def _set(self, name: str, engaged: bool) -> None:
        self._names = None
        self.writes.execute(
            "INSERT INTO gateway_switches (name, engaged, changed_at) VALUES (?, ?, ?) "
            "ON CONFLICT(name) DO UPDATE SET engaged = excluded.engaged, changed_at = excluded.changed_at",
            (name, int(engaged), time.time()),
        )
