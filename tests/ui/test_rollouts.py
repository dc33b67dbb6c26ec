"""/rollouts and /rollouts/NAME over a real rollout of the example Rollout in a real state store, driven by
the real controller: every view and its JSON twin, the buttons' roles and CSRF, and an operator's abort that
sets the canary's weight to 0 and lands in the ledger naming the actor."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from helpers.delivery import CANARY, STABLE, spec
from helpers.ui import TOKENS, UiRepo, make
from helpers.ui_browser import CHROMIUM, Tab, chromium
from helpers.ui_server import serving
from starlette.testclient import TestClient
from ui.conftest import csrf

from maestro.delivery.controller import Controller
from maestro.delivery.machine import Pause
from maestro.delivery.spec import RolloutSpec, Step
from maestro.ledger import Ledger
from maestro.ledger.query import show
from maestro.state import observations as obs
from maestro.state.weights import LiveWeights
from maestro.ui import sources
from maestro.ui.app import create_app

NAME = "support-chat-gpt4o"
SUCCESS, FAILURE = "metrics.error_rate < 0.02", "metrics.error_rate > 0.05"
STEPS = (
    Step("setWeight", weight=10),
    Step("analysis", analysis="health"),
    Step("pause", pause_s=600),
    Step("setWeight", weight=50),
    Step("pause"),  # manual
    Step("setWeight", weight=100),
)
BEARER = {"authorization": f"Bearer {TOKENS['viewer']}"}
OPERATOR = {"authorization": f"Bearer {TOKENS['operator']}"}
APPROVER = {"authorization": f"Bearer {TOKENS['approver']}"}
HTML = {**BEARER, "accept": "text/html"}


@pytest.fixture
def started(repo: UiRepo) -> UiRepo:
    """The example rollout started by bob (so the UI's key, alice's, may approve it) and ticked to 10%."""
    c = Controller(repo.state, actor="rollout-controller")
    try:
        c.begin(_spec(), "rollout:bob")
        c.tick()  # setWeight 10
        c.tick()  # analysis health: no data yet, an inconclusive verdict
    finally:
        c.close()
    return repo


def _spec() -> RolloutSpec:
    """A Rollout like manifests/rollouts.yaml's: one approval per gate, an analysis with CEL conditions."""
    return replace(spec(*STEPS, name=NAME), approvals=1, conditions={"health": (SUCCESS, FAILURE)})


def _healthy_traffic(repo: UiRepo, n: int = 2000) -> None:
    """``n`` requests on each side (1% errors on both) through the gateway's recorder, then one tick."""
    recorder = obs.Observations(repo.state, interval_s=0.01)
    recorder.start()
    for i in range(n):
        recorder.record("chat-route", CANARY, ok=i % 100 != 0, latency_ms=100.0)
        recorder.record("chat-route", STABLE, ok=i % 100 != 0, latency_ms=100.0)
    recorder.stop()
    c = Controller(repo.state, actor="rollout-controller")
    try:
        c.tick()
    finally:
        c.close()


def _entries(repo: UiRepo) -> list[tuple[str, str, dict[str, object]]]:
    with Ledger.open(repo.state, readonly=True) as ledger:
        return [(e.entry.action, e.entry.actor, dict(e.entry.predicate.get("details") or {})) for e in show(ledger)]


@pytest.mark.parametrize("path", ["/rollouts", f"/rollouts/{NAME}"])
def test_each_rollout_view_renders_html_and_its_json_twin(started: UiRepo, client: TestClient, path: str) -> None:
    html = client.get(path, headers=HTML)
    assert html.status_code == 200, html.text
    assert html.headers["content-type"].startswith("text/html") and "Traceback" not in html.text
    suffix = client.get(path + ".json", headers=BEARER)
    accept = client.get(path, headers={**BEARER, "accept": "application/json"})
    assert suffix.status_code == accept.status_code == 200
    assert suffix.json() == accept.json()
    assert NAME in html.text and "10%" in html.text


def test_no_rollout_yet_says_how_to_start_one(client: TestClient) -> None:
    assert client.get("/rollouts.json", headers=BEARER).json() == {"rollouts": []}
    page = client.get("/rollouts", headers=HTML)
    assert page.status_code == 200 and "maestro rollout start NAME" in page.text


def test_the_list_shows_phase_step_weight_and_why_it_waits(started: UiRepo, client: TestClient) -> None:
    [r] = client.get("/rollouts.json", headers=BEARER).json()["rollouts"]
    assert (r["name"], r["phase"], r["step"], r["canaryWeight"]) == (NAME, "Progressing", 1, 10)
    assert r["stepDescription"] == "analysis health" and "inconclusive" in r["waiting"]


