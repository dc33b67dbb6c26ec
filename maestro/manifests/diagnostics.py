"""Diagnostics: what validation found, where, and what to do about it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One finding. ``line`` and ``column`` are 1-based; ``path`` is the JSON path inside the document."""

    file: str
    line: int
    column: int
    severity: Severity
    rule: str
    message: str
    path: str = ""

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.file, self.line, self.column, self.rule)


@dataclass(frozen=True, slots=True)
class Summary:
    files: int
    documents: int
    errors: int
    warnings: int
    info: int

    @classmethod
    def of(cls, diagnostics: list[Diagnostic], files: int, documents: int) -> Summary:
        counts = {s: 0 for s in Severity}
        for d in diagnostics:
            counts[d.severity] += 1
        return cls(files, documents, counts[Severity.ERROR], counts[Severity.WARNING], counts[Severity.INFO])


def json_path(path: tuple[str | int, ...]) -> str:
    """Render a path as ``spec.candidates[0].weight``."""
    out: list[str] = []
    for part in path:
        if isinstance(part, int):
            out.append(f"[{part}]")
        else:
            out.append(f".{part}" if out else part)
    return "".join(out)
