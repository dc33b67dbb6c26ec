"""/runs and /runs/RUN over a real run: DBOS on SQLite, the example MCP refund server, a fake model upstream.
A large refund waits on the approve step; the page shows the Pipeline's graph with each step's state, the
timeline and the pending approval, and the event stream ends when the run does."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import eval_upstream, runtime_repo
from helpers.ledger import key
from helpers.ui import KEYS_JSON, TOKENS
from helpers.ui_browser import CHROMIUM, Tab, chromium
from helpers.ui_server import serving
from starlette.testclient import TestClient

from maestro import state
from maestro.ledger import Ledger
from maestro.ledger.query import show
from maestro.runtime import engine, logs, report, runs
from maestro.runtime.graph import graph_of
from maestro.ui import runs as runs_view
from maestro.ui import sources
from maestro.ui.app import create_app
from maestro.ui.config import UiConfig, keys_from_env, signers_from_env
from maestro.ui.export import export
from maestro.ui.pages import environment

BEARER = {"authorization": f"Bearer {TOKENS['viewer']}"}
BIG = {"order_id": "A10432", "reason": "damaged"}  # over 100: the approve step waits
SMALL = {"order_id": "A10001", "reason": "damaged"}  # 40.0: straight to the refund's autonomy gate


@pytest.fixture
def waiting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[UiConfig, runs.Run, runs.DBOSClient]]:
    with eval_upstream.serve(runtime_repo.answer) as up:
        monkeypatch.chdir(tmp_path)
        monkeypatch.setenv("MAESTRO_REFUND_STATE", str(tmp_path / "refunds.db"))
        monkeypatch.setenv("MAESTRO_LEDGER_KEY", str(tmp_path / "alice.key"))
        monkeypatch.delenv("MAESTRO_RUNS_URL", raising=False)
        runtime_repo.write(tmp_path, up.url)
        keys = keys_from_env("K", {"K": KEYS_JSON})
        config = UiConfig(tmp_path, state.default_path(tmp_path), keys, signing_key=key("bob"))  # alice requests
        with engine.launched(tmp_path), engine.client(tmp_path) as client:
            run_id = runs.start(runs.new_run(tmp_path, "refund-flow", BIG))
            run = runs.follow(client, run_id, lambda _: None)
            assert run.status == "waiting"
            yield config, run, client
            current = runs.get(client, run_id)
            if current.status == "waiting":  # a run blocked in DBOS.recv would hold its thread past the test
                assert current.interrupt is not None
                runs.decide(client, run_id, current.interrupt["interrupt"], key("carol"), decision="reject")
                runs.follow(
                    client, run_id, lambda _: None, seen=len(current.nodes), past=current.interrupt["interrupt"]
                )


def test_a_waiting_run_shows_its_graph_states_timeline_and_pending_approval(waiting) -> None:  # type: ignore[no-untyped-def]
    config, run, _ = waiting
    with TestClient(create_app(config)) as c:
        listed = c.get("/runs.json", headers=BEARER).json()["runs"]
        assert [(r["id"], r["status"], r["waitingOn"]) for r in listed] == [(run.id, "waiting", "approve")]
        data = c.get(f"/runs/{run.id}.json", headers=BEARER).json()
        page = c.get(f"/runs/{run.id}", headers={**BEARER, "accept": "text/html"})
    graph = graph_of(sources.manifests(config).index("Pipeline")["refund-flow"])
    assert sorted(n["id"] for n in data["graph"]["nodes"]) == sorted(graph.nodes)
    assert sorted((e["source"], e["target"]) for e in data["graph"]["edges"]) == sorted(
        (e.source, e.target) for e in graph.edges
    )
    states = {n["id"]: n["state"] for n in data["graph"]["nodes"]}
    assert states == {
        "triage": "succeeded",
        "lookup": "succeeded",
        "approve": "waiting",
        "refund": "not reached",
        "reply": "not reached",
    }
    assert [t["node"] for t in data["timeline"]] == ["triage", "lookup"]
    assert data["pendingApproval"]["node"] == "approve"
    for row, node in zip(data["timeline"], ("triage", "lookup"), strict=True):  # `maestro runs logs RUN NODE`'s lines
        assert row["log"]["lines"] == [x.to_json() for x in logs.log(run, node)] and row["log"]["total"] >= 2
    triage_log = data["timeline"][0]["log"]["lines"]
    assert (triage_log[0]["event"], triage_log[-1]["event"]) == ("start", "end")
    assert data["previous"] is None  # the first run of refund-flow
    assert page.status_code == 200 and f'sse-connect="/runs/{run.id}/events"' in page.text


def test_the_event_stream_sends_the_state_and_ends_with_the_run(waiting) -> None:  # type: ignore[no-untyped-def]
    config, run, client = waiting
    assert run.interrupt is not None
    runs.decide(client, run.id, run.interrupt["interrupt"], key("carol"), decision="reject")
    ended = runs.follow(client, run.id, lambda _: None, seen=len(run.nodes), past=run.interrupt["interrupt"])
    assert ended.status == "succeeded"  # rejected at approve, the Pipeline's edge goes on to reply
    with TestClient(create_app(config)) as c:
        stream = c.get(f"/runs/{run.id}/events", headers=BEARER)
        refused = c.get(f"/runs/{run.id}/events")
    assert stream.headers["content-type"].startswith("text/event-stream")
    events = [block for block in stream.text.split("\n\n") if block]
    assert events[0].startswith("event: state\ndata: ") and "<strong>succeeded</strong>" in events[0]
    assert '"id": "reply", "state": "succeeded"' in events[0]
    assert '"id": "refund", "state": "not reached"' in events[0]
    assert events[-1] == 'event: end\ndata: {"status": "succeeded"}'
    assert refused.status_code == 401


def test_a_run_is_compared_with_the_previous_run_of_its_pipeline(waiting) -> None:  # type: ignore[no-untyped-def]
    config, first, client = waiting
    small = runs.follow(client, runs.start(runs.new_run(config.root, "refund-flow", SMALL)), lambda _: None)
    try:
        assert small.status == "waiting"  # at the refund's autonomy gate: no approve step for 40.0
        with TestClient(create_app(config)) as c:
            data = c.get(f"/runs/{small.id}.json", headers=BEARER).json()
        compared = data["previous"]
        assert compared["id"] == first.id
        steps = {s["node"]: (s["before"], s["now"]) for s in compared["steps"]}
        assert steps == {"triage": ("succeeded", "succeeded"), "lookup": ("succeeded", "succeeded")}
    finally:
        assert small.interrupt is not None
        runs.decide(client, small.id, small.interrupt["interrupt"], key("carol"), decision="reject")
        runs.follow(client, small.id, lambda _: None, seen=len(small.nodes), past=small.interrupt["interrupt"])


def test_an_approver_approves_in_the_ui_and_the_run_goes_on_recorded_in_the_ledger(waiting) -> None:  # type: ignore[no-untyped-def]
    config, run, client = waiting
    interrupt = run.interrupt["interrupt"]
    form = {"interrupt": interrupt, "decision": "approve", "comment": "ok, damaged kettle"}
    with TestClient(create_app(config)) as c:
        viewer = c.post(f"/runs/{run.id}/decide", data=form, headers=BEARER)
        assert viewer.status_code == 403
        approver = {"authorization": f"Bearer {TOKENS['approver']}"}
        done = c.post(f"/runs/{run.id}/decide", data=form, headers=approver)
        assert done.status_code == 200, done.text
        assert done.json()["decision"] == "approve"
        after = runs.follow(client, run.id, lambda _: None, seen=len(run.nodes), past=interrupt)
        again = c.post(f"/runs/{run.id}/decide", data=form, headers=approver)
    assert after.status == "waiting" and after.interrupt is not None  # next: the autonomy gate of the refund
    assert after.interrupt["interrupt"] == f"{run.id}:refund:0:main"
    assert again.status_code == 400 and "no pending interrupt" in again.json()["error"]["message"]
    with Ledger.open(config.state_path, readonly=True) as ledger:
        entry = next(s.entry for s in show(ledger) if s.entry.action == "ui.approve")
    assert entry.actor == "abe:bob" and entry.predicate["details"]["interrupt"] == interrupt


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (.ci/run installs it)")
def test_the_run_page_draws_the_pipeline_in_chromium_with_the_waiting_step_marked(waiting) -> None:  # type: ignore[no-untyped-def]
    config, run, client = waiting
    with serving(config) as url, chromium() as browser:
        tab = Tab(browser, url, "approver")
        try:
            tab.page.goto(f"{url}/runs/{run.id}")
            tab.wait_until("() => window.maestroGraph !== undefined")
            drawn = tab.page.evaluate(
                """() => ({nodes: Object.fromEntries(maestroGraph.nodes().map(n => [n.id(), n.data("state")])),
                           edges: maestroGraph.edges().length})"""
            )
            assert drawn["nodes"]["approve"] == "waiting" and drawn["nodes"]["triage"] == "succeeded"
            assert drawn["edges"] == 7
            assert "Waiting for approval" in tab.page.inner_text("#run-state")
            tab.screenshot("run")
            tab.page.click("button[data-action=approve]")
            tab.page.wait_for_url(f"{url}/runs/{run.id}")
            tab.wait_until("window.maestroGraph && maestroGraph.getElementById('refund').data('state') === 'waiting'")
            # someone approves the autonomy gate elsewhere: the open page follows over server-sent events
            tab.page.evaluate("() => { window.notReloaded = true; }")
            runs.decide(client, run.id, f"{run.id}:refund:0:main", key("carol"), decision="approve")
            tab.wait_until("() => maestroGraph.getElementById('reply').data('state') === 'succeeded'", timeout_s=30)
            assert "succeeded" in tab.page.inner_text("#run-state .run-status")
            assert tab.page.evaluate("() => window.notReloaded === true")
            assert tab.errors == []
        finally:
            tab.close()


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (.ci/run installs it)")
def test_the_run_page_shows_each_node_s_log_lines_tokens_and_cost_in_chromium(waiting) -> None:  # type: ignore[no-untyped-def]
    config, run, client = waiting
    with serving(config) as url, chromium() as browser:
        tab = Tab(browser, url, "viewer")
        try:
            tab.page.goto(f"{url}/runs/{run.id}")
            log = tab.page.locator("details.log[data-node=triage]")
            assert not log.locator("pre").is_visible()  # folded until asked for
            log.locator("summary").click()
            shown = log.locator("pre").inner_text()
            cells = tab.page.locator("table.timeline tr", has=log).locator("td").all_inner_texts()
            # the run goes on (approved elsewhere): the state is swapped in over server-sent events, the open log stays
            runs.decide(client, run.id, run.interrupt["interrupt"], key("carol"), decision="approve")
            tab.wait_until("() => document.querySelector('details.log[data-node=approve]') !== null", timeout_s=30)
            assert log.evaluate("d => d.open") and log.locator("pre").is_visible()
            assert tab.errors == []
        finally:
            tab.close()
    triage = next(n for n in run.nodes if n["node"] == "triage")
    assert shown.strip() == report.log_text(logs.log(run, "triage")).strip()
    assert "model node started" in shown and "model call served by" in shown
    assert cells[4:6] == [str(triage["tokens"]), f"${triage['costUsd']:.4f}"]


AUDIT_STEP = '    - {id: audit, type: model, route: chat-route, prompt: "REPLY: audit."}\n  edges:\n'
LOOP = """---
apiVersion: maestro.dev/v1
kind: Pipeline
metadata: {name: busy}
spec:
  start: again
  steps:
    - {id: again, type: model, route: chat-route, prompt: "REPLY: again."}
  edges:
    - {from: again, to: again, maxIterations: 129}
