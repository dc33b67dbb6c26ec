"""Where keys live: the repository's trusted public keys and the user's signing key file.

Only the standard library is imported here, so the cheap question "does this repository keep a ledger?"
(``maestro.ledger.record``) costs no cryptography.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

KEY_ENV = "MAESTRO_LEDGER_KEY"
KEYS_DIR = Path(".maestro") / "keys"


def default_key_path() -> Path:
    """Where a user's signing key lives unless ``--key`` or ``$MAESTRO_LEDGER_KEY`` says otherwise."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "maestro" / "ledger.key"


def key_path(explicit: Path | None = None, env: Mapping[str, str] | None = None) -> Path:
    """The signing key to use: ``explicit``, else ``$MAESTRO_LEDGER_KEY``, else the user config folder."""
    if explicit is not None:
        return explicit
    value = (os.environ if env is None else env).get(KEY_ENV)
    return Path(value) if value else default_key_path()
