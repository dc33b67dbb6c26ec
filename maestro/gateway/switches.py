"""The kill switch (all routes or one) and the freeze, kept in the state store so every gateway process
sharing ``.maestro/state.db`` sees a change on its next request.

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
    def __init__(self, conn: sqlite3.Connection) -> None:
        state.migrate(conn, COMPONENT, MIGRATIONS)
        self.conn = conn

    def killed(self, route: str) -> bool:
        row = self.conn.execute(
            "SELECT 1 FROM gateway_switches WHERE engaged = 1 AND name IN (?, ?) LIMIT 1", (_ALL, f"kill:{route}")
        ).fetchone()
        return row is not None

    def frozen(self) -> bool:
        row = self.conn.execute("SELECT engaged FROM gateway_switches WHERE name = ?", (_FREEZE,)).fetchone()
        return bool(row and row[0])

    def set_kill(self, route: str | None, engaged: bool) -> None:
        self._set(f"kill:{route}" if route else _ALL, engaged)

    def set_freeze(self, engaged: bool) -> None:
        self._set(_FREEZE, engaged)

    def engaged(self) -> dict[str, object]:
        rows = self.conn.execute("SELECT name FROM gateway_switches WHERE engaged = 1").fetchall()
        names = {r[0] for r in rows}
        return {
            "killAll": _ALL in names,
            "killRoutes": sorted(n.removeprefix("kill:") for n in names if n.startswith("kill:") and n != _ALL),
            "frozen": _FREEZE in names,
        }

    def _set(self, name: str, engaged: bool) -> None:
        self.conn.execute(
            "INSERT INTO gateway_switches (name, engaged, changed_at) VALUES (?, ?, ?) "
            "ON CONFLICT(name) DO UPDATE SET engaged = excluded.engaged, changed_at = excluded.changed_at",
            (name, int(engaged), time.time()),
        )
