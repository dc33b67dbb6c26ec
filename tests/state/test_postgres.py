"""The state store on both backends: the same components and migrations on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.ledger import action, key, keyring

from maestro import state
from maestro.evals.cache import Store
from maestro.evals.generate import Generation
from maestro.gateway.budgets import BudgetRefused, Budgets
from maestro.gateway.switches import Switches
from maestro.lane import registry
from maestro.ledger.keys import write_public_key, write_signing_key
from maestro.ledger.query import verify_store
from maestro.ledger.store import Ledger
from maestro.router import Budget
from maestro.state import postgres

V1 = ["CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL, x REAL, b BLOB);"]


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT a FROM t WHERE b = ? AND c = ?", ["SELECT a FROM t WHERE b = %s AND c = %s"]),
        (
            "SELECT '?', \"a?\" FROM t WHERE v LIKE 'x%' AND w = ?",
            ["SELECT '?', \"a?\" FROM t WHERE v LIKE 'x%%' AND w = %s"],
        ),
        ("BEGIN IMMEDIATE", ["BEGIN", f"SELECT pg_advisory_xact_lock({postgres.WRITE_LOCK})"]),
        ("INSERT OR IGNORE INTO m (k) VALUES (?)", ["INSERT INTO m (k) VALUES (%s) ON CONFLICT DO NOTHING"]),
        (
            "CREATE TABLE e (idx INTEGER PRIMARY KEY, n INTEGER NOT NULL, r REAL, b BLOB)",
            ["CREATE TABLE e (idx BIGSERIAL PRIMARY KEY, n BIGINT NOT NULL, r DOUBLE PRECISION, b BYTEA)"],
        ),
        ("UPDATE t SET realm = ? WHERE integer_id = 1", ["UPDATE t SET realm = %s WHERE integer_id = 1"]),
    ],
)
def test_sqlite_statements_become_postgresql_ones(sql: str, expected: list[str]) -> None:
    assert postgres.translate(sql) == expected


def test_a_refusing_trigger_becomes_a_trigger_function() -> None:
    sql = "CREATE TRIGGER no_update BEFORE UPDATE ON e\n    BEGIN SELECT RAISE(ABORT, 'append-only'); END;"
    function, trigger = postgres.translate(sql)
    assert "RAISE EXCEPTION 'append-only'" in function and "FUNCTION no_update_refuse()" in function
    assert trigger == "CREATE TRIGGER no_update BEFORE UPDATE ON e FOR EACH ROW EXECUTE FUNCTION no_update_refuse()"


def test_the_url_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(state.store.URL_ENV, raising=False)
    assert state.default_path(tmp_path) == tmp_path / ".maestro" / "state.db"
    monkeypatch.setenv(state.store.URL_ENV, "postgresql://u@db.example/maestro")
    assert state.default_path(tmp_path) == "postgresql://u@db.example/maestro"


def test_an_unreachable_server_is_a_clear_error_without_the_password() -> None:
    with pytest.raises(state.StateError) as e:
        state.connect("postgresql://maestro:s3cret@127.0.0.1:1/nowhere?connect_timeout=2")
    assert "s3cret" not in str(e.value) and "maestro:***@127.0.0.1:1" in str(e.value)
    assert "MAESTRO_STATE_URL" in str(e.value)


def test_migrations_apply_once_and_types_round_trip(state_url: str) -> None:
    conn = state.connect(state_url)
    assert state.migrate(conn, "c", V1) == 1
    assert state.migrate(state.connect(state_url), "c", V1) == 1  # a second process: nothing to do
    row_id = conn.execute("INSERT INTO t (v, x, b) VALUES (?, ?, ?)", ("a", 0.1 + 0.2, b"\x00\xff")).lastrowid
    assert row_id == 1
    v, x, b = conn.execute("SELECT v, x, b FROM t WHERE id = ?", (row_id,)).fetchone()
    assert (v, x, bytes(b)) == ("a", 0.1 + 0.2, b"\x00\xff")  # doubles, not 4-byte floats
    with pytest.raises(state.StateError, match="newer than this maestro"):
        state.migrate(conn, "c", [])


def test_components_work_on_each_backend(state_url: str) -> None:
    now = [1_000_000.0]
    limits = [Budget("team-a", 1.0, "day", "block", team="a")]
    budgets, elsewhere = (Budgets(state.connect(state_url), limits, lambda: now[0]) for _ in range(2))
    (budget,) = budgets.applicable("r", "a", "k")
    first = budgets.reserve([budget], ["x"], {"x": 0.6})
    with pytest.raises(BudgetRefused):
        elsewhere.reserve([budget], ["x"], {"x": 0.6})  # another process sees the reservation
    budgets.settle(first, 0.25)
    assert elsewhere.spent(budget) == pytest.approx(0.25)
    elsewhere.reserve([budget], ["x"], {"x": 0.6})

    switches, other = Switches(state.connect(state_url)), Switches(state.connect(state_url))
    assert other.engaged()["killAll"] is False
    switches.set_kill(None, True)
    assert other.engaged()["killAll"] is True  # the other connection sees the change (data_version)

    cache = Store.open(state_url)
    cache.put_grade("g", {"pass": True})
    cache.put_grade("g", {"pass": False})  # replaced, not duplicated
    assert cache.grade("g") == {"pass": False}
    cache.put_generation("k", Generation("out", "p/m", 0.001, 12.5, 3, 4))
    assert cache.generation("k") == Generation("out", "p/m", 0.001, 12.5, 3, 4)

    lanes = registry.connect(state_url)
    assert registry.read(lanes) == []


def test_the_ledger_is_append_only_and_verifies(state_url: str) -> None:
    with Ledger.open(state_url) as led:
        led.append([action(i) for i in range(5)], key())
        assert led.size() == 5 and led.origin.startswith("maestro.dev/ledger/")
        assert len(led.lines(1, 3)) == 2 and len(led.lines(2)) == 3
        assert verify_store(led, keyring(), workers=1).ok
    conn = state.connect(state_url)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("UPDATE ledger_entries SET action = 'forged' WHERE idx = 0")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("DELETE FROM ledger_entries WHERE idx = 4")


APPEND_MANY = """
import sys
from pathlib import Path
from maestro.ledger import Action, Subject
from maestro.ledger.keys import read_signing_key
from maestro.ledger.store import Ledger

