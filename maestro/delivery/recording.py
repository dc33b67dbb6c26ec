"""Rollout transitions and verdicts as ledger entries (``rollout.transition`` with the event in its details,
``rollout.verdict``), each naming the Rollout manifest by the digest it was pinned to.

``rollout.promote`` is left to the ledger's dual control (``maestro.ledger.dualcontrol.GUARDED``: an entry of
that action must carry its approvers' signatures on its envelope); a rollout's own approvals are signatures
on its pinned digest (``approvals``), so its promotion is recorded as a transition, not as that action.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from maestro.delivery.analysis import Verdict
from maestro.delivery.machine import Transition
from maestro.delivery.spec import RolloutSpec
from maestro.ledger import Action, PolicyResult, Subject

# the seam to the ledger: a Writer's submit, or a list in tests
Record = Callable[[Action], None]


def transition_action(
    spec: RolloutSpec, t: Transition, actor: str, signoffs: Mapping[str, Any] | None = None
) -> Action:
    """A transition entry; a promotion that needed approvals carries their sign-offs (``ledger verify`` checks them)."""
    details: dict[str, object] = {
        "rollout": spec.name,
        "route": spec.route,
        "event": t.event,
        "from": str(t.before),
        "to": str(t.after),
        "step": t.step,
        "canaryWeight": t.canary_weight,
        "stable": spec.stable,
        "canary": spec.canary,
        "reason": t.reason,
    }
    if signoffs is not None:
        details |= {"digest": spec.digest, "signoffs": dict(signoffs)}
    return _action("rollout.transition", spec, details, actor)


def verdict_action(spec: RolloutSpec, step: int, verdict: Verdict, actor: str) -> Action:
    details = {"rollout": spec.name, "route": spec.route, "step": step, **verdict.as_json()}
    action = _action("rollout.verdict", spec, details, actor)
    return Action(
        action=action.action,
        actor=actor,
        subjects=action.subjects,
        manifests=action.manifests,
        policies=[PolicyResult(f"rollout/{spec.name}/{verdict.metric}", str(verdict.outcome))],
        details=details,
    )


def _action(name: str, spec: RolloutSpec, details: dict[str, object], actor: str) -> Action:
    return Action(
        action=name,
        actor=actor,
        subjects=[Subject.of(f"Rollout/{spec.name}", json.dumps(details, sort_keys=True, default=str).encode())],
        manifests={f"Rollout/{spec.name}": spec.digest.removeprefix("sha256:")},
        details=details,
    )
