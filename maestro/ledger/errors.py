"""The ledger's exceptions (see the tree in ``maestro.ledger``)."""

from __future__ import annotations

from maestro.errors import MaestroError


class LedgerError(MaestroError):
    """The ledger cannot do what was asked; the message says which file and what to run."""


class KeyFileError(LedgerError):
    """A key file is missing, unreadable, malformed or readable by others. Never carries key bytes."""


class ExportFormatError(LedgerError):
    """An ``.intoto.jsonl`` export cannot be read as a maestro ledger, or belongs to another ledger."""


class ApprovalError(LedgerError):
    """An entry lacks the approvals a dual-control rule requires, or was prepared against an old head."""


class AnchorError(LedgerError):
    """Sigstore signing or bundle verification failed, or is not possible here."""
