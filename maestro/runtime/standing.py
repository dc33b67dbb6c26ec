"""Autonomy standing of one repository: ``maestro autonomy`` and the runtime's gate call these.

They read what ``maestro.runtime.earned`` measures (the manifests as they are now, the run store, the eval
history, the ledger), and record what it decides: operator incidents, demotions, the ``autonomy.raise`` request.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from maestro import state
from maestro.ledger.record import recorder
from maestro.manifests.kinds.policy import Policy
from maestro.manifests.loader import ManifestSet
from maestro.runtime import earned
from maestro.runtime.earned import AutonomyError, Status


def read_entries(store: Path | str, actions: Sequence[str] = earned.READ) -> list[earned.Entry]:
    """The entries of ``actions`` in the ledger at ``store`` (none where there is no ledger yet)."""
    from maestro.ledger import dsse
    from maestro.ledger import statement as st
    from maestro.ledger.query import has_ledger
    from maestro.ledger.store import Ledger

    if not has_ledger(store):
        return []
    out = []
    with Ledger.open(store, readonly=True) as ledger:
        for index, line in ledger.entries_of(actions):
            try:
                entry = st.parse(dsse.decode(line).payload)
            except (dsse.EnvelopeFormatError, st.StatementError) as e:
                raise AutonomyError(f"ledger entry {index} is damaged ({e}); run `maestro ledger verify`") from e
            out.append(earned.Entry(index, entry.time, entry.action, entry.predicate.get("details") or {}))
    return out


def read_runs(root: Path, subject: earned.Target, url: str | None = None) -> list[earned.RunSeen]:
    """Every run in the run store, with the subject's level in the manifests it was pinned to."""
    from maestro.runtime import engine, runs, snapshot
    from maestro.runtime.errors import RunError

    try:
        with engine.client(root, url) as client:
            found = runs.list_runs(client, limit=100_000)
    except RunError:
        return []  # no run store yet: no runs
    out = []
    for run in found:
        pinned = run.pinned
        manifests = snapshot.manifests(snapshot.Snapshot.from_json(pinned)) if isinstance(pinned, Mapping) else None
        level = earned.level_in(manifests, subject.kind, subject.name, run.pipeline) if manifests else None
        out.append(earned.RunSeen(run.id, run.pipeline, run.status, run.created, level))
    return out


def read_scorecards(root: Path, manifests: ManifestSet, subject: earned.Target) -> dict[str, Mapping[str, Any]]:
    """The latest scorecard of each of the subject's suites: from the eval history in the state store, else the
    file ``maestro eval`` writes (``.maestro/evals/SUITE.json``)."""
    from maestro import state
    from maestro.evals.cache import Store

    names = [s.name for s in earned.suites_of(manifests, subject)]
    out: dict[str, Mapping[str, Any]] = {}
    where = state.default_path(root)
    if names and (not isinstance(where, Path) or where.exists()):
        store = Store.open(str(where))
        try:
            for name in names:
                rows = store.history(name, 1)
                if rows:
                    out[name] = rows[0][3]
        finally:
            store.close()
    for name in names:
        path = root / ".maestro" / "evals" / f"{name}.json"
        if name not in out and path.is_file():
            try:
                out[name] = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as e:
                raise AutonomyError(f"{path}: not a scorecard ({e}); run `maestro eval {name}` again") from e
    return out


def _manifests(root: Path) -> ManifestSet:
    from maestro.runtime import snapshot

    return snapshot.manifests(snapshot.take(root))


def measure(root: Path, name: str, url: str | None = None) -> Status:
    """Where the Agent or Pipeline ``name`` stands against its next level."""
    manifests = _manifests(root)
    subject = earned.target(manifests, name)
    runs = read_runs(root, subject, url)
    scorecards = read_scorecards(root, manifests, subject)
    entries = read_entries(state.default_path(root))
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
    already = earned.demoted_to(read_entries(rec.store, (earned.DEMOTE,)), subject.ref, subject.level.name)
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
    entries = read_entries(rec.store, (earned.DEMOTE,))
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
    entries = read_entries(state.default_path(root), (earned.DEMOTE,))
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
