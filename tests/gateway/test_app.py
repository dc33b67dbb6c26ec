"""The gateway in-process: bad input, retries, admin, budgets, headers; upstreams are httpx.MockTransport."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from helpers.gateway import offline_config, sse_body

from maestro.gateway import ApiKey
from maestro.gateway.budgets import Budgets
from maestro.router import Budget, RouteSettings

from .conftest import app_client, mock

MESSAGES = [{"role": "user", "content": "hello"}]
DECISION_HEADERS = ("x-maestro-route", "x-maestro-served-by", "x-maestro-decision-id", "x-maestro-cost-usd")


def ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, content=sse_body(), headers={"content-type": "text/event-stream"})


def run(coro: object) -> object:
    return asyncio.run(coro)  # type: ignore[arg-type]


BAD = [
    (b"{not json", {}, 400, "invalid_json"),
    (b"[1, 2]", {}, 400, "invalid_body"),
    (json.dumps({"model": "nope", "messages": MESSAGES}).encode(), {}, 404, "model_not_found"),
    (json.dumps({"model": "chat"}).encode(), {}, 400, "missing_messages"),
    (json.dumps({"model": "chat", "messages": []}).encode(), {}, 400, "invalid_messages"),
    (json.dumps({"model": "chat", "messages": [{"content": "x"}]}).encode(), {}, 400, "invalid_messages"),
    (json.dumps({"model": "chat", "messages": [{"role": {}}]}).encode(), {}, 400, "invalid_messages"),  # was a 500
    (json.dumps({"model": "chat", "messages": [{"role": ["user"]}]}).encode(), {}, 400, "invalid_messages"),
    (json.dumps({"model": "chat", "messages": MESSAGES, "stream": "yes"}).encode(), {}, 400, "invalid_stream"),
    (
        json.dumps({"model": "chat", "messages": MESSAGES, "stream_options": {"include_usage": True}}).encode(),
        {},
        400,
        "invalid_stream_options",
    ),
    (
        json.dumps({"model": "chat", "messages": MESSAGES, "stream": True, "stream_options": {"x": 1}}).encode(),
        {},
        400,
        "invalid_stream_options",
    ),
    (json.dumps({"model": "chat", "messages": MESSAGES, "tags": ["no.such-tag"]}).encode(), {}, 400, "unknown_tag"),
    (json.dumps({"model": "chat", "messages": MESSAGES, "temprature": 1}).encode(), {}, 400, "invalid_request"),
    (json.dumps({"model": "chat", "messages": MESSAGES, "pad": "x" * 5000}).encode(), {}, 413, "body_too_large"),
    (json.dumps({"model": "chat", "messages": MESSAGES, "max_tokens": 10**6}).encode(), {}, 400, "request_too_large"),
]


@pytest.mark.parametrize(("body", "headers", "status", "code"), BAD)
def test_bad_input_is_a_clear_4xx_and_nothing_is_charged(
    tmp_path: Path, body: bytes, headers: dict[str, str], status: int, code: str
) -> None:
    calls: list[httpx.Request] = []

    def upstream(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return ok(request)

    budget = Budget("all", 1.0, "day", "block", team="t")
    config = offline_config(
        tmp_path,
        {"alpha": mock(upstream), "beta": mock(upstream)},
        max_body_bytes=4096,
        budgets=(budget,),
        state_path=tmp_path / "state.db",
    )

    async def go() -> httpx.Response:
        async with app_client(config) as c:
            return await c.post("/v1/chat/completions", content=body, headers={"x-maestro-team": "t", **headers})

    response = run(go())
    assert isinstance(response, httpx.Response)
    assert response.status_code == status
    error = response.json()["error"]
    assert error["code"] == code and error["message"] and error["type"]
    assert all(h in response.headers for h in DECISION_HEADERS)
    assert calls == []
    from maestro import state

    assert Budgets(state.connect(tmp_path / "state.db"), [budget]).spent(budget) == 0.0


ODD_BUT_VALID = [
    {"model": "chat", "messages": [{"role": "user", "content": [{"type": "text", "text": 5}, 7]}]},  # was a 500
    {"model": "chat", "messages": MESSAGES, "max_tokens": 24.0},  # JSON's 24.0 is the integer 24
]


@pytest.mark.parametrize("body", ODD_BUT_VALID)
def test_odd_but_valid_bodies_are_served(tmp_path: Path, body: dict[str, object]) -> None:
    config = offline_config(tmp_path, {"alpha": mock(ok), "beta": mock(ok)})

    async def go() -> httpx.Response:
        async with app_client(config) as c:
            return await c.post("/v1/chat/completions", json=body)

    response = run(go())
    assert isinstance(response, httpx.Response)
    assert response.status_code == 200, response.text
    assert response.headers["x-maestro-served-by"] == "alpha/m1"


def test_a_buffered_answer_that_stalls_after_its_first_token_falls_back(tmp_path: Path) -> None:
    async def stalled() -> AsyncIterator[bytes]:
        role, first, *_ = sse_body().split(b"\n\n")
        yield role + b"\n\n" + first + b"\n\n"
        await asyncio.sleep(30)

    config = offline_config(
        tmp_path, {"alpha": mock(lambda r: httpx.Response(200, content=stalled())), "beta": mock(ok)}, stall_s=0.2
    )

    async def go() -> tuple[httpx.Response, float]:
        async with app_client(config) as c:
            started = asyncio.get_running_loop().time()
            response = await c.post("/v1/chat/completions", json={"model": "chat", "messages": MESSAGES})
            return response, asyncio.get_running_loop().time() - started

    response, seconds = run(go())  # type: ignore[misc]
    assert response.status_code == 200 and response.headers["x-maestro-served-by"] == "beta/m1"
    assert response.headers["x-maestro-attempts"] == "2"
    assert "stream-stall" in response.headers["x-maestro-passed-over"]
    assert 0.2 <= seconds < 5


def test_a_slow_buffered_answer_is_no_stall_while_each_chunk_comes_in_time(tmp_path: Path) -> None:
    async def slow() -> AsyncIterator[bytes]:
        for event in sse_body(("a", "b", "c", "d", "e", "f")).split(b"\n\n"):
            await asyncio.sleep(0.06)
            yield event + b"\n\n"

    config = offline_config(
        tmp_path, {"alpha": mock(lambda r: httpx.Response(200, content=slow())), "beta": mock(ok)}, stall_s=0.25
    )

    async def go() -> httpx.Response:
        async with app_client(config) as c:  # the whole answer takes about 0.6 s, each chunk 0.06 s
            return await c.post("/v1/chat/completions", json={"model": "chat", "messages": MESSAGES})

    response = run(go())
    assert isinstance(response, httpx.Response)
    assert response.status_code == 200 and response.headers["x-maestro-served-by"] == "alpha/m1"
    assert response.json()["choices"][0]["message"]["content"] == "abcdef"


def test_unknown_path_and_method_have_openai_error_bodies(tmp_path: Path) -> None:
    config = offline_config(tmp_path, {"alpha": mock(ok), "beta": mock(ok)})

    async def go() -> tuple[httpx.Response, httpx.Response]:
        async with app_client(config) as c:
            return await c.get("/v1/nothing"), await c.get("/v1/chat/completions")

    missing, wrong = run(go())  # type: ignore[misc]
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert wrong.status_code == 405 and wrong.json()["error"]["code"] == "method_not_allowed"
    assert wrong.headers["allow"] == "POST"  # RFC 9110: a 405 says which methods are


def test_a_429_falls_back_at_once_instead_of_waiting(tmp_path: Path) -> None:
    times: list[float] = []

    def limited(request: httpx.Request) -> httpx.Response:
        times.append(asyncio.get_running_loop().time())
        if len(times) == 1:
            return httpx.Response(429, json={"error": {"message": "slow down"}}, headers={"retry-after": "0.3"})
        return ok(request)

    config = offline_config(tmp_path, {"alpha": mock(limited), "beta": mock(ok)})
    config = replace(config, routes={"chat-route": RouteSettings(retries=2, backoff_s=0.01, first_token_s=2)})

    async def go() -> httpx.Response:
        async with app_client(config) as c:
            return await c.post("/v1/chat/completions", json={"model": "chat", "messages": MESSAGES})

    response = run(go())
    assert isinstance(response, httpx.Response)
    # alpha's 429 sends the request to beta at once (fallback before retry)
    assert response.headers["x-maestro-served-by"] == "beta/m1"
    assert len(times) == 1


def test_retry_after_is_waited_for_when_no_fallback_is_left(tmp_path: Path) -> None:
    from helpers.gateway import Up, route

    times: list[float] = []

    def limited(request: httpx.Request) -> httpx.Response:
        times.append(asyncio.get_running_loop().time())
        if len(times) == 1:
            return httpx.Response(429, json={"error": {"message": "slow down"}}, headers={"retry-after": "0.3"})
        return ok(request)

    config = offline_config(
        tmp_path,
        {"alpha": mock(limited)},
        ups=[Up("alpha")],
        routes=route("chat-route", "chat", ["alpha"], [], retries=2),
    )

    async def go() -> httpx.Response:
        async with app_client(config) as c:
            return await c.post("/v1/chat/completions", json={"model": "chat", "messages": MESSAGES})

    response = run(go())
    assert isinstance(response, httpx.Response)
    assert response.status_code == 200 and response.headers["x-maestro-served-by"] == "alpha/m1"
    assert len(times) == 2 and times[1] - times[0] >= 0.29


def test_retry_after_longer_than_the_cap_is_not_waited_for(tmp_path: Path) -> None:
    from helpers.gateway import Up, route

    def limited(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, json={"error": {"message": "slow down"}}, headers={"retry-after": "120"})

    config = offline_config(
        tmp_path,
        {"alpha": mock(limited)},
        ups=[Up("alpha")],
        routes=route("chat-route", "chat", ["alpha"], [], retries=3),
    )

    async def go() -> httpx.Response:
        async with app_client(config) as c:
            return await c.post("/v1/chat/completions", json={"model": "chat", "messages": MESSAGES})

    response = run(go())
    assert isinstance(response, httpx.Response)
    assert response.status_code == 503
    assert "rate-limited" in response.json()["error"]["unavailable"][0]["reason"]


def test_kill_switch_and_freeze_through_the_admin_endpoints(tmp_path: Path) -> None:
    config = offline_config(tmp_path, {"alpha": mock(ok), "beta": mock(ok)}, state_path=tmp_path / "s.db")
    admin = {"authorization": "Bearer admin-token"}
    body = {"model": "chat", "messages": MESSAGES}

    async def go() -> list[httpx.Response]:
        async with app_client(config) as c:
            out = [await c.post("/admin/kill-switch", json={"engaged": True}, headers={"authorization": "Bearer x"})]
            out.append(await c.post("/admin/kill-switch", json={"engaged": True, "route": "chat-route"}, headers=admin))
            out.append(await c.post("/v1/chat/completions", json=body))
            out.append(
                await c.post("/admin/kill-switch", json={"engaged": False, "route": "chat-route"}, headers=admin)
            )
            out.append(await c.post("/v1/chat/completions", json=body))
            out.append(await c.post("/admin/freeze", json={"engaged": True}, headers=admin))
            out.append(await c.post("/admin/reload", headers=admin))
            out.append(await c.post("/admin/kill-switch", json={"engaged": True, "route": "nope"}, headers=admin))
            return out

    wrong, killed, refused, released, served, frozen, reload, unknown = run(go())  # type: ignore[misc]
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "invalid_admin_token"
    assert killed.json()["killRoutes"] == ["chat-route"]
    assert refused.status_code == 503 and refused.json()["error"]["code"] == "kill_switch"
    assert released.json()["killRoutes"] == []
    assert served.status_code == 200
    assert frozen.json()["frozen"] is True
    assert reload.status_code == 409 and reload.json()["error"]["code"] == "frozen"
    assert unknown.status_code == 404


def test_kill_switch_is_shared_by_processes_through_the_state_store(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    one = offline_config(tmp_path / "a", {"alpha": mock(ok), "beta": mock(ok)}, state_path=db)
    two = offline_config(tmp_path / "b", {"alpha": mock(ok), "beta": mock(ok)}, state_path=db)

    async def go() -> list[httpx.Response]:
        admin = {"authorization": "Bearer admin-token"}
        body = {"model": "chat", "messages": MESSAGES}
        async with app_client(one) as a, app_client(two) as b:
            out = [await b.post("/v1/chat/completions", json=body)]  # b has read the switches before
            await a.post("/admin/kill-switch", json={"engaged": True}, headers=admin)
            out.append(await b.post("/v1/chat/completions", json=body))
            await a.post("/admin/kill-switch", json={"engaged": False}, headers=admin)
            out.append(await b.post("/v1/chat/completions", json=body))
            return out

    before, killed, released = run(go())  # type: ignore[misc]
    assert before.status_code == 200 and released.status_code == 200
    assert killed.status_code == 503 and killed.json()["error"]["code"] == "kill_switch"


def test_admin_is_off_without_a_token(tmp_path: Path) -> None:
    config = offline_config(tmp_path, {"alpha": mock(ok), "beta": mock(ok)}, environ={})

    async def go() -> httpx.Response:
        async with app_client(config) as c:
            return await c.get("/admin/switches", headers={"authorization": "Bearer "})

    response = run(go())
    assert isinstance(response, httpx.Response)
    assert response.status_code == 403 and response.json()["error"]["code"] == "admin_disabled"


def test_budget_reserves_settles_and_blocks(tmp_path: Path) -> None:
    # each answer costs (7 * 1 + 2 * 2) / 1e6; the estimate for 256 output tokens is far higher
    budget = Budget("key-a", 0.002, "day", "block", api_key="a")
    keys = {"token-a": ApiKey("a")}
    config = offline_config(
        tmp_path, {"alpha": mock(ok), "beta": mock(ok)}, budgets=(budget,), api_keys=keys, state_path=tmp_path / "s.db"
    )
    body = {"model": "chat", "messages": MESSAGES, "max_tokens": 200}

    async def go() -> list[httpx.Response]:
        async with app_client(config) as c:
            out = [await c.post("/v1/chat/completions", json=body)]
            out += [await c.post("/v1/chat/completions", json=body, headers={"authorization": "Bearer token-a"})]
            out += [
                await c.post(
                    "/v1/chat/completions",
                    json={**body, "max_tokens": 2000},
                    headers={"authorization": "Bearer token-a"},
                )
            ]
            return out

    anonymous, served, over = run(go())  # type: ignore[misc]
    assert anonymous.status_code == 401
    assert served.status_code == 200
    from maestro import state

    spent = Budgets(state.connect(tmp_path / "s.db"), [budget]).spent(budget)
    assert spent == pytest.approx((7 * 1 + 2 * 2) / 1e6)  # settled to the real cost, not the estimate
    assert over.status_code == 429 and over.json()["error"]["code"] == "budget_exceeded"


def test_downgrade_budget_serves_the_cheaper_candidate(tmp_path: Path) -> None:
    # alpha's estimate (256 out at $2/1M ≈ $0.00052) is over what is left; beta's (≈ $0.00026) fits
    budget = Budget("team-t", 0.0004, "month", "downgrade", team="t")
    config = offline_config(tmp_path, {"alpha": mock(ok), "beta": mock(ok)}, budgets=(budget,))

    async def go() -> httpx.Response:
        async with app_client(config) as c:
            return await c.post("/v1/chat/completions", json={"model": "chat", "messages": MESSAGES, "team": "t"})

    response = run(go())
    assert isinstance(response, httpx.Response)
    assert response.status_code == 200 and response.headers["x-maestro-served-by"] == "beta/m1"


def test_the_record_sink_sees_every_decision(tmp_path: Path) -> None:
    seen: list[tuple[str, str | None, float]] = []
    config = offline_config(
        tmp_path,
        {"alpha": mock(ok), "beta": mock(ok)},
        record=lambda d, served, cost: seen.append((d.decision_id, served, cost)),
    )

    async def go() -> httpx.Response:
        async with app_client(config) as c:
            return await c.post("/v1/chat/completions", json={"model": "chat", "messages": MESSAGES})

    response = run(go())
    assert isinstance(response, httpx.Response)
    assert seen == [(response.headers["x-maestro-decision-id"], "alpha/m1", pytest.approx(11e-6))]


def test_metrics_count_requests_and_attempts(tmp_path: Path) -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    config = offline_config(tmp_path, {"alpha": mock(down), "beta": mock(ok)})

    async def go() -> tuple[httpx.Response, httpx.Response, httpx.Response]:
        async with app_client(config) as c:
            answer = await c.post("/v1/chat/completions", json={"model": "chat", "messages": MESSAGES})
            plain = await c.get("/metrics")
            openmetrics = await c.get("/metrics", headers={"accept": "application/openmetrics-text; version=1.0.0"})
            return answer, plain, openmetrics

    answer, plain, om = run(go())
    text = plain.text
    assert plain.headers["content-type"].startswith("text/plain")
    assert 'maestro_gateway_requests_total{route="chat-route",status="200"} 1.0' in text
    assert 'maestro_gateway_attempts_total{deployment="alpha/m1",outcome="connect-error"} 1.0' in text
    assert 'maestro_gateway_attempts_total{deployment="beta/m1",outcome="ok"} 1.0' in text
    cost = float(answer.headers["x-maestro-cost-usd"])
    assert cost > 0
    line = next(x for x in text.splitlines() if x.startswith("maestro_gateway_cost_usd_total{"))
    assert line.startswith('maestro_gateway_cost_usd_total{deployment="beta/m1",route="chat-route"}')
    assert float(line.rsplit(" ", 1)[1]) == pytest.approx(cost)
    assert "decision_id" not in text  # the classic format has no exemplars, and an id is never a label
    # OpenMetrics carries the decision on the cost and the latency as exemplars
    assert om.headers["content-type"].startswith("application/openmetrics-text")
    decision = answer.headers["x-maestro-decision-id"]
    cost_line = next(x for x in om.text.splitlines() if x.startswith("maestro_gateway_cost_usd_total{"))
    assert f'# {{decision_id="{decision}"}}' in cost_line
    assert any(x.startswith("maestro_gateway_request_seconds_bucket") and decision in x for x in om.text.splitlines())


def test_openapi_document_is_served_and_matches_the_file(tmp_path: Path) -> None:
    config = offline_config(tmp_path, {"alpha": mock(ok), "beta": mock(ok)})

    async def go() -> httpx.Response:
        async with app_client(config) as c:
            return await c.get("/openapi.json")

    response = run(go())
    assert isinstance(response, httpx.Response)
    doc = response.json()
    assert doc["openapi"].startswith("3.1")
    assert "/v1/chat/completions" in doc["paths"]
    on_disk = json.loads((Path(__file__).parents[2] / "docs" / "gateway.openapi.json").read_text())
    assert on_disk == doc, "refresh it: json.dumps(maestro.gateway.openapi.document(), indent=2)"


def test_cost_cap_downgrades_to_a_cheaper_allowed_candidate(tmp_path: Path) -> None:
    from helpers.gateway import Up, route

    ups = [Up("alpha", price_in=10, price_out=20), Up("beta", price_in=0.5, price_out=1.0)]
    routes = route("chat-route", "chat", ["alpha", "beta"], [], limits=", maxCostUsd: 0.001")
    config = offline_config(tmp_path, {"alpha": mock(ok), "beta": mock(ok)}, ups=ups, routes=routes)

    async def go() -> tuple[httpx.Response, httpx.Response]:
        async with app_client(config) as c:
            small = await c.post("/v1/chat/completions", json={"model": "chat", "messages": MESSAGES})
            huge = await c.post(
                "/v1/chat/completions", json={"model": "chat", "messages": MESSAGES, "max_tokens": 5000}
            )
            return small, huge

    small, huge = run(go())  # type: ignore[misc]
    assert small.status_code == 200 and small.headers["x-maestro-served-by"] == "beta/m1"
    assert huge.status_code == 400 and huge.json()["error"]["code"] == "request_too_large"
    assert {r["deployment"] for r in huge.json()["error"]["unavailable"]} == {"alpha/m1", "beta/m1"}


def test_reload_serves_the_new_manifests_unless_frozen(tmp_path: Path) -> None:
    from helpers.gateway import Up, route

    transports = {"alpha": mock(ok), "beta": mock(ok)}
    newer = offline_config(
        tmp_path / "new", transports, ups=[Up("alpha"), Up("beta")], routes=route("chat-route", "chat-v2", ["beta"], [])
    )
    config = replace(offline_config(tmp_path, transports), reload=lambda: newer)
    admin = {"authorization": "Bearer admin-token"}

    async def go() -> tuple[httpx.Response, list[str], httpx.Response]:
        async with app_client(config) as c:
            reloaded = await c.post("/admin/reload", headers=admin)
            models = [m["id"] for m in (await c.get("/v1/models")).json()["data"]]
            answer = await c.post("/v1/chat/completions", json={"model": "chat-v2", "messages": MESSAGES})
            return reloaded, models, answer

    reloaded, models, answer = run(go())  # type: ignore[misc]
    assert reloaded.status_code == 200 and reloaded.json()["reloaded"] is True
    assert models == ["chat-v2"]
    assert answer.status_code == 200 and answer.headers["x-maestro-served-by"] == "beta/m1"


def test_a_provider_whose_key_is_unset_is_skipped_with_the_reason(tmp_path: Path) -> None:
    from helpers.gateway import Up, route

    calls: list[str] = []

    def upstream(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.host)
        return ok(request)

    env = {"BETA_API_KEY": "sk-beta"}  # ALPHA_API_KEY unset
    config = offline_config(tmp_path, {"alpha": mock(upstream), "beta": mock(upstream)}, environ=env)
    single = offline_config(
        tmp_path / "one",
        {"alpha": mock(upstream)},
        environ=env,
        ups=[Up("alpha")],
        routes=route("r", "chat", ["alpha"], []),
    )

    async def go() -> tuple[httpx.Response, httpx.Response]:
        async with app_client(config) as a, app_client(single) as b:
            body = {"model": "chat", "messages": MESSAGES}
            return await a.post("/v1/chat/completions", json=body), await b.post("/v1/chat/completions", json=body)

    fell_back, refused = run(go())  # type: ignore[misc]
    assert fell_back.headers["x-maestro-served-by"] == "beta/m1" and fell_back.headers["x-maestro-attempts"] == "1"
    assert calls == ["beta.invalid"]
    assert refused.status_code == 503
    assert refused.json()["error"]["unavailable"] == [
        {"deployment": "alpha/m1", "reason": "its API key is not set: $ALPHA_API_KEY is empty"}
    ]


def test_a_route_budget_blocks_the_route_once_spent(tmp_path: Path) -> None:
    # an answer costs (7 * 1 + 2 * 2) / 1e6 = $0.000011 at alpha's prices, and is estimated at $0.000009
    # before the call; the route may spend $0.00002 a day: two fit, the third finds nothing left
    budget = Budget("route-chat", 0.00002, "day", "block", route="chat-route")
    config = offline_config(
        tmp_path, {"alpha": mock(ok), "beta": mock(ok)}, budgets=(budget,), state_path=tmp_path / "s.db"
    )
    body = {"model": "chat", "messages": MESSAGES, "max_tokens": 2}

    async def go() -> list[httpx.Response]:
        async with app_client(config) as c:
            return [await c.post("/v1/chat/completions", json=body) for _ in range(3)]

    responses = run(go())
    assert isinstance(responses, list)
    assert [r.status_code for r in responses] == [200, 200, 429]
    from maestro import state

    spent = Budgets(state.connect(tmp_path / "s.db"), [budget]).spent(budget)
    assert spent == pytest.approx(sum(float(r.headers["x-maestro-cost-usd"]) for r in responses[:2]))
    refused = responses[2].json()["error"]
    assert refused["code"] == "budget_exceeded" and "budget 'route-chat'" in refused["message"]
    assert responses[2].headers["x-maestro-cost-usd"] == "0.00000000"  # and nothing reserved stays charged


def test_a_deeply_nested_admin_body_is_a_400(tmp_path: Path) -> None:
    config = offline_config(tmp_path, {"alpha": mock(ok), "beta": mock(ok)})
    deep = b'{"engaged": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"

    async def go() -> httpx.Response:
        async with app_client(config) as c:
            return await c.post("/admin/kill-switch", content=deep, headers={"authorization": "Bearer admin-token"})

    response = run(go())
    assert isinstance(response, httpx.Response)
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_json"
