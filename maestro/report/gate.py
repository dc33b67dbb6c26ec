"""The gate's verdicts (``maestro.evals.gate``) as text, JSON or Markdown: the step summary and the one
pull-request comment, with the delta table against the baseline and the SLO burn forecast."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any

from maestro.evals.gate import Finding, GateResult, Verdict

MARKER = "<!-- maestro-eval-gate -->"
_ICON = {Verdict.PASS: "✅ pass", Verdict.FAIL: "❌ fail", Verdict.INCONCLUSIVE: "⚠️ inconclusive"}


def _v(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4g}"


def text(result: GateResult, cards: Sequence[Mapping[str, Any]]) -> str:
    lines = [f"{f.suite}: {f.metric}: {f.verdict} ({f.reason})" for f in result.findings]
    lines.append(f"gate: {result.verdict} ({_counts(result)})")
    return "\n".join(lines) + "\n"


def as_json(result: GateResult, cards: Sequence[Mapping[str, Any]]) -> str:
    return (
        json.dumps({"verdict": str(result.verdict), "findings": [asdict(f) for f in result.findings]}, indent=2) + "\n"
    )


def _counts(result: GateResult) -> str:
    kinds = [f.verdict for f in result.findings]
    return ", ".join(f"{kinds.count(v)} {v}" for v in Verdict)


def delta_rows(card: Mapping[str, Any]) -> list[tuple[str, str, str, str, str]]:
    """(metric, base, head, change, paired test) rows; empty without a baseline."""
    base, comparison = card.get("baseline"), card.get("comparison")
    if not base or not comparison:
        return []

    def row(name: str, b: float | None, h: float | None, test: Mapping[str, Any]) -> tuple[str, str, str, str, str]:
        return (
            name,
            _v(b),
            _v(h),
            f"{test['delta']:+.4g}" if test["delta"] == test["delta"] else "n/a",
            f"{test['test']} p={test['p_value']:.3g}",
        )

    out = [
        row(
            "pass rate",
            base["summary"]["passRate"]["value"],
            card["summary"]["passRate"]["value"],
            comparison["passRate"],
        )
    ]
    out.append(row("score", base["summary"]["score"]["value"], card["summary"]["score"]["value"], comparison["score"]))
    for name, test in comparison["metrics"].items():
        out.append(row(name, base["metrics"].get(name), card["metrics"][name]["mean"]["value"], test))
    out.append(
        row("cost per case (USD)", base["cost"]["perCaseUsd"], card["cost"]["perCaseUsd"], comparison["costUsd"])
    )
    out.append(
        row("latency mean (ms)", base["latency"].get("meanMs"), card["latency"].get("meanMs"), comparison["latencyMs"])
    )
    return out


def _findings_table(findings: Sequence[Finding]) -> str:
    head = "| suite | metric | verdict | observed | 95% interval | bound | why |\n" + "| --- " * 7 + "|"
    body = [
        f"| {f.suite} | {f.metric} | {_ICON[f.verdict]} | {_v(f.observed)} | [{_v(f.low)}, {_v(f.high)}] | "
        f"{f.bound} | {f.reason.replace('|', '/')} |"
        for f in findings
    ]
    return "\n".join([head, *body])


def _slo_lines(forecast: Mapping[str, Any]) -> str:
    days = forecast["daysToExhaust"]
    upper = forecast["daysToExhaustUpper"]
    return (
        f"SLO burn forecast: {forecast['bad']}/{forecast['runs']} bad runs, burn rate "
        f"{forecast['burnRate']:.2f}x (≤ {forecast['burnRateUpper']:.2f}x at 95%), budget gone in "
        f"{'never' if days is None else f'{days:.1f} days'} (as soon as "
        f"{'never' if upper is None else f'{upper:.1f} days'}); "
        f"{forecast['badRequestsPerDay']:.0f} bad requests/day of a {forecast['budgetRequests']:.0f}-request "
        f"budget: **{forecast['alert']}**"
    )


def markdown(result: GateResult, cards: Sequence[Mapping[str, Any]], forecasts: Mapping[str, Any] | None = None) -> str:
    """The PR comment and step summary: the verdict, a delta table per suite, the findings, the SLO forecast."""
    forecasts = forecasts or {}
    parts = [MARKER, f"## maestro eval gate: {_ICON[result.verdict]}", f"{_counts(result)}."]
    for card in cards:
        parts.append(f"### {card['suite']}")
        deltas = delta_rows(card)
        if deltas:
            ref = card["baseline"]["ref"]
            parts.append(
                f"| metric | {ref} | this change | delta | paired test |\n| --- | --- | --- | --- | --- |\n"
                + "\n".join(f"| {' | '.join(r)} |" for r in deltas)
            )
        findings = [f for f in result.findings if f.suite == card["suite"]]
        if findings:
            parts.append(_findings_table(findings))
        forecast = forecasts.get(card["suite"])
        if forecast:
            parts.append(_slo_lines(forecast))
    return "\n\n".join(parts) + "\n"


FORMATS = {"text": text, "json": as_json}
