"""/obs: the Grafana dashboard for maestro's Prometheus metrics, panel by panel, with each panel's queries, a
link to it and (when a Grafana is configured) the panel embedded.

The dashboard ships as package data (``static/grafana/maestro.json``, served at
``/static/grafana/maestro.json`` for Grafana's import): it queries only the metrics of
``maestro.telemetry.metrics`` (tests/ui/test_obs.py checks each against the gateway's /metrics). The Grafana that
shows it is ``maestro ui --grafana-url`` (``$MAESTRO_GRAFANA_URL``); embedding needs ``allow_embedding = true``
in that Grafana's settings, and the page's Content-Security-Policy admits frames from that origin only.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import urlencode, urlsplit

from maestro.ui.config import UiConfig
from maestro.ui.pages import Page, UiError

DASHBOARD = "static/grafana/maestro.json"
METRIC = re.compile(r"\bmaestro_[a-z0-9_]+")


@cache
def dashboard() -> dict[str, Any]:
    """The shipped Grafana dashboard (a JSON model with a ``DS_PROMETHEUS`` input)."""
    loaded: dict[str, Any] = json.loads(resources.files("maestro.ui").joinpath(DASHBOARD).read_text("utf-8"))
    return loaded


def queried_metrics(model: dict[str, Any]) -> list[str]:
    """Every series name a panel's PromQL names (``maestro_...``), sorted."""
    exprs = [t.get("expr", "") for p in model.get("panels", []) for t in p.get("targets", [])]
    return sorted({m for e in exprs for m in METRIC.findall(e)})


def grafana_origin(url: str) -> str:
    """``scheme://host[:port]`` of a Grafana URL; a UiError for anything but an http(s) URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UiError(f"Grafana URL '{url}': give the http(s) address Grafana serves, e.g. https://grafana.example.com")
    return f"{parts.scheme}://{parts.netloc}"


def view(config: UiConfig) -> Page:
    model, base = dashboard(), (config.grafana_url or "").rstrip("/")
    uid, slug = str(model["uid"]), re.sub(r"[^a-z0-9]+", "-", str(model["title"]).lower()).strip("-")
    panels = []
    for p in model["panels"]:
        links: dict[str, str | None] = {"link": None, "embed": None}
        if base:
            links["link"] = f"{base}/d/{uid}/{slug}?" + urlencode({"orgId": 1, "viewPanel": p["id"]})
            embed = {"orgId": 1, "panelId": p["id"], "theme": "light", "from": "now-6h", "to": "now"}
            links["embed"] = f"{base}/d-solo/{uid}/{slug}?" + urlencode(embed)
        queries = [t["expr"] for t in p.get("targets", [])]
        panels.append({"id": p["id"], "title": p["title"], "queries": queries, **links})
    data = {
        "grafana": base or None,
        "dashboard": {"uid": uid, "title": model["title"], "file": f"/{DASHBOARD}"},
        "panels": panels,
        "metrics": queried_metrics(model),
    }
    note = "" if base else "No Grafana configured: start maestro ui with --grafana-url (or $MAESTRO_GRAFANA_URL)."
    return Page("obs.html", "Observability", data, extra={"note": note})
