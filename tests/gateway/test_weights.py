"""POST /admin/weights: checked against the route, refused in a freeze when it adds traffic, recorded."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from helpers.gateway import offline_config, route, sse_body

from maestro.gateway.recording import weight_change_action
from maestro.state.weights import Change

from .conftest import app_client, mock

ADMIN = {"authorization": "Bearer admin-token"}


def ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, content=sse_body(), headers={"content-type": "text/event-stream"})


def test_changes_are_checked_recorded_and_refused_in_a_freeze(tmp_path: Path) -> None:
    changes: list[Change] = []
    config = offline_config(
        tmp_path,
        {"alpha": mock(ok), "beta": mock(ok)},
        routes=route("chat-route", "chat", ["alpha", "beta"], []),
        record_change=changes.append,
    )

    async def go() -> list[httpx.Response]:
        async with app_client(config) as c:
            post = c.post
            return [
                await post("/admin/weights", json={"route": "nope", "weights": {"alpha/m1": 0}}, headers=ADMIN),
                await post("/admin/weights", json={"route": "chat-route", "weights": {"gamma/m1": 1}}, headers=ADMIN),
                await post("/admin/weights", json={"route": "chat-route", "weights": {}}, headers=ADMIN),
                await post("/admin/weights", json={"route": "chat-route", "weights": {"alpha/m1": 0}}),
                await post(
                    "/admin/weights",
                    json={"route": "chat-route", "weights": {"alpha/m1": 0}, "reason": "rollback"},
                    headers=ADMIN,
                ),
                await post(
                    "/v1/chat/completions", json={"model": "chat", "messages": [{"role": "user", "content": "x"}]}
                ),
            ]

    unknown, no_candidate, empty, anonymous, done, served = asyncio.run(go())
    assert unknown.status_code == 404 and "known: chat-route" in unknown.json()["error"]["message"]
    assert no_candidate.status_code == 400 and "has no candidate gamma/m1" in no_candidate.json()["error"]["message"]
    assert empty.status_code == 400 and anonymous.status_code == 401
    assert done.status_code == 200 and done.json() == {"chat-route": {"alpha/m1": 0.0, "beta/m1": 100.0}}
    assert served.headers["x-maestro-served-by"] == "beta/m1"
    (change,) = changes  # only the applied change is recorded
    entry = weight_change_action(change)
    assert entry.action == "weights.set" and entry.actor == "admin"
    assert entry.details["before"] == {"alpha/m1": 100.0, "beta/m1": 100.0}
    assert entry.details["after"]["alpha/m1"] == 0.0 and entry.details["reason"] == "rollback"
