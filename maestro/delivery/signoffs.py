"""Collecting sign-offs in the state store (component ``signoffs``) until the action they allow is taken.

A sign-off (``maestro.ledger.signoffs``) is an approver's Ed25519 signature, by her ledger key, over what she
approves (``deploy``, ``rollout/NAME/RUN/GATE``) and its digest (the deploy plan's, the rollout's pinned
manifest). The entry of the action carries them (``maestro.ledger.signoffs.details``), and ``maestro ledger
verify`` checks them there again. A sign-off counts when a trusted key made it, once per holder and per key,
never the requester's (``maestro.ledger.dualcontrol.approvers``). Without trusted keys nothing counts.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable

from maestro.delivery.errors import TransitionError
from maestro.ledger import Keyring, SigningKey
from maestro.ledger.dualcontrol import approvers, holder
from maestro.ledger.signoffs import Signoff, sign, signers
from maestro.state.store import migrate

COMPONENT = "signoffs"
MIGRATIONS = [
    "CREATE TABLE signoffs (what TEXT NOT NULL, digest TEXT NOT NULL, approver TEXT NOT NULL, keyid TEXT NOT NULL, "
    "signature TEXT NOT NULL, at REAL NOT NULL, PRIMARY KEY (what, digest, keyid))"
]

__all__ = ["Signoff", "Signoffs", "counted"]


def counted(what: str, digest: str, signoffs: Iterable[Signoff], requester: str, keyring: Keyring | None) -> list[str]:
    """The approvers among ``signoffs`` who count: trusted, valid, distinct holders and keys, not the requester."""
    return approvers(signers(what, digest, signoffs, keyring), requester)


class Signoffs:
    """The sign-offs collected in the state store."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        migrate(conn, COMPONENT, MIGRATIONS)
        self.conn = conn

    def add(self, what: str, digest: str, key: SigningKey, *, requester: str) -> Signoff:
        """Sign ``what`` at ``digest`` with ``key`` and keep it; the requester's own sign-off is refused."""
        if requester and key.name == holder(requester):
            raise TransitionError(f"'{key.name}' asked for this {what} and cannot approve it; ask another key holder")
        s = sign(what, digest, key)
        self.conn.execute(
            "INSERT INTO signoffs (what, digest, approver, keyid, signature, at) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(what, digest, keyid) DO UPDATE SET signature = excluded.signature, at = excluded.at",
            (what, digest, s.approver, s.keyid, s.signature, time.time()),
        )
        return s

    def of(self, what: str, digest: str) -> list[Signoff]:
        rows = self.conn.execute(
            "SELECT approver, keyid, signature FROM signoffs WHERE what = ? AND digest = ? ORDER BY at, keyid",
            (what, digest),
        ).fetchall()
        return [Signoff(str(r[0]), str(r[1]), str(r[2])) for r in rows]
