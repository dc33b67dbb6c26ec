"""The controller's lease: one row in the state store with a holder and an expiry, so exactly one process acts.

Every process running a controller (each ``maestro gateway``, ``maestro rollout run``) tries the lease on each
tick; the holder renews it, another takes it only once it has expired (the holder died or hung).
"""

from __future__ import annotations

import sqlite3

from maestro.state.store import migrate

COMPONENT = "rollout_lease"
MIGRATIONS = [
    "CREATE TABLE rollout_lease (id INTEGER PRIMARY KEY CHECK (id = 1), holder TEXT NOT NULL, expires_at REAL NOT NULL)"
]


class Lease:
    def __init__(self, conn: sqlite3.Connection, holder: str, ttl_s: float = 5.0) -> None:
        migrate(conn, COMPONENT, MIGRATIONS)
        self.conn = conn
        self.holder = holder
        self.ttl_s = ttl_s

    def acquire(self, now: float) -> bool:
        """Take or renew the lease; False while another holder's lease is unexpired."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            row = self.conn.execute("SELECT holder, expires_at FROM rollout_lease WHERE id = 1").fetchone()
            mine = row is None or row[0] == self.holder or row[1] <= now
            if mine:
                self.conn.execute(
                    "INSERT INTO rollout_lease (id, holder, expires_at) VALUES (1, ?, ?) "
                    "ON CONFLICT(id) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at",
                    (self.holder, now + self.ttl_s),
                )
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        return mine

    def release(self) -> None:
        self.conn.execute("DELETE FROM rollout_lease WHERE id = 1 AND holder = ?", (self.holder,))

    def holder_now(self, now: float) -> str | None:
        row = self.conn.execute("SELECT holder, expires_at FROM rollout_lease WHERE id = 1").fetchone()
        return str(row[0]) if row is not None and row[1] > now else None
