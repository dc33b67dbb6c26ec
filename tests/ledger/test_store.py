"""The store: append-only, one transaction per append, checkpoints after each, clear errors."""

from __future__ import annotations

import sqlite3

import pytest
from helpers.ledger import action, key, keyring, ledger

from maestro import state
from maestro.ledger import dsse
from maestro.ledger import statement as st
from maestro.ledger.errors import LedgerError
from maestro.ledger.merkle import Tree, leaf_hash
from maestro.ledger.query import verify_store
from maestro.ledger.store import MIGRATIONS, Ledger
from maestro.ledger.verify import read_checkpoint


def test_entries_chain_and_every_append_leaves_a_signed_checkpoint(tmp_path):
    led = ledger(7, batch=3, path=tmp_path / "state.db")
    assert led.size() == 7
    assert [c.size for c in led.checkpoints()] == [3, 6, 7]
    lines = led.lines()
    entries = [st.parse(dsse.decode(line).payload) for line in lines]
    assert [e.index for e in entries] == list(range(7))
    assert entries[0].previous == st.GENESIS
    assert all(entries[i].previous == leaf_hash(lines[i - 1]).hex() for i in range(1, 7))
    latest = read_checkpoint(led.latest_checkpoint().envelope, keyring()).checkpoint
    assert latest.root == Tree([leaf_hash(x) for x in lines]).root()
    assert latest.origin == led.origin and led.origin.startswith("maestro.dev/ledger/")


def test_the_state_store_records_the_ledger_migration(tmp_path):
    ledger(1, path=tmp_path / "state.db").close()
    conn = state.connect(tmp_path / "state.db")
    assert state.schema_version(conn, "ledger") == len(MIGRATIONS)


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE ledger_entries SET action = 'x'",
        "DELETE FROM ledger_entries",
        "UPDATE ledger_checkpoints SET note = ''",
        "DELETE FROM ledger_checkpoints",
    ],
)
def test_entries_and_checkpoints_cannot_be_changed_through_sql(tmp_path, sql):
    led = ledger(2, path=tmp_path / "state.db")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        led._conn.execute(sql)


def test_a_failed_append_leaves_nothing_half_written(tmp_path):
    led = ledger(2, path=tmp_path / "state.db")
    before = (led.lines(), led.checkpoints())
    bad = st.Action("route", "alice", [st.Subject.of("r", b"x")], details={"not json": object()})
    with pytest.raises(TypeError):
        led.append([action(2), action(3), bad], key())
    assert (led.lines(), led.checkpoints()) == before
    led.append([action(2)], key())
    assert verify_store(led, keyring(), workers=1).ok


def test_a_busy_store_is_a_clear_error_and_writes_nothing(tmp_path):
    path = tmp_path / "state.db"
    led = ledger(1, path=path)
    other = state.connect(path)
    other.execute("PRAGMA busy_timeout = 0")
    led._conn.execute("PRAGMA busy_timeout = 0")
    other.execute("BEGIN IMMEDIATE")
    with pytest.raises(LedgerError, match="nothing was written"):
        led.append([action(1)], key())
    other.execute("ROLLBACK")
    assert led.size() == 1


def test_a_corrupt_store_is_a_clear_error(tmp_path):
    path = tmp_path / "state.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(state.StateError, match="move it aside"):
        Ledger.open(path)


def test_reading_a_store_without_a_ledger_says_what_to_run(tmp_path):
    state.connect(tmp_path / "state.db").close()
    with pytest.raises(LedgerError, match="holds no ledger yet"):
        Ledger.open(tmp_path / "state.db", readonly=True)
    with pytest.raises(state.StateError, match="no state store here"):
        Ledger.open(tmp_path / "missing.db", readonly=True)


def test_entries_since_a_time(tmp_path):
    from datetime import UTC, datetime

    led = Ledger.open(tmp_path / "state.db")
    old = st.Action("a", "alice", [st.Subject.of("r", b"1")], time=datetime(2026, 1, 1, tzinfo=UTC))
    new = st.Action("b", "alice", [st.Subject.of("r", b"2")], time=datetime(2026, 12, 1, tzinfo=UTC))
    led.append([old, new], key())
    assert [i for i, _ in led.entries(since="2026-06-01T00:00:00.000000Z")] == [1]


def test_the_right_edge_is_rebuilt_when_missing(tmp_path):
    led = ledger(5, batch=5, path=tmp_path / "state.db")
    led._conn.execute("DELETE FROM ledger_meta WHERE key = 'edge'")
    led.append([action(5)], key())
    assert verify_store(led, keyring(), workers=1).ok


def test_an_action_needs_a_subject_and_names():
    with pytest.raises(ValueError, match="subject"):
        st.Action("route", "gw", [])
    with pytest.raises(ValueError, match="actor"):
        st.Action("route", "", [st.Subject.of("r", b"")])
