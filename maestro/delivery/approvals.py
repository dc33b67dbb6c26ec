"""Approvals of a rollout's gates: a manual pause and the promotion (``spec.approvals.required`` of them).

An approval is a sign-off (``maestro.delivery.signoffs``) on ``rollout/NAME/RUN/GATE`` (the gate is the step
index; the number of steps for the promotion) at the digest the rollout's manifest is pinned to. It counts when
a trusted key (the repository's ``.maestro/keys``) made it, once per holder and per key, and never for the
requester who started the rollout, nor from a holder without one of the Rollout's ``approvals.roles`` when it
names some (``.maestro/keys/roles.json``, ``maestro.ledger.roles``): such an approval is refused up front, and a
sign-off already stored by a holder who has since lost the role stops counting. Without trusted keys nothing
counts: the gate holds. The promotion's transition entry carries the promotion's sign-offs that count
(``carried``, with the roles asked), which ``maestro ledger verify`` checks.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from maestro.delivery.errors import TransitionError
from maestro.delivery.signoffs import Signoff, Signoffs, counted
from maestro.ledger import Keyring, SigningKey
from maestro.ledger import signoffs as ledger_signoffs
from maestro.ledger.dualcontrol import holder
from maestro.ledger.roles import Roles, missing


def what(name: str, run: int, gate: int) -> str:
    return f"rollout/{name}/{run}/{gate}"


class Approvals:
    """A rollout's approvals; ``roles``: who holds which approver role (None: nobody holds any)."""

    def __init__(self, conn: sqlite3.Connection, roles: Roles | None = None) -> None:
        self.signoffs = Signoffs(conn)
        self.roles = roles

    def add(
        self,
        name: str,
        run: int,
        gate: int,
        digest: str,
        *,
        requester: str,
        key: SigningKey,
        wanted: Sequence[str] = (),
    ) -> None:
        """Sign and store ``key``'s approval; the requester's own, and one without the ``wanted`` roles, refused."""
        if key.name == holder(requester):
            raise TransitionError(
                f"'{key.name}' started rollout '{name}' and cannot approve it; ask another key holder"
            )
        lacking = missing(key.name, wanted, self.roles)
        if lacking:
            raise TransitionError(f"rollout '{name}' asks approvals.roles: {lacking}")
        self.signoffs.add(what(name, run, gate), digest, key, requester=requester)

    def count(
        self,
        name: str,
        run: int,
        gate: int,
        digest: str,
        *,
        requester: str,
        keyring: Keyring | None,
        wanted: Sequence[str] = (),
    ) -> list[str]:
        """The approvers who count for this gate: trusted, valid, distinct, not the requester, holding a role."""
        gate_what = what(name, run, gate)
        found = self._with_roles(self.signoffs.of(gate_what, digest), wanted)
        return counted(gate_what, digest, found, requester, keyring)

    def carried(
        self,
        name: str,
        run: int,
        gate: int,
        digest: str,
        *,
        requester: str,
        required: int,
        wanted: Sequence[str] = (),
    ) -> dict[str, Any]:
        """The ``details["signoffs"]`` of the entry this gate's approvals allow (those by holders of a role)."""
        gate_what = what(name, run, gate)
        found = self._with_roles(self.signoffs.of(gate_what, digest), wanted)
        carried = ledger_signoffs.details(gate_what, digest, found, requester=requester, required=required)
        return carried | ({"roles": sorted(set(wanted))} if wanted else {})

    def _with_roles(self, found: list[Signoff], wanted: Sequence[str]) -> list[Signoff]:
        return [s for s in found if not missing(s.approver, wanted, self.roles)]
