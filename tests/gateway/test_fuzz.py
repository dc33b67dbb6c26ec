"""Malformed and odd input never makes the gateway answer 500 or charge anything (hypothesis)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
from helpers.gateway import offline_config, sse_body
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from maestro.gateway import create_app
from maestro.router import Budget

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
MESSAGE = st.fixed_dictionaries(
    {"role": st.sampled_from(["user", "system", "assistant", "tool", "robot", ""])},
    optional={"content": st.one_of(st.text(max_size=50), JSON)},
)
FIELDS = {
    "model": st.one_of(st.just("chat"), st.text(max_size=10), JSON),
    "messages": st.one_of(st.lists(MESSAGE, max_size=3), JSON),
    "stream": st.one_of(st.booleans(), JSON),
    "stream_options": st.one_of(st.fixed_dictionaries({"include_usage": st.booleans()}), JSON),
    "max_tokens": st.one_of(st.integers(min_value=-5, max_value=10**7), JSON),
    "tags": st.one_of(st.lists(st.sampled_from(["pii.email", "no.such", "sensitivity.public"]), max_size=2), JSON),
    "team": JSON,
    "temperature": JSON,
    "tools": JSON,
}
BODY = st.one_of(
    st.fixed_dictionaries({}, optional=FIELDS),
    JSON,
)
RAW = st.one_of(BODY.map(lambda b: json.dumps(b).encode()), st.binary(max_size=200))


def ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, content=sse_body())


def test_no_input_makes_a_500(tmp_path: Path) -> None:
    budget = Budget("team-t", 1.0, "day", "block", team="t")
    config = offline_config(
        tmp_path,
        {"alpha": httpx.MockTransport(ok), "beta": httpx.MockTransport(ok)},
        budgets=(budget,),
        max_body_bytes=2048,
    )
    app = create_app(config)
    loop = asyncio.new_event_loop()
    seen: list[tuple[int, Any]] = []

    async def post(raw: bytes, stream_header: bool) -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://g") as c:
            headers = {"content-type": "application/json", "x-maestro-team": "t"}
            if stream_header:
                headers["x-maestro-tags"] = "no.such"
            return await c.post("/v1/chat/completions", content=raw, headers=headers)

    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(raw=RAW, stream_header=st.booleans())
    def check(raw: bytes, stream_header: bool) -> None:
        response = loop.run_until_complete(post(raw, stream_header))
        assert response.status_code != 500, response.text
        if response.status_code >= 400:
            error = response.json()["error"]
            assert isinstance(error["message"], str) and error["message"] and error["type"]
        seen.append((response.status_code, None))

    try:
        check()
        spent = app.state.runtime.budgets.spent(budget)
    finally:
        loop.run_until_complete(app.state.runtime.aclose())
        loop.close()
    assert {s for s, _ in seen} & {400, 404}  # the fuzzer did reach the refusals
    # whatever was served was charged at its real cost: never more than the served answers cost
    served = sum(1 for s, _ in seen if s == 200)
    assert spent <= served * (7 * 1 + 2 * 2) / 1e6 + 1e-12
