"""Every view and its JSON twin, logins and roles, CSRF, and the error pages, through the ASGI app."""

from __future__ import annotations

import json
import sqlite3

import pytest
from helpers.ui import TOKENS, UiRepo
from starlette.testclient import TestClient
from ui.conftest import csrf

from maestro.ledger import Ledger, load_keyring
from maestro.ledger.keys import KEYS_DIR
from maestro.ledger.query import show, verify_store
from maestro.ui.app import create_app

BEARER = {"authorization": f"Bearer {TOKENS['viewer']}"}  # a script: JSON unless it asks for HTML
HTML = {**BEARER, "accept": "text/html"}
PAGES = [
    "/providers",
    "/ledger",
    "/ledger/1",
    "/manifests",
    "/manifests/Pipeline/refund-flow",
    "/routing",
    "/evals",
    "/evals/support",
    "/runs",
]


@pytest.mark.parametrize("path", PAGES)
def test_every_view_renders_html_and_its_json_twin_carries_the_same_data(client: TestClient, path: str) -> None:
    html = client.get(path, headers=HTML)
    assert html.status_code == 200, html.text
    assert html.headers["content-type"].startswith("text/html")
    assert "Traceback" not in html.text
    suffix = client.get(path + ".json", headers=BEARER)
    accept = client.get(path, headers={**BEARER, "accept": "application/json"})
    assert suffix.status_code == accept.status_code == 200
    assert suffix.json() == accept.json()
    assert isinstance(suffix.json(), dict) and suffix.json()


def test_providers_say_whether_a_key_is_set_and_never_show_its_value(client: TestClient) -> None:
    data = client.get("/providers.json", headers=BEARER).json()
    keys = {p["name"]: (p["keyEnv"], p["keySet"]) for p in data["providers"]}
    assert ("OPENAI_API_KEY", True) in keys.values()
    assert ("ANTHROPIC_API_KEY", False) in keys.values()
    assert data["switches"] == {"killAll": False, "killRoutes": [], "frozen": False}
    assert data["routes"] and all(r["weights"] for r in data["routes"])
    for path in ("/providers", "/providers.json"):
        assert "sk-test-never-shown" not in client.get(path, headers=HTML).text


def test_the_ledger_filters_by_action_and_actor_and_shows_one_entry_verified(client: TestClient) -> None:
    everything = client.get("/ledger.json", headers=BEARER).json()
    assert [e["action"] for e in everything["entries"]] == ["route", "validate"]
    routed = client.get("/ledger.json?action=route", headers=BEARER).json()
    assert [e["index"] for e in routed["entries"]] == [1]
    assert client.get("/ledger.json?actor=nobody", headers=BEARER).json()["entries"] == []
    assert [e["index"] for e in client.get("/ledger.json?subject=manifests", headers=BEARER).json()["entries"]] == [0]
    entry = client.get("/ledger/1.json", headers=BEARER).json()
    assert entry["statement"]["predicate"]["actor"] == "gateway:alice"
    assert entry["signatures"][0]["signer"] == "alice" and entry["signatures"][0]["trusted"]
    assert entry["inclusionProof"]["treeSize"] == 2 and entry["verification"]["ok"] is True


def test_a_missing_entry_is_a_404_page_that_says_what_exists(client: TestClient) -> None:
    response = client.get("/ledger/99", headers=HTML)
    assert response.status_code == 404
    assert "entries 0..1 exist" in response.text and 'href="/ledger/1"' in response.text
    assert client.get("/ledger/99.json", headers=BEARER).json()["error"]["known"] == ["/ledger/0", "/ledger/1"]
    run = client.get("/runs/run-nope", headers=HTML)
    assert run.status_code == 404 and "no run &#39;run-nope&#39;" in run.text
    assert client.get("/runs/run-nope.json", headers=BEARER).json()["error"]["message"].startswith("no run 'run-nope'")
    assert client.get("/nowhere", headers=BEARER).status_code == 404


def test_manifests_explain_each_document_and_diff_needs_a_real_revision(client: TestClient) -> None:
    data = client.get("/manifests.json", headers=BEARER).json()
    assert data["summary"]["errors"] == 0
    assert {"ref": "Pipeline/refund-flow", "file": "manifests/pipelines.yaml", "line": 1} in data["documents"]
    explained = client.get("/manifests/Pipeline/refund-flow.json", headers=BEARER).json()
    assert explained["explanations"][0]["ref"] == "Pipeline/refund-flow"
    assert explained["explanations"][0]["file"] == "manifests/pipelines.yaml"
    assert {n["id"] for n in explained["graph"]["nodes"]} == {"triage", "lookup", "approve", "refund", "reply"}
    bad = client.get("/manifests?old=no-such-revision", headers=HTML)
    assert bad.status_code == 400 and "no-such-revision" in bad.text and "Traceback" not in bad.text


