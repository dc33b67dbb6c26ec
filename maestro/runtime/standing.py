"""Autonomy standing of one repository: ``maestro autonomy`` and the runtime's gate call these.

They gather what ``maestro.runtime.earned`` measures (the manifests as they are now, the run store, the eval
history, the ledger), and record what it decides: operator incidents, demotions, the ``autonomy.raise`` request.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from maestro import state
from maestro.ledger.record import recorder
from maestro.manifests.kinds.policy import Policy
from maestro.manifests.loader import ManifestSet
from maestro.runtime import earned
from maestro.runtime.earned import AutonomyError, Status


def _manifests(root: Path) -> ManifestSet:
    from maestro.runtime import snapshot

    return snapshot.manifests(snapshot.take(root))


def measure(root: Path, name: str, url: str | None = None) -> Status:
    """Where the Agent or Pipeline ``name`` stands against its next level."""
    manifests = _manifests(root)
    subject = earned.target(manifests, name)
    runs = earned.read_runs(root, subject, url)
    scorecards = earned.read_scorecards(root, manifests, subject)
    entries = earned.read_entries(state.default_path(root))
    return earned.status(manifests, subject, runs, scorecards, entries)


def incident(root: Path, name: str, reason: str, key: Path | None = None) -> dict[str, Any]:
    """Record an operator incident on ``name``, and the demotion a Policy orders; what was recorded."""
    if not reason.strip():
        raise AutonomyError("say what happened with --reason")
    manifests = _manifests(root)
    subject = earned.target(manifests, name)
    rec = recorder(root, key)
    if rec is None:
        raise AutonomyError(
            f"{root} keeps no ledger (no .maestro/keys/) or no signing key is configured; run `maestro keys init`"
        )
    already = earned.demoted_to(earned.read_entries(rec.store, (earned.DEMOTE,)), subject.ref, subject.level.name)
    actions = earned.incident_actions(manifests, subject, reason, rec.signer, demote=already is None)
    recorded = rec.append(actions)
    demoted = actions[1].details["to"] if len(actions) > 1 else already
    return {
        "subject": subject.ref,
        "index": recorded.index,
        "level": subject.level.name,
        "reason": reason,
        "demotedTo": demoted,
    }


def demote_after(root: Path, manifests: ManifestSet, refs: Sequence[str], reason: str) -> list[str]:
    """After a runtime incident (a refused action, a failed side effect) on ``refs``: record the demotion a
    Policy orders for each subject at its level or above, once; the refs demoted. Nothing where no ledger."""
    rec = recorder(root)
    if rec is None:
        return []
    entries = earned.read_entries(rec.store, (earned.DEMOTE,))
    actions = []
    for ref in refs:
        try:
            subject = earned.target(manifests, ref)
        except AutonomyError:
            continue
        to = earned.demotion(manifests, subject.level)
        if to is not None and earned.demoted_to(entries, subject.ref, subject.level.name) is None:
            actions.append(earned.demote_action(subject, to.name, reason, rec.signer))
    if actions:
        rec.append(actions)
    return [str(a.details["subject"]) for a in actions]


def demoted_levels(root: Path, subjects: Sequence[tuple[str, str | None]]) -> list[str]:
    """The levels the runtime gates at after demotions: for each (ref, level its manifest names), the level it
    was demoted to from that level, if any."""
    entries = earned.read_entries(state.default_path(root), (earned.DEMOTE,))
    found = (earned.demoted_to(entries, ref, level) for ref, level in subjects if level)
    return [level for level in found if level]


def promote(root: Path, name: str, out_file: Path, key: Path | None = None, url: str | None = None) -> dict[str, Any]:
    """Write the dual-control ``autonomy.raise`` request for ``name`` when its next level is earned."""
    from maestro.ledger import cosign
    from maestro.ledger.keys import key_path, read_signing_key
    from maestro.ledger.store import Ledger

    status = measure(root, name, url)
    ref, nxt = status.target.ref, status.next_level
    if nxt is None:
        raise AutonomyError(f"{ref} is at {status.target.level.name}, the highest level defined: nothing to raise to")
    data: dict[str, Any] = {"subject": ref, "to": nxt.name, "earned": status.earned, "status": status.to_json()}
    if not status.earned:
        unmet = "; ".join(f"{c.name}: {c.gap}" for c in status.criteria if c.met is False)
        data["message"] = f"{ref} has not earned {nxt.name} yet ({unmet}); no request written"
        return data
    signing = read_signing_key(key_path(key))
    with Ledger.open(state.default_path(root)) as ledger:
        cosign.write(ledger.prepare(earned.raise_action(status, signing.name), signing), out_file)
    needed = _approvers(_manifests(root))
    data["file"] = str(out_file)
    data["message"] = (
        f"wrote {out_file}: the autonomy.raise request of {ref} to {nxt.name}, with the measured evidence. Next: "
        f"{needed} approver(s) other than you run `maestro ledger approve {out_file}`, then "
        f"`maestro ledger submit {out_file}`; then set autonomyLevel: {nxt.name} on {ref} in a reviewed change "
        "(`maestro diff` rates it high)"
    )
    return data


def _approvers(manifests: ManifestSet) -> int:
    rules = [d for p in manifests.records(Policy) for d in p.dual_control if d.action == earned.RAISE]
    return max((d.approvers for d in rules), default=1)
