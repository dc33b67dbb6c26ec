"""The policy-aware router: a pure, replayable decision over compiled manifests.

Use::

    table = router.build(manifests)            # once per manifest set
    decision = router.decide(table, router.Request(alias="chat", messages=(...,)), state, seed=0)
    decision.order        # deployments to try, primary first: ("openai-us/gpt-4o-mini", ...)
    decision.removed      # every deployment left out, with the stage and rule that removed it
    decision.refusal      # when nothing is left to try: Refusal(kind=RefusalKind.KILL_SWITCH, route=..., ...)

The router does no I/O. Same table, request, state and seed give the same decision.
"""

from __future__ import annotations

from maestro.router.decide import decide, estimate_tokens
from maestro.router.model import (
    POLICY_STAGES,
    Circuit,
    Decision,
    DeploymentState,
    LiveState,
    Refusal,
    RefusalKind,
    Removal,
    Request,
    Score,
    Stage,
)
from maestro.router.table import Budget, Deployment, RouterError, RouterTable, RouteSettings, build

__all__ = [
    "POLICY_STAGES",
    "Budget",
    "Circuit",
    "Decision",
    "Deployment",
    "DeploymentState",
    "LiveState",
    "Refusal",
    "RefusalKind",
    "Removal",
    "Request",
    "RouteSettings",
    "RouterError",
    "RouterTable",
    "Score",
    "Stage",
    "build",
    "decide",
    "estimate_tokens",
]
