"""What can go wrong in an eval, and where.

    MaestroError
    └── EvalError          a suite cannot be run at all (unknown suite or target, unreadable file); exit 2
        └── CaseError      one case cannot be graded or generated; recorded on the case, never raised past it

A ``Problem`` is a ``CaseError`` written down: the file and line of the case (or assertion) it came from,
the case id, and what to do. The runner collects problems and keeps every other case's results.
"""

from __future__ import annotations

from dataclasses import dataclass

from maestro.errors import MaestroError


class EvalError(MaestroError):
    """A suite, its dataset or its target cannot be used; the message says where and what to do."""


class CaseError(EvalError):
    """One case failed to generate or grade (a missing field, a scorer that raised, a garbled judge)."""


@dataclass(frozen=True, slots=True)
class Problem:
    """A problem with one case or row: where it came from and what happened."""

    suite: str
    file: str
    line: int
    case: str
    message: str
    kind: str = "row"  # row (the dataset), grade (a check could not grade), target (no answer)

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.suite} case '{self.case}': {self.message}"
