"""Running a suite: every case x repeat, generated through the target's route and graded by every check.

asyncio with a bound on how many cases are in flight. Generations and grades come from the caches when
their content hash is there (``Store``), so an unchanged suite makes no model call; ``regrade`` scores
cached answers again. A case that fails (the target, or a check reading what the case lacks) is recorded
with its file and line and never stops the others.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from maestro.evals.cache import Store, digest
from maestro.evals.checks import GRADERS
from maestro.evals.datasets import Case, Dataset
from maestro.evals.errors import CaseError, Problem
from maestro.evals.generate import Caller, Generation
from maestro.evals.grade import Context, Grade, Grader
from maestro.evals.grounded import groundedness
from maestro.evals.judge import llm_judge
from maestro.evals.similarity import similarity
from maestro.evals.suite import Check, FileReader, Suite

ALL_GRADERS: dict[str, Grader] = {
    **GRADERS,
    "llm-judge": llm_judge,
    "groundedness": groundedness,
    "similarity": similarity,
}
JUDGE_RECHECKS = 10  # answers a judge grades twice, to measure its noise


@dataclass(frozen=True, slots=True)
class CaseRun:
    """One case at one repeat: the answer, each check's grade, and the weighted score."""

    case: str
    file: str
    line: int
    repeat: int
    output: str = ""
    deployment: str = ""
    cost_usd: float = 0.0
    latency_ms: float = 0.0
    grades: Mapping[str, Grade] = field(default_factory=dict)
    rechecks: Mapping[str, float] = field(default_factory=dict)  # check -> the judge's second score
    error: str | None = None
    error_kind: str | None = None  # "target" (no answer) or "grade" (a check could not grade)

    @property
    def passed(self) -> bool:
        return self.error is None and all(g.passed for g in self.grades.values())


@dataclass
class SuiteRun:
    suite: Suite
    runs: list[CaseRun]
    problems: list[Problem]
    generated: int = 0
    generations_cached: int = 0
    graded: int = 0
    grades_cached: int = 0


@dataclass(frozen=True, slots=True)
class Options:
    repeats: int | None = None
    concurrency: int | None = None
    regrade: bool = False
    judge_rechecks: int = JUDGE_RECHECKS
    allow_code: bool = False  # run checks that execute the repository's code (maestro eval --allow-code)
    fresh: bool = False  # ask the routes again rather than reuse a cached answer (drift: maestro eval --against last)


class Progress(Protocol):
    def start(self, suite: str, total: int) -> None: ...

    def advance(self, suite: str, run: CaseRun) -> None: ...

    def finish(self, suite: str) -> None: ...


class Quiet:
    def start(self, suite: str, total: int) -> None:
        """Nothing to show."""

    def advance(self, suite: str, run: CaseRun) -> None:
        """Nothing to show."""

    def finish(self, suite: str) -> None:
        """Nothing to show."""


async def run_suite(
    suite: Suite,
    dataset: Dataset,
    caller: Caller,
    store: Store,
    read: FileReader,
    *,
    options: Options | None = None,
    progress: Progress | None = None,
) -> SuiteRun:
    """Generate and grade every case of ``suite`` ``repeats`` times; problems are collected, not raised."""
    options = options or Options()
    progress = progress or Quiet()
    result = SuiteRun(suite, [], list(dataset.problems))
    repeats = options.repeats or suite.repeats
    jobs = [(case, r) for case in dataset.cases for r in range(repeats)]
    recheck = {(c.id, 0) for c in dataset.cases[: options.judge_rechecks]}
    job = _Job(suite, caller, store, Context(suite, read, caller, allow_code=options.allow_code), options, result)
    gate = asyncio.Semaphore(options.concurrency or suite.concurrency)
    progress.start(suite.name, len(jobs))

    async def one(case: Case, repeat: int) -> CaseRun:
        async with gate:
            run = await job.case(case, repeat, recheck=(case.id, repeat) in recheck)
        progress.advance(suite.name, run)
        return run

    result.runs = list(await asyncio.gather(*(one(c, r) for c, r in jobs)))
    progress.finish(suite.name)
    for run in result.runs:
        if run.error is not None:
            result.problems.append(
                Problem(suite.name, run.file, run.line, run.case, run.error, run.error_kind or "grade")
            )
    return result


def _answer(gen: Generation) -> dict[str, Any]:
    return {"output": gen.output, "deployment": gen.deployment, "cost_usd": gen.cost_usd, "latency_ms": gen.latency_ms}


@dataclass
class _Job:
    """One suite's run: what every case shares."""

    suite: Suite
    caller: Caller
    store: Store
    ctx: Context
    options: Options
    result: SuiteRun

    async def case(self, case: Case, repeat: int, *, recheck: bool) -> CaseRun:
        where: dict[str, Any] = {"case": case.id, "file": case.file, "line": case.line, "repeat": repeat}
        messages = self.suite.target.messages(case.input_text(), case.vars)
        try:
            gen = await self.generate(messages, repeat)
        except CaseError as e:
            return CaseRun(**where, error=str(e), error_kind="target")
        grades: dict[str, Grade] = {}
        rechecks: dict[str, float] = {}
        for check in self.suite.checks:
            try:
                grades[check.name] = await self.grade(check, case, gen, salt=0)
                if recheck and check.type == "llm-judge":
                    rechecks[check.name] = (await self.grade(check, case, gen, salt=1)).score
            except CaseError as e:
                return CaseRun(**where, **_answer(gen), grades=grades, error=str(e), error_kind="grade")
        return CaseRun(**where, **_answer(gen), grades=grades, rechecks=rechecks)

    async def generate(self, messages: list[dict[str, str]], repeat: int) -> Generation:
        route = self.suite.target.route
        limit, temperature = self.suite.max_tokens, self.suite.temperature
        asked = {"max_tokens": limit, "temperature": temperature}
        extra = (asked,) if limit is not None or temperature is not None else ()  # keys of earlier runs unchanged
        key = digest("generation", route, self.caller.order(route, messages), messages, repeat, *extra)
        cached = None if self.options.fresh else self.store.generation(key)
        if cached is not None:
            self.result.generations_cached += 1
            return cached
        gen = await self.caller.chat(route, messages, temperature=temperature, max_tokens=limit)
        self.store.put_generation(key, gen)
        self.result.generated += 1
        return gen

    def _grader_version(self, check: Check) -> str:
        """What else a grade depends on: a Python scorer's source, a judge route's deployments and versions."""
        if check.type == "python":
            return self.suite.digest
        if check.type == "llm-judge" and check.route is not None:
            return self.caller.route_version(check.route)
        return ""

    async def grade(self, check: Check, case: Case, gen: Generation, *, salt: int) -> Grade:
        answer = [gen.output, gen.cost_usd, gen.latency_ms]
        key = digest("grade", check.key(), dict(case.fields), answer, self._grader_version(check), salt)
        if not self.options.regrade:
            cached = self.store.grade(key)
            if cached is not None:
                self.result.grades_cached += 1
                return Grade.of(cached)
        outcome = ALL_GRADERS[check.type](check, case, gen, self.ctx)
        grade: Grade = await outcome if inspect.isawaitable(outcome) else outcome
        self.store.put_grade(key, grade.as_dict())
        self.result.graded += 1
        return grade
