"""The provenance ledger: every action as a signed in-toto Statement, in an append-only Merkle log.

An entry is an in-toto Statement v1 (``statement``) in a DSSE envelope signed with Ed25519 (``dsse``,
``keys``), chained to the entry before and stored in the state store (``store``), with an RFC 6962 Merkle
tree (``merkle``) and a signed C2SP checkpoint after every append (``checkpoint``). ``verify`` checks it all
offline; ``export`` writes and reads ``.intoto.jsonl``; ``anchor`` signs a checkpoint with Sigstore.

For a hot path (the gateway), the whole API is::

    from maestro.evidence import Action, Subject, PolicyResult
    from maestro.ledger.record import recorder

    rec = recorder(root, key_file)                      # once, at start-up: None where no ledger is kept
    writer = rec.writer()                               # the repository's store, a trusted key; one thread
    writer.submit(Action(                               # never signs, does I/O or waits (LedgerError if 100k wait)
        action="route", actor=f"gateway:{rec.signer}",  # the actor is bound to the signer: ROLE:NAME or NAME
        subjects=[Subject.of("request", body), Subject.of("response", answer)],
        manifests={"Route/support-chat": route_hash},
        policies=[PolicyResult("default/no-credentials-to-training-providers", "pass")],
        autonomy_level="L2", cost_usd=0.0012, trace_id=trace_id, span_id=span_id,
        details={"provider": "openai-us", "model": "gpt-4o-mini"}))
    writer.flush()                                      # optional: wait until all submitted are appended
    writer.close()                                      # on shutdown: appends everything, then returns

Exceptions (all ``maestro.errors.MaestroError``, so the CLI maps them to exit 2)::

    LedgerError                 the store cannot be read or appended to; nothing half-written
    ├── KeyFileError            a key file is missing, unreadable, malformed or open to other users
    ├── ExportFormatError       not a ledger export, or an export of another ledger
    ├── ApprovalError           approvals fall short or expired, the actor did not sign, the request went stale
    └── AnchorError             Sigstore signing or bundle verification failed or is unavailable

Tampering found by ``verify`` is not an exception: it is a ``Report`` of ``Problem``s (exit 1).

To record evidence from a command or a subsystem, use ``maestro.ledger.record`` (``recorder``, ``record``): it
finds the repository's store and signing key, checks the key is trusted, and does nothing where the repository
keeps no ledger. The names below are loaded on first use, so ``import maestro.ledger.record`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from maestro.evidence import Action, PolicyResult, Subject
    from maestro.ledger.dualcontrol import Rule, rules_from
    from maestro.ledger.errors import AnchorError, ApprovalError, ExportFormatError, KeyFileError, LedgerError
    from maestro.ledger.keys import Keyring, PublicKey, SigningKey, load_keyring, read_signing_key
    from maestro.ledger.paths import key_path
    from maestro.ledger.store import Ledger
    from maestro.ledger.verify import Problem, Report
    from maestro.ledger.writer import Writer

_WHERE = {  # name -> the module that defines it, imported when the name is first used
    "Action": "maestro.evidence",
    "PolicyResult": "maestro.evidence",
    "Subject": "maestro.evidence",
    "Rule": "maestro.ledger.dualcontrol",
    "rules_from": "maestro.ledger.dualcontrol",
    "AnchorError": "maestro.ledger.errors",
    "ApprovalError": "maestro.ledger.errors",
    "ExportFormatError": "maestro.ledger.errors",
    "KeyFileError": "maestro.ledger.errors",
    "LedgerError": "maestro.ledger.errors",
    "Keyring": "maestro.ledger.keys",
    "PublicKey": "maestro.ledger.keys",
    "SigningKey": "maestro.ledger.keys",
    "load_keyring": "maestro.ledger.keys",
    "read_signing_key": "maestro.ledger.keys",
    "key_path": "maestro.ledger.paths",
    "Ledger": "maestro.ledger.store",
    "Problem": "maestro.ledger.verify",
    "Report": "maestro.ledger.verify",
    "Writer": "maestro.ledger.writer",
}


def __getattr__(name: str) -> object:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module 'maestro.ledger' has no attribute '{name}'")
    value = getattr(importlib.import_module(where), name)
    globals()[name] = value
    return value


__all__ = [
    "Action",
    "AnchorError",
    "ApprovalError",
    "ExportFormatError",
    "KeyFileError",
    "Keyring",
    "Ledger",
    "LedgerError",
    "PolicyResult",
    "Problem",
    "PublicKey",
    "Report",
    "Rule",
    "SigningKey",
    "Subject",
    "Writer",
    "key_path",
    "load_keyring",
    "read_signing_key",
    "rules_from",
]
