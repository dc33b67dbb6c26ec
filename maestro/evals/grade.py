"""What a check gives back, and what a check can read while it grades."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from maestro.evals.datasets import Case
from maestro.evals.generate import Caller, Generation
from maestro.evals.suite import Check, FileReader, Suite


@dataclass(frozen=True, slots=True)
class Grade:
    """A check's verdict on one answer: a score in [0, 1], pass or not, and why."""

    score: float
    passed: bool
    detail: str = ""
    hallucinated: bool | None = None  # groundedness: an answer with a claim its context does not support

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def of(cls, data: dict[str, Any]) -> Grade:
        return cls(float(data["score"]), bool(data["passed"]), str(data.get("detail", "")), data.get("hallucinated"))


def threshold_grade(score: float, check: Check, detail: str = "") -> Grade:
    return Grade(score, score >= check.threshold, detail)


@dataclass
class Context:
    """What graders share during a run: the suite, a file reader, the caller for judges, loaded helpers."""

    suite: Suite
    read: FileReader
    caller: Caller | None = None
    embed: Callable[[list[str]], list[list[float]]] | None = None
    loaded: dict[str, Any] = field(default_factory=dict)
    judge_salt: int = 0  # set when a judge grades the same answer again, to measure its noise
    allow_code: bool = False  # whether checks that execute the repository's code may run


Grader = Callable[[Check, Case, Generation, Context], Any]  # returns a Grade, or an awaitable of one
