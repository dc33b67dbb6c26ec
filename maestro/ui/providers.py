"""/providers: each provider's key status (set or not, never its value), lanes and their circuits and spill
signal, budgets and their spend, the kill switch and freeze, and the live weights of each route."""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any, cast

from maestro import state
from maestro.gateway.budgets import Budgets
from maestro.gateway.switches import Switches
from maestro.lane import registry
from maestro.providers import probe, specs_of
from maestro.router import build
from maestro.state.weights import LiveWeights
from maestro.ui import sources
from maestro.ui.config import UiConfig
from maestro.ui.pages import Page


def view(config: UiConfig, probe_now: bool = False) -> Page:
    """The page; with ``probe_now`` each provider is also asked for its models (``GET /models``, as
    ``maestro providers status`` does): reachable or not, latency, what went wrong."""
    manifests = sources.manifests(config)
    env = config.env()
    table = build(manifests)
    specs = specs_of(manifests)
    probes = {p.provider: p for p in asyncio.run(probe.status(specs, env, config.transports))} if probe_now else {}
    providers = [
        {
            "name": spec.name,
            "type": spec.type,
            "baseUrl": spec.base_url,
            "keyEnv": spec.api_key_env,
            "keySet": None if spec.api_key_env is None else bool(env.get(spec.api_key_env)),
            "models": sorted(spec.prices),
            "probe": _probe(probes[spec.name]) if spec.name in probes else None,
        }
        for spec in specs.values()
    ]
    with sources.store(config) as conn:
        switches = Switches(conn).engaged()
        killed_routes = cast("list[str]", switches["killRoutes"])
        budgets = Budgets(conn, table.budgets)
        spend = [_budget(b, budgets.spent(b)) for b in table.budgets]
        lanes = _lanes(conn)
        live = LiveWeights(conn).current()
    routes = [
        {
            "name": route.name,
            "alias": route.alias,
            "killed": bool(switches["killAll"]) or route.name in killed_routes,
            "weights": {d.key: float(w) for d, w in route.candidates},
            "liveWeights": dict(live.get(route.name, {})),
        }
        for route in table.routes.values()
    ]
    data = {
        "providers": providers,
        "switches": switches,
        "routes": routes,
        "budgets": spend,
        "lanes": lanes,
    }
    return Page("providers.html", "Providers", data)


def _probe(p: probe.Probe) -> dict[str, Any]:
    return {"reachable": p.reachable, "latencyMs": p.latency_ms, "outcome": p.outcome, "detail": p.detail, "ok": p.ok}


def _budget(b: Any, spent: float) -> dict[str, Any]:
    scope = {k: v for k, v in (("route", b.route), ("team", b.team), ("apiKey", b.api_key)) if v}
    return {
        "name": b.name,
        "limitUsd": b.limit_usd,
        "period": b.period,
        "onExceed": b.on_exceed,
        "scope": scope,
        "spentUsd": round(spent, 6),
        "left": round(max(b.limit_usd - spent, 0.0), 6),
    }


def _lanes(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    state.migrate(conn, registry.COMPONENT, registry.MIGRATIONS)
    return [
        {
            "name": r.name,
            "deployment": r.deployment,
            "status": r.status,
            "circuit": r.circuit,
            "saturated": r.saturated,
            "waiting": r.waiting,
            "kvCacheUsage": r.kv_cache_usage,
            "replicas": list(r.replicas),
            "updatedAt": r.updated_at,
        }
        for r in registry.read(conn)
    ]
