"""Drift: a suite's run compared with its previous run, case by case (``maestro eval --against last``).

The nightly workflow runs the suites against the live routes with fresh answers (no cached generation) and
compares each scorecard with the one kept from the night before, with the paired test the gate uses against a
base revision (``compare``: McNemar's exact test on pass/fail, a paired bootstrap on scores). ``drops`` are the
gate's failing regression findings: a significant drop, below the suite's ``minDelta``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from maestro.evals.compare import compare
from maestro.evals.gate import Finding, Verdict, judge_card
from maestro.evals.scorecard import summary_of

LAST = "last"
# (suite digest, revision, created, scorecard): a row of the eval history (``Store.history``)
Kept = tuple[str, str, float, Mapping[str, Any]]


def against_last(card: dict[str, Any], last: Kept | None) -> None:
    """Set ``card``'s ``baseline`` and ``comparison`` from the previous run ``last`` (none: nothing to compare)."""
    if last is None:
        card["baseline"] = {"ref": LAST, "revision": "", "missing": True}
        return
    _digest, revision, created, previous = last
    when = datetime.fromtimestamp(created, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    card["baseline"] = {"ref": LAST, "revision": revision, "created": when, **summary_of(previous)}
    card["comparison"] = compare(card, {**previous, "ref": LAST})


def drops(cards: Sequence[Mapping[str, Any]]) -> list[Finding]:
    """The significant drops against the previous run, one finding per suite and metric."""
    return [
        f
        for card in cards
        if card.get("comparison")
        for f in judge_card(card)
        if f.verdict is Verdict.FAIL and f.metric.endswith(f" vs {LAST}")
    ]