def test_one_rollout_shows_steps_weight_over_time_and_each_verdict_with_its_numbers(
    started: UiRepo, client: TestClient
) -> None:
    data = client.get(f"/rollouts/{NAME}.json", headers=BEARER).json()
    assert [s["step"] for s in data["plan"]][:3] == ["setWeight 10", "analysis health", "pause 600s"]
    assert [s["state"] for s in data["plan"]][:3] == ["done", "current", "not reached"]
    assert [(p["event"], p["canaryWeight"]) for p in data["weightOverTime"]] == [("start", 0), ("setWeight", 10)]
    error_rate = next(v for v in data["verdicts"] if v["metric"] == "error_rate")
    assert error_rate["outcome"] == "inconclusive" and error_rate["n"] == {"canary": 0, "stable": 0}
    assert error_rate["alpha"] == 0.01 and len(error_rate["interval"]) == 2
    assert "0.02" in error_rate["threshold"]
    success = next(v for v in data["verdicts"] if v["metric"] == "successCondition")
    assert success["threshold"] == SUCCESS
    page = client.get(f"/rollouts/{NAME}", headers=HTML).text
    assert 'id="weight-chart"' in page and "metrics.error_rate &lt; 0.02" in page
    assert f'sse-connect="/rollouts/{NAME}/events"' in page


def test_a_passing_verdict_shows_its_numbers_and_the_rollout_moves_on(started: UiRepo, client: TestClient) -> None:
    _healthy_traffic(started)
    data = client.get(f"/rollouts/{NAME}.json", headers=BEARER).json()
    verdict = [v for v in data["verdicts"] if v["metric"] == "error_rate"][-1]
    assert verdict["outcome"] == "pass" and verdict["n"] == {"canary": 2000, "stable": 2000}
    low, high = verdict["interval"]
    assert low < verdict["estimate"] == 0.0 < high < 0.02
    assert (data["step"], data["stepDescription"]) == (2, "pause 600s")
    assert [s["state"] for s in data["plan"]][:3] == ["done", "done", "current"]
    page = client.get(f"/rollouts/{NAME}", headers=HTML).text
    assert f"[{low:+.4f}, {high:+.4f}]" in page and "2000 / 2000" in page


def test_a_missing_rollout_is_a_404_that_lists_what_exists(started: UiRepo, client: TestClient) -> None:
    response = client.get("/rollouts/nope", headers=HTML)
    assert response.status_code == 404 and "no rollout &#39;nope&#39;" in response.text
    assert client.get("/rollouts/nope.json", headers=BEARER).json()["error"]["known"] == [f"/rollouts/{NAME}"]
    assert client.get("/rollouts/nope/events", headers=BEARER).status_code == 404


def test_a_viewer_cannot_act_and_an_approver_cannot_abort(started: UiRepo, client: TestClient) -> None:
    assert client.post(f"/rollouts/{NAME}/abort", headers=BEARER).status_code == 403
    assert client.post(f"/rollouts/{NAME}/abort", headers=APPROVER).status_code == 403
    assert client.post(f"/rollouts/{NAME}/approve", headers=BEARER).status_code == 403
    page = client.get(f"/rollouts/{NAME}", headers=HTML).text
    assert "data-action" not in page
    assert client.get("/rollouts.json", headers=BEARER).json()["rollouts"][0]["phase"] == "Progressing"


def test_an_action_without_the_csrf_token_is_refused(started: UiRepo, client: TestClient, login) -> None:  # type: ignore[no-untyped-def]
    login("operator")
    assert client.post(f"/rollouts/{NAME}/abort").status_code == 403
    assert client.post(f"/rollouts/{NAME}/abort", data={"csrf": "forged"}).status_code == 403
    assert client.get("/rollouts.json").json()["rollouts"][0]["phase"] == "Progressing"


def test_an_operator_aborts_the_canary_weight_goes_to_0_and_the_ledger_names_the_actor(
    started: UiRepo,
    client: TestClient,
    login,  # type: ignore[no-untyped-def]
) -> None:
    login("operator")
    page = client.get(f"/rollouts/{NAME}", headers={"accept": "text/html"}).text
    assert 'data-action="abort"' in page
    url = f"http://testserver/rollouts/{NAME}"
    response = client.post(f"/rollouts/{NAME}/abort", data={"csrf": csrf(client)}, headers={"referer": url})
    assert response.status_code == 303 and response.headers["location"] == url
    data = client.get(f"/rollouts/{NAME}.json").json()
    assert (data["phase"], data["canaryWeight"]) == ("Aborted", 0)
    assert data["events"][-1]["actor"] == "olga:alice" and "olga" in data["events"][-1]["reason"]
    with sources.store(started.config) as conn:
        assert LiveWeights(conn).current()["chat-route"][CANARY] == 0.0
    entries = _entries(started)
    transition = next(e for e in reversed(entries) if e[0] == "rollout.transition")
    assert transition[1] == "olga:alice" and transition[2]["event"] == "abort"
    assert transition[2]["canaryWeight"] == 0
    action, actor, details = entries[-1]
    assert (action, actor) == ("ui.rollout.abort", "olga:alice")
    assert details["to"] == "Aborted" and details["role"] == "operator"
    again = client.post(f"/rollouts/{NAME}/abort", data={"csrf": csrf(client)}, headers={"accept": "text/html"})
    assert again.status_code == 409 and "nothing to abort" in again.text


