"""The append-only ledger in the state store (component "ledger").

Each append is one transaction: the entries, their leaf hashes, the new right edge of the Merkle tree and
a signed checkpoint for the new size are written together, or nothing is. Triggers refuse UPDATE and
DELETE on entries and checkpoints. A checkpoint's statement carries the time it was signed, which bounds
when the entries before it were appended (``verify`` checks approvals' expiry against it).
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from maestro import state
from maestro.ledger import checkpoint as cp
from maestro.ledger import dsse, signoffs
from maestro.ledger import statement as st
from maestro.ledger.dualcontrol import Rule, expired, expiry, shortfall, unsigned_actor
from maestro.ledger.errors import ApprovalError, LedgerError
from maestro.ledger.keys import Keyring, SigningKey
from maestro.ledger.merkle import CompactRange, leaf_hash

_Builder = Callable[[int, str], list[tuple[bytes, str, str]]]  # (index, previous) -> (line, time, action)

MIGRATIONS = [
    """
    CREATE TABLE ledger_meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
    CREATE TABLE ledger_entries (
        idx INTEGER PRIMARY KEY, envelope BLOB NOT NULL, leaf BLOB NOT NULL, time TEXT NOT NULL, action TEXT NOT NULL
    );
    CREATE TABLE ledger_checkpoints (size INTEGER PRIMARY KEY, note TEXT NOT NULL, envelope BLOB NOT NULL);
    CREATE TRIGGER ledger_entries_no_update BEFORE UPDATE ON ledger_entries
        BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
    CREATE TRIGGER ledger_entries_no_delete BEFORE DELETE ON ledger_entries
        BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
    CREATE TRIGGER ledger_checkpoints_no_update BEFORE UPDATE ON ledger_checkpoints
        BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
    CREATE TRIGGER ledger_checkpoints_no_delete BEFORE DELETE ON ledger_checkpoints
        BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
    """,
    # Readers of one kind of entry (the runtime's gate reads autonomy.demote on every tool call): an index, not
    # a scan of every entry.
    "CREATE INDEX ledger_entries_action ON ledger_entries (action, idx);",
]


@dataclass(frozen=True, slots=True)
class StoredCheckpoint:
    size: int
    note: str
    envelope: bytes


def checkpoint_envelope(note: str, checkpoint: cp.Checkpoint, key: SigningKey, signed_at: datetime) -> bytes:
    """A checkpoint as an in-toto Statement in a DSSE envelope, so an export is envelopes only."""
    statement = {
        "_type": st.STATEMENT_TYPE,
        "predicate": {
            "checkpoint": note,
            "entries": checkpoint.size,
            "time": signed_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        },
        "predicateType": st.CHECKPOINT_PREDICATE,
        "subject": [{"digest": {"sha256": checkpoint.root.hex()}, "name": checkpoint.origin}],
    }
    return dsse.sign(st.encode(statement), [key]).encode()


class Ledger:
    """One ledger in one state store. Open with ``Ledger.open(path)``; close when done."""

    def __init__(self, conn: sqlite3.Connection, where: str) -> None:
        self._conn = conn
        self.where = where

    @classmethod
    def open(cls, path: Path | str, *, readonly: bool = False) -> Ledger:
        conn = state.connect(path, readonly=readonly)
        try:
            if readonly:
                if state.schema_version(conn, "ledger") == 0:
                    raise LedgerError(f"{path}: holds no ledger yet; record an action first (e.g. `maestro validate`)")
            else:
                state.migrate(conn, "ledger", MIGRATIONS)
                conn.execute(
                    "INSERT OR IGNORE INTO ledger_meta (key, value) VALUES ('origin', ?)",
                    (f"maestro.dev/ledger/{secrets.token_hex(8)}",),
                )
        except BaseException:
            conn.close()
            raise
        return cls(conn, str(path))

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def origin(self) -> str:
        row = self._read("SELECT value FROM ledger_meta WHERE key = 'origin'").fetchone()
        if row is None:
            raise LedgerError(f"{self.where}: the ledger has no origin; the store is damaged, restore it")
        return _blob(row[0]).decode("utf-8", "surrogateescape")  # a BLOB column: PostgreSQL gives it back as bytes

    def count(self) -> int:
        """How many entry rows the store holds (``size`` trusts the last index; this counts)."""
        return int(self._read("SELECT count(*) FROM ledger_entries").fetchone()[0])

    def size(self) -> int:
        row = self._read("SELECT max(idx) FROM ledger_entries").fetchone()
        return 0 if row[0] is None else int(row[0]) + 1

    def append(self, actions: Sequence[st.Action], key: SigningKey) -> range:
        """Sign and append ``actions`` in one transaction; return their indexes.

        Every action's actor must be ``key``'s holder (``alice`` or ``ROLE:alice``): ``ApprovalError`` else.
        """
        if not actions:
            return range(self.size(), self.size())
        for action in actions:
            unsigned = unsigned_actor(action.actor, [key.public])
            if unsigned:
                raise ApprovalError(f"entry not appended: {unsigned}")

        def build(index: int, previous: str) -> list[tuple[bytes, str, str]]:
            out = []
            for action in actions:
                statement = st.statement(action, index, previous)
                line = dsse.sign(st.encode(statement), [key]).encode()
                out.append((line, statement["predicate"]["time"], action.action))
                previous = leaf_hash(line).hex()
                index += 1
            return out

        return self._write(build, key)

    def prepare(self, action: st.Action, key: SigningKey) -> dsse.Envelope:
        """An entry for ``action`` at the current head, signed by the requester, for approvers to co-sign."""
        size = self.size()
        payload = st.encode(st.statement(action, size, self._previous(size)))
        return dsse.sign(payload, [key])

    def append_envelope(
        self,
        envelope: dsse.Envelope,
        keyring: Keyring,
        rules: Sequence[Rule],
        key: SigningKey,
        now: datetime | None = None,
    ) -> int:
        """Append a prepared, co-signed entry; refuse it when its actor did not sign it, approvals fall short
        or expired (at ``now``, default the clock), or the head moved on."""
        entry = st.parse(envelope.payload)
        signers = envelope.valid_signers(keyring)
        if len(signers) != len(envelope.signatures):
            raise ApprovalError("a signature on the entry is repeated, not by a trusted key, or does not verify")
        now = now or datetime.now(UTC)
        endorsers, bad = signoffs.carried(entry.predicate, keyring)
        problem = (
            bad
            or shortfall(rules, entry.action, entry.autonomy_level, entry.actor, signers, endorsers=endorsers)
            or expired(expiry(rules, entry.action, entry.autonomy_level), entry.time, now)
        )
        if problem:
            raise ApprovalError(f"entry not appended: {problem}")
        line = envelope.encode()

        def build(index: int, previous: str) -> list[tuple[bytes, str, str]]:
            if (entry.index, entry.previous) != (index, previous):
                raise ApprovalError(
                    f"the entry was prepared for index {entry.index} but the ledger is now at {index}; "
                    "prepare the request again and collect the approvals again"
                )
            return [(line, entry.time, entry.action)]

        return self._write(build, key, now).start

    def _previous(self, size: int) -> str:
        if size == 0:
            return st.GENESIS
        return bytes(self._read("SELECT leaf FROM ledger_entries WHERE idx = ?", (size - 1,)).fetchone()[0]).hex()

    def _write(self, build: _Builder, key: SigningKey, now: datetime | None = None) -> range:
        conn = self._conn
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                start = self.size()
                rows = build(start, self._previous(start))
                edge = self._edge(start)
                for line, _, _ in rows:
                    edge.append(leaf_hash(line))
                conn.executemany(
                    "INSERT INTO ledger_entries (idx, envelope, leaf, time, action) VALUES (?, ?, ?, ?, ?)",
                    [(start + i, line, leaf_hash(line), t, a) for i, (line, t, a) in enumerate(rows)],
                )
                self._checkpoint(edge, key, now or datetime.now(UTC))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        except sqlite3.DatabaseError as e:
            raise LedgerError(
                f"{self.where}: cannot append to the ledger ({e}); nothing was written. "
                "Run `maestro ledger verify`, and restore the store from an export if it is damaged"
            ) from e
        return range(start, start + len(rows))

    def _edge(self, size: int) -> CompactRange:
        row = self._read("SELECT value FROM ledger_meta WHERE key = 'edge'").fetchone()
        blob = bytes(row[0]) if row else b""
        hashes = [blob[i : i + 32] for i in range(8, len(blob), 32)]
        if blob[:8] == size.to_bytes(8, "big") and len(hashes) == size.bit_count():
            return CompactRange(size, hashes)
        edge = CompactRange()
        for (leaf,) in self._read("SELECT leaf FROM ledger_entries ORDER BY idx"):
            edge.append(bytes(leaf))
        return edge

    def _checkpoint(self, edge: CompactRange, key: SigningKey, signed_at: datetime) -> None:
        checkpoint = cp.Checkpoint(self.origin, edge.size, edge.root())
        note = checkpoint.sign(key)
        self._conn.execute(
            "INSERT INTO ledger_checkpoints (size, note, envelope) VALUES (?, ?, ?)",
            (edge.size, note, checkpoint_envelope(note, checkpoint, key, signed_at)),
        )
        blob = edge.size.to_bytes(8, "big") + b"".join(edge.hashes)
        self._conn.execute(
            "INSERT INTO ledger_meta (key, value) VALUES ('edge', ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (blob,),
        )

    def entries(self, start: int = 0, since: str | None = None) -> Iterator[tuple[int, bytes]]:
        """(index, envelope line) in order, from ``start`` (or from the first entry at or after ``since``)."""
        sql = "SELECT idx, envelope FROM ledger_entries WHERE idx >= ?"
        args: tuple[object, ...] = (start,)
        if since is not None:
            sql, args = sql + " AND time >= ?", (start, since)
        for idx, line in self._read(sql + " ORDER BY idx", args):
            yield int(idx), _blob(line)

    def entries_of(self, actions: Sequence[str]) -> Iterator[tuple[int, bytes]]:
        """(index, envelope line) of the entries that record one of ``actions``, in order (by the stored action
        column; a reader decodes each line and trusts what it says, which ``maestro ledger verify`` checks)."""
        if not actions:
            return
        marks = ", ".join("?" for _ in actions)
        sql = f"SELECT idx, envelope FROM ledger_entries WHERE action IN ({marks}) ORDER BY idx"
        for idx, line in self._read(sql, tuple(actions)):
            yield int(idx), _blob(line)

    def lines(self, start: int = 0, stop: int | None = None) -> list[bytes]:
        """Envelope lines ``start..stop`` by position (not by the stored index, which could be tampered)."""
        limit = 2**62 if stop is None else max(0, stop - start)  # no limit, in SQL both backends accept
        sql = "SELECT envelope FROM ledger_entries ORDER BY idx LIMIT ? OFFSET ?"
        return [_blob(r[0]) for r in self._read(sql, (limit, start))]

    def leaves(self) -> list[bytes]:
        return [_blob(r[0]) for r in self._read("SELECT leaf FROM ledger_entries ORDER BY idx")]

    def checkpoints(self) -> list[StoredCheckpoint]:
        rows = self._read("SELECT size, note, envelope FROM ledger_checkpoints ORDER BY size")
        return [StoredCheckpoint(int(s), str(n), _blob(e)) for s, n, e in rows]

    def latest_checkpoint(self) -> StoredCheckpoint | None:
        row = self._read("SELECT size, note, envelope FROM ledger_checkpoints ORDER BY size DESC LIMIT 1").fetchone()
        return StoredCheckpoint(int(row[0]), str(row[1]), _blob(row[2])) if row else None

    def import_lines(self, lines: Sequence[bytes], checkpoints: Sequence[StoredCheckpoint], origin: str) -> int:
        """Add verified entries and checkpoints beyond this store's size; return how many entries were added."""
        conn = self._conn
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                start = self.size()
                if start == 0:
                    conn.execute("UPDATE ledger_meta SET value = ? WHERE key = 'origin'", (origin,))
                new = lines[start:]
                conn.executemany(
                    "INSERT INTO ledger_entries (idx, envelope, leaf, time, action) VALUES (?, ?, ?, ?, ?)",
                    [(start + i, line, leaf_hash(line), *_time_action(line)) for i, line in enumerate(new)],
                )
                conn.executemany(
                    "INSERT OR IGNORE INTO ledger_checkpoints (size, note, envelope) VALUES (?, ?, ?)",
                    [(c.size, c.note, c.envelope) for c in checkpoints],
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        except sqlite3.DatabaseError as e:
            raise LedgerError(f"{self.where}: cannot import into the ledger ({e}); nothing was written") from e
        return len(new)

    def _read(self, sql: str, args: tuple[object, ...] = ()) -> sqlite3.Cursor:
        try:
            return self._conn.execute(sql, args)
        except sqlite3.DatabaseError as e:
            raise LedgerError(
                f"{self.where}: cannot read the ledger ({e}); the file may be damaged: restore it from an export "
                "with `maestro ledger import FILE`"
            ) from e


def _blob(value: object) -> bytes:
    """A stored envelope as bytes (a value rewritten as TEXT is read as its UTF-8, and then fails to verify)."""
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape")
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    return str(value).encode()


def _time_action(line: bytes) -> tuple[str, str]:
    entry = st.parse(dsse.decode(line).payload)
    return entry.time, entry.action
