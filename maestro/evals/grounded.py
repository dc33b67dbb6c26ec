"""Groundedness: each claim (sentence) of the answer must be supported by the case's context or its input.

A claim is supported when most of its content words (``SUPPORT`` of them, after dropping stop words and a
plural ``s``) appear in the context or the input, and every number or identifier in it does: a made-up
price, date or order number is never supported. The score is the share of supported claims; an answer
with any unsupported claim counts as a hallucination (the scorecard's hallucination rate).
"""

from __future__ import annotations

import re

from maestro.evals.datasets import Case
from maestro.evals.errors import CaseError
from maestro.evals.generate import Generation
from maestro.evals.grade import Context, Grade
from maestro.evals.suite import Check

SUPPORT = 0.6
MIN_WORDS = 3  # shorter sentences ("Sorry about that!") carry no claim
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_WORD = re.compile(r"[a-z0-9]+(?:[.,'-][a-z0-9]+)*")
_NUMBERISH = re.compile(r"\d")
_STOP_WORDS = (
    "a an the and or but if so of to in on at by for from with as is are was were be been being it its "
    "this that these those you your we our us i me my he she they them their there here not no do does "
    "did can could will would should may might must have has had just also than then which who whom what "
    "when where why how about into out up down over under again once all any each both few more most "
    "other some such only own same too very s t now get got let "
)
STOP = frozenset(_STOP_WORDS.split())


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def words(text: str) -> list[str]:
    return [_stem(w) for w in _WORD.findall(text.lower()) if w not in STOP]


def claims(answer: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(answer) if len(words(s)) >= MIN_WORDS]


def unsupported(answer: str, sources: list[str]) -> list[str]:
    """The claims of ``answer`` that ``sources`` do not support."""
    known = set(words(" ".join(sources)))
    out = []
    for claim in claims(answer):
        content = words(claim)
        numbers = [w for w in content if _NUMBERISH.search(w)]
        share = sum(1 for w in content if w in known) / len(content)
        if share < SUPPORT or any(n not in known for n in numbers):
            out.append(claim)
    return out


def groundedness(check: Check, case: Case, gen: Generation, ctx: Context) -> Grade:
    if not case.context:
        raise CaseError(
            f"{check.name} (groundedness, line {check.line}) needs the case's 'context' (the reference texts)"
        )
    found = claims(gen.output)
    missing = unsupported(gen.output, [*case.context, case.input_text()])
    score = 1.0 if not found else 1 - len(missing) / len(found)
    detail = f"unsupported: {missing[0][:100]!r}" if missing else f"{len(found)} claim(s) supported"
    return Grade(score, score >= check.threshold, detail, hallucinated=bool(missing))
