"""A step's ``outputSchema`` reaches the upstream as structured output, and the refund flow turns on it.

The fake model here behaves like a grammar-held small model: with ``response_format`` json_schema it answers
exactly the schema's fields; without it, chatty text no edge can read. So a run that pauses at ``approve``
shows that the request carried the schema through the route-calling core and the provider adapter.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import eval_upstream, runtime_repo
from helpers.ledger import key

from maestro.runtime import engine, runs

SCHEMA = {
    "type": "object",
    "properties": {"intent": {"type": "string", "enum": ["refund", "question", "other"]}},
    "required": ["intent"],
    "additionalProperties": False,
}
TRIAGE = '- {id: triage, type: model, route: chat-route, prompt: "TRIAGE: answer JSON with intent and order_id."}'
BIG = {"order_id": "A10432", "reason": "damaged", "message": "My kettle arrived broken, I would like a refund."}


def small_model(body: dict[str, Any]) -> str:
    """JSON that fits the requested schema when one is sent (the intent it allows first); else chatty text."""
    response_format = body.get("response_format") or {}
    schema = (response_format.get("json_schema") or {}).get("schema")
    if schema is None:
        return "Sure! I can help you with that refund, just a moment please."
    intent = schema["properties"]["intent"]["enum"][0]
    return json.dumps({"intent": intent})


def with_schema(root: Path, schema: dict[str, Any]) -> None:
    """The test repository's refund flow with ``outputSchema`` on its triage step."""
    path = root / "manifests" / "all.yaml"
    text = path.read_text(encoding="utf-8")
    assert TRIAGE in text
    held = TRIAGE[:-1] + f", outputSchema: {json.dumps(schema)}}}"
    path.write_text(text.replace(TRIAGE, held), encoding="utf-8")


@pytest.fixture
def up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[eval_upstream.Upstream]:
    with eval_upstream.serve(small_model) as upstream:
        monkeypatch.chdir(tmp_path)
        monkeypatch.setenv("MAESTRO_REFUND_STATE", str(tmp_path / "refunds.db"))
        monkeypatch.setenv("MAESTRO_LEDGER_KEY", str(tmp_path / "alice.key"))
        monkeypatch.setenv("FAKE_API_KEY", "sk-test")
        monkeypatch.delenv("MAESTRO_RUNS_URL", raising=False)
        runtime_repo.write(tmp_path, upstream.url)
        yield upstream


def follow_approved(client: runs.DBOSClient, run: runs.Run, who: str) -> runs.Run:
    interrupt = str(run.interrupt["interrupt"]) if run.interrupt else ""
    runs.decide(client, run.id, interrupt, key(who), decision="approve")
    return runs.follow(client, run.id, lambda _: None, seen=len(run.nodes), past=interrupt)


def test_the_schema_reaches_the_upstream_and_the_run_pauses_at_approve_then_refunds_once(
    up: eval_upstream.Upstream, tmp_path: Path
) -> None:
    with_schema(tmp_path, SCHEMA)
    with engine.launched(tmp_path), engine.client(tmp_path) as client:
        run_id = runs.start(runs.new_run(tmp_path, "refund-flow", BIG))
        run = runs.follow(client, run_id, lambda _: None)
        assert run.status == "waiting", run.reason
        assert [n["node"] for n in run.nodes] == ["triage", "lookup"]
        assert run.nodes[0]["output"] == {"intent": "refund"}
        assert run.interrupt is not None and run.interrupt["interrupt"] == f"{run_id}:approve:0:main"

        run = follow_approved(client, run, "bob")  # the approve step
        assert run.status == "waiting" and run.interrupt is not None
        assert run.interrupt["interrupt"] == f"{run_id}:refund:0:main"  # the autonomy gate on issue_refund
        run = follow_approved(client, run, "bob")
    assert run.status == "succeeded", run.reason
    assert [n["node"] for n in run.nodes] == ["triage", "lookup", "approve", "refund", "reply"]
    assert runtime_repo.refunds(tmp_path / "refunds.db") == 1

    triage, reply = up.bodies[0], up.bodies[-1]
    assert triage["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "triage", "schema": SCHEMA, "strict": True},
    }
    assert triage["temperature"] == 0.0
    assert "response_format" not in reply  # a step without outputSchema asks for free text


def test_without_the_schema_the_chatty_answer_fails_triage_with_the_edge_named(
    up: eval_upstream.Upstream, tmp_path: Path
) -> None:
    with engine.launched(tmp_path), engine.client(tmp_path) as client:
        run = runs.follow(client, runs.start(runs.new_run(tmp_path, "refund-flow", BIG)), lambda _: None)
    assert run.status == "failed"
    assert "output.intent" in str(run.reason)
    assert "response_format" not in up.bodies[0]


def test_an_answer_that_breaks_the_schema_fails_the_node_saying_which_field(
    up: eval_upstream.Upstream, tmp_path: Path
) -> None:
    """A provider that ignores structured output (or a schema the grammar could not hold) is caught on the node."""
    with_schema(tmp_path, {**SCHEMA, "required": ["intent", "order_id"]})
    with engine.launched(tmp_path), engine.client(tmp_path) as client:
        run = runs.follow(client, runs.start(runs.new_run(tmp_path, "refund-flow", BIG)), lambda _: None)
    assert run.status == "failed"
    assert run.nodes[0]["status"] == "failed"
    assert "does not fit its outputSchema" in run.nodes[0]["error"]
    assert "'order_id' is a required property" in run.nodes[0]["error"]
