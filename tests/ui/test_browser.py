"""The UI in a real browser: Playwright driving Debian's Chromium against the real server on 127.0.0.1.

Each view loads with no console error (and, with MAESTRO_UI_SCREENSHOTS=1, leaves a screenshot in docs/ui/ for
the README); each example Pipeline is drawn with exactly its steps and edges; a viewer cannot act; an action
without the CSRF token is refused; an operator engages the kill switch with its button and the ledger records it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from helpers.ui import UiRepo, make
from helpers.ui_browser import CHROMIUM, Tab, chromium
from helpers.ui_server import serving

from maestro.ledger import Ledger
from maestro.ledger.query import show
from maestro.runtime.graph import graph_of
from maestro.ui import sources

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (.ci/run installs it)")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[UiRepo, str]]:
    repo = make(tmp_path_factory.mktemp("ui"))
    with serving(repo.config) as url:
        yield repo, url


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with chromium() as b:
        yield b


ASK = {"model": "chat", "messages": [{"role": "user", "content": "Where is my order?"}]}
VIEWS = {
    "providers": "/providers",
    "ledger": "/ledger",
    "ledger-entry": "/ledger/1",
    "manifests": "/manifests",
    "pipeline": "/manifests/Pipeline/refund-flow",
    "routing": "/routing?" + urlencode({"request": json.dumps(ASK), "outage": "openai-us"}),
    "evals": "/evals",
    "evals-suite": "/evals/support",
    "runs": "/runs",
}


def test_every_view_loads_with_no_console_error(site: tuple[UiRepo, str], browser: object) -> None:
    _, url = site
    tab = Tab(browser, url, "operator")
    try:
        for name, path in VIEWS.items():
            response = tab.open(path)
            assert response.status == 200, (path, response.status)  # type: ignore[attr-defined]
            assert tab.errors == [], (path, tab.errors)
            tab.screenshot(name)
    finally:
        tab.close()


def test_each_example_pipeline_is_drawn_with_exactly_its_steps_and_edges(
    site: tuple[UiRepo, str], browser: object
) -> None:
    repo, url = site
    pipelines = sources.manifests(repo.config).of_kind("Pipeline")
    assert pipelines
    tab = Tab(browser, url, "viewer")
    try:
        for doc in pipelines:
            tab.open(f"/manifests/Pipeline/{doc.name}")
            tab.wait_until("() => window.maestroGraph !== undefined")
            drawn = tab.page.evaluate(
                """() => ({nodes: maestroGraph.nodes().map(n => n.id()).sort(),
                           edges: maestroGraph.edges().map(e => [e.source().id(), e.target().id()]).sort()})"""
            )
            graph = graph_of(doc)
            assert drawn["nodes"] == sorted(graph.nodes)
            assert drawn["edges"] == sorted([e.source, e.target] for e in graph.edges)
            assert tab.errors == []
    finally:
        tab.close()


def test_a_viewer_cannot_act(site: tuple[UiRepo, str], browser: object) -> None:
    _, url = site
    tab = Tab(browser, url, "viewer")
    try:
        tab.open("/providers")
        assert tab.page.locator("button[data-action]").count() == 0
        token = tab.page.locator("input[name=csrf]").first.get_attribute("value")
        assert tab.post("/actions/kill", f"engaged=true&csrf={token}") == 403
        assert "off" in tab.page.locator("#kill-state").inner_text()
    finally:
        tab.close()


def test_an_action_without_the_csrf_token_is_refused(site: tuple[UiRepo, str], browser: object) -> None:
    _, url = site
    tab = Tab(browser, url, "operator")
    try:
        tab.open("/providers")
        assert tab.post("/actions/freeze", "engaged=true") == 403
        assert tab.post("/actions/freeze", "engaged=true", {"X-CSRF-Token": "forged"}) == 403
        tab.open("/providers")
        assert "off" in tab.page.locator("#freeze-state").inner_text()
    finally:
        tab.close()


def test_an_operator_engages_the_kill_switch_and_the_ledger_records_it(
    site: tuple[UiRepo, str], browser: object
) -> None:
    repo, url = site
    tab = Tab(browser, url, "operator")
    try:
        tab.open("/providers")
        tab.page.click("button[data-action=kill]")
        tab.page.wait_for_load_state("networkidle")
        assert "ENGAGED" in tab.page.locator("#kill-state").inner_text()
        with Ledger.open(repo.state, readonly=True) as ledger:
            last = list(show(ledger))[-1]
        assert (last.entry.action, last.entry.actor) == ("ui.kill", "olga:alice")
        tab.open(f"/ledger/{last.index}")
        assert "Verified" in tab.page.locator("#verification").inner_text()
        tab.open("/providers")
        tab.page.click("button[data-action=kill]")  # lift it again for the other tests
        tab.page.wait_for_load_state("networkidle")
        assert "off" in tab.page.locator("#kill-state").inner_text()
        assert tab.errors == []
    finally:
        tab.close()
