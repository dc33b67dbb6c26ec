"""The LLM-judge check: the rubric, the case and the answer sent through a route; the judge answers JSON.

The judge must reply ``{"score": <0..1>, "reason": "..."}`` (a code fence around it is accepted). Anything
else is a ``CaseError`` quoting the start of the reply, so a garbled judge fails that case, visibly.
"""

from __future__ import annotations

import json
import re
from typing import Any

from maestro.evals.datasets import Case
from maestro.evals.errors import CaseError
from maestro.evals.generate import Generation
from maestro.evals.grade import Context, Grade
from maestro.evals.suite import Check

SYSTEM = (
    "You are a strict evaluator. Grade the ANSWER against the RUBRIC. Reply with one JSON object and nothing "
    'else: {"score": <a number from 0 to 1>, "reason": "<one sentence>"}.'
)
_OBJECT = re.compile(r"\{.*\}", re.DOTALL)


def prompt(check: Check, case: Case, answer: str) -> list[dict[str, str]]:
    parts = [f"RUBRIC:\n{check.rubric}", f"INPUT:\n{case.input_text()}"]
    if case.has("expected"):
        expected = case.fields["expected"]
        parts.append(f"REFERENCE ANSWER:\n{expected if isinstance(expected, str) else json.dumps(expected)}")
    if case.context:
        parts.append("CONTEXT:\n" + "\n".join(case.context))
    parts.append(f"ANSWER:\n{answer}")
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "\n\n".join(parts)}]


def parse_verdict(text: str) -> tuple[float, str]:
    """The score and reason of a judge's reply; ValueError when the reply is not the asked-for JSON."""
    match = _OBJECT.search(text)
    if not match:
        raise ValueError("no JSON object")
    try:
        data: Any = json.loads(match.group(0))
    except json.JSONDecodeError as e:
        raise ValueError(f"not JSON ({e.msg})") from e
    score = data.get("score") if isinstance(data, dict) else None
    if isinstance(score, bool) or not isinstance(score, int | float) or not 0 <= score <= 1:
        raise ValueError("no 'score' between 0 and 1")
    return float(score), str(data.get("reason", ""))


async def llm_judge(check: Check, case: Case, gen: Generation, ctx: Context) -> Grade:
    if ctx.caller is None or check.route is None:
        raise CaseError(f"{check.name} (llm-judge, line {check.line}) has no route to call")
    answer = await ctx.caller.chat(check.route, prompt(check, case, gen.output), temperature=0.0)
    try:
        score, reason = parse_verdict(answer.output)
    except ValueError as e:
        raise CaseError(
            f"{check.name} (llm-judge, line {check.line}): the judge on route '{check.route}' did not answer "
            f'{{"score": 0..1}} ({e}); it said: {answer.output[:80]!r}'
        ) from e
    return Grade(score, score >= check.threshold, reason[:200])
