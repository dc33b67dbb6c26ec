"""The SQLite state store: WAL, migrations per component, clear errors on bad files."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from maestro import state

V1 = ["CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL);"]
V2 = [*V1, "ALTER TABLE t ADD COLUMN w TEXT; CREATE INDEX t_w ON t (w);"]


def test_a_new_store_is_in_wal_mode_under_dot_maestro(tmp_path: Path) -> None:
    path = state.default_path(tmp_path)
    assert path == tmp_path / ".maestro" / "state.db"
    conn = state.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert path.exists()


def test_migrations_apply_once_and_in_order(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    conn = state.connect(path)
    assert state.schema_version(conn, "c") == 0
    assert state.migrate(conn, "c", V1) == 1
    conn.execute("INSERT INTO t (v) VALUES ('a')")
    assert state.migrate(state.connect(path), "c", V1) == 1  # nothing to do: the table is not created twice
    assert state.migrate(state.connect(path), "c", V2) == 2
    assert state.connect(path).execute("SELECT v, w FROM t").fetchall() == [("a", None)]
    assert state.schema_version(conn, "other") == 0


def test_a_failed_migration_leaves_the_previous_version(tmp_path: Path) -> None:
    conn = state.connect(tmp_path / "s.db")
    state.migrate(conn, "c", V1)
    with pytest.raises(state.StateError, match="cannot migrate the state store for 'c'"):
        state.migrate(conn, "c", [*V1, "CREATE TABLE u (x); CREATE TABLE t (y);"])
    assert state.schema_version(conn, "c") == 1
    assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'u'").fetchone() is None


def test_a_store_from_a_newer_maestro_is_refused(tmp_path: Path) -> None:
    conn = state.connect(tmp_path / "s.db")
    state.migrate(conn, "c", V2)
    with pytest.raises(state.StateError, match="newer than this maestro knows"):
        state.migrate(conn, "c", V1)


def test_a_file_that_is_not_a_database_gets_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    path.write_bytes(b"this is not sqlite at all, just text" * 100)
    with pytest.raises(state.StateError, match=r"not a usable SQLite state store.*move it aside"):
        state.connect(path)


def test_readonly_on_a_missing_store_says_so(tmp_path: Path) -> None:
    with pytest.raises(state.StateError, match="no state store here"):
        state.connect(tmp_path / "none.db", readonly=True)


def test_two_connections_see_each_others_commits(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    a, b = state.connect(path), state.connect(path)
    state.migrate(a, "c", V1)
    a.execute("INSERT INTO t (v) VALUES ('x')")
    assert b.execute("SELECT v FROM t").fetchall() == [("x",)]
    assert isinstance(b, sqlite3.Connection)
