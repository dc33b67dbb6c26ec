"""/obs and the shipped Grafana dashboard: every metric the dashboard queries is one the gateway's /metrics
exports (and every family it exports is on the dashboard); the page links and embeds each panel from the
configured Grafana, whose origin alone the Content-Security-Policy admits as a frame; in Chromium the
embedded panels (a stand-in Grafana on 127.0.0.1) load with no console error."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers.gateway import offline_config
from helpers.ui import TOKENS, make
from helpers.ui_browser import CHROMIUM, Tab, chromium
from helpers.ui_server import serving
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from maestro.gateway.app import create_app as gateway_app
from maestro.ui import obs
from maestro.ui.app import create_app
from maestro.ui.pages import UiError

BEARER = {"authorization": f"Bearer {TOKENS['viewer']}"}
SUFFIXES = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_sum", "_count", "_created"), "gauge": ("",)}


def gateway_series(tmp: Path) -> dict[str, str]:
    """Each series name the gateway's /metrics can carry, with its family's name."""
    config = offline_config(tmp, {"alpha": httpx.MockTransport(lambda r: httpx.Response(503))})

    async def scrape() -> str:
        app = gateway_app(config)
        transport = httpx.ASGITransport(app=app)
        async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://gw") as c:
            return (await c.get("/metrics")).text

    families = list(text_string_to_metric_families(asyncio.run(scrape())))
    return {f.name + suffix: f.name for f in families for suffix in SUFFIXES.get(f.type, ("",))}


def test_every_metric_the_dashboard_queries_is_exported_by_the_gateway(tmp_path: Path) -> None:
    series = gateway_series(tmp_path)
    queried = obs.queried_metrics(obs.dashboard())
    assert queried, "the dashboard queries no maestro metric"
    assert [m for m in queried if m not in series] == []
    exported = {f for f in series.values() if f.startswith("maestro_")}
    assert exported - {series[m] for m in queried} == set()  # and each gateway family has a panel


def test_each_panel_queries_prometheus_through_the_dashboard_s_input() -> None:
    model = obs.dashboard()
    assert [i["name"] for i in model["__inputs"]] == ["DS_PROMETHEUS"]
    ids = [p["id"] for p in model["panels"]]
    assert len(ids) == len(set(ids))
    for panel in model["panels"]:
        assert panel["datasource"]["uid"] == "${DS_PROMETHEUS}" and panel["targets"], panel["title"]


def test_obs_without_grafana_lists_the_panels_and_says_how_to_configure(tmp_path: Path) -> None:
    repo = make(tmp_path)
    with TestClient(create_app(repo.config)) as c:
        data = c.get("/obs.json", headers=BEARER).json()
        page = c.get("/obs", headers={**BEARER, "accept": "text/html"})
        shipped = c.get("/static/grafana/maestro.json", headers=BEARER)
    assert data["grafana"] is None and all(p["embed"] is None for p in data["panels"])
    assert [p["title"] for p in data["panels"]] == [p["title"] for p in obs.dashboard()["panels"]]
    assert "MAESTRO_GRAFANA_URL" in page.text and "<iframe" not in page.text
    assert "frame-src" not in page.headers["content-security-policy"]
    assert shipped.json()["uid"] == data["dashboard"]["uid"] == "maestro"


def test_obs_with_grafana_links_and_embeds_each_panel_from_that_origin_only(tmp_path: Path) -> None:
    repo = make(tmp_path)
    config = replace(repo.config, grafana_url="https://grafana.example.com/")
    with TestClient(create_app(config)) as c:
        data = c.get("/obs.json", headers=BEARER).json()
        page = c.get("/obs", headers={**BEARER, "accept": "text/html"})
    first = data["panels"][0]
    assert first["link"] == "https://grafana.example.com/d/maestro/maestro-gateway?orgId=1&viewPanel=1"
    assert first["embed"].startswith("https://grafana.example.com/d-solo/maestro/maestro-gateway?orgId=1&panelId=1&")
    assert page.text.count("<iframe") == len(data["panels"])
    assert page.headers["content-security-policy"].endswith("; frame-src https://grafana.example.com")


@pytest.mark.parametrize("url", ["grafana.example.com", "ftp://grafana.example.com", "javascript:alert(1)"])
def test_a_grafana_url_that_is_not_http_is_refused_with_what_to_give(tmp_path: Path, url: str) -> None:
    with pytest.raises(UiError, match="give the http"):
        create_app(replace(make(tmp_path).config, grafana_url=url))


@contextmanager
def fake_grafana() -> Iterator[tuple[str, list[str]]]:
    """A stand-in Grafana on 127.0.0.1 that answers every panel page with a small HTML page."""
    asked: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            body = b"<!doctype html><title>panel</title><p>panel</p>"
            self.send_response(200)
            self.send_header("content-type", "text/html")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", asked
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (.ci/run installs it)")
def test_the_embedded_panels_load_in_chromium_with_no_console_error(tmp_path: Path) -> None:
    with fake_grafana() as (grafana, asked):
        config = replace(make(tmp_path).config, grafana_url=grafana)
        with serving(config) as url, chromium() as browser:
            tab = Tab(browser, url, "viewer")
            try:
                response = tab.open("/obs")
                assert response.status == 200  # type: ignore[attr-defined]
                tab.page.evaluate("() => document.querySelectorAll('iframe').forEach(f => f.loading = 'eager')")
                tab.wait_until(f"() => document.querySelectorAll('iframe').length === {len(obs.dashboard()['panels'])}")
                deadline = time.monotonic() + 15
                while len(asked) < len(obs.dashboard()["panels"]) and time.monotonic() < deadline:
                    time.sleep(0.05)
                tab.page.wait_for_load_state("networkidle")
                tab.screenshot("obs", full_page=True)
                assert tab.errors == []
            finally:
                tab.close()
    panels = sorted(int(p.split("panelId=")[1].split("&")[0]) for p in asked if p.startswith("/d-solo/maestro/"))
    assert panels == [p["id"] for p in obs.dashboard()["panels"]]  # every panel was asked for, once
