"""Opening the SQLite state store and applying each component's migrations."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

from maestro.errors import MaestroError

BUSY_TIMEOUT_MS = 5000


class StateError(MaestroError):
    """The state store cannot be opened, read or migrated; the message says which file and what to do."""


def default_path(root: Path) -> Path:
    """The store of the repository at ``root``: ``root/.maestro/state.db``."""
    return root / ".maestro" / "state.db"


def connect(path: Path | str, *, readonly: bool = False) -> sqlite3.Connection:
    """A connection in WAL mode with a busy timeout, so several processes on one machine share the file.

    The connection is in autocommit mode (``isolation_level=None``): callers open transactions with
    ``BEGIN IMMEDIATE`` where they write. ``:memory:`` gives a private in-memory store (tests).
    """
    where = str(path)
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


def migrate(conn: sqlite3.Connection, component: str, migrations: Sequence[str]) -> int:
    """Apply ``component``'s migrations not yet applied, each in its own transaction; return its version.

    A store written by a newer maestro (a higher version than ``migrations`` knows) is refused rather than
    used with a schema this code does not understand.
    """
    try:
        conn.execute("CREATE TABLE IF NOT EXISTS maestro_schema (component TEXT PRIMARY KEY, version INTEGER NOT NULL)")
        current = schema_version(conn, component)
        if current > len(migrations):
            raise StateError(
                f"the state store's '{component}' schema is version {current}, newer than this maestro knows "
                f"({len(migrations)}); upgrade maestro"
            )
        for version, sql in enumerate(migrations[current:], start=current + 1):
            conn.execute("BEGIN IMMEDIATE")
            for statement in _statements(sql):
                conn.execute(statement)
            conn.execute(
                "INSERT INTO maestro_schema (component, version) VALUES (?, ?) "
                "ON CONFLICT(component) DO UPDATE SET version = excluded.version",
                (component, version),
            )
            conn.execute("COMMIT")
    except sqlite3.DatabaseError as e:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
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
