"""The PostgreSQL backend of the state store: the same components, schema and migrations as SQLite.

Chosen by URL (``postgresql://...``, from ``--state`` or ``$MAESTRO_STATE_URL``) so gateways on several
machines share budgets, switches, lanes and the ledger. Components keep writing the SQL they write for
SQLite; ``Connection`` runs it on PostgreSQL (psycopg 3) with a small, fixed translation:

- ``?`` placeholders become ``%s`` (a literal ``%`` is escaped), outside string literals;
- ``BEGIN IMMEDIATE`` (SQLite's one writer at a time) becomes ``BEGIN`` plus a transaction-scoped advisory
  lock, so writers from every process and machine are serialised exactly as on SQLite;
- ``INSERT OR IGNORE`` becomes ``INSERT ... ON CONFLICT DO NOTHING``;
- ``PRAGMA data_version`` (has another connection written?) reads the server's WAL position, which moves
  on every commit;
- DDL types: ``INTEGER PRIMARY KEY [AUTOINCREMENT]`` is ``BIGSERIAL PRIMARY KEY``, ``INTEGER`` ``BIGINT``,
  ``REAL`` ``DOUBLE PRECISION`` (PostgreSQL's REAL is 4 bytes), ``BLOB`` ``BYTEA``; a SQLite trigger that
  refuses a change (``SELECT RAISE(ABORT, 'why')``) becomes a trigger function raising the same message;
- ``cursor.lastrowid`` is ``lastval()`` of the session.

Errors are raised as the ``sqlite3`` exception classes the components already handle (``IntegrityError``,
``OperationalError``, ``DatabaseError``), with psycopg's error as the cause.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import psycopg
from psycopg import pq

SCHEMES = ("postgresql://", "postgres://")
WRITE_LOCK = 0x6D61_6573  # the advisory lock that stands for SQLite's database-wide write lock

_TRIGGER = re.compile(
    r"CREATE\s+TRIGGER\s+(\w+)\s+(BEFORE|AFTER)\s+(UPDATE|DELETE|INSERT)\s+ON\s+(\w+)\s+"
    r"BEGIN\s+SELECT\s+RAISE\s*\(\s*ABORT\s*,\s*'((?:[^']|'')*)'\s*\)\s*;\s*END\s*;?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_DDL_TYPES = (
    (re.compile(r"\bINTEGER\s+PRIMARY\s+KEY(\s+AUTOINCREMENT)?\b", re.IGNORECASE), "BIGSERIAL PRIMARY KEY"),
    (re.compile(r"\bINTEGER\b", re.IGNORECASE), "BIGINT"),
    (re.compile(r"\bREAL\b", re.IGNORECASE), "DOUBLE PRECISION"),
    (re.compile(r"\bBLOB\b", re.IGNORECASE), "BYTEA"),
)


def is_url(where: object) -> bool:
    return isinstance(where, str) and where.startswith(SCHEMES)


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    return re.sub(r"(://[^:/@]*):[^@]*@", r"\1:***@", url)


class Cursor:
    """What components read from ``execute``: rows, ``rowcount`` and ``lastrowid``."""

    def __init__(self, conn: Connection, cursor: psycopg.Cursor[Any] | None) -> None:
        self._conn, self._cursor = conn, cursor

    def fetchone(self) -> Any:
        return self._cursor.fetchone() if self._cursor is not None and self._cursor.description else None

    def fetchall(self) -> list[Any]:
        return self._cursor.fetchall() if self._cursor is not None and self._cursor.description else []

    def __iter__(self) -> Iterator[Any]:
        return iter(self.fetchall())

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount if self._cursor is not None else -1

    @property
    def lastrowid(self) -> int | None:
        row = self._conn.raw("SELECT lastval()").fetchone()
        return int(row[0]) if row else None


class Connection:
    """A sqlite3-shaped connection to PostgreSQL, in autocommit mode like the SQLite connections."""

    dialect = "postgresql"

    def __init__(self, url: str, *, readonly: bool = False) -> None:
        try:
            self._conn = psycopg.connect(url, autocommit=True)
            if readonly:
                self._conn.execute("SET default_transaction_read_only = on")
        except psycopg.Error as e:
            raise sqlite3.OperationalError(f"cannot connect to {redact(url)}: {_first_line(e)}") from e

    @property
    def in_transaction(self) -> bool:
        return self._conn.info.transaction_status != pq.TransactionStatus.IDLE

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        statements = translate(sql)
        cursor = None
        for i, statement in enumerate(statements):
            cursor = self._run(statement, params if i == len(statements) - 1 else ())
        return Cursor(self, cursor)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> Cursor:
        (statement,) = translate(sql)
        cursor = self._conn.cursor()
        try:
            cursor.executemany(statement, list(rows))
        except psycopg.Error as e:
            raise _as_sqlite(e) from e
        return Cursor(self, cursor)

    def raw(self, sql: str) -> psycopg.Cursor[Any]:
        return self._run(sql, ())

    def close(self) -> None:
        self._conn.close()

    def __del__(self) -> None:
        # like a sqlite3 connection, one nobody closed closes when it is collected (psycopg would warn)
        conn = getattr(self, "_conn", None)
        if conn is not None and not conn.closed:
            conn.close()

    def _run(self, statement: str, params: Sequence[Any]) -> psycopg.Cursor[Any]:
        try:
            return self._conn.execute(statement, tuple(params))
        except psycopg.Error as e:
            raise _as_sqlite(e) from e


def connect(url: str, *, readonly: bool = False) -> Connection:
    return Connection(url, readonly=readonly)


def translate(sql: str) -> list[str]:
    """The PostgreSQL statements for one SQLite statement (see the module docstring)."""
    text = sql.strip().rstrip(";").strip()
    head = " ".join(text.split()[:2]).upper()
    if head == "BEGIN IMMEDIATE":
        return ["BEGIN", f"SELECT pg_advisory_xact_lock({WRITE_LOCK})"]
    if head == "PRAGMA DATA_VERSION":
        return ["SELECT pg_current_wal_lsn()::text"]
    trigger = _TRIGGER.match(text + ";")
    if trigger:
        return _trigger(*trigger.groups())
    if head.startswith("CREATE TABLE") or head.startswith("ALTER TABLE"):
        for pattern, replacement in _DDL_TYPES:
            text = pattern.sub(replacement, text)
    if re.match(r"INSERT\s+OR\s+IGNORE\b", text, re.IGNORECASE):
        text = re.sub(r"^INSERT\s+OR\s+IGNORE", "INSERT", text, flags=re.IGNORECASE) + " ON CONFLICT DO NOTHING"
    return [_placeholders(text)]


def _trigger(name: str, when: str, event: str, table: str, message: str) -> list[str]:
    function = f"{name}_refuse"
    return [
        _placeholders(
            f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{message}'; END $$"
        ),
        f"CREATE TRIGGER {name} {when} {event} ON {table} FOR EACH ROW EXECUTE FUNCTION {function}()",
    ]


def _placeholders(sql: str) -> str:
    """``?`` to ``%s`` and ``%`` to ``%%``, leaving string literals and quoted names alone."""
    out, quote = [], ""
    for ch in sql:
        if quote:
            out.append("%%" if ch == "%" else ch)
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
            out.append(ch)
        elif ch == "?":
            out.append("%s")
        elif ch == "%":
            out.append("%%")
        else:
            out.append(ch)
    return "".join(out)


def _as_sqlite(e: psycopg.Error) -> sqlite3.Error:
    message = _first_line(e)
    if isinstance(e, psycopg.errors.IntegrityError):
        return sqlite3.IntegrityError(message)
    return sqlite3.OperationalError(message)  # SQLite's class for "no such table", locks, refusals and the rest


def _first_line(e: BaseException) -> str:
    return (str(e).strip().splitlines() or [type(e).__name__])[0]
