"""Every routing decision the gateway makes, as an entry in the signed ledger.

``ledger_sink(writer, actor)`` is a ``GatewayConfig.record`` sink: it builds the ledger ``Action`` on the
request path (no signing, no I/O: ``Writer.submit`` only queues it) with the decision id, the deployments
tried in order, the one that served, the policies that removed deployments, the content hashes of the
manifests the decision read, and the cost. The writer signs and appends in batches on its own thread, and
``Writer.close()`` at shutdown appends everything still queued. The writer comes from the one ledger API
(``maestro.ledger.record.recorder(root, key).writer()``), which checks the signing key is trusted.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from maestro.evidence import Action, PolicyResult, Subject
from maestro.gateway.config import RecordSink
from maestro.ledger.writer import Writer
from maestro.router import POLICY_STAGES, Decision
from maestro.state.weights import Change


def decision_action(decision: Decision, served_by: str | None, cost_usd: float, actor: str) -> Action:
    """The ledger entry for one decided request."""
    summary = {
        "decision_id": decision.decision_id,
        "route": decision.route,
        "alias": decision.alias,
        "order": list(decision.order),
        "served_by": served_by,
        "tags": sorted(decision.tags),
        "detected_tags": sorted(decision.detected_tags),
        "shadow": list(decision.shadow),
        "pinned_by": decision.pinned_by,
        "denied": decision.denied,
    }
    if decision.panic:  # the order holds deployments whose circuit was open: say why
        summary["panic"] = decision.panic
    policies = [PolicyResult(r.rule, f"removed {r.deployment}") for r in decision.removed if r.stage in POLICY_STAGES]
    if decision.denied:
        policies.append(PolicyResult("router.decision", "denied"))
    return Action(
        action="route",
        actor=actor,
        subjects=[Subject.of("decision", json.dumps(summary, sort_keys=True).encode())],
        manifests={ref: digest.removeprefix("sha256:") for ref, digest in decision.policy_versions.items()},
        policies=policies,
        cost_usd=cost_usd,
        details=summary,
    )


def ledger_sink(writer: Writer, actor: str) -> RecordSink:
    """A ``GatewayConfig.record`` that queues each decision on ``writer``."""

    def record(decision: Decision, served_by: str | None, cost_usd: float) -> None:
        writer.submit(decision_action(decision, served_by, cost_usd, actor))

    return record


def weight_change_action(change: Change, signer: str | None = None) -> Action:
    """The ledger entry for one live weight change: who, which route, the weights before and after.

    The actor is ``ROLE:SIGNER`` (``admin:alice``): the ledger binds an entry's actor to the key that signs it.
    """
    details = {
        "route": change.route,
        "before": dict(change.before),
        "after": dict(change.after),
        "reason": change.reason,
        "adds_traffic": change.adds_traffic,
    }
    return Action(
        action="weights.set",
        actor=f"{change.actor}:{signer}" if signer else change.actor,
        subjects=[Subject.of(f"Route/{change.route}", json.dumps(details, sort_keys=True).encode())],
        details=details,
    )


def change_sink(writer: Writer, signer: str) -> Callable[[Change], None]:
    """A ``GatewayConfig.record_change`` that queues each weight change on ``writer`` (whose key is ``signer``'s)."""

    def record(change: Change) -> None:
        writer.submit(weight_change_action(change, signer))

    return record
