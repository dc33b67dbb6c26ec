"""The gate: each of a scorecard's thresholds, and its comparison with the baseline, as pass / fail /
inconclusive.

A bound is *proved* only when the whole 95% interval lies on its side: pass when it does, fail when the
whole interval lies on the wrong side, inconclusive otherwise (too few cases to tell). Rates use exact
binomial bounds when each case ran once; a bound of 1.0 on a pass rate (or 0 on a rate to keep down) is
read literally: one failure fails it. Against the baseline, a metric fails when it got worse beyond the
suite's ``minDelta`` and the paired test says so (p < 0.05); it is inconclusive with fewer than
``MIN_PAIRED`` paired cases, and passes otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NamedTuple

from maestro.evals import stats
from maestro.evals.errors import EvalError
from maestro.manifests.metrics import RUN_METRICS


class Verdict(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"


@dataclass(frozen=True, slots=True)
class Finding:
    """One metric's verdict: what was observed, the interval, the bound and why."""

    suite: str
    metric: str
    verdict: Verdict
    observed: float | None
    low: float | None
    high: float | None
    bound: str
    reason: str
    file: str = ""
    line: int = 0


@dataclass(frozen=True, slots=True)
class GateResult:
    findings: tuple[Finding, ...]

    @property
    def verdict(self) -> Verdict:
        kinds = {f.verdict for f in self.findings}
        if Verdict.FAIL in kinds:
            return Verdict.FAIL
        return Verdict.INCONCLUSIVE if Verdict.INCONCLUSIVE in kinds else Verdict.PASS

    def failed(self, strict: bool = False) -> bool:
        return self.verdict is Verdict.FAIL or (strict and self.verdict is Verdict.INCONCLUSIVE)


MIN_PAIRED = 20
BUILTIN = RUN_METRICS
Card = Mapping[str, Any]


class Seen(NamedTuple):
    """An observed value and its interval (None when there is no data)."""

    value: float | None
    low: float | None = None
    high: float | None = None


class Bounds(NamedTuple):
    min: float | None = None
    max: float | None = None

    def text(self) -> str:
        parts = [f">= {self.min:g}" if self.min is not None else "", f"<= {self.max:g}" if self.max is not None else ""]
        return " and ".join(p for p in parts if p)


def judge(cards: Sequence[Card]) -> GateResult:
    return GateResult(tuple(f for card in cards for f in judge_card(card)))


def judge_card(card: Card) -> list[Finding]:
    thresholds = card.get("thresholds") or {}
    out: list[Finding] = []
    if thresholds.get("passRate") is not None:
        out.append(_pass_rate(card, float(thresholds["passRate"])))
    for name, bound in (thresholds.get("metrics") or {}).items():
        out.append(_metric(card, name, Bounds(bound.get("min"), bound.get("max"))))
    bad = [p for p in card.get("problems", []) if p.get("kind") != "target"]
    if bad:
        first = bad[0]
        why = (
            f"{len(bad)} case(s) could not be read or graded; first {first['file']}:{first['line']}: {first['message']}"
        )
        out.append(
            _finding(
                card,
                "errors",
                Verdict.FAIL,
                Seen(len(bad)),
                bound="0",
                reason=why,
                file=first["file"],
                line=first["line"],
            )
        )
    comparison = card.get("comparison")
    if comparison:
        out.extend(_regressions(card, comparison, float(thresholds.get("minDelta") or 0.0)))
    return out


def _finding(
    card: Card, metric: str, verdict: Verdict, seen: Seen, *, bound: str, reason: str, file: str = "", line: int = 0
) -> Finding:
    return Finding(
        card["suite"],
        metric,
        verdict,
        seen.value,
        seen.low,
        seen.high,
        bound,
        reason,
        file or card.get("file", ""),
        line or int(card.get("line", 0)),
    )


def _pass_rate(card: Card, minimum: float) -> Finding:
    rate = card["summary"]["passRate"]
    n, passes = int(rate["n"]), int(rate["sum"])
    if card.get("repeats", 1) == 1:
        seen = Seen(rate["value"], stats.lower_bound(passes, n), 1 - stats.lower_bound(n - passes, n))
    else:
        seen = Seen(rate["value"], rate["low"], rate["high"])
    if minimum >= 1.0:
        verdict = Verdict.PASS if n and passes == n else Verdict.FAIL
        why = "every case must pass" + ("" if verdict is Verdict.PASS else f"; {n - passes} failed")
        return _finding(card, "pass_rate", verdict, seen, bound=">= 1.0", reason=why)
    return bounded(card, "pass_rate", seen, Bounds(minimum, None))


