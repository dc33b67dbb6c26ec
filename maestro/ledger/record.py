"""Recording evidence: the one way a command or a subsystem appends to the repository's ledger.

A repository opts in by committing public keys under ``.maestro/keys/``. Without that folder nothing is
recorded and nothing is read. With it, the user's signing key (``--key``, ``$MAESTRO_LEDGER_KEY`` or the
user config folder) signs the entries; a user without a key file records nothing, quietly. A key that is
not among the repository's trusted keys is refused, with one message for every caller (``trusted_key``).
The store is the repository's state store (``maestro.state.default_path``: ``$MAESTRO_STATE_URL``, a
PostgreSQL URL or a SQLite file, else ``.maestro/state.db``)::

    from maestro.ledger.record import record, recorder

    record(root, lambda signer: Action("validate", signer, ...), key)   # one entry now; None without a ledger

    rec = recorder(root, key)                                   # None: no ledger here, or no key configured
    if rec is not None:
        rec.append([Action(..., actor=rec.signer)])             # signed and stored before it returns
        writer = rec.writer()                                   # or queued, signed on a thread (the gateway)

Each subsystem builds its own actions (``maestro.evidence``); this module only signs and stores them.
Importing it is cheap: the keys, the store and their cryptography are imported only where a repository
keeps a ledger (``tests/ledger/test_record.py`` checks which modules an import pulls).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from maestro import state
from maestro.evidence import Action
from maestro.ledger.paths import KEY_ENV, KEYS_DIR, key_path

if TYPE_CHECKING:
    from maestro.ledger.keys import SigningKey
    from maestro.ledger.writer import Writer

Build = Callable[[str], Action | Sequence[Action]]  # the signer's name -> what to record (its actor is bound to it)


@dataclass(frozen=True, slots=True)
class Recorded:
    """Where entries went: the index of the first and the store."""

    index: int | None
    store: Path | str


def keeps_ledger(root: Path) -> bool:
    """Whether the repository at ``root`` keeps a ledger (it commits trusted public keys in ``.maestro/keys/``)."""
    return (root / KEYS_DIR).is_dir()


def configured_key(root: Path, explicit: Path | None = None) -> SigningKey | None:
    """The signing key to record with in the repository at ``root``, or None when it does not keep a ledger.

    A key named explicitly (``--key`` or ``$MAESTRO_LEDGER_KEY``) that cannot be used is an error; the
    default key file simply being absent is not. Whether the repository trusts it is ``trusted_key``'s question.
    """
    if not keeps_ledger(root):
        return None
    path = key_path(explicit)
    named = explicit is not None or bool(os.environ.get(KEY_ENV))
    if not named and not path.exists():
        return None
    from maestro.ledger.keys import read_signing_key

    return read_signing_key(path)


def trusted_key(root: Path, explicit: Path | None = None) -> SigningKey | None:
    """``configured_key``, refused (``KeyFileError``) unless its public key is among the repository's trusted keys.

    The one trust check: every command and subsystem that records goes through it.
    """
    key = configured_key(root, explicit)
    if key is None:
        return None
    from maestro.ledger.errors import KeyFileError
    from maestro.ledger.keys import load_keyring

    if load_keyring(root / KEYS_DIR).get(key.keyid) is None:
        raise KeyFileError(
            f"the signing key '{key.name}' is not among the trusted keys in {root / KEYS_DIR}; commit its public "
            "key (`maestro keys init` writes it), or pass --no-ledger"
        )
    return key


@dataclass(frozen=True, slots=True)
class Recorder:
    """Records into one store, signed by one trusted key. Get one with ``recorder(root, key)``."""

    key: SigningKey
    store: Path | str

    @property
    def signer(self) -> str:
        """The key holder's name: an action's actor is ``signer`` or ``ROLE:signer``."""
        return self.key.name

    def append(self, actions: Action | Sequence[Action]) -> Recorded:
        """Sign and append ``actions`` in one transaction; they are stored when this returns."""
        from maestro.ledger.store import Ledger

        batch = [actions] if isinstance(actions, Action) else list(actions)
        with Ledger.open(self.store) as ledger:
            index = ledger.append(batch, self.key).start if batch else None
        return Recorded(index, self.store)

    def writer(self, **options: Any) -> Writer:
        """A background ``Writer`` on this store and key (hot paths: ``submit`` never signs or waits)."""
        from maestro.ledger.writer import Writer

        return Writer(self.store, self.key, **options)


def recorder(root: Path, key: Path | None = None, *, store: Path | str | None = None) -> Recorder | None:
    """The recorder of the repository at ``root``; None where it keeps no ledger or no signing key is configured.

    ``key`` is ``--key`` (else ``$MAESTRO_LEDGER_KEY``, else the user's key file); ``store`` overrides the
    repository's state store. An untrusted or unreadable key named explicitly is a ``KeyFileError``.
    """
    signing = trusted_key(root, key)
    if signing is None:
        return None
    return Recorder(signing, store or state.default_path(root))


def record(root: Path, build: Build, key: Path | None = None, store: Path | str | None = None) -> Recorded | None:
    """Append ``build(signer)`` to the repository's ledger now; None when the repository keeps none."""
    rec = recorder(root, key, store=store)
    if rec is None:
        return None
    return rec.append(build(rec.signer))
