"""Online eval scores: a rollout's ``evalSuite`` checks applied to answers the gateway already served.

A metric ``{name: evalScore, source: eval, sampleRate: 0.2}`` asks the gateway to grade that share of the
stable's and the canary's buffered answers with the suite's deterministic checks that need no dataset case
(``equals``, ``contains``, ``regex`` and ``json-schema`` with a ``value``); an answer passes when every one of
them passes. ``checks_of`` picks and pins those checks when the rollout starts (they travel in the state store,
so every gateway grades alike whatever its manifests); ``grade`` is what the gateway's observation writer
calls, off the request path (it lives in ``maestro.evals.online``, below the gateway). Checks that need a case
(``expected``), a judge model or the repository's code are not run online.
"""

from __future__ import annotations

import json

from maestro.delivery.errors import RolloutError
from maestro.evals.online import grade
from maestro.manifests.kinds.evalsuite import EvalSuite
from maestro.manifests.loader import ManifestSet
from maestro.manifests.metrics import ANSWER_ONLY_CHECKS, answer_only, assertion_metric


def checks_of(manifests: ManifestSet, suite_name: str, where: str) -> str:
    """The suite's checks the gateway can run on an answer alone, as pinned JSON; a RolloutError when none."""
    doc = manifests.get("EvalSuite", suite_name)
    if doc is None:
        known = ", ".join(sorted(d.name for d in manifests.of_kind("EvalSuite"))) or "none"
        raise RolloutError(f"{where}: spec.evalSuite '{suite_name}' is not an EvalSuite (suites: {known})")
    suite: EvalSuite = doc.record
    picked = [
        {"name": assertion_metric(a, i), "type": a["type"], "value": a["value"]}
        for i, a in enumerate(suite.assertions)
        if answer_only(a)
    ]
    if not picked:
        raise RolloutError(
            f"{where}: EvalSuite '{suite_name}' ({doc.file}:{doc.line}) has no check the gateway can grade an "
            f"answer with on its own ({', '.join(ANSWER_ONLY_CHECKS)} with a value); add one, or drop the eval metric"
        )
    return json.dumps(picked, sort_keys=True)


__all__ = ["checks_of", "grade"]