def test_the_routing_studio_explains_a_decision_and_a_what_if(client: TestClient) -> None:
    routes = client.get("/providers.json", headers=BEARER).json()["routes"]
    alias = routes[0]["alias"]
    body = json.dumps({"model": alias, "messages": [{"role": "user", "content": "hello"}]})
    data = client.get("/routing.json", params={"request": body}, headers=BEARER).json()
    decision = data["decision"]
    assert decision["alias"] == alias and decision["order"]
    primary = decision["order"][0].split("/")[0]
    what_if = client.get("/routing.json", params={"request": body, "outage": primary}, headers=BEARER).json()
    assert what_if["whatIf"]["outages"] == [primary]
    assert not any(k.startswith(primary + "/") for k in what_if["whatIf"]["decision"]["order"])
    bad = client.get("/routing", params={"request": "{not json"}, headers=HTML)
    assert bad.status_code == 400 and "not JSON" in bad.text


def test_evals_compare_the_latest_scorecard_with_the_previous_case_by_case(client: TestClient) -> None:
    listed = client.get("/evals.json", headers=BEARER).json()
    assert [s["suite"] for s in listed["suites"]] == ["support"]
    data = client.get("/evals/support.json", headers=BEARER).json()
    assert [h["revision"] for h in data["history"]] == ["rev-new", "rev-old"]
    flips = {f["case"]: f["change"] for f in data["previous"]["flips"]}
    assert flips == {"c2": "fixed", "c3": "broke"}
    assert data["previous"]["comparison"]["paired"] == 3
    assert client.get("/evals/nope", headers=BEARER).status_code == 404


def test_no_login_is_a_401_with_the_login_form_and_a_wrong_token_too(client: TestClient) -> None:
    page = client.get("/providers")
    assert page.status_code == 401 and 'action="/login"' in page.text
    assert client.get("/providers.json").status_code == 401
    wrong_bearer = client.get("/providers", headers={"authorization": "Bearer wrong"})
    assert wrong_bearer.status_code == 401 and "Bearer" in wrong_bearer.json()["error"]["message"]
    wrong = client.post("/login", data={"token": "wrong", "csrf": csrf(client)})
    assert wrong.status_code == 401 and 'action="/login"' in wrong.text


def test_a_person_logs_in_sees_pages_and_logs_out(client: TestClient, login) -> None:  # type: ignore[no-untyped-def]
    login("viewer")
    page = client.get("/providers")
    assert page.status_code == 200 and "vera" in page.text
    cookie = page.request.headers.get("cookie", "")
    assert "maestro_ui=" in cookie
    assert client.post("/logout", data={"csrf": csrf(client)}).status_code == 303
    assert client.get("/providers").status_code == 401


def test_the_session_cookie_is_samesite_strict_and_httponly(client: TestClient) -> None:
    client.get("/login")
    response = client.post("/login", data={"token": TOKENS["viewer"], "csrf": csrf(client)})
    cookie = response.headers["set-cookie"].lower()
    assert "samesite=strict" in cookie and "httponly" in cookie
    assert TOKENS["viewer"] not in response.headers["set-cookie"]


def test_a_login_without_the_csrf_token_is_refused(client: TestClient) -> None:
    response = client.post("/login", data={"token": TOKENS["operator"]})
    assert response.status_code == 401
    assert client.get("/providers").status_code == 401


@pytest.mark.parametrize("role", ["viewer", "approver"])
def test_only_an_operator_may_toggle_a_switch(client: TestClient, login, repo: UiRepo, role: str) -> None:  # type: ignore[no-untyped-def]
    login(role)
    assert "Engage kill switch" not in client.get("/providers").text
    response = client.post("/actions/kill", data={"engaged": "true", "csrf": csrf(client)})
    assert response.status_code == 403 and "operator" in response.text
    bearer = client.post("/actions/kill", data={"engaged": "true"}, headers={"authorization": f"Bearer {TOKENS[role]}"})
    assert bearer.status_code == 403
    assert client.get("/providers.json").json()["switches"]["killAll"] is False


