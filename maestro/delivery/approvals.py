"""Approvals of a rollout's gates: a manual pause and the promotion (``spec.approvals.required`` of them).

An approval is a sign-off (``maestro.delivery.signoffs``) on ``rollout/NAME/RUN/GATE`` (the gate is the step
index; the number of steps for the promotion) at the digest the rollout's manifest is pinned to. It counts when
a trusted key (the repository's ``.maestro/keys``) made it, once per holder and per key, and never for the
requester who started the rollout. Without trusted keys nothing counts: the gate holds. The promotion's
transition entry carries the promotion's sign-offs (``carried``), which ``maestro ledger verify`` checks.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from maestro.delivery.errors import TransitionError
from maestro.delivery.signoffs import Signoffs, counted
from maestro.ledger import Keyring, SigningKey
from maestro.ledger import signoffs as ledger_signoffs
from maestro.ledger.dualcontrol import holder


def what(name: str, run: int, gate: int) -> str:
    return f"rollout/{name}/{run}/{gate}"


class Approvals:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.signoffs = Signoffs(conn)

    def add(self, name: str, run: int, gate: int, digest: str, *, requester: str, key: SigningKey) -> None:
        """Sign and store ``key``'s approval; the requester's own is refused."""
        if key.name == holder(requester):
            raise TransitionError(
                f"'{key.name}' started rollout '{name}' and cannot approve it; ask another key holder"
            )
        self.signoffs.add(what(name, run, gate), digest, key, requester=requester)

    def count(
        self, name: str, run: int, gate: int, digest: str, *, requester: str, keyring: Keyring | None
    ) -> list[str]:
        """The approvers who count for this gate: trusted, valid, distinct, not the requester."""
        gate_what = what(name, run, gate)
        return counted(gate_what, digest, self.signoffs.of(gate_what, digest), requester, keyring)

    def carried(self, name: str, run: int, gate: int, digest: str, *, requester: str, required: int) -> dict[str, Any]:
        """The ``details["signoffs"]`` of the entry this gate's approvals allow."""
        gate_what = what(name, run, gate)
        found = self.signoffs.of(gate_what, digest)
        return ledger_signoffs.details(gate_what, digest, found, requester=requester, required=required)