url, key_file, start = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
signer = read_signing_key(key_file)
with Ledger.open(url) as led:
    for i in range(start, start + 20):
        led.append([Action("route", "gateway:alice", [Subject.of("request", b"r%d" % i)], details={"i": i})], signer)
"""


def test_appends_from_two_processes_interleave_into_one_verified_log(state_url: str, tmp_path: Path) -> None:
    Ledger.open(state_url).close()
    write_signing_key(key(), tmp_path / "alice.key")
    workers = [
        subprocess.Popen([sys.executable, "-c", APPEND_MANY, state_url, str(tmp_path / "alice.key"), str(n * 100)])
        for n in range(2)
    ]
    for w in workers:
        assert w.wait(120) == 0
    with Ledger.open(state_url) as led:
        assert led.size() == 40 == led.count()
        assert verify_store(led, keyring(), workers=1).ok


def test_ledger_verify_reads_the_store_from_the_url(state_url: str, tmp_path: Path) -> None:
    with Ledger.open(state_url) as led:
        led.append([action(1)], key())
    (tmp_path / "repo").mkdir()
    write_public_key(key().public, tmp_path / "repo")
    result = subprocess.run(
        [sys.executable, "-m", "maestro.cli.main", "ledger", "verify", "--format", "json"],
        cwd=tmp_path / "repo",
        env={**_environ(), state.store.URL_ENV: state_url},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["ok"] is True


def _environ() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k != state.store.URL_ENV}
