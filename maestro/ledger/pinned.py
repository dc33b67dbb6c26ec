"""The trusted keys as they are at a git revision, read with git rather than from the checkout.

A pull request can add its own approver key to ``.maestro/keys/`` in the checkout; ``ledger verify
--keys-from main`` trusts only the keys committed on ``main``::

    keyring = keyring_at(repository_root, "origin/main")

The files are read from the revision's tree (``git ls-tree`` and ``git cat-file``), never from the working
tree, so neither an edited file nor a symlink in the checkout can change what is trusted.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

from maestro.ledger.errors import KeyFileError
from maestro.ledger.keys import KEYS_DIR, Keyring, PublicKey

_TIMEOUT_S = 30


def keyring_at(root: Path, ref: str) -> Keyring:
    """Every ``*.pub`` in ``.maestro/keys/`` at ``ref`` in the repository at ``root``."""
    if not ref or ref.startswith("-"):
        raise KeyFileError(f"'{ref}' is not a git revision; name a branch, tag or commit (e.g. --keys-from main)")
    commit = _git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], root, ref).decode().strip()
    folder = KEYS_DIR.as_posix()
    listing = _git(["ls-tree", "-z", commit, "--", f"{folder}/"], root, ref)
    keys, places = [], []
    for item in filter(None, listing.split(b"\0")):
        meta, _, name_bytes = item.partition(b"\t")
        mode, kind, blob = meta.decode().split(" ")
        name = name_bytes.decode("utf-8", "replace")
        if not name.endswith(".pub"):
            continue
        where = f"{ref}:{name}"
        if kind != "blob" or mode not in ("100644", "100755"):
            raise KeyFileError(f"{where} is not a plain file at {ref}; a trusted key must be a committed file")
        raw = _git(["cat-file", "blob", blob], root, ref)
        try:
            text = raw.decode("ascii")
        except UnicodeDecodeError as e:
            raise KeyFileError(f"{where}: not a maestro public key (not text); replace it with the original") from e
        keys.append(PublicKey.parse(text, where))
        places.append(where)
    return Keyring.of(keys, places)


def _git(args: Sequence[str], root: Path, ref: str) -> bytes:
    try:
        done = subprocess.run(["git", *args], cwd=root, capture_output=True, timeout=_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise KeyFileError(f"cannot run git in {root} to read the keys at {ref}: {e}") from e
    if done.returncode != 0:
        raise KeyFileError(
            f"'{ref}' is not a git revision of {root}; fetch it first (e.g. `git fetch origin main`) "
            "or name a branch, tag or commit"
        )
    return done.stdout
