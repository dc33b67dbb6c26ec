"""The background writer: nothing signed on submit, batches in order, nothing lost on close."""

from __future__ import annotations

import sqlite3
import threading

import pytest
from helpers.ledger import action, key, keyring

from maestro.ledger import dsse
from maestro.ledger import statement as st
from maestro.ledger.errors import ApprovalError, LedgerError
from maestro.ledger.query import verify_store
from maestro.ledger.store import Ledger
from maestro.ledger.writer import Writer


def _details(path) -> list[int]:
    with Ledger.open(path) as led:
        return [st.parse(dsse.decode(line).payload).predicate["details"]["i"] for line in led.lines()]


def test_close_appends_everything_submitted_from_many_threads(tmp_path):
    path = tmp_path / "state.db"
    writer = Writer(path, key(), batch_size=64, max_delay=0.5)

    def submit(start: int) -> None:
        for i in range(start, start + 500):
            writer.submit(action(i))

    threads = [threading.Thread(target=submit, args=(n * 1000,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    writer.close()
    written = _details(path)
    assert sorted(written) == sorted(i for n in range(4) for i in range(n * 1000, n * 1000 + 500))
    for n in range(4):  # each thread's entries keep their order
        mine = [i for i in written if n * 1000 <= i < n * 1000 + 500]
        assert mine == sorted(mine)
    with Ledger.open(path) as led:
        assert verify_store(led, keyring(), workers=1).ok
        assert len(led.checkpoints()) < 2000 / 8  # batched: far fewer checkpoints than entries


def test_flush_waits_until_everything_submitted_is_appended(tmp_path):
    path = tmp_path / "state.db"
    with Writer(path, key(), max_delay=5.0) as writer:
        for i in range(10):
            writer.submit(action(i))
        assert writer.flush(timeout=10)
        assert writer.pending == 0
        assert _details(path) == list(range(10))


def test_submitting_after_close_is_refused(tmp_path):
    writer = Writer(tmp_path / "state.db", key())
    writer.close()
    writer.close()  # twice is harmless
    with pytest.raises(LedgerError, match="closed"):
        writer.submit(action(0))


def test_an_action_that_cannot_be_encoded_is_rejected_alone(tmp_path):
    path = tmp_path / "state.db"
    errors: list[BaseException] = []
    writer = Writer(path, key(), on_error=errors.append, max_delay=1.0)
    bad = st.Action("route", "gateway:alice", [st.Subject.of("r", b"")], details={"x": object()})
    for item in (action(0), bad, action(1)):
        writer.submit(item)
    writer.close()
    assert _details(path) == [0, 1]
    assert [a for a, _ in writer.rejected] == [bad]
    assert isinstance(errors[0], TypeError)


def test_a_store_busy_past_close_is_reported_not_silently_dropped(tmp_path):
    from maestro import state

    path = tmp_path / "state.db"
    writer = Writer(path, key(), close_timeout=0.5)
    writer._ledger._conn.execute("PRAGMA busy_timeout = 0")
    blocker = state.connect(path)
    blocker.execute("BEGIN IMMEDIATE")
    writer.submit(action(0))
    with pytest.raises(LedgerError, match="1 ledger entries could not be appended"):
        writer.close()
    blocker.execute("ROLLBACK")


def test_submit_never_waits_on_a_locked_store_and_nothing_accepted_is_lost(tmp_path):
    """The gateway calls submit on its event loop: a store another process holds must not stall it."""
    path = tmp_path / "state.db"
    writer = Writer(path, key(), max_pending=3, max_delay=0.01)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the store
    for i in range(3):
        writer.submit(action(i))
    with pytest.raises(LedgerError, match="3 ledger entries already wait"):
        writer.submit(action(3))  # the old writer blocked here, on a full queue, until the store was free
    assert writer.pending == 3
    holder.execute("ROLLBACK")
    holder.close()
    writer.close()
    assert _details(path) == [0, 1, 2]
    with Ledger.open(path) as led:
        assert verify_store(led, keyring(), workers=1).ok


def test_an_action_whose_actor_is_not_the_signer_is_refused_on_submit(tmp_path):
    with Writer(tmp_path / "state.db", key("alice")) as writer:
        with pytest.raises(ApprovalError, match="its actor 'gateway:bob' did not sign it"):
            writer.submit(action(0, actor="gateway:bob"))
        writer.submit(action(1, actor="alice"))
    assert _details(tmp_path / "state.db") == [1]
