"""Opening the state store and applying each component's migrations.

The embedded default is SQLite (``.maestro/state.db``, WAL: several processes on one machine). A
``postgresql://`` URL, from ``--state`` or ``$MAESTRO_STATE_URL``, opens the same components on PostgreSQL
(``maestro.state.postgres``), so processes on several machines share budgets, switches, lanes and the ledger.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import cast

from maestro.errors import MaestroError

BUSY_TIMEOUT_MS = 5000
URL_ENV = "MAESTRO_STATE_URL"


class StateError(MaestroError):
    """The state store cannot be opened, read or migrated; the message says which file and what to do."""


def default_path(root: Path) -> Path | str:
    """The store of the repository at ``root``: ``$MAESTRO_STATE_URL`` when set, else ``root/.maestro/state.db``."""
    return os.environ.get(URL_ENV) or root / ".maestro" / "state.db"


def connect(path: Path | str, *, readonly: bool = False) -> sqlite3.Connection:
    """A connection in autocommit mode: callers open transactions with ``BEGIN IMMEDIATE`` where they write.

    A ``postgresql://`` URL connects to PostgreSQL (a ``sqlite3``-shaped connection, see
    ``maestro.state.postgres``). Anything else is a SQLite file in WAL mode with a busy timeout, so several
    processes on one machine share it; ``:memory:`` gives a private in-memory store (tests).
    """
    where = str(path)
    if where.startswith(("postgresql:", "postgres:")):
        return _connect_postgres(where, readonly=readonly)
    if where != ":memory:":
        target = Path(path)
        if readonly and not target.exists():
            raise StateError(f"{target}: no state store here; run a command that writes one first")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StateError(f"{target}: cannot create its folder: {e.strerror or e}") from e
        where = f"file:{target}?mode={'ro' if readonly else 'rwc'}"
    try:
        conn = sqlite3.connect(where, uri=where != ":memory:", isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if not readonly:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as e:
        raise StateError(
            f"{path}: not a usable SQLite state store ({e}); move it aside and run the command again "
            "to start a new one, or restore it from a backup"
        ) from e
    return conn


def _connect_postgres(url: str, *, readonly: bool) -> sqlite3.Connection:
    from maestro.state import postgres

    if not postgres.is_url(url):
        raise StateError(f"{postgres.redact(url)}: a PostgreSQL state URL starts with postgresql://")
    try:
        return cast("sqlite3.Connection", postgres.connect(url, readonly=readonly))  # sqlite3-shaped, by design
    except sqlite3.Error as e:
        raise StateError(
            f"{e}; check that the server is up and the URL (--state or ${URL_ENV}) names a database you may use"
        ) from e


def migrate(conn: sqlite3.Connection, component: str, migrations: Sequence[str]) -> int:
    """Apply ``component``'s migrations not yet applied, each in its own transaction; return its version.

    A store written by a newer maestro (a higher version than ``migrations`` knows) is refused rather than
    used with a schema this code does not understand.
    """
    try:
        if schema_version(conn, component) == len(migrations):
            return len(migrations)  # the common case: one read, no write lock
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("CREATE TABLE IF NOT EXISTS maestro_schema (component TEXT PRIMARY KEY, version INTEGER NOT NULL)")
        current = schema_version(conn, component)
        conn.execute("COMMIT")
        if current > len(migrations):
            raise StateError(
                f"the state store's '{component}' schema is version {current}, newer than this maestro knows "
                f"({len(migrations)}); upgrade maestro"
            )
        for version in range(current + 1, len(migrations) + 1):
            conn.execute("BEGIN IMMEDIATE")  # re-read under the lock: another process may have migrated meanwhile
            if schema_version(conn, component) < version:
                for statement in _statements(migrations[version - 1]):
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO maestro_schema (component, version) VALUES (?, ?) "
                    "ON CONFLICT(component) DO UPDATE SET version = excluded.version",
                    (component, version),
                )
            conn.execute("COMMIT")
    except (sqlite3.DatabaseError, StateError) as e:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        if isinstance(e, StateError):
            raise
        raise StateError(f"cannot migrate the state store for '{component}': {e}") from e
    return schema_version(conn, component)


def schema_version(conn: sqlite3.Connection, component: str) -> int:
    """The version of ``component``'s schema in the store (0 when never migrated)."""
    try:
        row = conn.execute("SELECT version FROM maestro_schema WHERE component = ?", (component,)).fetchone()
    except sqlite3.OperationalError:
        return 0
    return int(row[0]) if row else 0


def _statements(sql: str) -> list[str]:
    """Split a migration into statements at each ``;`` that ends one (``sqlite3.complete_statement``)."""
    out, pending = [], ""
    for piece in sql.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            out.append(pending.strip())
            pending = ""
    return [s for s in out if s.rstrip(";").strip()]