"""


def test_the_run_page_draws_the_pipeline_the_run_started_with_not_the_one_edited_since(waiting) -> None:  # type: ignore[no-untyped-def]
    config, run, _ = waiting
    manifests = config.root / "manifests" / "all.yaml"
    text = manifests.read_text(encoding="utf-8")
    edited = text.replace("  edges:\n", AUDIT_STEP, 1).replace(
        "    - {from: refund, to: reply}\n", "    - {from: refund, to: reply}\n    - {from: reply, to: audit}\n"
    )
    assert edited.count("audit") == 3
    manifests.write_text(edited, encoding="utf-8")
    with TestClient(create_app(config)) as c:
        drawn = c.get(f"/runs/{run.id}.json", headers=BEARER).json()
        now = c.get("/manifests/Pipeline/refund-flow.json", headers=BEARER).json()
    assert sorted(n["id"] for n in now["graph"]["nodes"]) == ["approve", "audit", "lookup", "refund", "reply", "triage"]
    assert sorted(n["id"] for n in drawn["graph"]["nodes"]) == ["approve", "lookup", "refund", "reply", "triage"]
    assert len(drawn["graph"]["edges"]) == 7 and drawn["graphNote"] == ""
    assert all(set(n["position"]) == {"x", "y"} for n in drawn["graph"]["nodes"])  # laid out on the server
    done = export(config, config.root / "evidence", run=run.id)
    assert f"runs/{run.id}.html" in done.pages
    html = (config.root / "evidence" / "runs" / f"{run.id}.html").read_text(encoding="utf-8")
    assert "sse-connect" not in html and 'src="../static/vendor/cytoscape.min.js"' in html  # a record, not live
    exported = json.loads((config.root / "evidence" / "runs" / f"{run.id}.json").read_text(encoding="utf-8"))
    assert exported["graph"] == drawn["graph"] and exported["status"] == "waiting"


def test_a_long_run_s_timeline_is_shown_a_page_at_a_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with eval_upstream.serve(runtime_repo.answer) as up:
        monkeypatch.chdir(tmp_path)
        monkeypatch.delenv("MAESTRO_RUNS_URL", raising=False)
        runtime_repo.write(tmp_path, up.url)
        with (tmp_path / "manifests" / "all.yaml").open("a", encoding="utf-8") as f:
            f.write(LOOP)
        config = UiConfig(tmp_path, state.default_path(tmp_path), keys_from_env("K", {"K": KEYS_JSON}))
        with engine.launched(tmp_path), engine.client(tmp_path) as client:
            done = runs.follow(client, runs.start(runs.new_run(tmp_path, "busy", {"order_id": "A1"})), lambda _: None)
    assert done.status == "succeeded" and len(done.nodes) == 130
    with TestClient(create_app(config)) as c:
        first = c.get(f"/runs/{done.id}.json", headers=BEARER).json()
        last = c.get(f"/runs/{done.id}.json?from=100", headers=BEARER).json()
        page = c.get(f"/runs/{done.id}?from=100", headers={**BEARER, "accept": "text/html"})
        wrong = c.get(f"/runs/{done.id}.json?from=ten", headers=BEARER)
    assert [t["iteration"] for t in first["timeline"]] == list(range(100))
    assert first["timelinePage"] == {"from": 0, "size": runs_view.TIMELINE_PAGE, "total": 130}
    assert [t["iteration"] for t in last["timeline"]] == list(range(100, 130))
    assert "Rows 101 to 130 of 130" in page.text and 'href="?from=0"' in page.text and "next</a>" not in page.text
    assert wrong.status_code == 400 and "from='ten'" in wrong.json()["error"]["message"]


def test_a_timeline_row_carries_its_node_s_log_capped_with_the_command_for_the_rest() -> None:
    calls = [
        {"kind": "model", "servedBy": "fake/m1", "tokens": 10, "costUsd": 0.0001, "at": 10.0 + i}
        for i in range(runs_view.LOG_LINES + 5)
    ]
    node = {"node": "think", "iteration": 2, "type": "agent", "status": "succeeded", "attempts": 1, "tokens": 650}
    node = {**node, "costUsd": 0.0065, "started": 9.0, "ended": 99.0, "calls": calls, "error": None}
    record = runs.Run("r1", "p", "succeeded", "d", 0.0, 0.0, nodes=({**node, "node": "other"}, node))
    row = runs_view.row(record, node)
    everything = logs.log(record, "think")
    assert row["node"] == "think" and row["tokens"] == 650 and row["costUsd"] == 0.0065
    assert row["log"]["total"] == len(everything) == runs_view.LOG_LINES + 7  # start, the calls, end
    assert row["log"]["lines"] == [x.to_json() for x in everything[: runs_view.LOG_LINES]]
    assert row["log"]["text"] == report.log_text(everything[: runs_view.LOG_LINES])
    html = (
        environment()
        .get_template("run_state.html")
        .render(data={"id": "r1", "status": "succeeded", "costUsd": 0.0065, "graph": None, "timeline": [row]})
    )
    assert f"{runs_view.LOG_LINES + 7} lines" in html and "7 more: <code>maestro runs logs r1 think</code>" in html


TWO_KEYS_JSON = json.dumps(
    [
        {"id": "abe", "token": "ui-abe-token-0001", "role": "approver", "ledgerKey": "bob.key"},
        {"id": "cid", "token": "ui-cid-token-0002", "role": "approver", "ledgerKey": "carol.key"},
        {"id": "ann", "token": "ui-ann-token-0003", "role": "approver", "ledgerKey": "alice.key"},
    ]
)


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (.ci/run installs it)")
def test_two_approvers_each_sign_with_their_own_key_and_the_requester_does_not_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with eval_upstream.serve(runtime_repo.answer) as up:
        monkeypatch.chdir(tmp_path)
        monkeypatch.setenv("MAESTRO_REFUND_STATE", str(tmp_path / "refunds.db"))
        monkeypatch.setenv("MAESTRO_LEDGER_KEY", str(tmp_path / "alice.key"))  # alice requests
        monkeypatch.delenv("MAESTRO_RUNS_URL", raising=False)
        runtime_repo.write(tmp_path, up.url)
        manifests = tmp_path / "manifests" / "all.yaml"
        manifests.write_text(manifests.read_text(encoding="utf-8").replace("approvers: 1,", "approvers: 2,"), "utf-8")
        env = {"K": TWO_KEYS_JSON}
        signers = signers_from_env("K", env, tmp_path)
        assert {k: s.name for k, s in signers.items()} == {"abe": "bob", "cid": "carol", "ann": "alice"}
        config = UiConfig(tmp_path, state.default_path(tmp_path), keys_from_env("K", env), signers=signers)
        with engine.launched(tmp_path), engine.client(tmp_path) as client:
            run = runs.follow(client, runs.start(runs.new_run(tmp_path, "refund-flow", BIG)), lambda _: None)
            assert run.status == "waiting" and run.interrupt is not None
            interrupt = run.interrupt["interrupt"]
            with serving(config) as url, chromium() as browser:
                for who, token in (("abe", "ui-abe-token-0001"), ("ann", "ui-ann-token-0003")):
                    tab = Tab(browser, url, "approver", token=token)
                    try:
                        tab.open(f"/runs/{run.id}")
                        tab.page.click("button[data-action=approve]")
                        tab.page.wait_for_load_state("networkidle")
                        if who == "ann":  # alice started the run: her approval is refused and says why
                            assert "cannot approve" in tab.page.inner_text("main")
                    finally:
                        tab.close()
                still = runs.get(client, run.id)
                assert still.status == "waiting" and still.interrupt["interrupt"] == interrupt  # one of two
                tab = Tab(browser, url, "approver", token="ui-cid-token-0002")
                try:
                    tab.open(f"/runs/{run.id}")
                    tab.page.click("button[data-action=approve]")
                    tab.page.wait_for_url(f"{url}/runs/{run.id}")
                    after = runs.follow(client, run.id, lambda _: None, seen=len(run.nodes), past=interrupt)
                    assert tab.errors == []
                finally:
                    tab.close()
            assert after.status == "waiting" and after.interrupt is not None  # on to the refund's autonomy gate
            approve = next(n for n in after.nodes if n["node"] == "approve")
            assert sorted(approve["output"]["approvers"]) == ["bob", "carol"]
            runs.decide(client, run.id, after.interrupt["interrupt"], key("carol"), decision="reject")
            runs.follow(client, run.id, lambda _: None, seen=len(after.nodes), past=after.interrupt["interrupt"])
    with Ledger.open(config.state_path, readonly=True) as ledger:
        actors = [s.entry.actor for s in show(ledger) if s.entry.action == "ui.approve"]
    assert actors == ["abe:bob", "cid:carol"]
