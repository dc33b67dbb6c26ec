"""/routing, the Routing Studio: paste a request and see the router's decision (tags asserted and detected,
each removal with its stage and rule, the scores, the order), then what-ifs: providers down and other
weights (``maestro.router.simulate``'s outage state, with the weights laid over it).

Asking is a GET (``?request=JSON&outage=P&weights=JSON``): it changes nothing, so a decision can be linked.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from typing import Any

from maestro.errors import MaestroError
from maestro.report.decision import decision_dict, simulation_dict
from maestro.router import build, decide
from maestro.router.request_data import parse_request
from maestro.router.simulate import outage_state, simulate
from maestro.router.table import RouterTable
from maestro.ui import sources
from maestro.ui.config import UiConfig
from maestro.ui.pages import Page, UiError


def view(config: UiConfig, text: str, outages: Sequence[str], weights_text: str) -> Page:
    table = build(sources.manifests(config))
    providers = sorted({d.provider.name for route in table.routes.values() for d in route.universe})
    unknown = sorted(set(outages) - set(providers))
    if unknown:
        raise UiError(f"outage names no provider: {', '.join(unknown)}; providers: {', '.join(providers)}")
    data: dict[str, Any] = {
        "aliases": sorted(table.routes),
        "providers": providers,
        "request": None,
        "decision": None,
        "whatIf": None,
    }
    example = _example(table)
    if text.strip():
        request = _request(text)
        data["request"] = json.loads(text)
        data["decision"] = _decide(table, request)
        weights = _weights(weights_text)
        if outages or weights:
            state = dataclasses.replace(outage_state(table, outages), weights=weights)
            data["whatIf"] = {
                "outages": list(outages),
                "weights": weights,
                "decision": _decide(table, request, state),
                "simulation": simulation_dict(simulate(table, [request], outages)),
            }
    extra = {"text": text or example, "outages": list(outages), "weights_text": weights_text}
    return Page("routing.html", "Routing Studio", data, extra=extra)


def _decide(table: RouterTable, request: Any, state: Any = None) -> dict[str, Any]:
    try:
        decision = decide(table, request) if state is None else decide(table, request, state)
    except MaestroError as e:
        raise UiError(f"the router cannot decide on this request: {e}") from e
    return decision_dict(decision)


def _request(text: str) -> Any:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise UiError(f"the request is not JSON (line {e.lineno}, column {e.colno}: {e.msg})") from e
    try:
        return parse_request(data, "the request")
    except MaestroError as e:
        raise UiError(str(e)) from e


def _weights(text: str) -> Mapping[str, Mapping[str, float]]:
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise UiError(f"the weights are not JSON ({e.msg}); send {{ROUTE: {{PROVIDER/MODEL: WEIGHT}}}}") from e
    if not isinstance(data, dict) or not all(
        isinstance(w, dict) and all(isinstance(v, int | float) for v in w.values()) for w in data.values()
    ):
        raise UiError("the weights must be {ROUTE: {PROVIDER/MODEL: WEIGHT}}, weights as numbers")
    return {str(r): {str(k): float(v) for k, v in w.items()} for r, w in data.items()}


def _example(table: RouterTable) -> str:
    alias = next(iter(sorted(table.routes)), "default")
    body = {"model": alias, "messages": [{"role": "user", "content": "Summarise my last invoice."}]}
    return json.dumps(body, indent=2)