def test_an_action_without_the_csrf_token_is_refused(client: TestClient, login) -> None:  # type: ignore[no-untyped-def]
    login("operator")
    assert client.post("/actions/kill", data={"engaged": "true"}).status_code == 403
    assert client.post("/actions/kill", data={"engaged": "true", "csrf": "forged"}).status_code == 403
    assert client.get("/providers.json").json()["switches"]["killAll"] is False


def test_an_operator_toggles_the_kill_switch_and_it_lands_in_the_ledger(
    client: TestClient, login, repo: UiRepo
) -> None:  # type: ignore[no-untyped-def]
    login("operator")
    page = client.get("/providers")
    assert "Engage kill switch" in page.text
    done = client.post("/actions/kill", data={"engaged": "true", "csrf": csrf(client)}, headers={"referer": "x"})
    assert done.status_code == 303
    assert client.get("/providers.json").json()["switches"]["killAll"] is True
    with Ledger.open(repo.state, readonly=True) as ledger:
        last = list(show(ledger))[-1]
        report = verify_store(ledger, load_keyring(repo.root / KEYS_DIR))
    assert last.entry.action == "ui.kill" and last.entry.actor == "olga:alice"
    assert last.statement["predicate"]["details"]["engaged"] is True
    assert report.ok, report.problems


def test_a_script_freezes_with_a_bearer_token_and_gets_json(client: TestClient) -> None:
    headers = {"authorization": f"Bearer {TOKENS['operator']}"}
    response = client.post("/actions/freeze", data={"engaged": "true"}, headers=headers)
    assert response.status_code == 200
    assert response.json()["switches"]["frozen"] is True and response.json()["actor"] == "olga:alice"
    route = client.get("/providers.json", headers=headers).json()["routes"][0]["name"]
    killed = client.post("/actions/kill", data={"engaged": "1", "route": route}, headers=headers).json()
    assert killed["switches"]["killRoutes"] == [route]
    unknown = client.post("/actions/kill", data={"engaged": "1", "route": "nope"}, headers=headers)
    assert unknown.status_code == 404 and route in unknown.json()["error"]["known"]


def test_without_a_signing_key_no_action_is_taken(repo: UiRepo) -> None:
    from dataclasses import replace

    app = create_app(replace(repo.config, signing_key=None))
    with TestClient(app) as c:
        headers = {"authorization": f"Bearer {TOKENS['operator']}"}
        response = c.post("/actions/kill", data={"engaged": "true"}, headers=headers)
        assert response.status_code == 503 and "signing key" in response.json()["error"]["message"]
        assert c.get("/providers.json", headers=headers).json()["switches"]["killAll"] is False


def test_a_server_error_is_a_page_with_an_incident_id_never_a_traceback(repo: UiRepo, caplog) -> None:  # type: ignore[no-untyped-def]
    conn = sqlite3.connect(repo.state)
    conn.execute(
        "INSERT INTO eval_scorecards (suite, digest, revision, created, scorecard) VALUES ('broken', 'd', 'r', 0, '{')"
    )
    conn.commit()
    conn.close()
    with TestClient(create_app(repo.config), raise_server_exceptions=False) as c:
        response = c.get("/evals/broken", headers=HTML)
        as_json = c.get("/evals/broken.json", headers=BEARER).json()
    assert response.status_code == 500
    assert "Traceback" not in response.text and "JSONDecodeError" not in response.text
    incident = response.text.split('class="incident">')[1].split("<")[0]
    assert len(incident) == 12 and f"internal error {incident}" in caplog.text
    assert "JSONDecodeError" in caplog.text  # the log has the details
    assert as_json["error"]["status"] == 500 and "incident" in as_json["error"]["message"]


def test_pages_send_a_content_security_policy_and_vendor_files_are_served(client: TestClient) -> None:
    page = client.get("/login")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    for name in ("htmx.min.js", "htmx-sse.min.js", "cytoscape.min.js"):
        assert client.get(f"/static/vendor/{name}").status_code == 200


def test_an_edited_manifest_shows_on_the_next_page(client: TestClient, repo: UiRepo) -> None:
    assert client.get("/manifests.json", headers=BEARER).json()["summary"]["errors"] == 0
    routes = repo.root / "manifests" / "routes.yaml"
    routes.write_text(routes.read_text(encoding="utf-8").replace("alias: chat\n", "alias: 7\n", 1), encoding="utf-8")
    after = client.get("/manifests.json", headers=BEARER).json()
    assert after["summary"]["errors"] >= 1
    assert any(d["file"] == "manifests/routes.yaml" and "alias: 7" in d["source"] for d in after["diagnostics"])
    broken = client.get("/providers", headers=HTML)
    assert broken.status_code == 400 and "see /manifests" in broken.text


