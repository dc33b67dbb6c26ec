"""Head against base on the same cases, case by case.

Cases are paired by id; each case's repeats are averaged first. Pass/fail with one repeat is compared with
McNemar's exact test (only the cases that flipped carry information); scores, pass fractions over repeats,
cost and latency with a paired bootstrap of the per-case differences. A case that errored while grading on
either side is left out of the pairs (and counted).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict
from typing import Any

from maestro.evals import stats
from maestro.evals.scorecard import cases_by_id

Row = Mapping[str, Any]


def compare(head: Mapping[str, Any], base: Mapping[str, Any]) -> dict[str, Any]:
    """The paired comparison of two scorecards of the same suite."""
    h, b = cases_by_id(head), cases_by_id(base)
    usable = [cid for cid in h if cid in b and not _grade_error(h[cid]) and not _grade_error(b[cid])]
    out: dict[str, Any] = {
        "ref": base.get("ref", base.get("revision")),
        "revision": base.get("revision"),
        "paired": len(usable),
        "unpaired": len(set(h) ^ set(b)) + (len(set(h) & set(b)) - len(usable)),
    }
    single = head.get("repeats", 1) == 1 and base.get("repeats", 1) == 1
    if single:
        test = stats.mcnemar_exact([h[c][0]["passed"] for c in usable], [b[c][0]["passed"] for c in usable])
    else:
        test = _paired(h, b, usable, lambda r: 1.0 if r["passed"] else 0.0)
    out["passRate"] = asdict(test)
    names = [c["name"] for c in head.get("checks", []) if any(c["name"] == x["name"] for x in base.get("checks", []))]
    out["metrics"] = {name: asdict(_paired(h, b, usable, _score_of(name))) for name in names}
    out["score"] = asdict(_paired(h, b, usable, lambda r: r["score"]))
    out["costUsd"] = asdict(_paired(h, b, usable, lambda r: r["costUsd"]))
    out["latencyMs"] = asdict(_paired(h, b, usable, lambda r: r["latencyMs"]))
    return out


def _score_of(name: str) -> Callable[[Row], float]:
    return lambda r: float(r["scores"].get(name, 0.0))


def _grade_error(rows: list[Row]) -> bool:
    return any(r.get("errorKind") == "grade" for r in rows)


def _paired(
    h: Mapping[str, list[Row]], b: Mapping[str, list[Row]], ids: list[str], value: Callable[[Row], float]
) -> stats.PairedTest:
    def mean(rows: list[Row]) -> float:
        return sum(value(r) for r in rows) / len(rows)

    return stats.paired_bootstrap([mean(h[c]) for c in ids], [mean(b[c]) for c in ids])