def bounded(card: Card, metric: str, seen: Seen, bounds: Bounds) -> Finding:
    """Pass when the whole interval is within the bounds, fail when it is wholly outside, else inconclusive."""
    bound = bounds.text()
    value, low, high = seen
    if value is None or low is None or high is None:
        return _finding(card, metric, Verdict.INCONCLUSIVE, seen, bound=bound, reason="no data")
    where = f"[{low:.4g}, {high:.4g}]"
    if (bounds.min is not None and high < bounds.min) or (bounds.max is not None and low > bounds.max):
        return _finding(
            card, metric, Verdict.FAIL, seen, bound=bound, reason=f"the whole 95% interval {where} is outside {bound}"
        )
    if (bounds.min is None or low >= bounds.min) and (bounds.max is None or high <= bounds.max):
        return _finding(
            card, metric, Verdict.PASS, seen, bound=bound, reason=f"the 95% interval {where} is inside {bound}"
        )
    return _finding(
        card,
        metric,
        Verdict.INCONCLUSIVE,
        seen,
        bound=bound,
        reason=f"the 95% interval {where} straddles {bound}; add cases or repeats (`maestro eval plan`)",
    )


def _point(value: float | None) -> Seen:
    return Seen(value, value, value)


def _metric(card: Card, name: str, bounds: Bounds) -> Finding:
    summary, latency = card["summary"], card["latency"]
    if name in card["metrics"]:
        m = card["metrics"][name]["mean"]
        return bounded(card, name, Seen(m["value"], m["low"], m["high"]), bounds)
    seen = {
        "pass_rate": lambda: Seen(
            summary["passRate"]["value"], summary["passRate"]["low"], summary["passRate"]["high"]
        ),
        "score": lambda: Seen(summary["score"]["value"], summary["score"]["low"], summary["score"]["high"]),
        "latency_ms_p95": lambda: Seen(latency["p95Ms"], latency["p95Low"], latency["p95High"]),
        "latency_ms_p50": lambda: _point(latency["p50Ms"]),
        "cost_usd": lambda: _point(card["cost"]["perCaseUsd"]),
        "cost_usd_total": lambda: _point(card["cost"]["totalUsd"]),
    }
    if name in seen:
        return bounded(card, name, seen[name](), bounds)
    if name == "hallucination_rate":
        return _hallucination(card, bounds.max)
    known = ", ".join([*card["metrics"], *BUILTIN])
    raise EvalError(
        f"{card['file']}:{card['line']}: {card['suite']}: thresholds name the metric '{name}', which the suite "
        f"does not have; known: {known}"
    )


def _hallucination(card: Card, maximum: float | None) -> Finding:
    h = card.get("hallucination")
    bound = f"<= {maximum:g}" if maximum is not None else "a max"
    if h is None or maximum is None:
        return _finding(
            card,
            "hallucination_rate",
            Verdict.INCONCLUSIVE,
            Seen(None),
            bound=bound,
            reason="no groundedness assertion measured it",
        )
    events, n = int(h["events"]), int(h["n"])
    seen = Seen(h["rate"], 1 - stats.upper_bound(n - events, n), h["upper"])
    if maximum <= 0:
        verdict = Verdict.PASS if events == 0 else Verdict.FAIL
        return _finding(
            card, "hallucination_rate", verdict, seen, bound=bound, reason=f"{events} hallucinated answer(s) in {n}"
        )
    finding = bounded(card, "hallucination_rate", seen, Bounds(None, maximum))
    if finding.verdict is Verdict.INCONCLUSIVE and events == 0:
        need = stats.cases_to_bound_rate(maximum)
        return _finding(
            card,
            "hallucination_rate",
            finding.verdict,
            seen,
            bound=bound,
            reason=f"none seen in {n}, but proving {bound} needs >= {need} answers",
        )
    return finding


def _regressions(card: Card, comparison: Mapping[str, Any], min_delta: float) -> list[Finding]:
    tests = {"pass_rate": comparison["passRate"], "score": comparison["score"], **comparison["metrics"]}
    ref = comparison.get("ref") or "base"
    return [regression(card, f"{name} vs {ref}", test, min_delta) for name, test in tests.items()]


def regression(card: Card, metric: str, test: Mapping[str, Any], min_delta: float) -> Finding:
    """Fail on a significant drop below ``min_delta``; inconclusive with too few pairs; else pass."""
    delta, p = test["delta"], test["p_value"]
    bound = f"change >= {min_delta:+g}"
    if delta is None or math.isnan(delta):
        return _finding(card, metric, Verdict.INCONCLUSIVE, Seen(None), bound=bound, reason="no paired cases")
    seen = Seen(delta, test["low"], test["high"])
    if p < stats.ALPHA and delta < min_delta:
        return _finding(
            card,
            metric,
            Verdict.FAIL,
            seen,
            bound=bound,
            reason=f"regressed by {delta:+.4g} ({test['test']}, p={p:.3g})",
        )
    if test["n"] < MIN_PAIRED:
        return _finding(
            card,
            metric,
            Verdict.INCONCLUSIVE,
            seen,
            bound=bound,
            reason=f"only {test['n']} paired cases; a paired test needs >= {MIN_PAIRED} to tell",
        )
    return _finding(
        card,
        metric,
        Verdict.PASS,
        seen,
        bound=bound,
        reason=f"no significant regression: change {delta:+.4g}, 95% interval "
        f"[{test['low']:+.4g}, {test['high']:+.4g}], p={p:.3g}",
    )
