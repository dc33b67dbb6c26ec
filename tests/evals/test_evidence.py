"""maestro.evals.evidence: the "eval" and "gate" entries, built by the evals package, signed elsewhere."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from maestro.evals.evidence import eval_action, gate_action
from maestro.evals.gate import Finding, GateResult, Verdict

CARDS: list[dict[str, Any]] = [
    {
        "suite": "refunds",
        "digest": "ab" * 32,
        "revision": "HEAD",
        "summary": {"cases": 12, "passRate": 0.75},
        "problems": [{"case": "c3"}],
        "cost": {"totalUsd": 0.002},
    },
    {"suite": "tone", "summary": {"cases": 4, "passRate": 1.0}, "problems": [], "cost": {"totalUsd": 0.001}},
]


def test_the_eval_entry_names_each_scorecard_by_digest_with_its_numbers_and_the_cost() -> None:
    build = eval_action(CARDS)
    assert build is not None
    action = build("ci")
    assert (action.action, action.actor, action.cost_usd) == ("eval", "ci", 0.003)
    card_digest = hashlib.sha256(json.dumps(CARDS[0], sort_keys=True).encode()).hexdigest()
    assert (action.subjects[0].name, action.subjects[0].sha256) == ("scorecard/refunds", card_digest)
    assert dict(action.manifests) == {"EvalSuite/refunds": "ab" * 32}  # a suite without a digest names none
    assert action.details["suites"]["refunds"] == {
        "digest": "ab" * 32,
        "revision": "HEAD",
        "cases": 12,
        "passRate": 0.75,
        "problems": 1,
    }
    assert not action.policies
    assert eval_action([]) is None


def test_the_gate_entry_is_the_verdict_and_one_result_per_suite_and_metric() -> None:
    failed = Finding("refunds", "pass_rate", Verdict.FAIL, 0.75, 0.6, 0.9, ">= 0.9", "below")
    action = gate_action(GateResult((failed,)), CARDS)("ci")
    assert (action.action, action.cost_usd) == ("gate", None)
    assert dict(action.details) == {"verdict": str(GateResult((failed,)).verdict)}
    assert [(p.name, p.result) for p in action.policies] == [("refunds/pass_rate", "fail")]
    assert [s.name for s in action.subjects] == ["scorecard/refunds", "scorecard/tone"]
