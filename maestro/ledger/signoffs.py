"""Sign-offs carried in an entry: approvals signed apart from the entry, over what they approve and its digest.

An approver signs ``maestro approve\\nWHAT\\nDIGEST\\n`` (``payload``) with her ledger key while the approvals are
collected (the state store keeps them: ``maestro.delivery.signoffs``); the entry of the action they allow carries
them in ``details["signoffs"]``::

    {"what": "deploy", "digest": "sha256:...", "requester": "alice", "required": 1,
     "signatures": [{"approver": "bob", "keyid": "...", "signature": "<base64>"}]}

Unlike the envelope co-signatures of ``cosign`` they need not be collected on an entry prepared at the ledger's
head, which a busy gateway moves on every request. ``carried`` checks them for ``verify`` and dual control:
each signature is a trusted key's over that payload, the digest is one the entry names (``details["digest"]`` or
one of its ``manifests``), and ``required`` distinct approvers other than the requester signed.

``required`` and ``roles`` are the entry's own claim. Given the Rollouts' approvals pinned to their manifest
digests (``Rule.digest``, from the manifests ``ledger verify -m`` reads), an entry naming such a digest must
not claim fewer approvals or other roles than the Rollout asks, and a promotion of it must carry sign-offs.
A Rollout whose manifest has changed since (its digest no longer among the manifests) cannot be checked so.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from maestro.ledger.dualcontrol import Rule, approvers
from maestro.ledger.keys import Keyring, PublicKey, SigningKey


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


def signers(what: str, digest: str, signoffs: Iterable[Signoff], keyring: Keyring | None) -> list[PublicKey]:
    """The trusted keys whose sign-off on ``what`` at ``digest`` verifies."""
    if keyring is None:
        return []
    data, keys = payload(what, digest), []
    for s in signoffs:
        key = keyring.get(s.keyid)
        try:
            raw = base64.b64decode(s.signature, validate=True)
        except (binascii.Error, ValueError):
            continue
        if key is not None and key.verify(raw, data):
            keys.append(key)
    return keys


def details(what: str, digest: str, signoffs: Iterable[Signoff], *, requester: str, required: int) -> dict[str, Any]:
    """What an entry carries in ``details["signoffs"]``."""
    return {
        "what": what,
        "digest": digest,
        "requester": requester,
        "required": required,
        "signatures": [s.as_json() for s in signoffs],
    }


def carried(
    predicate: Mapping[str, Any], keyring: Keyring | None, rules: Sequence[Rule] = ()
) -> tuple[list[PublicKey], str]:
    """The keys whose sign-offs an entry carries and that verify, and what is wrong with them ('' when nothing)."""
    data = (predicate.get("details") or {}).get("signoffs")
    if not isinstance(data, Mapping):
        return [], _unsigned_promotion(predicate, rules)
    what, digest = str(data.get("what", "")), str(data.get("digest", ""))
    named = {str((predicate.get("details") or {}).get("digest", ""))}
    named |= {str(v) for v in (predicate.get("manifests") or {}).values()}
    if digest not in named and digest.removeprefix("sha256:") not in named:
        return [], f"its sign-offs approve {what} at {digest}, a digest the entry does not name"
    given = [
        Signoff(str(s.get("approver", "")), str(s.get("keyid", "")), str(s.get("signature", "")))
        for s in data.get("signatures", [])
        if isinstance(s, Mapping)
    ]
    keys = signers(what, digest, given, keyring)
    if len(keys) != len(given):
        bad = sorted({s.approver for s in given} - {k.name for k in keys})
        return keys, f"its sign-off by {', '.join(bad) or 'a key'} is not a valid signature by a trusted key"
    counted = approvers(keys, str(data.get("requester", "")))
    required = int(data.get("required", 0) or 0)
    understated = _understated(data, digest.removeprefix("sha256:"), required, rules)
    if understated:
        return keys, understated
    if len(counted) < required:
        return keys, (
            f"it carries {len(counted)} sign-off(s) of {what} by key holders other than the requester "
            f"({', '.join(counted) or 'none'}), and {required} were required"
        )
    return keys, ""


def _pinned(rules: Sequence[Rule], digests: Iterable[str]) -> list[Rule]:
    named = {d.removeprefix("sha256:") for d in digests}
    return [r for r in rules if r.digest is not None and r.digest in named]


def _understated(data: Mapping[str, Any], digest: str, required: int, rules: Sequence[Rule]) -> str:
    """Why the sign-offs claim less than the pinned Rollout asks ('' when they do not, or nothing is pinned)."""
    for rule in _pinned(rules, [digest]):
        if required < rule.approvers:
            return (
                f"its sign-offs claim {required} approval(s) were required; "
                f"{rule.name} at that digest asks {rule.approvers}"
            )
        claimed = {str(r) for r in data.get("roles") or ()}
        if set(rule.roles) != claimed:
            asked = ", ".join(rule.roles) or "none"
            return f"its sign-offs claim the roles {', '.join(sorted(claimed)) or 'none'}; {rule.name} asks {asked}"
    return ""


def _unsigned_promotion(predicate: Mapping[str, Any], rules: Sequence[Rule]) -> str:
    """Why a promotion without sign-offs should have carried some ('' when it need not)."""
    details = predicate.get("details") or {}
    if predicate.get("action") != "rollout.transition" or details.get("to") != "Promoted":
        return ""
    if details.get("from") == "Promoted":
        return ""
    asking = [r for r in _pinned(rules, [str(v) for v in (predicate.get("manifests") or {}).values()]) if r.approvers]
    if not asking:
        return ""
    return f"it promotes {asking[0].name}, which asks {asking[0].approvers} approval(s), and carries no sign-offs"
