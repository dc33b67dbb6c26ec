"""Everything ``create_app`` needs: built by ``maestro ui`` from the repository, or by hand in tests."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from maestro.gateway.config import ApiKey, api_keys_from_json
from maestro.ledger.keys import SigningKey
from maestro.ui.cache import ManifestCache

ROLES = ("viewer", "approver", "operator")  # each role may do what the ones before it may
KEYS_ENV = "MAESTRO_UI_KEYS"


@dataclass(frozen=True)
class UiConfig:
    root: Path  # the repository: its manifests, .maestro/keys/ and (by default) its state store
    state_path: Path | str  # the state store: switches, budgets, weights, lanes, evals, the ledger
    keys: Mapping[str, ApiKey]  # by bearer token; each key has a role in ROLES
    signing_key: SigningKey | None = None  # signs each action into the ledger; None: actions are refused
    manifest_paths: tuple[Path, ...] = ()  # default: the repository's manifests (maestro.manifests.validate)
    session_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))  # a restart logs everyone out
    environ: Mapping[str, str] | None = None  # where provider keys are looked up (default: the process's)
    transports: Mapping[str, httpx.AsyncBaseTransport] = field(default_factory=dict)  # by provider (tests)
    runs_url: str | None = None  # the runs' DBOS database (default: the repository's .maestro/runs.sqlite)
    secure_cookie: bool = False  # set the session cookie's Secure flag (behind HTTPS)
    manifest_cache: ManifestCache = field(default_factory=ManifestCache, compare=False, repr=False)

    def env(self) -> Mapping[str, str]:
        return os.environ if self.environ is None else self.environ

    def key_by_id(self, key_id: str) -> ApiKey | None:
        return next((k for k in self.keys.values() if k.id == key_id), None)


def keys_from_env(name: str, environ: Mapping[str, str] | None = None) -> dict[str, ApiKey]:
    """The UI's login keys from ``$name``: the gateway's key format with a ``role`` per key."""
    text = (os.environ if environ is None else environ).get(name, "")
    return api_keys_from_json(text, f"${name}", roles=ROLES) if text.strip() else {}


def allows(role: str, needed: str) -> bool:
    """Whether ``role`` may do what ``needed`` may (operator > approver > viewer)."""
    return role in ROLES and ROLES.index(role) >= ROLES.index(needed)