def test_operator_buttons_go_through_the_controller(started: UiRepo, client: TestClient) -> None:
    paused = client.post(f"/rollouts/{NAME}/pause", headers=OPERATOR).json()
    assert paused["phase"] == "Paused" and paused["actor"] == "olga:alice" and paused["ledgerIndex"] > 0
    assert client.post(f"/rollouts/{NAME}/resume", headers=OPERATOR).json()["phase"] == "Progressing"
    refused = client.post(f"/rollouts/{NAME}/promote", data={"full": "true"}, headers=OPERATOR)
    assert refused.status_code == 409 and "needs 1 approval" in refused.json()["error"]["message"]
    assert client.post(f"/rollouts/{NAME}/approve", headers=APPROVER).status_code == 200
    promoted = client.post(f"/rollouts/{NAME}/promote", data={"full": "true"}, headers=OPERATOR).json()
    assert (promoted["phase"], promoted["canaryWeight"]) == ("Promoted", 100)
    undone = client.post(f"/rollouts/{NAME}/undo", headers=OPERATOR).json()
    assert (undone["phase"], undone["canaryWeight"]) == ("RolledBack", 0)
    assert client.post(f"/rollouts/{NAME}/explode", headers=OPERATOR).status_code == 404
    verbs = [a for a, _, _ in _entries(started) if a.startswith("ui.rollout.")]
    assert verbs == [f"ui.rollout.{v}" for v in ("pause", "resume", "approve", "promote", "undo")]


def test_an_approver_approves_the_current_gate_with_the_uis_key(started: UiRepo, client: TestClient) -> None:
    response = client.post(f"/rollouts/{NAME}/approve", headers=APPROVER)
    assert response.status_code == 200, response.text
    assert response.json()["approvers"] == ["alice"]
    entries = _entries(started)
    assert entries[-1][:2] == ("ui.rollout.approve", "abe:alice")
    assert ("rollout.approve", "rollout:alice") in [(a, b) for a, b, _ in entries]
    assert client.get(f"/rollouts/{NAME}.json", headers=BEARER).json()["approvals"]["approvedGates"] == [6]


def test_without_a_signing_key_no_action_is_taken(tmp_path: Path) -> None:
    repo = make(tmp_path, signing=False)
    c = Controller(repo.state, actor="rollout-controller")
    c.begin(_spec(), "rollout:bob")
    c.close()
    with TestClient(create_app(repo.config)) as client:
        assert client.post(f"/rollouts/{NAME}/abort", headers=OPERATOR).status_code == 503
        assert client.get(f"/rollouts/{NAME}.json", headers=BEARER).json()["phase"] == "Progressing"


def test_the_event_stream_ends_with_the_rollout(started: UiRepo, client: TestClient) -> None:
    client.post(f"/rollouts/{NAME}/abort", headers=OPERATOR)
    with client.stream("GET", f"/rollouts/{NAME}/events", headers=BEARER) as response:
        text = "".join(response.iter_text())
    assert "event: state" in text and 'event: end\ndata: {"phase": "Aborted"}' in text


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (.ci/run installs it)")
def test_an_operator_watches_a_rollout_live_and_aborts_it_in_chromium(started: UiRepo) -> None:
    with serving(started.config) as url, chromium() as browser:
        tab = Tab(browser, url, "operator")
        try:
            _healthy_traffic(started)
            tab.page.goto(f"{url}/rollouts")
            assert tab.page.inner_text("table.rollouts").count("Progressing") == 1
            tab.page.click(f"a[href='/rollouts/{NAME}']")
            tab.page.wait_for_url(f"{url}/rollouts/{NAME}")
            assert tab.page.inner_text("#canary-weight") == "10%"
            assert tab.page.locator("#weight-chart polyline").count() == 1
            tab.screenshot("rollouts", full_page=True)
            # someone pauses it elsewhere (`maestro rollout pause`): the open page follows over server-sent events
            tab.page.evaluate("() => { window.notReloaded = true; }")
            c = Controller(started.state, actor="rollout:carol")
            try:
                c.send(NAME, lambda now, frozen, ok: Pause(now), "rollout:carol")
            finally:
                c.close()
            tab.wait_until("() => document.getElementById('phase').textContent === 'Paused'")
            assert tab.page.evaluate("() => window.notReloaded === true")
            tab.page.click("button[data-action=abort]")
            tab.page.wait_for_url(f"{url}/rollouts/{NAME}")
            assert tab.page.inner_text("#phase") == "Aborted"
            assert tab.page.inner_text("#canary-weight") == "0%"
            assert tab.errors == []
        finally:
            tab.close()
    action, actor, details = _entries(started)[-1]
    assert (action, actor, details["from"], details["to"]) == ("ui.rollout.abort", "olga:alice", "Paused", "Aborted")
    with sources.store(started.config) as conn:
        assert LiveWeights(conn).current()["chat-route"][CANARY] == 0.0
