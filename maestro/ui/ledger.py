"""/ledger: entries filtered by action, subject and actor; /ledger/N: one entry's statement, signatures,
inclusion proof in the latest signed checkpoint, and the verification of the whole log it belongs to."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from maestro.ledger import Ledger, LedgerError, dsse, query
from maestro.ledger.keys import KEYS_DIR, Keyring, load_keyring
from maestro.state import StateError
from maestro.ui.config import UiConfig
from maestro.ui.pages import NotFound, Page

PAGE_SIZE = 200


def view(config: UiConfig, filters: Mapping[str, str]) -> Page:
    wanted = {k: filters.get(k, "").strip() for k in ("action", "subject", "actor")}
    entries: list[dict[str, Any]] = []
    total, note = 0, ""
    with _opened(config) as ledger:
        if ledger is None:
            note = "the state store holds no ledger yet: the first recorded action starts it"
        else:
            total = ledger.count()
            filtered = any(wanted.values())
            start = 0 if filtered else max(total - PAGE_SIZE, 0)  # unfiltered: read only the newest page
            for shown in query.show(ledger, start=start):
                if _matches(shown, wanted):
                    entries.append(_row(shown))
    entries.reverse()  # newest first
    matching = len(entries) if any(wanted.values()) else total
    data = {"filters": wanted, "total": total, "matching": matching, "entries": entries[:PAGE_SIZE]}
    return Page("ledger.html", "Ledger", data, extra={"note": note})


def entry(config: UiConfig, index: int) -> Page:
    keyring = _keyring(config)
    with _opened(config) as ledger:
        count = ledger.count() if ledger is not None else 0
        if ledger is None or not 0 <= index < count:
            known = [f"/ledger/{i}" for i in range(max(count - 5, 0), count)]
            what = f"entries 0..{count - 1} exist" if count else "the ledger is empty"
            raise NotFound(f"no ledger entry {index}: {what}", known)
        envelope = dsse.decode(ledger.lines(index, index + 1)[0])
        shown = next(query.show(ledger, start=index))
        signatures = [
            {"keyid": s.keyid, "signer": (k.name if (k := keyring.get(s.keyid)) else None), "trusted": k is not None}
            for s in envelope.signatures
        ]
        proof, proof_error = None, ""
        try:
            p = query.prove_inclusion(ledger, index, keyring)
            proof = {"index": p.index, "treeSize": p.size, "leaf": p.leaf.hex(), "path": [h.hex() for h in p.path]}
            proof["checkpoint"] = p.checkpoint
        except LedgerError as e:
            proof_error = str(e)
        report = query.verify_store(ledger, keyring)
    verification = {
        "ok": report.ok,
        "entries": report.entries,
        "checkpoints": report.checkpoints,
        "problems": [{"index": p.index, "message": p.message} for p in report.problems],
        "thisEntry": [p.message for p in report.problems if p.index == index],
    }
    data = {
        "index": index,
        "statement": shown.statement,
        "signatures": signatures,
        "inclusionProof": proof,
        "inclusionProofError": proof_error,
        "verification": verification,
    }
    return Page("ledger_entry.html", f"Ledger entry {index}", data)


def _keyring(config: UiConfig) -> Keyring:
    return load_keyring(config.root / KEYS_DIR)


@contextmanager
def _opened(config: UiConfig) -> Iterator[Ledger | None]:
    try:
        ledger = Ledger.open(config.state_path, readonly=True)
    except (LedgerError, StateError):  # no store file, or no ledger in it: nothing recorded yet
        yield None
        return
    with ledger:
        yield ledger


def _matches(shown: query.Shown, wanted: Mapping[str, str]) -> bool:
    if wanted["action"] and wanted["action"] != shown.entry.action:
        return False
    if wanted["actor"] and wanted["actor"] not in shown.entry.actor:
        return False
    if wanted["subject"]:
        subjects = shown.statement.get("subject", [])
        return any(
            wanted["subject"] in s.get("name", "") or wanted["subject"] in s.get("digest", {}).get("sha256", "")
            for s in subjects
        )
    return True


def _row(shown: query.Shown) -> dict[str, Any]:
    return {
        "index": shown.index,
        "time": shown.entry.time,
        "action": shown.entry.action,
        "actor": shown.entry.actor,
        "autonomyLevel": shown.entry.autonomy_level,
        "subjects": [s.get("name") for s in shown.statement.get("subject", [])],
        "signers": list(shown.signers),
    }
