"""Dual-control requests: an entry prepared at the head, co-signed by approvers, then appended.

    maestro ledger request autonomy.raise --subject Agent/refund-bot=agents.yaml --level L4 --out req.dsse.json
    maestro ledger approve req.dsse.json --key ~/bob.key        # bob, then carol: distinct holders
    maestro ledger submit req.dsse.json                          # checked against the Policy's rules

A request file holds one DSSE envelope line. The ledger must not move on between ``request`` and
``submit`` (the entry names its index and the previous entry's hash); if it does, request again.
"""

from __future__ import annotations

from pathlib import Path

from maestro.ledger import dsse
from maestro.ledger import statement as st
from maestro.ledger.dualcontrol import holder
from maestro.ledger.errors import ApprovalError, LedgerError
from maestro.ledger.keys import SigningKey


def write(envelope: dsse.Envelope, path: Path) -> None:
    try:
        path.write_bytes(envelope.encode() + b"\n")
    except OSError as e:
        raise LedgerError(f"cannot write {path}: {e.strerror or e}") from e


def read(path: Path) -> tuple[dsse.Envelope, st.Entry]:
    try:
        raw = path.read_bytes().rstrip(b"\n")
    except OSError as e:
        raise LedgerError(f"cannot read {path}: {e.strerror or e}") from e
    try:
        envelope = dsse.decode(raw)
        return envelope, st.parse(envelope.payload)
    except (dsse.EnvelopeFormatError, st.StatementError) as e:
        raise LedgerError(f"{path} is not a ledger request ({e}); write one with `maestro ledger request`") from e


def approve(path: Path, key: SigningKey) -> st.Entry:
    """Add ``key``'s signature to the request at ``path``; the requester may not approve their own request."""
    envelope, entry = read(path)
    if key.name == holder(entry.actor):
        raise ApprovalError(f"'{key.name}' requested this '{entry.action}' and cannot approve it; ask someone else")
    if any(s.keyid == key.keyid for s in envelope.signatures):
        raise ApprovalError(f"'{key.name}' has already signed {path}; a key counts once")
    write(envelope.signed_by(key), path)
    return entry
