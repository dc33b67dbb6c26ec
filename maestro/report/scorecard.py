"""Scorecards (``maestro.evals.scorecard`` data) as text, Markdown, a self-contained HTML page or JUnit XML."""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from typing import Any
from xml.etree import ElementTree as ET

Card = Mapping[str, Any]


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _num(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _interval(m: Mapping[str, Any], pct: bool = False) -> str:
    f = _pct if pct else _num
    return f"{f(m['value'])} [{f(m['low'])}, {f(m['high'])}]"


def rows(card: Card) -> list[tuple[str, str, str]]:
    """(metric, value with 95% interval, extra) for the tables of every format."""
    s = card["summary"]
    out = [("pass rate", _interval(s["passRate"], pct=True), f"{s['runs']} runs, {s['cases']} cases")]
    out.append(("score", _interval(s["score"]), "weighted mean of the checks"))
    for name, m in card["metrics"].items():
        extra = f"{m['type']}, pass {_pct(m['passRate'])}"
        noise = m.get("judgeNoise")
        if noise:
            extra += f", judge noise: mean |diff| {noise['meanAbsDiff']:.3f}, var {noise['pairVariance']:.4f}"
            extra += f" (n={noise['n']})"
        out.append((name, _interval(m["mean"]), extra))
    h = card.get("hallucination")
    if h:
        out.append(
            ("hallucination rate", f"{_pct(h['rate'])} (<= {_pct(h['upper'])} at 95%)", f"{h['events']}/{h['n']}")
        )
    c, lat = card["cost"], card["latency"]
    out.append(("cost", f"{c['totalUsd']:.4f} USD", f"{c['perCaseUsd']:.6f} USD per case run"))
    out.append(
        (
            "latency",
            f"p50 {_num(lat['p50Ms'], 0)} ms, p95 {_num(lat['p95Ms'], 0)} ms",
            f"p95 95% [{_num(lat['p95Low'], 0)}, {_num(lat['p95High'], 0)}]",
        )
    )
    return out


def text(cards: Sequence[Card]) -> str:
    lines: list[str] = []
    for card in cards:
        calls = card["calls"]
        lines.append(
            f"{card['suite']} ({card['file']}:{card['line']}) -> route {card['target']}, "
            f"{card['repeats']} repeat(s); model calls {calls['generated']}, cached {calls['generationsCached']}"
        )
        width = max(len(r[0]) for r in rows(card))
        lines += [f"  {m:<{width}}  {v}  ({x})" for m, v, x in rows(card)]
        for p in card["problems"]:
            lines.append(f"  {p['file']}:{p['line']}: case '{p['case']}': {p['message']}")
        for case in card["cases"]:
            if not case["passed"] and case["error"] is None:
                why = "; ".join(f"{k}: {v}" for k, v in case["details"].items()) or "below threshold"
                lines.append(f"  {case['file']}:{case['line']}: case '{case['id']}' failed: {why}")
    return "\n".join(lines) + "\n"


def markdown(cards: Sequence[Card]) -> str:
    parts = []
    for card in cards:
        parts.append(f"### {card['suite']}\n\n| metric | value (95% interval) | |\n| --- | --- | --- |")
        parts.append("\n".join(f"| {m} | {v} | {x} |" for m, v, x in rows(card)))
        if card["problems"]:
            parts.append(
                "\n".join(f"- `{p['file']}:{p['line']}` case `{p['case']}`: {p['message']}" for p in card["problems"])
            )
    return "\n\n".join(parts) + "\n"


_STYLE = (
    "body{font:14px system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}"
    "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}th{background:#f4f4f4}.fail{color:#b00}"
    ".pass{color:#070}details{margin:.5em 0}pre{white-space:pre-wrap;background:#f8f8f8;padding:6px}"
)


def page(cards: Sequence[Card]) -> str:
    """One HTML file with no external resource: summary tables, then every case with its answer."""
    e = html.escape
    body = ["<h1>maestro eval</h1>"]
    for card in cards:
        body.append(
            f"<h2>{e(card['suite'])}</h2><p>{e(card['file'])}:{card['line']} &rarr; route "
            f"{e(card['target'])}, {card['repeats']} repeat(s), revision {e(str(card['revision']))}</p>"
        )
        body.append("<table><tr><th>metric</th><th>value (95% interval)</th><th></th></tr>")
        body += [f"<tr><td>{e(m)}</td><td>{e(v)}</td><td>{e(x)}</td></tr>" for m, v, x in rows(card)]
        body.append(
            "</table><table><tr><th>case</th><th>repeat</th><th>result</th><th>score</th><th>where</th>"
            "<th>why</th></tr>"
        )
        for c in card["cases"]:
            state = "pass" if c["passed"] else "fail"
            why = c["error"] or "; ".join(f"{k}: {v}" for k, v in c["details"].items())
            body.append(
                f"<tr><td>{e(c['id'])}</td><td>{c['repeat']}</td><td class='{state}'>{state}</td>"
                f"<td>{c['score']:.3f}</td><td>{e(c['file'])}:{c['line']}</td><td>{e(why)}</td></tr>"
            )
        body.append("</table>")
    data = e(json.dumps([{k: v for k, v in c.items() if k != "cases"} for c in cards]))
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>maestro eval</title><style>{_STYLE}</style>"
        f"</head><body>{''.join(body)}<script type='application/json' id='scorecards'>{data}</script>"
        "</body></html>\n"
    )


def junit(cards: Sequence[Card]) -> str:
    """One testsuite per suite, one testcase per case run; failures and errors carry file and line."""
    root = ET.Element("testsuites", name="maestro eval")
    for card in cards:
        cases = card["cases"]
        failures = sum(1 for c in cases if not c["passed"] and c["error"] is None)
        errors = sum(1 for c in cases if c["error"] is not None)
        seconds = sum(c["latencyMs"] for c in cases) / 1000
        suite = ET.SubElement(
            root,
            "testsuite",
            name=card["suite"],
            tests=str(len(cases)),
            failures=str(failures),
            errors=str(errors),
            time=f"{seconds:.3f}",
        )
        for c in cases:
            name = c["id"] if card["repeats"] == 1 else f"{c['id']}#{c['repeat']}"
            case = ET.SubElement(
                suite,
                "testcase",
                classname=card["suite"],
                name=name,
                file=c["file"],
                line=str(c["line"]),
                time=f"{c['latencyMs'] / 1000:.3f}",
            )
            if c["error"] is not None:
                ET.SubElement(case, "error", message=c["error"], type=c["errorKind"] or "error")
            elif not c["passed"]:
                why = "; ".join(f"{k}: {v}" for k, v in c["details"].items()) or "below threshold"
                ET.SubElement(case, "failure", message=why, type="assertion").text = json.dumps(c["scores"])
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def history(rows: Sequence[tuple[str, str, float, Card]]) -> str:
    """The runs of a suite kept in the state store, newest first: (digest, revision, created, scorecard)."""
    lines = ["created               revision      suite hash        pass rate  score   cost USD  p95 ms"]
    for digest, revision, _, card in rows:
        s, lat = card["summary"], card["latency"]
        rev = revision[:12] + ("+" if revision.endswith("-worktree") else "")
        lines.append(
            f"{card['created'][:19]:<21} {rev:<13} {digest:<17} {_pct(s['passRate']['value']):>9}  "
            f"{_num(s['score']['value'])}   {card['cost']['totalUsd']:.4f}    {_num(lat['p95Ms'], 0)}"
        )
    return "\n".join(lines) + "\n"


FORMATS = {"text": text, "markdown": markdown, "html": page, "junit": junit}
