"""API keys read from the environment variables a Provider manifest names; the value never leaves here in text."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

REDACTED = "[redacted]"


@dataclass(frozen=True, slots=True)
class Secret:
    """A key and the name of the variable it came from. ``repr`` and ``str`` show only the name."""

    env: str
    value: str = field(repr=False)

    def __str__(self) -> str:
        return f"<secret from ${self.env}>"

    def __repr__(self) -> str:
        return f"Secret(env={self.env!r}, value={REDACTED!r})"


def resolve(env: str | None, environ: Mapping[str, str] | None = None) -> Secret | None:
    """The secret in ``$env``; None when no variable is named or it is unset or empty."""
    if not env:
        return None
    value = (os.environ if environ is None else environ).get(env, "")
    return Secret(env, value) if value else None


def redact(text: str, secrets: Iterable[Secret | None]) -> str:
    """``text`` with every secret value (of four characters or more) replaced by a marker."""
    for secret in secrets:
        if secret is not None and len(secret.value) >= 4:
            text = text.replace(secret.value, REDACTED)
    return text
