"""What an explanation is: plain sentences in sections, facts for machines, and an optional graph."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Section:
    title: str
    lines: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Explanation:
    ref: str
    file: str
    line: int
    summary: str
    sections: tuple[Section, ...]
    facts: dict[str, Any] = field(default_factory=dict)
    mermaid: str | None = None


def pct(weight: float, total: float) -> str:
    return f"{100 * weight / total:.0f}%" if total else "0%"


def money(value: float) -> str:
    return f"${value:,.4f}".rstrip("0").rstrip(".") if value < 1 else f"${value:,.2f}"
