"""Export and import as ``.intoto.jsonl``: one DSSE envelope per line, in-toto Statements inside.

Line 1 is the head: the latest checkpoint (a Statement of predicate type ``.../ledger/checkpoint/v1``), so
a file cut short is told from a shorter ledger. Then every entry in order, each checkpoint right after the
entry that completed it.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from maestro.ledger import checkpoint as cp
from maestro.ledger.dualcontrol import Rule
from maestro.ledger.errors import ExportFormatError, LedgerError
from maestro.ledger.keys import Keyring
from maestro.ledger.store import Ledger, StoredCheckpoint
from maestro.ledger.verify import CheckpointLine, Report, read_checkpoint, verify

# Checkpoint lines are told from entries without decoding them: a canonical checkpoint statement starts so.
_PREFIX = b'{"_type":"https://in-toto.io/Statement/v1","predicate":{"checkpoint":'
_CHECKPOINT_START = b'{"payload":"' + base64.b64encode(_PREFIX[: len(_PREFIX) // 3 * 3])


@dataclass(frozen=True)
class Export:
    path: Path
    head: bytes | None
    entries: list[bytes]
    checkpoints: list[CheckpointLine]


def write(ledger: Ledger, path: Path) -> int:
    """Write the whole ledger to ``path`` (atomically: a temporary file renamed); return the entry count."""
    checkpoints = {c.size: c for c in ledger.checkpoints()}
    latest = ledger.latest_checkpoint()
    if latest is None:
        raise LedgerError(f"{ledger.where}: the ledger is empty; nothing to export")
    tmp = path.with_name(path.name + ".tmp")
    count = 0
    try:
        with tmp.open("wb") as f:
            f.write(latest.envelope + b"\n")
            for index, line in ledger.entries():
                f.write(line + b"\n")
                count = index + 1
                if count in checkpoints:
                    f.write(checkpoints[count].envelope + b"\n")
        os.replace(tmp, path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise LedgerError(f"cannot write {path}: {e.strerror or e}") from e
    return count


def read(path: Path) -> Export:
    """Split an export into its head, entries and checkpoints (unverified)."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise ExportFormatError(f"cannot read {path}: {e.strerror or e}") from e
    return parse(raw, path)


def parse(raw: bytes, path: Path) -> Export:
    """``read`` over bytes already in memory (``path`` names them in messages)."""
    if not raw:
        raise ExportFormatError(f"{path} is empty; export a ledger with `maestro ledger export {path}`")
    lines = raw.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    if not any(line.startswith(_CHECKPOINT_START) for line in lines):
        raise ExportFormatError(
            f"{path}: holds no ledger checkpoint; it is not a maestro ledger export "
            "(write one with `maestro ledger export FILE`)"
        )
    entries: list[bytes] = []
    checkpoints: list[CheckpointLine] = []
    for line in lines[1:]:
        if line.startswith(_CHECKPOINT_START):
            checkpoints.append(CheckpointLine(line, len(entries)))
        else:
            entries.append(line)
    return Export(path, lines[0], entries, checkpoints)


def verify_file(
    path: Path, keyring: Keyring, rules: Iterable[Rule] = (), *, trusted: Iterable[str] = (), workers: int | None = None
) -> Report:
    export = read(path)
    return verify(
        export.entries,
        export.checkpoints,
        keyring,
        list(rules),
        head=export.head,
        trusted=list(trusted),
        workers=workers,
    )


def import_file(ledger: Ledger, path: Path, keyring: Keyring, rules: Iterable[Rule] = ()) -> int:
    """Verify the export, check it extends this ledger, then add what this store lacks."""
    export = read(path)
    report = verify(export.entries, export.checkpoints, keyring, list(rules), head=export.head)
    if not report.ok:
        first = report.problems[0]
        raise ExportFormatError(f"{path} does not verify ({first.message}); run `maestro ledger verify {path}`")
    assert export.head is not None  # read() guarantees a head line
    origin = read_checkpoint(export.head, keyring).checkpoint.origin
    size = ledger.size()
    if size and ledger.origin != origin:
        raise ExportFormatError(
            f"{path} is an export of another ledger ({origin}); this store holds {ledger.origin}. "
            "Import it into an empty store (another --state file)"
        )
    if size > len(export.entries) or ledger.leaves() != _leaves(export.entries[:size]):
        raise ExportFormatError(
            f"{path} does not extend this ledger: its first {min(size, len(export.entries))} entries differ "
            "from the store's; run `maestro ledger verify` on both"
        )
    stored = [_stored(c, keyring) for c in export.checkpoints]
    return ledger.import_lines(export.entries, stored, origin)


def _leaves(lines: list[bytes]) -> list[bytes]:
    from maestro.ledger.merkle import leaf_hash

    return [leaf_hash(line) for line in lines]


def _stored(line: CheckpointLine, keyring: Keyring) -> StoredCheckpoint:
    signed: cp.SignedCheckpoint = read_checkpoint(line.envelope, keyring)
    return StoredCheckpoint(signed.checkpoint.size, signed.note, line.envelope)
