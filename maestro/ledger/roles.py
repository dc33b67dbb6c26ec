"""Approver roles: which key holder may approve what, kept beside the trusted keys.

``.maestro/keys/roles.json`` maps a key holder's name to its roles::

    {"bob": ["refund-approver"], "carol": ["refund-approver", "platform-oncall"]}

So the people a repository trusts and what each may approve are reviewed in the same place and the same
commit. A holder missing from the file has no role; an approval that asks for no role counts any trusted key.
Run approvals (``maestro.runtime.approvals``) and rollout sign-offs (``maestro.delivery.approvals``) both read
it from here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path

from maestro.ledger.errors import LedgerError
from maestro.ledger.keys import KEYS_DIR

ROLES_FILE = "roles.json"
_EXAMPLE = '{"bob": ["refund-approver"]}'

Roles = Mapping[str, frozenset[str]]


class RolesError(LedgerError):
    """``roles.json`` cannot be read or is not a map of key holders to lists of roles."""


def load_roles(keys_dir: Path) -> dict[str, frozenset[str]]:
    """The roles of each key holder (``keys_dir/roles.json``; none when the file is absent)."""
    path = keys_dir / ROLES_FILE
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise RolesError(f"cannot read the approver roles {path}: {e}; fix the file (a JSON object)") from e
    if not isinstance(data, dict) or not all(
        isinstance(v, list) and all(isinstance(r, str) for r in v) for v in data.values()
    ):
        raise RolesError(f"the approver roles {path} must map each key holder to a list of roles, as {_EXAMPLE}")
    return {str(name): frozenset(roles) for name, roles in data.items()}


def trusted_roles(root: Path) -> dict[str, frozenset[str]]:
    """The roles of the repository at ``root`` (``.maestro/keys/roles.json``)."""
    return load_roles(root / KEYS_DIR)


def grant(keys_dir: Path, name: str, roles: list[str]) -> Path:
    """Give ``name`` the approver ``roles`` in ``keys_dir/roles.json`` (kept beside the trusted keys, to commit)."""
    held = load_roles(keys_dir)
    held[name] = held.get(name, frozenset()) | frozenset(roles)
    path = keys_dir / ROLES_FILE
    data = {holder: sorted(r) for holder, r in sorted(held.items())}
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return path


def missing(name: str, wanted: Iterable[str], roles: Roles | None) -> str:
    """Why ``name``'s approval does not count for one that asks for one of ``wanted`` ('' when it does)."""
    asked = sorted(set(wanted))
    held = (roles or {}).get(name, frozenset())
    if not asked or held & set(asked):
        return ""
    has = f"holds {', '.join(sorted(held))}" if held else "holds no role"
    return f"'{name}' {has}; this needs one of {', '.join(asked)} (.maestro/keys/{ROLES_FILE} gives roles)"
