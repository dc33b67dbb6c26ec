"""A suite run as a scorecard: plain JSON-able data (``schemas/scorecard.json``) that the gate, the reporters
and the history read.

Per metric: the mean with a 95% bootstrap interval over cases (repeats of one case are resampled together)
and the pass rate; the hallucination rate with its exact upper bound; cost total and per case; latency p50
and p95 (with an interval); judge noise where a judge graded some answers twice. Every case run is kept
(id, file, line, scores) so that a later comparison can pair cases.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from maestro.evals import stats
from maestro.evals.runner import CaseRun, SuiteRun

SCHEMA = "maestro.dev/scorecard/v1"


def build(run: SuiteRun, *, revision: str = "working-tree", created: str | None = None) -> dict[str, Any]:
    suite = run.suite
    graded = [r for r in run.runs if r.error_kind != "grade"]
    answered = [r for r in run.runs if r.error is None or r.error_kind == "grade"]
    card: dict[str, Any] = {
        "schema": SCHEMA,
        "suite": suite.name,
        "digest": suite.digest,
        "file": suite.file,
        "line": suite.line,
        "target": suite.target.route,
        "revision": revision,
        "created": created or dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "repeats": max((r.repeat + 1 for r in run.runs), default=suite.repeats),
        "thresholds": suite.thresholds(),
        "checks": [{"name": c.name, "type": c.type, "line": c.line, "weight": c.weight} for c in suite.checks],
        "slo": _slo(suite.slo),
        "summary": {
            "cases": len({r.case for r in run.runs}),
            "runs": len(run.runs),
            "errors": sum(1 for r in run.runs if r.error is not None),
            "passRate": _rate(graded, lambda r: 1.0 if r.passed else 0.0),
            "score": _rate(graded, lambda r: weighted(r, run)),
        },
        "metrics": {c.name: _metric(c.name, c.type, graded) for c in suite.checks},
        "hallucination": _hallucination(graded),
        "cost": _cost(answered),
        "latency": _latency(answered),
        "cases": [_case(r, run) for r in run.runs],
        "problems": [
            {"file": p.file, "line": p.line, "case": p.case, "message": p.message, "kind": p.kind} for p in run.problems
        ],
        "calls": {
            "generated": run.generated,
            "generationsCached": run.generations_cached,
            "graded": run.graded,
            "gradesCached": run.grades_cached,
        },
    }
    return card


def weighted(r: CaseRun, run: SuiteRun) -> float:
    weights = {c.name: c.weight for c in run.suite.checks}
    total = sum(weights[n] for n in r.grades)
    if r.error_kind == "target" or not total:
        return 0.0
    return sum(g.score * weights[n] for n, g in r.grades.items()) / total


def per_case(runs: Sequence[CaseRun], value: Any) -> dict[str, list[float]]:
    """Each case's values over its repeats, by case id."""
    out: dict[str, list[float]] = defaultdict(list)
    for r in runs:
        v = value(r)
        if v is not None:
            out[r.case].append(float(v))
    return out


def _rate(runs: Sequence[CaseRun], value: Any) -> dict[str, Any]:
    groups = per_case(runs, value)
    means = [sum(v) / len(v) for v in groups.values()]
    interval = stats.bootstrap_mean(means)
    passes = sum(sum(v) for v in groups.values())
    n = sum(len(v) for v in groups.values())
    return {
        "value": _num(interval.value),
        "low": _num(interval.low),
        "high": _num(interval.high),
        "n": n,
        "cases": len(groups),
        "sum": passes,
    }


def _metric(name: str, kind: str, runs: Sequence[CaseRun]) -> dict[str, Any]:
    scored = [r for r in runs if name in r.grades or r.error_kind == "target"]
    mean = _rate(scored, lambda r: r.grades[name].score if name in r.grades else 0.0)
    passed = _rate(scored, lambda r: 1.0 if name in r.grades and r.grades[name].passed else 0.0)
    out: dict[str, Any] = {"type": kind, "mean": mean, "passRate": passed["value"], "n": mean["n"]}
    pairs = [(r.grades[name].score, r.rechecks[name]) for r in runs if name in r.rechecks and name in r.grades]
    if pairs:
        diffs = [a - b for a, b in pairs]
        out["judgeNoise"] = {
            "n": len(pairs),
            "meanAbsDiff": sum(abs(d) for d in diffs) / len(diffs),
            "variance": stats.variance([s for p in pairs for s in p]) if len(pairs) > 1 else 0.0,
            "pairVariance": sum(d * d for d in diffs) / (2 * len(diffs)),  # within-answer variance of a grade
        }
    return out


def _hallucination(runs: Sequence[CaseRun]) -> dict[str, Any] | None:
    flags = [g.hallucinated for r in runs for g in r.grades.values() if g.hallucinated is not None]
    if not flags:
        return None
    events, n = sum(flags), len(flags)
    return {"rate": events / n, "upper": stats.upper_bound(events, n), "events": events, "n": n}


def _cost(runs: Sequence[CaseRun]) -> dict[str, Any]:
    total = sum(r.cost_usd for r in runs)
    return {"totalUsd": total, "perCaseUsd": total / len(runs) if runs else 0.0}


def _latency(runs: Sequence[CaseRun]) -> dict[str, Any]:
    values = [r.latency_ms for r in runs]
    p95 = stats.bootstrap_quantile(values, 0.95)
    return {
        "p50Ms": _num(stats.percentile(values, 0.5)),
        "p95Ms": _num(p95.value),
        "p95Low": _num(p95.low),
        "p95High": _num(p95.high),
        "meanMs": _num(sum(values) / len(values)) if values else None,
    }


def _case(r: CaseRun, run: SuiteRun) -> dict[str, Any]:
    hallucinated = [g.hallucinated for g in r.grades.values() if g.hallucinated is not None]
    return {
        "id": r.case,
        "file": r.file,
        "line": r.line,
        "repeat": r.repeat,
        "passed": r.passed,
        "score": weighted(r, run),
        "scores": {n: g.score for n, g in r.grades.items()},
        "passes": {n: g.passed for n, g in r.grades.items()},
        "details": {n: g.detail for n, g in r.grades.items() if g.detail and not g.passed},
        "costUsd": r.cost_usd,
        "latencyMs": r.latency_ms,
        "deployment": r.deployment,
        "hallucinated": any(hallucinated) if hallucinated else None,
        "error": r.error,
        "errorKind": r.error_kind,
    }


def _slo(slo: Any) -> dict[str, Any] | None:
    if slo is None:
        return None
    return {
        "target": slo.target,
        "windowDays": slo.window_days,
        "requestsPerDay": slo.requests_per_day,
        "latencyMs": slo.latency_ms,
    }


def _num(value: float) -> float | None:
    return None if math.isnan(value) else value  # NaN (no data) is null in JSON


def summary_of(card: Mapping[str, Any]) -> dict[str, Any]:
    """What a comparison shows of its base side's scorecard."""
    return {
        "digest": card["digest"],
        "summary": card["summary"],
        "metrics": {k: v["mean"]["value"] for k, v in card["metrics"].items()},
        "cost": card["cost"],
        "latency": card["latency"],
        "hallucination": card["hallucination"],
    }


def cases_by_id(card: Mapping[str, Any]) -> dict[str, list[Mapping[str, Any]]]:
    out: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for c in card["cases"]:
        out[c["id"]].append(c)
    return out
