"""Grading one served answer with pinned answer-only checks (a rollout's online eval metric).

The gateway's observation writer calls ``grade`` off the request path with the checks a rollout pinned when it
started (``maestro.delivery.online.checks_of``); it sits in ``evals`` so the gateway can take it without
importing delivery, which is above it.
"""

from __future__ import annotations

import json

from maestro.evals.checks import GRADERS
from maestro.evals.datasets import Case
from maestro.evals.errors import CaseError
from maestro.evals.generate import Generation
from maestro.evals.grade import Context
from maestro.evals.suite import Check, Suite, Target

_CASE = Case("online", "", 0)
_CONTEXT = Context(Suite("online", "", 0, "", Target(""), (), {}), lambda _base, _path: None)


def grade(checks: str, text: str) -> bool | None:
    """Whether ``text`` passes every pinned check; None when a check cannot run (it is then not counted)."""
    answer = Generation(text, "", 0.0, 0.0)
    for c in json.loads(checks):
        check = Check(name=c["name"], type=c["type"], line=0, value=c["value"], has_value=True)
        try:
            result = GRADERS[check.type](check, _CASE, answer, _CONTEXT)
        except CaseError:
            return None
        if not result.passed:
            return False
    return True
