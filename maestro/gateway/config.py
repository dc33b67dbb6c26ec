"""Everything ``create_app`` needs, built from a validated manifest set or by hand in tests."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

import httpx
from opentelemetry.trace import TracerProvider

from maestro.errors import MaestroError
from maestro.lane import LaneConfig, lanes_of
from maestro.manifests.loader import ManifestSet
from maestro.providers import ProviderSpec, specs_of
from maestro.router import Budget, Decision, RouterTable, RouteSettings, build
from maestro.state.weights import Change


class Service(Protocol):
    """Something the gateway runs beside itself for its lifetime (the rollout controller)."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


# (decision, the deployment that served or None, cost in USD): the ledger's seam
RecordSink = Callable[[Decision, str | None, float], None]


@dataclass(frozen=True, slots=True)
class BreakerSettings:
    """A deployment's circuit opens after ``failures`` provider faults in a row and stays open ``cooldown_s``;
    then exactly one probe is let through (half-open). A deployment that has left an attempt waiting for its
    first token past ``silent_after`` of the deadline is tried after the rest of the order (0: never)."""

    failures: int = 3
    cooldown_s: float = 5.0
    silent_after: float = 0.5


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A gateway key: its id (what budgets' ``scope.apiKey`` names), the team it bills to and the caller it
    speaks for (``request.caller`` in route rules and pins; the key's id when not given). When keys are
    configured these are the request's identity: a body or header naming another team or caller is refused."""

    id: str
    team: str = ""
    caller: str = ""
    role: str = ""  # the UI's keys only (viewer, approver, operator): see ``api_keys_from_json(roles=...)``

    @property
    def who(self) -> str:
        """The caller this key speaks for."""
        return self.caller or self.id


@dataclass(frozen=True)
class GatewayConfig:
    table: RouterTable
    providers: Mapping[str, ProviderSpec]
    routes: Mapping[str, RouteSettings] = field(default_factory=dict)  # by route name: overrides of the table's
    environ: Mapping[str, str] | None = None  # where keys are read (default: the process environment)
    transports: Mapping[str, httpx.AsyncBaseTransport] = field(default_factory=dict)  # by provider (tests)
    max_body_bytes: int = 1024 * 1024
    body_timeout_s: float = 10.0  # a chat body must arrive within this long after its headers (else 408)
    default_max_tokens: int = 256  # the answer's limit when the caller sets no max_tokens (sent upstream)
    max_in_flight: int = 1024  # chat requests in progress before new ones get a 503 at once (0: no limit)
    stall_s: float = 10.0
    default_first_token_s: float = 15.0
    max_retry_after_s: float = 10.0
    breaker: BreakerSettings = field(default_factory=BreakerSettings)
    admin_token_env: str = "MAESTRO_ADMIN_TOKEN"
    api_keys: Mapping[str, ApiKey] = field(default_factory=dict)  # by bearer token; empty: no key needed
    budgets: tuple[Budget, ...] = ()
    state_path: Path | str = ":memory:"  # budgets and switches; a file shares them between processes
    record: RecordSink | None = None
    record_change: Callable[[Change], None] | None = None  # live weight changes made through /admin/weights
    tracer_provider: TracerProvider | None = None
    reload: Callable[[], GatewayConfig] | None = None  # how POST /admin/reload rebuilds (None: not offered)
    lanes: Mapping[str, LaneConfig] = field(default_factory=dict)  # vLLM lanes whose /metrics are polled
    lane_poll_s: float = 1.0
    # started in the app's lifespan and stopped at shutdown (the rollout controller): objects with start()/stop()
    services: tuple[Service, ...] = ()

    def route(self, name: str) -> RouteSettings:
        """Route ``name``'s settings: those in ``routes`` when it names the route (tests), else the table's."""
        if name in self.routes:
            return self.routes[name]
        return self._table_settings.get(name, RouteSettings())

    @cached_property
    def _table_settings(self) -> Mapping[str, RouteSettings]:
        return {t.name: t.settings for t in self.table.routes.values()}


class ConfigError(MaestroError):
    """The gateway's own settings (not the manifests) are wrong; the message says which and how to fix it."""


def api_keys_from_json(text: str, where: str, *, roles: Collection[str] = ()) -> dict[str, ApiKey]:
    """Gateway keys from JSON: ``[{"id": "support-bot", "token": "...", "team": "support", "caller": "bot"}]``
    (``team`` and ``caller`` optional; the caller defaults to the id). With ``roles`` (the UI's keys) each key
    also needs a ``role`` among them; without, a ``role`` is refused like any unknown field."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ConfigError(f"{where} is not valid JSON ({e.msg}); expected a list of {_SHAPE}") from None
    if not isinstance(data, list):
        raise ConfigError(f"{where} must be a JSON list of {_SHAPE} objects")
    out: dict[str, ApiKey] = {}
    for i, entry in enumerate(data):
        if (
            not isinstance(entry, dict)
            or set(entry) - {"id", "token", "team", "caller", *(("role",) if roles else ())}
            or not all(isinstance(entry.get(k), str) and entry.get(k) for k in ("id", "token"))
            or not all(isinstance(entry.get(k, ""), str) for k in ("team", "caller"))
        ):
            raise ConfigError(
                f"{where}[{i}] must be an object with string 'id' and 'token' (and optional 'team', 'caller')"
            )
        if roles and entry.get("role") not in roles:
            raise ConfigError(f"{where}[{i}] ('{entry['id']}') needs a 'role': one of {', '.join(roles)}")
        if entry["token"] in out:
            raise ConfigError(f"{where}[{i}] ('{entry['id']}') reuses the token of '{out[entry['token']].id}'")
        out[entry["token"]] = ApiKey(entry["id"], entry.get("team", ""), entry.get("caller", ""), entry.get("role", ""))
    return out


_SHAPE = "{id, token, team, caller}"


def from_manifests(manifests: ManifestSet, **options: Any) -> GatewayConfig:
    """The config for a validated manifest set; ``options`` set the other fields."""
    table = build(manifests)
    options.setdefault("budgets", table.budgets)
    options.setdefault("lanes", lanes_of(manifests))
    return GatewayConfig(table, specs_of(manifests), **options)
