"""Text and JSON for ledger results (plain data in, strings out; no terminal code)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from typing import Any

from maestro.ledger.query import ConsistencyProof, InclusionProof, Shown
from maestro.ledger.verify import Report

SHOWN_PROBLEMS = 20


def report_text(report: Report, what: str) -> str:
    if report.ok:
        return (
            f"ok: {what}: {report.entries} entries, {report.checkpoints} checkpoints, every signature, link and "
            f"checkpoint verifies (origin {report.origin})\n"
        )
    lines = [
        f"FAILED: {what}: the log breaks at entry {report.first_break}"
        if report.first_break is not None
        else f"FAILED: {what}"
    ]
    for problem in report.problems[:SHOWN_PROBLEMS]:
        lines.append(f"  {problem.message}")
    more = len(report.problems) - SHOWN_PROBLEMS + report.omitted
    if more > 0:
        lines.append(f"  ... and {more} more")
    return "\n".join(lines) + "\n"


def report_dict(report: Report, what: str) -> dict[str, Any]:
    return {
        "source": what,
        "ok": report.ok,
        "entries": report.entries,
        "checkpoints": report.checkpoints,
        "origin": report.origin,
        "firstBreak": report.first_break,
        "problems": [{"index": p.index, "message": p.message} for p in report.problems],
        "omitted": report.omitted,
    }


FIRST_ENTRY = (
    "maestro records an entry for `maestro validate`, `maestro eval` and `maestro gate` once the repository "
    "has a signing key: run `maestro keys init`, then `maestro validate`"
)


def shown_text(entries: Iterable[Shown]) -> str:
    lines = []
    for s in entries:
        e = s.entry
        level = f" {e.autonomy_level}" if e.autonomy_level else ""
        lines.append(f"{s.index:>6}  {e.time}  {e.action:<16} {e.actor}{level}  signed by {', '.join(s.signers)}")
    return "\n".join(lines) + "\n" if lines else "no entries\n"


def empty_text(where: str) -> str:
    """What ``ledger show`` says where no ledger exists yet, and the command that writes the first entry."""
    return f"no ledger entries yet ({where} holds none); {FIRST_ENTRY}\n"


def shown_json(entries: Iterable[Shown]) -> str:
    return "\n".join(json.dumps({"index": s.index, "statement": s.statement}, sort_keys=True) for s in entries) + "\n"


def _b64(items: Iterable[bytes]) -> list[str]:
    return [base64.b64encode(x).decode() for x in items]


def inclusion_dict(proof: InclusionProof) -> dict[str, Any]:
    return {
        "index": proof.index,
        "treeSize": proof.size,
        "leafHash": base64.b64encode(proof.leaf).decode(),
        "inclusionPath": _b64(proof.path),
        "checkpoint": proof.checkpoint,
    }


def consistency_dict(proof: ConsistencyProof) -> dict[str, Any]:
    return {
        "oldSize": proof.old,
        "newSize": proof.new,
        "consistencyPath": _b64(proof.path),
        "checkpoint": proof.checkpoint,
    }


def inclusion_text(proof: InclusionProof) -> str:
    path = "\n".join(f"  {h}" for h in _b64(proof.path)) or "  (empty: the tree has one entry)"
    return (
        f"entry {proof.index} is in the signed tree of {proof.size} entries (verified)\n"
        f"leaf hash: {base64.b64encode(proof.leaf).decode()}\ninclusion path:\n{path}\ncheckpoint:\n{proof.checkpoint}"
    )


def consistency_text(proof: ConsistencyProof) -> str:
    path = "\n".join(f"  {h}" for h in _b64(proof.path)) or "  (empty)"
    return (
        f"the tree of {proof.old} entries is a prefix of the signed tree of {proof.new} (verified)\n"
        f"consistency path:\n{path}\ncheckpoint:\n{proof.checkpoint}"
    )
