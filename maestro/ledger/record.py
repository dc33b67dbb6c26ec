"""Recording one action from a command (``maestro validate``), when a signing key is configured.

A repository opts in by committing public keys under ``.maestro/keys/``. Without that folder nothing is
recorded and nothing is read. With it, the user's signing key (``--key``, ``$MAESTRO_LEDGER_KEY`` or the
user config folder) signs the entry; a user without a key file records nothing, quietly.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from maestro import state
from maestro.ledger.errors import KeyFileError
from maestro.ledger.keys import KEY_ENV, KEYS_DIR, SigningKey, key_path, load_keyring, read_signing_key
from maestro.ledger.statement import Action
from maestro.ledger.store import Ledger


@dataclass(frozen=True, slots=True)
class Recorded:
    index: int | None
    store: Path | str
    note: str = ""


def configured_key(root: Path, explicit: Path | None = None) -> SigningKey | None:
    """The signing key to record with in the repository at ``root``, or None when it does not keep a ledger.

    A key named explicitly (``--key`` or ``$MAESTRO_LEDGER_KEY``) that cannot be used is an error; the
    default key file simply being absent is not.
    """
    if not (root / KEYS_DIR).is_dir():
        return None
    path = key_path(explicit)
    named = explicit is not None or bool(os.environ.get(KEY_ENV))
    if not named and not path.exists():
        return None
    return read_signing_key(path)


def record(
    root: Path, action: Callable[[str], Action], explicit_key: Path | None = None, store: Path | None = None
) -> Recorded | None:
    """Append ``action(signer's name)`` to the repository's ledger; None when the repository keeps none."""
    key = configured_key(root, explicit_key)
    if key is None:
        return None
    where = store or state.default_path(root)
    if load_keyring(root / KEYS_DIR).get(key.keyid) is None:
        raise KeyFileError(
            f"the signing key '{key.name}' is not among the trusted keys in {root / KEYS_DIR}; commit its public "
            "key (`maestro keys init` writes it), or pass --no-ledger"
        )
    with Ledger.open(where) as ledger:
        index = ledger.append([action(key.name)], key).start
    return Recorded(index, where)
