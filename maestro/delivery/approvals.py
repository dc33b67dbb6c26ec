"""Approvals of a rollout's gates: a manual pause and the promotion (``spec.approvals.required`` of them).

An approval is an Ed25519 signature, by the approver's ledger key, over the rollout's name, run, gate (the step
index; the number of steps for the promotion) and the digest its manifest is pinned to. It counts when a
trusted key (the repository's ``.maestro/keys``) made it, once per holder and per key, and never for the
requester who started the rollout (``maestro.ledger.dualcontrol.approvers``). Without trusted keys nothing
counts: the gate holds.
"""

from __future__ import annotations

import sqlite3
import time

from maestro.delivery.errors import TransitionError
from maestro.ledger import Keyring, SigningKey
from maestro.ledger.dualcontrol import approvers, holder
from maestro.state.store import migrate

COMPONENT = "rollout_approvals"
MIGRATIONS = [
    "CREATE TABLE rollout_approvals (name TEXT NOT NULL, run INTEGER NOT NULL, gate INTEGER NOT NULL, "
    "digest TEXT NOT NULL, approver TEXT NOT NULL, keyid TEXT NOT NULL, signature BLOB NOT NULL, at REAL NOT NULL, "
    "PRIMARY KEY (name, run, gate, keyid))"
]


def payload(name: str, run: int, gate: int, digest: str) -> bytes:
    return f"maestro rollout approve\n{name}\n{run}\n{gate}\n{digest}\n".encode()


class Approvals:
    def __init__(self, conn: sqlite3.Connection) -> None:
        migrate(conn, COMPONENT, MIGRATIONS)
        self.conn = conn

    def add(self, name: str, run: int, gate: int, digest: str, *, requester: str, key: SigningKey) -> None:
        """Sign and store ``key``'s approval; the requester's own is refused."""
        if key.name == holder(requester):
            raise TransitionError(
                f"'{key.name}' started rollout '{name}' and cannot approve it; ask another key holder"
            )
        signature = key.sign(payload(name, run, gate, digest))
        self.conn.execute(
            "INSERT INTO rollout_approvals (name, run, gate, digest, approver, keyid, signature, at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(name, run, gate, keyid) DO UPDATE SET "
            "digest = excluded.digest, approver = excluded.approver, signature = excluded.signature, at = excluded.at",
            (name, run, gate, digest, key.name, key.keyid, signature, time.time()),
        )

    def count(
        self, name: str, run: int, gate: int, digest: str, *, requester: str, keyring: Keyring | None
    ) -> list[str]:
        """The approvers who count for this gate: trusted, valid, distinct, not the requester."""
        if keyring is None:
            return []
        rows = self.conn.execute(
            "SELECT keyid, signature FROM rollout_approvals WHERE name = ? AND run = ? AND gate = ? AND digest = ?",
            (name, run, gate, digest),
        ).fetchall()
        data = payload(name, run, gate, digest)
        signers = []
        for keyid, signature in rows:
            key = keyring.get(str(keyid))
            if key is not None and key.verify(bytes(signature), data):
                signers.append(key)
        return approvers(signers, requester)
