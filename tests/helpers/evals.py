"""Running ``maestro eval`` in a throwaway repository against a fake upstream, and reading what it wrote."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema

ROOT = Path(__file__).resolve().parents[2]
SCORECARD_SCHEMA = json.loads((ROOT / "schemas" / "scorecard.json").read_text(encoding="utf-8"))


def card(root: Path, suite: str) -> dict[str, Any]:
    """The scorecard ``maestro eval`` wrote for ``suite``, checked against schemas/scorecard.json."""
    data: dict[str, Any] = json.loads((root / ".maestro" / "evals" / f"{suite}.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(SCORECARD_SCHEMA).validate(data)
    return data


def user_text(body: dict[str, Any]) -> str:
    return next(m["content"] for m in reversed(body["messages"]) if m["role"] == "user")


def system_text(body: dict[str, Any]) -> str:
    return next((m["content"] for m in body["messages"] if m["role"] == "system"), "")
