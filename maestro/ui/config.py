"""Everything ``create_app`` needs: built by ``maestro ui`` from the repository, or by hand in tests."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from maestro.gateway.config import ApiKey, ConfigError, api_keys_from_json
from maestro.ledger.keys import SigningKey, read_signing_key
from maestro.ui.cache import ManifestCache, RunCache

ROLES = ("viewer", "approver", "operator")  # each role may do what the ones before it may
KEYS_ENV = "MAESTRO_UI_KEYS"


@dataclass(frozen=True)
class UiConfig:
    root: Path  # the repository: its manifests, .maestro/keys/ and (by default) its state store
    state_path: Path | str  # the state store: switches, budgets, weights, lanes, evals, the ledger
    keys: Mapping[str, ApiKey]  # by bearer token; each key has a role in ROLES
    signing_key: SigningKey | None = None  # signs each action into the ledger; None: actions are refused
    signers: Mapping[str, SigningKey] = field(default_factory=dict)  # by UI key id: that person's own ledger key
    manifest_paths: tuple[Path, ...] = ()  # default: the repository's manifests (maestro.manifests.validate)
    session_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))  # a restart logs everyone out
    environ: Mapping[str, str] | None = None  # where provider keys are looked up (default: the process's)
    transports: Mapping[str, httpx.AsyncBaseTransport] = field(default_factory=dict)  # by provider (tests)
    runs_url: str | None = None  # the runs' DBOS database (default: the repository's .maestro/runs.sqlite)
    secure_cookie: bool = False  # set the session cookie's Secure flag (behind HTTPS)
    grafana_url: str | None = None  # the Grafana /obs links to and embeds from ($MAESTRO_GRAFANA_URL)
    manifest_cache: ManifestCache = field(default_factory=ManifestCache, compare=False, repr=False)
    run_cache: RunCache = field(default_factory=RunCache, compare=False, repr=False)

    def env(self) -> Mapping[str, str]:
        return os.environ if self.environ is None else self.environ

    def key_by_id(self, key_id: str) -> ApiKey | None:
        return next((k for k in self.keys.values() if k.id == key_id), None)


def keys_from_env(name: str, environ: Mapping[str, str] | None = None) -> dict[str, ApiKey]:
    """The UI's login keys from ``$name``: the gateway's key format with a ``role`` per key (and an optional
    ``ledgerKey``, read by ``signers_from_env``)."""
    text = (os.environ if environ is None else environ).get(name, "")
    if not text.strip():
        return {}
    entries = _entries(text, name)
    bare = [{k: v for k, v in e.items() if k != LEDGER_KEY} if isinstance(e, dict) else e for e in entries]
    return api_keys_from_json(json.dumps(bare), f"${name}", roles=ROLES)


def signers_from_env(
    name: str, environ: Mapping[str, str] | None = None, base: Path | None = None
) -> dict[str, SigningKey]:
    """Each login's own ledger signing key, by key id: ``"ledgerKey": "PATH"`` in its entry of ``$name`` (a
    relative path is read from ``base``). An approval in the UI by that login is signed with it, so two people
    approving count as two keys; a login without one acts with the UI's key (``--key``)."""
    text = (os.environ if environ is None else environ).get(name, "")
    out: dict[str, SigningKey] = {}
    for i, entry in enumerate(_entries(text, name) if text.strip() else []):
        if not isinstance(entry, dict) or entry.get(LEDGER_KEY) is None:
            continue
        path = entry[LEDGER_KEY]
        if not isinstance(path, str) or not path:
            raise ConfigError(f"${name}[{i}] ('{entry.get('id')}'): 'ledgerKey' must be the path of a signing key file")
        out[str(entry.get("id"))] = read_signing_key((base or Path.cwd()) / Path(path).expanduser())
    return out


LEDGER_KEY = "ledgerKey"


def _entries(text: str, name: str) -> list[object]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ConfigError(f"${name} is not valid JSON ({e.msg}); expected a list of {{id, token, role}}") from None
    if not isinstance(data, list):
        raise ConfigError(f"${name} must be a JSON list of {{id, token, role}} objects")
    return data


def allows(role: str, needed: str) -> bool:
    """Whether ``role`` may do what ``needed`` may (operator > approver > viewer)."""
    return role in ROLES and ROLES.index(role) >= ROLES.index(needed)
