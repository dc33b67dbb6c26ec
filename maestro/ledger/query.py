"""Reading entries back: ``--since`` times, decoded entries for ``ledger show``, proofs for ``ledger prove``."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from maestro import state
from maestro.ledger import checkpoint as cp
from maestro.ledger import dsse
from maestro.ledger import statement as st
from maestro.ledger.errors import LedgerError
from maestro.ledger.keys import Keyring
from maestro.ledger.merkle import Tree, leaf_hash, verify_consistency, verify_inclusion
from maestro.ledger.store import Ledger
from maestro.ledger.verify import PARALLEL_FROM, CheckpointLine, Report, StoreEntries, read_checkpoint, verify

_AGO = re.compile(r"^(\d+)([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(text: str, now: datetime | None = None) -> str:
    """An ISO date or time (``2026-12-01``, ``2026-12-01T10:00:00Z``) or an age (``30m``, ``2h``, ``7d``),
    as the statement time format, for comparing with stored times."""
    now = now or datetime.now(UTC)
    match = _AGO.match(text.strip())
    try:
        if match:
            when = now - timedelta(**{_UNITS[match[2]]: int(match[1])})
        else:
            when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
            when = when if when.tzinfo else when.replace(tzinfo=UTC)
    except ValueError as e:
        raise LedgerError(
            f"--since '{text}' is neither a date/time (2026-12-01, 2026-12-01T10:00Z) nor an age (30m, 2h, 7d)"
        ) from e
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True, slots=True)
class Shown:
    index: int
    entry: st.Entry
    signers: tuple[str, ...]
    statement: dict[str, Any]


def has_ledger(path: Path | str) -> bool:
    """Whether ``path`` (a SQLite file or a PostgreSQL URL) holds a ledger (a new repository has none)."""
    if not (isinstance(path, str) and "://" in path) and not Path(path).exists():  # a URL is checked by connecting
        return False
    conn = state.connect(path, readonly=True)
    try:
        return state.schema_version(conn, "ledger") > 0
    finally:
        conn.close()


def show(ledger: Ledger, since: str | None = None, start: int = 0) -> Iterator[Shown]:
    for index, line in ledger.entries(start, since=since):
        try:
            envelope = dsse.decode(line)
            yield Shown(
                index,
                st.parse(envelope.payload),
                tuple(s.keyid[:16] for s in envelope.signatures),
                json.loads(envelope.payload),
            )
        except (dsse.EnvelopeFormatError, st.StatementError) as e:
            raise LedgerError(f"{ledger.where}: entry {index} is damaged ({e}); run `maestro ledger verify`") from e


@dataclass(frozen=True, slots=True)
class InclusionProof:
    index: int
    size: int
    leaf: bytes
    path: tuple[bytes, ...]
    checkpoint: str


@dataclass(frozen=True, slots=True)
class ConsistencyProof:
    old: int
    new: int
    path: tuple[bytes, ...]
    checkpoint: str


def _latest(ledger: Ledger, keyring: Keyring) -> tuple[cp.Checkpoint, str, Tree]:
    latest = ledger.latest_checkpoint()
    if latest is None:
        raise LedgerError(f"{ledger.where}: the ledger is empty; nothing to prove")
    signed = read_checkpoint(latest.envelope, keyring)
    return signed.checkpoint, signed.note, Tree(ledger.leaves()[: signed.checkpoint.size])


def prove_inclusion(ledger: Ledger, index: int, keyring: Keyring) -> InclusionProof:
    """The inclusion proof of entry ``index`` in the latest signed checkpoint, checked before it is returned."""
    checkpoint, note, tree = _latest(ledger, keyring)
    if not 0 <= index < checkpoint.size:
        raise LedgerError(f"no entry {index}: the latest checkpoint covers entries 0..{checkpoint.size - 1}")
    path = tree.inclusion_proof(index, checkpoint.size)
    leaf = tree.levels[0][index]
    if leaf_hash(ledger.lines(index, index + 1)[0]) != leaf:
        raise LedgerError(f"entry {index} no longer matches its stored hash; run `maestro ledger verify`")
    if not verify_inclusion(index, checkpoint.size, leaf, path, checkpoint.root):
        raise LedgerError(f"entry {index} does not prove against the signed checkpoint; run `maestro ledger verify`")
    return InclusionProof(index, checkpoint.size, leaf, tuple(path), note)


def prove_consistency(ledger: Ledger, old: int, keyring: Keyring) -> ConsistencyProof:
    """The consistency proof from the tree of ``old`` entries to the latest signed checkpoint, checked."""
    checkpoint, note, tree = _latest(ledger, keyring)
    if not 0 < old <= checkpoint.size:
        raise LedgerError(f"--from {old}: choose a size from 1 to {checkpoint.size}")
    path = tree.consistency_proof(old, checkpoint.size)
    if not verify_consistency(old, checkpoint.size, tree.root(old), checkpoint.root, path):
        raise LedgerError("the ledger is not consistent with its own checkpoint; run `maestro ledger verify`")
    return ConsistencyProof(old, checkpoint.size, tuple(path), note)


def verify_store(
    ledger: Ledger,
    keyring: Keyring,
    rules: list[Any] | None = None,
    *,
    trusted: list[str] | None = None,
    workers: int | None = None,
) -> Report:
    """Verify a ledger in the state store (entries, checkpoints, origin)."""
    checkpoints = [CheckpointLine(c.envelope) for c in ledger.checkpoints()]
    size = ledger.count()
    parallel = workers > 1 if workers is not None else size >= PARALLEL_FROM
    in_file = ledger.where != ":memory:" and parallel  # then each worker reads its own part of the file
    return verify(
        StoreEntries(ledger.where, size) if in_file else ledger.lines(),
        checkpoints,
        keyring,
        rules or [],
        origin=ledger.origin,
        trusted=trusted or [],
        workers=workers,
    )
