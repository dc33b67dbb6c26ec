"""The served gateway, fuzzed by schemathesis from its own OpenAPI document: no 500 on any input, every answer
as documented (status, content type, headers, body), schema-invalid input refused, and nothing charged to a
budget but the answers served.

The document comes from ``openapi.document()`` (the served /openapi.json and docs/gateway.openapi.json are
checked against it in test_app.py). The gateway runs on uvicorn on 127.0.0.1; its upstreams are
``httpx.MockTransport`` fakes that refuse what OpenAI would refuse of its own parameters (the gateway relays
those unchecked and returns the upstream's 400). Generation is derandomized and bounded.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import jsonschema
import pytest
import requests
import schemathesis
from helpers.gateway import environ, offline_config, served, sse_body
from schemathesis.config import SchemathesisConfig

from maestro.gateway.budgets import Budgets
from maestro.gateway.openapi import document
from maestro.router import Budget
from maestro.state import connect

DOCUMENT = document()
KNOWN_TAGS = ["pii.email", "pii.payment-card", "sensitivity.public", "jurisdiction.eu-only", "phi.health"]
REFUSED = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429", "5xx"]
ADMIN_TOKEN = environ()["MAESTRO_ADMIN_TOKEN"]
CONFIG = SchemathesisConfig.from_dict(
    {
        "generation": {"mode": "all", "max-examples": 100, "deterministic": True, "database": "none"},
        "phases": {"stateful": {"enabled": False}},
        "auth": {"openapi": {"admin": {"bearer": ADMIN_TOKEN}}},
        # a body over the size limit is refused too (schemathesis' list leaves 413 out)
        "checks": {"negative_data_rejection": {"expected-statuses": REFUSED}},
        # fuzzed bodies name the served route and known tags often enough to reach the router and the upstream
        "dictionaries": {"aliases": {"values": ["chat"]}, "tags": {"values": KNOWN_TAGS}},
        "parameters": {
            "body.model": {"dictionary": "aliases", "probability": 0.8},
            "body.tags[*]": {"dictionary": "tags", "probability": 0.9},
        },
    }
)
schema = schemathesis.openapi.from_dict(DOCUMENT, config=CONFIG)

# refusals of a schema-valid body that depend on the manifests or the gateway's settings, not on the document
DATA_DEPENDENT = {(400, "unknown_tag"), (400, "request_too_large"), (413, "body_too_large")}
BUDGET = Budget("chat-day", 1.0, "day", "block", route="chat-route")
# sse_body()'s usage (7 tokens in, 2 out) at offline_config's prices (alpha 1 and 2 USD a million, beta 0.5 and 1)
SERVED_COST = {"alpha/m1": (7 * 1 + 2 * 2) / 1e6, "beta/m1": (7 * 0.5 + 2 * 1) / 1e6}


def _upstream_validator() -> jsonschema.protocols.Validator:
    """OpenAI's checks of the parameters the gateway relays, as a fake upstream would make them."""
    body = DOCUMENT["components"]["schemas"]["ChatRequest"]
    relayed: dict[str, Any] = {
        "type": "object",
        "properties": {"messages": body["properties"]["messages"]},
        "components": DOCUMENT["components"],  # what the $refs point at
    }
    for name, rule in body["properties"].items():
        if "maestro:" not in rule.get("description", "") and name not in ("model", "stream", "stream_options"):
            relayed["properties"][name] = rule
    return jsonschema.Draft202012Validator(relayed)


UPSTREAM = _upstream_validator()


def upstream(request: httpx.Request) -> httpx.Response:
    errors = sorted(UPSTREAM.iter_errors(json.loads(request.content)), key=str)
    if errors:
        message = f"{errors[0].json_path}: {errors[0].message}"
        return httpx.Response(400, json={"error": {"message": message, "type": "invalid_request_error", "code": None}})
    return httpx.Response(200, content=sse_body())


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Budgets]]:
    tmp = tmp_path_factory.mktemp("schemathesis")
    config = offline_config(
        tmp,
        {"alpha": httpx.MockTransport(upstream), "beta": httpx.MockTransport(upstream)},
        budgets=(BUDGET,),
        state_path=tmp / "state.db",
        max_body_bytes=16384,
    )
    conn = connect(tmp / "state.db")
    try:
        with served(config) as url:
            yield url, Budgets(conn, (BUDGET,))
    finally:
        conn.close()


@pytest.fixture(scope="module")
def session() -> Iterator[requests.Session]:
    with requests.Session() as s:
        yield s


def positive_data_accepted(ctx: Any, response: Any, case: Any) -> bool | None:
    """schemathesis' check, but for the refusals that depend on the manifests or settings (an unknown tag, a
    request too large for every deployment, a body over the size limit): documented answers to valid bodies."""
    if (response.status_code, _error_code(response)) in DATA_DEPENDENT:
        return None
    result: bool | None = schemathesis.checks.positive_data_acceptance(ctx, response, case)
    return result


CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_headers_conformance,
    schemathesis.checks.response_schema_conformance,
    schemathesis.checks.negative_data_rejection,
    schemathesis.checks.missing_required_header,
    schemathesis.checks.unsupported_method,
    schemathesis.checks.ignored_auth,
    positive_data_accepted,
]


@schema.parametrize()
def test_the_gateway_answers_as_documented(
    case: schemathesis.Case, gateway: tuple[str, Budgets], session: requests.Session
) -> None:
    url, budgets = gateway
    before = budgets.spent(BUDGET)
    response = case.call(base_url=url, session=session, timeout=10)
    case.validate_response(response, checks=CHECKS)
    charged = budgets.spent(BUDGET) - before
    if response.status_code != 200 or case.operation.path != "/v1/chat/completions":
        assert charged == 0, (response.status_code, response.text)
        return
    headers = {name.lower(): values[0] for name, values in response.headers.items()}
    assert charged == pytest.approx(SERVED_COST[headers["x-maestro-served-by"]], abs=1e-12)  # settled: the real cost
    if headers.get("x-maestro-cost-kind") != "estimate":  # a buffered answer reports it; a stream, its estimate
        assert float(headers["x-maestro-cost-usd"]) == pytest.approx(charged, abs=1e-8)


def _error_code(response: Any) -> Any:
    try:
        return response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None


def test_the_document_lists_every_field_the_router_accepts() -> None:
    from maestro.router import request_data as router_requests

    fields = set(DOCUMENT["components"]["schemas"]["ChatRequest"]["properties"])
    computed = {"input_tokens", "max_output_tokens"}  # maestro computes these: the gateway refuses them (400)
    assert fields == (router_requests._KNOWN | router_requests._OPENAI) - computed
