"""The ledger entries of ``maestro eval`` (the scorecards written) and ``maestro gate`` (the verdicts).

Each function returns the entry as a function of the signer's name (an entry's actor is bound to the key
that signs it); the caller records it through ``maestro.ledger.record``. Scorecards appear as digests of
their canonical JSON, suites by the digest of their manifest.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from maestro.evals.gate import GateResult
from maestro.evidence import Action, PolicyResult, Subject

Card = Mapping[str, Any]


def eval_action(cards: Sequence[Card]) -> Callable[[str], Action] | None:
    """An "eval" entry: each scorecard's digest, cases, pass rate and problems, and the run's cost."""
    if not cards:
        return None
    suites = {
        str(c["suite"]): {
            "digest": c.get("digest"),
            "revision": c.get("revision"),
            "cases": c["summary"]["cases"],
            "passRate": c["summary"]["passRate"],
            "problems": len(c["problems"]),
        }
        for c in cards
    }
    cost = sum(float(c["cost"]["totalUsd"]) for c in cards)
    return _over_cards("eval", cards, {"suites": suites}, [], cost)


def gate_action(result: GateResult, cards: Sequence[Card]) -> Callable[[str], Action]:
    """A "gate" entry: the verdict, and one policy result per suite and metric, over the scorecards judged."""
    policies = [PolicyResult(f"{f.suite}/{f.metric}", str(f.verdict)) for f in result.findings]
    return _over_cards("gate", cards, {"verdict": str(result.verdict)}, policies, None)


def _over_cards(
    name: str, cards: Sequence[Card], details: dict[str, Any], policies: list[PolicyResult], cost: float | None
) -> Callable[[str], Action]:
    def build(actor: str) -> Action:  # digests only when a ledger records it
        return Action(
            action=name,
            actor=actor,
            subjects=[Subject.of(f"scorecard/{c['suite']}", json.dumps(c, sort_keys=True).encode()) for c in cards],
            manifests={f"EvalSuite/{c['suite']}": str(c["digest"]) for c in cards if c.get("digest")},
            policies=policies,
            cost_usd=cost,
            details=details,
        )

    return build
