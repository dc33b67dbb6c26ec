"""Human approvals: stable interrupt ids, signed decisions, and counting them.

An interrupt id is ``RUN:NODE:ITERATION:BRANCH``: stable across restarts (it is computed, not drawn) and
unique per run, node, loop iteration and branch, so two waits never share a mailbox. The run waits with
``DBOS.recv`` on a topic equal to the id.

A decision (approve or reject) is signed with the approver's ledger key over the interrupt id, the decision
and the digest of the request it answers, so a signature for one request never counts for another. The run
counts valid signatures by trusted keys (``.maestro/keys/``), once per holder, never the requester's.

Approver roles (``maestro.ledger.roles``). A request with ``roles`` (an approval step's ``approval.roles``, an
AutonomyLevel's ``approvals.roles``) counts only decisions by key holders with one of those roles. Roles live beside the
trusted keys, in ``.maestro/keys/roles.json``, which maps a key holder's name to its roles::

    {"bob": ["refund-approver"], "carol": ["refund-approver", "finance"]}

So the people a repository trusts and what each may approve are reviewed in the same place and the same
commit. A holder missing from the file has no role; a request without roles counts any trusted key.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from maestro.ledger import roles as roles_mod
from maestro.ledger.keys import Keyring, SigningKey
from maestro.runtime.errors import RunError

APPROVE, REJECT = "approve", "reject"


def interrupt_id(run_id: str, node: str, iteration: int, branch: str = "main") -> str:
    return f"{run_id}:{node}:{iteration}:{branch}"


def request_digest(request: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(request, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _payload(interrupt: str, decision: str, digest: str) -> bytes:
    return json.dumps({"interrupt": interrupt, "decision": decision, "request": digest}, sort_keys=True).encode()


def sign(key: SigningKey, interrupt: str, decision: str, request: Mapping[str, Any], comment: str) -> dict[str, Any]:
    """The message ``maestro runs approve|reject`` sends to the waiting run."""
    digest = request_digest(request)
    signature = key.sign(_payload(interrupt, decision, digest))
    return {
        "interrupt": interrupt,
        "decision": decision,
        "request": digest,
        "name": key.name,
        "keyid": key.keyid,
        "signature": base64.b64encode(signature).decode(),
        "comment": comment,
    }


@dataclass(frozen=True, slots=True)
class Checked:
    name: str | None  # the approver, when the decision counts
    decision: str
    reason: str  # why it does not count ('' when it does)


def load_roles(keys_dir: Path) -> dict[str, frozenset[str]]:
    """The roles of each key holder (``maestro.ledger.roles``); a RunError saying what is wrong with the file."""
    try:
        return roles_mod.load_roles(keys_dir)
    except roles_mod.RolesError as e:
        raise RunError(str(e)) from e


def check(
    message: Mapping[str, Any],
    request: Mapping[str, Any],
    keyring: Keyring,
    requester: str,
    roles: Mapping[str, frozenset[str]] | None = None,
) -> Checked:
    """Whether a decision message counts for ``request`` (with ``roles``: who holds which approver role)."""
    decision = str(message.get("decision", ""))
    interrupt = str(request.get("interrupt", ""))
    if decision not in (APPROVE, REJECT) or message.get("interrupt") != interrupt:
        return Checked(None, decision, f"not a decision on {interrupt}")
    key = keyring.get(str(message.get("keyid", "")))
    if key is None:
        return Checked(None, decision, f"'{message.get('name')}' signed with a key not in .maestro/keys/")
    try:
        signature = base64.b64decode(str(message.get("signature", "")), validate=True)
    except ValueError:
        return Checked(None, decision, "the signature is not base64")
    if not key.verify(signature, _payload(interrupt, decision, request_digest(request))):
        return Checked(None, decision, f"the signature of '{key.name}' does not match this request")
    if key.name == requester:
        return Checked(None, decision, f"'{key.name}' requested this run and cannot approve it")
    lacking = roles_mod.missing(key.name, [str(r) for r in request.get("roles") or ()], roles)
    if lacking:
        return Checked(None, decision, lacking)
    return Checked(key.name, decision, "")
