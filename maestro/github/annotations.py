"""Check-run annotations: each failing case at its line in the suite's YAML or dataset, each failed verdict at
its suite (or the case that caused it)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from maestro.evals.gate import GateResult, Verdict

MAX_ANNOTATIONS = 500  # per check run; GitHub takes 50 per request


def _usable(path: str) -> bool:
    return bool(path) and ":" not in path and not path.startswith(("/", ".."))  # not "REV:file" nor outside


def annotations_for(result: GateResult, cards: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for f in result.findings:
        if f.verdict is Verdict.FAIL and _usable(f.file):
            out.append(_note(f.file, f.line, "failure", f"{f.suite}: {f.metric} failed", f.reason))
    for card in cards:
        for case in card["cases"]:
            if case["passed"] or not _usable(case["file"]):
                continue
            why = case["error"] or "; ".join(f"{k}: {v}" for k, v in case["details"].items()) or "below threshold"
            level = "failure" if case["error"] is None else "warning"
            title = f"{card['suite']}: case {case['id']}" + (f" (repeat {case['repeat']})" if case["repeat"] else "")
            out.append(_note(case["file"], case["line"], level, title, why))
    return out[:MAX_ANNOTATIONS]


def _note(path: str, line: int, level: str, title: str, message: str) -> dict[str, Any]:
    return {
        "path": path,
        "start_line": max(1, int(line)),
        "end_line": max(1, int(line)),
        "annotation_level": level,
        "title": title[:255],
        "message": message[:1000],
    }
