"""Every routing decision of the gateway lands in the signed ledger, off the request path, none lost."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from helpers.gateway import offline_config, sse_body
from helpers.ledger import key, keyring

from maestro.gateway.recording import ledger_sink
from maestro.ledger import Ledger, Writer, dsse
from maestro.ledger import statement as st
from maestro.ledger.query import verify_store

from .conftest import app_client, mock


def ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, content=sse_body(), headers={"content-type": "text/event-stream"})


def down(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("refused", request=request)


def _entries(path: Path) -> list[dict[str, object]]:
    with Ledger.open(path) as led:
        return [st.parse(dsse.decode(line).payload).predicate for line in led.lines()]


def test_each_decision_is_a_signed_entry_with_what_served_it_and_the_cost(tmp_path: Path) -> None:
    store = tmp_path / "state.db"
    writer = Writer(store, key("alice"))
    config = offline_config(
        tmp_path, {"alpha": mock(down), "beta": mock(ok)}, record=ledger_sink(writer, "gateway:alice")
    )
    bodies = [
        {"model": "chat", "messages": [{"role": "user", "content": f"question {i}"}], "request_id": f"r{i}"}
        for i in range(20)
    ]

    async def go() -> list[httpx.Response]:
        async with app_client(config) as c:
            return [await c.post("/v1/chat/completions", json=b) for b in bodies]

    responses = asyncio.run(go())
    writer.close()  # a clean shutdown appends everything still queued
    assert all(r.status_code == 200 for r in responses)
    predicates = _entries(store)
    assert len(predicates) == 20
    by_id = {p["details"]["decision_id"]: p for p in predicates}  # type: ignore[index]
    for response in responses:
        entry = by_id[response.headers["x-maestro-decision-id"]]
        assert entry["action"] == "route" and entry["actor"] == "gateway:alice"
        assert entry["details"]["served_by"] == response.headers["x-maestro-served-by"] == "beta/m1"  # type: ignore[index]
        cost = entry["cost"]["usd"]  # type: ignore[index]
        assert cost > 0 and cost == pytest.approx(float(response.headers["x-maestro-cost-usd"]), abs=1e-8)
        assert entry["manifests"]  # the content hashes of what the decision read
    with Ledger.open(store) as led:
        report = verify_store(led, keyring("alice"))
    assert report.ok, report.problems
    assert report.entries == 20


def test_a_denied_request_is_recorded_with_the_policy_that_denied_it(tmp_path: Path) -> None:
    store = tmp_path / "state.db"
    writer = Writer(store, key("alice"))
    config = offline_config(
        tmp_path, {"alpha": mock(ok), "beta": mock(ok)}, record=ledger_sink(writer, "gateway:alice")
    )
    body = {"model": "chat", "messages": [{"role": "user", "content": "hi"}], "tags": ["no.such-tag"]}

    async def go() -> httpx.Response:
        async with app_client(config) as c:
            return await c.post("/v1/chat/completions", json=body)

    response = asyncio.run(go())
    writer.close()
    assert response.status_code >= 400
    predicates = _entries(store)
    assert len(predicates) == 1
    results = {(p["name"], p["result"]) for p in predicates[0]["policies"]}  # type: ignore[index, union-attr]
    assert ("router.decision", "denied") in results
    assert predicates[0]["details"]["served_by"] is None  # type: ignore[index]


def test_the_gateway_records_only_where_the_repository_keeps_a_ledger_and_trusts_the_key(tmp_path: Path) -> None:
    from maestro.ledger.errors import KeyFileError
    from maestro.ledger.keys import KEYS_DIR, write_public_key, write_signing_key
    from maestro.ledger.record import recorder  # what `maestro gateway` opens its writer from

    key_file = tmp_path / "alice.key"
    write_signing_key(key("alice"), key_file)
    assert recorder(tmp_path, key_file) is None  # no .maestro/keys: nothing recorded, nothing read
    (tmp_path / KEYS_DIR).mkdir(parents=True)
    with pytest.raises(KeyFileError, match="not among the trusted keys"):
        recorder(tmp_path, key_file)
    write_public_key(key("alice").public, tmp_path)
    ledger = recorder(tmp_path, key_file, store=tmp_path / "ledger.db")
    assert ledger is not None and ledger.key.keyid == key("alice").keyid and ledger.signer == "alice"
    with ledger.writer() as writer:
        writer.submit(st.Action("route", f"gateway:{ledger.signer}", [st.Subject.of("decision", b"{}")]))
    assert [p["actor"] for p in _entries(tmp_path / "ledger.db")] == ["gateway:alice"]


def test_a_ledger_store_that_takes_no_appends_never_stalls_a_request(tmp_path: Path) -> None:
    """The writer's queue is full and its store locked by another process: requests are still answered."""
    import sqlite3

    store = tmp_path / "ledger.db"
    writer = Writer(store, key("alice"), max_pending=2, max_delay=0.01)
    holder = sqlite3.connect(store, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    config = offline_config(
        tmp_path, {"alpha": mock(ok), "beta": mock(ok)}, record=ledger_sink(writer, "gateway:alice")
    )
    body = {"model": "chat", "messages": [{"role": "user", "content": "hi"}]}

    async def go() -> list[httpx.Response]:
        async with app_client(config) as c:
            return [await c.post("/v1/chat/completions", json=body) for _ in range(6)]

    responses = asyncio.run(go())
    assert [r.status_code for r in responses] == [200] * 6  # submit refused the four past max_pending at once
    holder.execute("ROLLBACK")
    holder.close()
    writer.close()  # what it accepted is appended once the store is free
    assert len(_entries(store)) == 2


def test_a_live_weight_change_is_recorded_as_the_admin_through_the_gateways_key(tmp_path: Path) -> None:
    from maestro.gateway.recording import change_sink
    from maestro.state.weights import Change

    store = tmp_path / "ledger.db"
    with Writer(store, key("alice")) as writer:
        change = Change("chat-route", {"alpha/m1": 100.0}, {"alpha/m1": 0.0}, "admin", "rollback", 0.0)
        change_sink(writer, "alice")(change)
    (entry,) = _entries(store)
    assert entry["action"] == "weights.set" and entry["actor"] == "admin:alice"
    with Ledger.open(store) as led:
        assert verify_store(led, keyring("alice")).ok
