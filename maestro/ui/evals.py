"""/evals: each suite's latest scorecard with its intervals; /evals/SUITE: its history, and the latest run
against the one before it case by case (what flipped) with the paired comparison (``maestro.evals.compare``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from maestro.evals.cache import Store
from maestro.evals.compare import compare
from maestro.evals.scorecard import cases_by_id
from maestro.ui.config import UiConfig
from maestro.ui.pages import NotFound, Page, UiError

HISTORY = 20


def view(config: UiConfig) -> Page:
    store = Store.open(str(config.state_path))
    try:
        suites = []
        for suite in store.suites():
            _digest, revision, created, card = store.history(suite, 1)[0]
            suites.append({"suite": suite, "revision": revision, "created": created, "summary": _summary(card)})
    finally:
        store.close()
    return Page("evals.html", "Evals", {"suites": suites})


def suite(config: UiConfig, name: str) -> Page:
    store = Store.open(str(config.state_path))
    try:
        history = store.history(name, HISTORY)
        if not history:
            raise NotFound(f"no scorecards of suite '{name}'", [f"/evals/{s}" for s in store.suites()])
    finally:
        store.close()
    return _suite_page(name, history)


def scorecard(config: UiConfig, card: Mapping[str, Any], revision: str = "this run") -> Page:
    """The suite page of a scorecard not in the store yet (``maestro ui export --scorecard``): compared with the
    suite's latest stored scorecard, its history below it."""
    name = str(card.get("suite") or "")
    if not name:
        raise UiError("the scorecard names no suite; give a file that `maestro eval run` wrote")
    store = Store.open(str(config.state_path))
    try:
        history = store.history(name, HISTORY - 1)
    finally:
        store.close()
    return _suite_page(name, [("", revision, 0.0, dict(card)), *history])


def _suite_page(name: str, history: list[tuple[str, str, float, dict[str, Any]]]) -> Page:
    runs = [{"revision": r, "digest": d, "created": c, "summary": _summary(card)} for d, r, c, card in history]
    head = history[0][3]
    data: dict[str, Any] = {"suite": name, "latest": _card(head), "history": runs, "previous": None}
    if len(history) > 1:
        base = history[1][3]
        data["previous"] = {"revision": history[1][1], "comparison": compare(head, base), "flips": flips(head, base)}
    return Page("evals_suite.html", f"Evals: {name}", data)


def flips(head: Mapping[str, Any], base: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The cases whose verdict changed from ``base`` to ``head`` (a case passes when most repeats pass)."""
    h, b = cases_by_id(head), cases_by_id(base)
    out = []
    for case in sorted(set(h) & set(b)):
        now, before = _passed(h[case]), _passed(b[case])
        if now != before:
            out.append({"case": case, "before": before, "now": now, "change": "fixed" if now else "broke"})
    return out


def _passed(rows: list[Mapping[str, Any]]) -> bool:
    return sum(1 for r in rows if r.get("passed")) * 2 > len(rows)


def _summary(card: Mapping[str, Any]) -> dict[str, Any]:
    s = card.get("summary", {})
    return {"passRate": s.get("passRate"), "score": s.get("score"), "cases": s.get("cases"), "runs": s.get("runs")}


def _card(card: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "summary": card.get("summary", {}),
        "metrics": card.get("metrics", {}),
        "cost": card.get("cost", {}),
        "latency": card.get("latency", {}),
        "cases": [
            {"id": c.get("id"), "passed": c.get("passed"), "score": c.get("score")} for c in card.get("cases", [])
        ],
    }