def test_the_ledger_page_reads_the_newest_entries_and_counts_all(client: TestClient, repo: UiRepo) -> None:
    from helpers.ledger import key

    from maestro.ledger import Action, Subject
    from maestro.ui import ledger as ledger_view

    with Ledger.open(repo.state) as ledger:
        n = ledger_view.PAGE_SIZE + 5
        ledger.append([Action("route", "alice", [Subject.of("r", str(i).encode())]) for i in range(n)], key("alice"))
    data = client.get("/ledger.json", headers=BEARER).json()
    assert data["total"] == data["matching"] == n + 2
    assert [e["index"] for e in data["entries"]] == list(range(n + 1, n + 1 - ledger_view.PAGE_SIZE, -1))
    assert client.get("/ledger.json?action=validate", headers=BEARER).json()["matching"] == 1


def test_manifests_diff_two_revisions_with_risk_classes(client: TestClient, repo: UiRepo) -> None:
    from helpers.eval_repo import commit_all

    (repo.root / ".gitignore").write_text(".maestro/\n", encoding="utf-8")
    old = commit_all(repo.root, "before")
    routes = repo.root / "manifests" / "routes.yaml"
    text = routes.read_text(encoding="utf-8")
    routes.write_text(text.replace("model: gpt-4o-mini, weight: 90", "model: gpt-4o-mini, weight: 50", 1), "utf-8")
    new = commit_all(repo.root, "after")
    for params in ({"old": old, "new": new}, {"old": old}):  # without new: the working tree
        diff = client.get("/manifests.json", params=params, headers=BEARER).json()["diff"]
        changed = [c for c in diff["changes"] if c["kind"] == "Route"]
        assert changed and all(c["risk"] in ("low", "medium", "high") for c in changed)
        assert any(c["old"] == 90 and c["new"] == 50 for c in changed), changed
    page = client.get("/manifests", params={"old": old, "new": new}, headers=HTML)
    assert 'class="risk-' in page.text


def test_guessing_tokens_is_throttled_per_address(client: TestClient) -> None:
    token = csrf(client)
    for _ in range(5):
        assert client.post("/login", data={"token": "guess", "csrf": token}).status_code == 401
    refused = client.post("/login", data={"token": TOKENS["operator"], "csrf": token})
    assert refused.status_code == 429 and 1 <= int(refused.headers["retry-after"]) <= 61
    assert "try again in" in refused.text
    assert client.get("/providers", headers=BEARER).status_code == 429  # the address, whatever it sends


def test_guessing_bearer_tokens_is_throttled_too(client: TestClient) -> None:
    for _ in range(5):
        assert client.get("/providers.json", headers={"authorization": "Bearer guess"}).status_code == 401
    assert client.get("/providers.json", headers=BEARER).status_code == 429


def test_the_throttle_forgets_after_its_window() -> None:
    from maestro.ui.auth import LoginThrottle, TooManyLogins

    now = [0.0]
    throttle = LoginThrottle(failures=2, window_s=10, clock=lambda: now[0])
    throttle.failed("a")
    throttle.failed("a")
    with pytest.raises(TooManyLogins):
        throttle.check("a")
    throttle.check("b")
    now[0] = 10.5
    throttle.check("a")


def test_providers_are_checked_on_request_and_the_key_never_leaves(repo: UiRepo) -> None:
    from dataclasses import replace

    import httpx

    seen: list[str] = []

    def openai(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("authorization", ""))
        return httpx.Response(200, json={"object": "list", "data": [{"id": "gpt-4o-mini", "object": "model"}]})

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    names = ["openai-us", "anthropic-us", "nim-eu", "mistral-eu", "local-lane"]
    transports = {n: httpx.MockTransport(openai if n == "openai-us" else down) for n in names}
    with TestClient(create_app(replace(repo.config, transports=transports))) as c:
        unchecked = c.get("/providers.json", headers=BEARER).json()["providers"]
        checked = {p["name"]: p["probe"] for p in c.get("/providers.json?probe=1", headers=BEARER).json()["providers"]}
        page = c.get("/providers?probe=1", headers=HTML).text
    assert all(p["probe"] is None for p in unchecked)
    assert checked["openai-us"]["reachable"] is True and checked["openai-us"]["ok"] is True
    assert checked["mistral-eu"]["reachable"] is False
    assert seen == ["Bearer sk-test-never-shown-0001"] * 2  # the key went to the provider, and only there
    assert set(checked) == set(names)
    assert "sk-test-never-shown" not in page and "UNREACHABLE" in page
