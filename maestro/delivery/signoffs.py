"""Sign-offs: approvals that are Ed25519 signatures, by the approvers' ledger keys, over what they approve.

A sign-off names what it approves (``what``: ``deploy``, ``rollout/NAME``) and a digest (the deploy plan's, the
rollout's pinned manifest). It is kept in the state store (component ``signoffs``) while approvals are collected,
and copied, signature and all, into the ledger entry of the action it allows (``as_details``), where
``maestro ledger verify`` checks it again against the repository's trusted keys (``verify``). So an approval
never has to be prepared at the ledger's head, which a busy gateway moves on every request.

A sign-off counts when a trusted key made it, once per holder and per key, never the requester's
(``maestro.ledger.dualcontrol.approvers``). Without trusted keys nothing counts.
"""

from __future__ import annotations

import base64
import sqlite3
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from maestro.delivery.errors import TransitionError
from maestro.ledger import Keyring, SigningKey
from maestro.ledger.dualcontrol import approvers, holder
from maestro.ledger.keys import PublicKey
from maestro.state.store import migrate

COMPONENT = "signoffs"
MIGRATIONS = [
    "CREATE TABLE signoffs (what TEXT NOT NULL, digest TEXT NOT NULL, approver TEXT NOT NULL, keyid TEXT NOT NULL, "
    "signature TEXT NOT NULL, at REAL NOT NULL, PRIMARY KEY (what, digest, keyid))"
]


def payload(what: str, digest: str) -> bytes:
    return f"maestro approve\n{what}\n{digest}\n".encode()


@dataclass(frozen=True, slots=True)
class Signoff:
    approver: str
    keyid: str
    signature: str  # base64

    def as_json(self) -> dict[str, str]:
        return {"approver": self.approver, "keyid": self.keyid, "signature": self.signature}


def sign(what: str, digest: str, key: SigningKey) -> Signoff:
    signature = base64.b64encode(key.sign(payload(what, digest))).decode("ascii")
    return Signoff(key.name, key.keyid, signature)


def counted(what: str, digest: str, signoffs: Iterable[Signoff], requester: str, keyring: Keyring | None) -> list[str]:
    """The approvers among ``signoffs`` who count: trusted, valid, distinct holders and keys, not the requester."""
    return approvers(_valid(what, digest, signoffs, keyring), requester)


def _valid(what: str, digest: str, signoffs: Iterable[Signoff], keyring: Keyring | None) -> list[PublicKey]:
    if keyring is None:
        return []
    data, keys = payload(what, digest), []
    for s in signoffs:
        key = keyring.get(s.keyid)
        try:
            raw = base64.b64decode(s.signature, validate=True)
        except ValueError:
            continue
        if key is not None and key.verify(raw, data):
            keys.append(key)
    return keys


def as_details(what: str, digest: str, signoffs: Iterable[Signoff]) -> dict[str, Any]:
    """The ledger entry's ``details["signoffs"]``: what was approved, its digest and each signature."""
    return {"what": what, "digest": digest, "signatures": [s.as_json() for s in signoffs]}


def verify(details: Mapping[str, Any], actor: str, keyring: Keyring | None) -> tuple[list[str], list[str]]:
    """The approvers counted in an entry's ``details["signoffs"]``, and a problem for each signature that fails."""
    data = details.get("signoffs")
    if not isinstance(data, Mapping):
        return [], []
    what, digest = str(data.get("what", "")), str(data.get("digest", ""))
    problems, good = [], []
    for raw in data.get("signatures", []):
        s = Signoff(str(raw.get("approver", "")), str(raw.get("keyid", "")), str(raw.get("signature", "")))
        if _valid(what, digest, [s], keyring):
            good.append(s)
        else:
            problems.append(
                f"the sign-off by '{s.approver}' on {what} {digest} is not a valid signature by a trusted key"
            )
    return counted(what, digest, good, actor, keyring), problems


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
