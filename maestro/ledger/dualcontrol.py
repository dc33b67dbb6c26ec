"""Dual control: which entries need approvals, whose signatures count, and for how long.

Rules come from the records of the loaded manifests, ``Policy`` and ``AutonomyLevel`` (the ledger imports
nothing of ``maestro.manifests`` at run time but its duration parser: the records are only its types):

* a Policy's ``dualControl`` item ``{action: autonomy.raise, approvers: 2, expiresAfter: 24h}`` guards every
  entry whose action is ``autonomy.raise``;
* an AutonomyLevel's ``approvals: {required: N, expiresAfter: 8h}`` guards the actions in its
  ``requiresApproval`` list when the entry's ``autonomyLevel`` is that level.

An approval is a valid signature on the entry's envelope by a trusted key. It counts once per public key
and once per holder (the key's name), and never for the entry's actor, the requester (nor for her key
under another name).

Every entry's actor must be one of its signers: ``alice`` or ``ROLE:alice`` (``gateway:alice``) needs a
signature by alice's key. The actions a Policy's ``dualControl`` can name (``GUARDED``) fail closed: an
entry of one of them with no rule found for it is refused, never "no rules, so allowed".

Expiry: every approver signs the entry's ``time`` (when it was requested), so an approval is counted from
then: an entry is refused when it is appended more than ``expiresAfter`` later (``submit``), and ``verify``
compares it with the time in the first signed checkpoint that covers it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from maestro.ledger.keys import PublicKey
from maestro.manifests.durations import seconds

if TYPE_CHECKING:
    from maestro.manifests.kinds.autonomylevel import AutonomyLevel
    from maestro.manifests.kinds.policy import Policy

GUARDED = frozenset(
    {"autonomy.raise", "policy.loosen", "provider.add", "rollout.promote", "killswitch.release", "budget.raise"}
)
CLOCK_SKEW = timedelta(minutes=5)  # how far a request's time may stand after the time it is appended


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    action: str
    approvers: int
    level: str | None = None
    expires_after: float | None = None  # seconds; None: approvals do not expire
    # a Rollout's approvals, pinned to its manifest digest (hex): checked against the sign-offs an entry naming
    # that digest carries (``maestro.ledger.signoffs.carried``), not against every entry of ``action``
    digest: str | None = None
    roles: tuple[str, ...] = ()

    def applies(self, action: str, level: str | None) -> bool:
        if self.digest is not None:
            return False
        return self.action == action and (self.level is None or self.level == level)


def rules_from(policies: Iterable[Policy], levels: Iterable[AutonomyLevel]) -> list[Rule]:
    """Rules from the Policies' ``dualControl`` items and the AutonomyLevels' approvals."""
    rules = [
        Rule(item.name, item.action, int(item.approvers), expires_after=_expiry(item.expires_after))
        for policy in policies
        for item in policy.dual_control
    ]
    for level in levels:
        if level.approvals_required:
            rules.extend(
                Rule(
                    f"AutonomyLevel/{level.name}",
                    action,
                    level.approvals_required,
                    level=level.name,
                    expires_after=_expiry(level.approval_expires_after),
                )
                for action in level.requires_approval
            )
    return rules


def _expiry(value: str | None) -> float | None:
    return None if value is None else seconds(str(value))


def holder(actor: str) -> str:
    """Whose key must sign an entry of ``actor``: the name itself, or what follows ``ROLE:``."""
    return actor.rpartition(":")[2]


def unsigned_actor(actor: str, signers: Sequence[PublicKey]) -> str:
    """Why ``actor`` is not bound to the entry's signatures ('' when one of the signers holds it)."""
    if any(key.name == holder(actor) for key in signers):
        return ""
    who = ", ".join(sorted({key.name for key in signers})) or "nobody"
    return (
        f"its actor '{actor}' did not sign it (signed by {who}); an entry's actor must be one of its signers: "
        "record it with the actor's own key"
    )


def approvers(signers: Sequence[PublicKey], actor: str) -> list[str]:
    """Distinct holders with distinct public keys among ``signers``, the requester (and her keys) left out."""
    names: list[str] = []
    keys = {key.raw for key in signers if key.name == holder(actor)}
    for key in signers:
        if key.name != holder(actor) and key.name not in names and key.raw not in keys:
            names.append(key.name)
            keys.add(key.raw)
    return names


def applicable(rules: Sequence[Rule], action: str, level: str | None) -> list[Rule]:
    return [r for r in rules if r.applies(action, level)]


def shortfall(
    rules: Sequence[Rule],
    action: str,
    level: str | None,
    actor: str,
    signers: Sequence[PublicKey],
    *,
    endorsers: Sequence[PublicKey] = (),
) -> str:
    """Why the entry is not approved as it must be ('' when it is): actor, rules found, approvals.

    ``endorsers``: the keys of the sign-offs the entry carries (``maestro.ledger.signoffs``); they count as
    approvals like the envelope's co-signatures, but never bind the actor.
    """
    unsigned = unsigned_actor(actor, signers)
    if unsigned:
        return unsigned
    needed = applicable(rules, action, level)
    if not needed:
        if action in GUARDED:
            return (
                f"'{action}' is a guarded action but no dual-control rule for it was found; pass the manifests "
                "with the Policy that guards it (--manifests DIR), or add a dualControl rule for it"
            )
        return ""
    strictest = max(needed, key=lambda r: r.approvers)
    got = approvers([*signers, *endorsers], actor)
    if len(got) >= strictest.approvers:
        return ""
    who = ", ".join(got) or "nobody"
    return (
        f"'{action}' needs {strictest.approvers} approvals by distinct key holders other than the requester "
        f"'{holder(actor)}' (rule {strictest.name}); it has {len(got)} ({who})"
    )


def expiry(rules: Sequence[Rule], action: str, level: str | None) -> Rule | None:
    """The rule whose ``expiresAfter`` is the shortest among those that apply (None: nothing expires)."""
    timed = [r for r in applicable(rules, action, level) if r.expires_after is not None]
    return min(timed, key=lambda r: r.expires_after or 0.0) if timed else None


def parse_time(text: str) -> datetime:
    """An entry's or checkpoint's UTC time (``2026-12-07T00:00:00.000000Z``); ValueError otherwise."""
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        raise ValueError(f"'{text}' has no time zone")
    return parsed


def expired(rule: Rule | None, requested: str, appended: datetime) -> str:
    """Why approvals given at ``requested`` no longer hold at ``appended`` ('' while they do)."""
    if rule is None or rule.expires_after is None:
        return ""
    try:
        start = parse_time(requested)
    except ValueError:
        return f"its time '{requested}' is not a UTC time, so its approvals' age cannot be known"
    if start > appended + CLOCK_SKEW:
        return f"it claims to be requested at {requested}, after it was appended ({_iso(appended)})"
    limit = timedelta(seconds=rule.expires_after)
    if appended - start > limit:
        return (
            f"its approvals expired: requested at {requested}, appended at {_iso(appended)}, and rule {rule.name} "
            f"lets an approval stand {_span(limit)}; request it again and collect the approvals again"
        )
    return ""


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _span(limit: timedelta) -> str:
    total = int(limit.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if total >= size and total % size == 0:
            return f"{total // size}{unit}"
    return f"{limit.total_seconds():g}s"
