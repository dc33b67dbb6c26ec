"""A run's log from its node records: every event of a node in time order, failed attempts and refusals
included, a map's branches under their own ids."""

from __future__ import annotations

import pytest

from maestro.runtime import logs, report
from maestro.runtime.errors import RunError
from maestro.runtime.runs import Run

FAILED = {"attempt": 1, "error": "the model call took over the step's timeout 1s", "at": 11.0}
MODEL = {"kind": "model", "servedBy": "fake/m1", "tokens": 110, "costUsd": 0.00012, "at": 12.0}
REFUSED = {"kind": "tool", "tool": "wipe_orders", "refused": "Agent 'a' has no tool 'wipe_orders'", "at": 13.0}
TOOL = {"kind": "tool", "tool": "lookup_order", "idempotencyKey": "r:m[0]:0:0", "resultDigest": "ab" * 32, "at": 21}


def record(node: str, started: float, ended: float, **extra: object) -> dict[str, object]:
    base = {"node": node, "iteration": 0, "type": "agent", "status": "succeeded", "attempts": 2, "costUsd": 0.00012}
    return {**base, "started": started, "ended": ended, "calls": [], "error": None, **extra}


RUN = Run(
    "r",
    "p",
    "failed",
    "d",
    0.0,
    0.0,
    nodes=(
        record("work", 10.0, 14.0, calls=[MODEL, REFUSED], failures=[FAILED]),
        record(
            "m",
            20.0,
            22.0,
            type="map",
            status="failed",
            error="branch m[0] failed: boom",
            branches=[
                {"node": "m[0]", "status": "failed", "attempts": 1, "calls": [TOOL], "costUsd": 0.0, "error": "boom"}
            ],
        ),
    ),
)


def test_each_event_of_a_node_in_time_order():
    lines = logs.log(RUN, "work")
    assert [(x.event, x.at) for x in lines] == [
        ("start", 10.0),
        ("attempt", 11.0),
        ("model", 12.0),
        ("refused", 13.0),
        ("end", 14.0),
    ]
    assert lines[-1].text == "succeeded after 2 attempt(s), $0.000120"
    assert "attempt 1 failed: the model call took over the step's timeout 1s" in report.log_text(lines)


def test_a_map_logs_its_branches_under_their_ids():
    lines = logs.log(RUN, "m")
    assert [(x.node, x.event) for x in lines if x.node == "m[0]"] == [
        ("m[0]", "start"),
        ("m[0]", "tool"),
        ("m[0]", "error"),
        ("m[0]", "end"),
    ]
    assert "idempotency key r:m[0]:0:0" in report.log_text(lines)


def test_an_unknown_node_names_the_known_ones():
    with pytest.raises(RunError, match="run r has no node 'x'; its nodes: work, m"):
        logs.log(RUN, "x")
