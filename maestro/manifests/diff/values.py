"""Values inside manifests: the absent marker, a canonical form to compare by, and how a value is shown."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any, Final


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "<missing>"


MISSING: Final = _Missing()
"""Stands for a key or list item that one side does not have (unlike None, which a manifest may hold)."""


def canon(value: Any) -> str:
    """A canonical text for comparing values: key order does not count, and 1.0 is 1."""
    return json.dumps(_normal(value), sort_keys=True, ensure_ascii=False, default=repr)


def _normal(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {str(k): _normal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normal(v) for v in value]
    return value


def same(a: Any, b: Any) -> bool:
    if a is MISSING or b is MISSING:
        return a is b
    return canon(a) == canon(b)


def brief(value: Any) -> str:
    """The value in a few words, for a reason."""
    if value is MISSING or value is None:
        return "nothing"
    if isinstance(value, list):
        return ", ".join(brief(v) for v in value) or "nothing"
    if isinstance(value, str):
        return f"'{value}'" if len(value) <= 40 else f"'{value[:39]}…'"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = canon(value)
    return text if len(text) <= 40 else text[:39] + "…"


_SECRET_KEYS: Final = frozenset({"apikey", "api_key", "password", "secret", "token", "authorization"})
_SECRET_TEXT = re.compile(
    r"\b(?:sk|pk|rk)-[A-Za-z0-9_-]{12,}|\bghp_[A-Za-z0-9]{20,}|\bAKIA[0-9A-Z]{16}\b|\bBearer\s+[A-Za-z0-9._~+/=-]{12,}"
)
REDACTED: Final = "<redacted>"


def shown(fields: Iterable[str], value: Any) -> Any:
    """The value at ``fields`` as a report may show it: absent is None, anything that may be a secret redacted."""
    if value is MISSING:
        return None
    secret = False
    for field in fields:
        secret = _secret(field, secret)
    return _redact(value, secret)


def _secret(key: Any, inside_secret: bool) -> bool:
    """Whether the value under ``key`` may be a secret: a secret-like key, or anything under one but ``env``."""
    return str(key).lower() in _SECRET_KEYS or (inside_secret and key != "env")


def _redact(value: Any, secret: bool) -> Any:
    if isinstance(value, dict):
        return {k: _redact(v, _secret(k, secret)) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v, secret) for v in value]
    if isinstance(value, str) and (secret or _SECRET_TEXT.search(value)):
        return REDACTED
    return value
