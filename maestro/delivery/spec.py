"""A Rollout manifest as the controller runs it: pinned to its content digest, checked against its route.

``resolve`` reads a validated Rollout and the Route it targets into a ``RolloutSpec``; the spec is stored with
the rollout (``as_json``/``from_json``), so a rollout runs the manifest as it was when it started even if the
file changes meanwhile.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from maestro.delivery import online
from maestro.delivery.errors import RolloutError
from maestro.manifests.durations import seconds
from maestro.manifests.kinds.autonomylevel import AutonomyLevel
from maestro.manifests.kinds.policy import Policy
from maestro.manifests.kinds.rollout import Rollout, RolloutStep
from maestro.manifests.loader import ManifestSet
from maestro.manifests.windows import Window
from maestro.manifests.windows import parse as parse_window
from maestro.router import build
from maestro.router.table import content_hash

RUN_TARGETS = frozenset({"Agent", "Pipeline"})  # targets split when a run starts (``maestro.delivery.variants``)
GATEWAY_METRICS = frozenset({"error_rate", "latency_ms"})  # what the gateway's observations measure
# (a metric of source ``eval`` is measured too: the share of sampled answers failing the suite's checks)


@dataclass(frozen=True, slots=True)
class Step:
    """One step: ``setWeight`` (weight), ``pause`` (pause_s, None for manual) or ``analysis`` (its name)."""

    kind: str
    weight: int = 0
    pause_s: float | None = None
    analysis: str = ""

    def describe(self) -> str:
        if self.kind == "setWeight":
            return f"setWeight {self.weight}"
        if self.kind == "pause":
            return "pause manual" if self.pause_s is None else f"pause {self.pause_s:g}s"
        return f"analysis {self.analysis}"


@dataclass(frozen=True, slots=True)
class Metric:
    name: str
    source: str
    query: str = ""  # a Prometheus metric's PromQL
    url: str = ""  # its server ('' : $MAESTRO_PROMETHEUS_URL)
    sample_rate: float = 1.0  # an eval metric: the share of answers the gateway grades


@dataclass(frozen=True, slots=True)
class RolloutSpec:
    name: str
    digest: str
    route: str
    stable: str
    canary: str
    steps: tuple[Step, ...]
    analyses: Mapping[str, tuple[Metric, ...]]
    weights: Mapping[str, float]  # the route's candidates as the manifest weighs them
    automatic_rollback: bool = True
    freezes: tuple[tuple[str, Mapping[str, Any]], ...] = ()  # (where it is written, the window as written)
    approvals: int = 0  # approvals each manual pause and the promotion need (spec.approvals.required)
    rollback_when: tuple[str, ...] = ()  # CEL over metrics and baseline: any true rolls back
    conditions: Mapping[str, tuple[str, str]] = field(default_factory=dict)  # analysis -> (success, failure) CEL
    target_kind: str = "Route"  # Route; Agent or Pipeline: ``route`` is then ``KIND/NAME`` and the sides are names
    stickiness: str = ""  # caller, session; '' when each request or run is picked on its own
    eval_checks: str = ""  # an eval metric's checks, pinned as JSON (``maestro.delivery.online``); '' when none
    approval_roles: tuple[str, ...] = ()  # spec.approvals.roles: an approval counts from a holder of one of them

    @property
    def eval_sample_rate(self) -> float:
        """The share of answers the gateway grades: the highest of the eval metrics' sample rates (0: none)."""
        rates = [m.sample_rate for ms in self.analyses.values() for m in ms if m.source == "eval"]
        return max(rates, default=0.0) if self.eval_checks else 0.0

    @property
    def splits_runs(self) -> bool:
        """Whether the split applies when a run starts (an Agent or Pipeline target), not in the gateway."""
        return self.target_kind != "Route"

    def windows(self) -> list[tuple[str, Window]]:
        return [(source, parse_window(w)) for source, w in self.freezes]

    def live_weights(self, canary_weight: int) -> dict[str, float]:
        """The stable and canary weights that give the canary ``canary_weight`` percent of their share."""
        total = (self.weights.get(self.stable, 0.0) + self.weights.get(self.canary, 0.0)) or 100.0
        return {self.stable: total * (100 - canary_weight) / 100, self.canary: total * canary_weight / 100}

    def as_json(self) -> str:
        return json.dumps(
            {
                "name": self.name,
                "digest": self.digest,
                "route": self.route,
                "stable": self.stable,
                "canary": self.canary,
                "steps": [[s.kind, s.weight, s.pause_s, s.analysis] for s in self.steps],
                "analyses": {
                    k: [[m.name, m.source, m.query, m.url, m.sample_rate] for m in v] for k, v in self.analyses.items()
                },
                "weights": dict(self.weights),
                "automaticRollback": self.automatic_rollback,
                "freezes": [[source, dict(w)] for source, w in self.freezes],
                "approvals": self.approvals,
                "rollbackWhen": list(self.rollback_when),
                "conditions": {k: list(v) for k, v in self.conditions.items()},
                "targetKind": self.target_kind,
                "stickiness": self.stickiness,
                "evalChecks": self.eval_checks,
                "approvalRoles": list(self.approval_roles),
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> RolloutSpec:
        d = json.loads(text)
        return cls(
            d["name"],
            d["digest"],
            d["route"],
            d["stable"],
            d["canary"],
            tuple(Step(*s) for s in d["steps"]),
            {k: tuple(Metric(*m) for m in v) for k, v in d["analyses"].items()},
            d["weights"],
            d["automaticRollback"],
            tuple((source, w) for source, w in d.get("freezes", [])),
            int(d.get("approvals", 0)),
            tuple(d.get("rollbackWhen", ())),
            {k: (v[0], v[1]) for k, v in d.get("conditions", {}).items()},
            str(d.get("targetKind", "Route")),
            str(d.get("stickiness", "")),
            str(d.get("evalChecks", "")),
            tuple(str(r) for r in d.get("approvalRoles", ())),
        )


def resolve(manifests: ManifestSet, name: str) -> RolloutSpec:
    """The spec of Rollout ``name``; a clear error when it cannot run (no such rollout, route or deployment)."""
    doc = manifests.get("Rollout", name)
    if doc is None:
        known = ", ".join(sorted(d.name for d in manifests.of_kind("Rollout"))) or "none"
        raise RolloutError(f"no Rollout named '{name}'; rollouts in the manifests: {known}")
    rollout: Rollout = doc.record
    where = f"{doc.file}:{doc.line}"
    if rollout.target_kind not in RUN_TARGETS and rollout.target_kind != "Route":
        raise RolloutError(
            f"{where}: Rollout '{name}' targets a {rollout.target_kind}; rollouts run Route, Agent and Pipeline targets"
        )
    if rollout.change_from is None or rollout.change_to is None:
        what = "provider/model" if rollout.target_kind == "Route" else f"{rollout.target_kind} names"
        raise RolloutError(f"{where}: Rollout '{name}' needs spec.change.from and spec.change.to ({what})")
    if rollout.target_kind == "Route":
        weights = _route_weights(manifests, rollout.target_name, where)
        route = rollout.target_name
        candidates = f"a candidate of route '{route}' (candidates: {', '.join(sorted(weights))})"
        fix = "add it to the route's candidates (weight 0 gives it no traffic until the rollout does)"
    else:
        weights = {rollout.change_from: 100.0, rollout.change_to: 0.0}
        weights = {k: v for k, v in weights.items() if manifests.get(rollout.target_kind, k) is not None}
        route = f"{rollout.target_kind}/{rollout.target_name}"
        known = ", ".join(sorted(d.name for d in manifests.of_kind(rollout.target_kind))) or "none"
        candidates = f"a{'n' if rollout.target_kind == 'Agent' else ''} {rollout.target_kind} ({known})"
        fix = f"write the {rollout.target_kind} version it names (a document of its own)"
    for side, deployment in (("from", rollout.change_from), ("to", rollout.change_to)):
        if deployment not in weights:
            raise RolloutError(f"{where}: spec.change.{side} '{deployment}' is not {candidates}; {fix}")
    approvals, roles = _approvals(manifests, rollout)
    return RolloutSpec(
        name=name,
        digest=content_hash(doc),
        route=route,
        stable=rollout.change_from,
        canary=rollout.change_to,
        steps=tuple(_step(s) for s in rollout.steps),
        analyses={
            a.name: tuple(Metric(m.name, m.source, m.query or "", m.url or "", m.sample_rate) for m in a.metrics)
            for a in rollout.analysis
        },
        weights=weights,
        automatic_rollback=rollout.rollback.automatic,
        freezes=_freezes(manifests, rollout),
        approvals=approvals,
        rollback_when=rollout.rollback.when,
        conditions={a.name: (a.success_condition or "", a.failure_condition or "") for a in rollout.analysis},
        target_kind=rollout.target_kind,
        stickiness=rollout.stickiness or "",
        eval_checks=_eval_checks(manifests, rollout, where),
        approval_roles=roles,
    )


HIGH_AUTONOMY = 4  # promoting an Agent or Pipeline whose new version acts at L4 or above needs approvals


def _approvals(manifests: ManifestSet, rollout: Rollout) -> tuple[int, tuple[str, ...]]:
    """The sign-offs each manual pause and the promotion need, and from which roles: the Rollout's own, raised
    to its canary's AutonomyLevel approvals (at least one) when that Agent or Pipeline acts at L4 or above."""
    required, roles = rollout.approvals_required, tuple(rollout.approval_roles)
    canary = manifests.get(rollout.target_kind, rollout.change_to or "") if rollout.target_kind != "Route" else None
    level_name = getattr(canary.record, "autonomy_level", None) if canary is not None else None
    level = manifests.record(AutonomyLevel, level_name) if level_name else None
    if level is not None and level.level >= HIGH_AUTONOMY:
        required = max(required, level.approvals_required, 1)
        roles = roles or tuple(level.approver_roles)
    return required, roles


def _eval_checks(manifests: ManifestSet, rollout: Rollout, where: str) -> str:
    """The pinned checks of the rollout's eval metrics ('' without one; ``maestro validate`` has checked that
    spec.evalSuite names a suite with checks the gateway can run: rule ``rollout.eval-metric``)."""
    if not any(m.source == "eval" for a in rollout.analysis for m in a.metrics):
        return ""
    if rollout.target_kind != "Route":
        raise RolloutError(f"{where}: eval metrics grade gateway answers: they need a Route target")
    return online.checks_of(manifests, rollout.eval_suite or "", where)


def _freezes(manifests: ManifestSet, rollout: Rollout) -> tuple[tuple[str, Mapping[str, Any]], ...]:
    """The Policies' windows that freeze rollouts (``applies`` absent or naming ``rollout``), then the Rollout's."""
    found: list[tuple[str, Mapping[str, Any]]] = []
    for policy in manifests.records(Policy):
        found.extend(
            (policy.ref, w.as_written()) for w in policy.freeze_windows if "rollout" in (w.applies or ("rollout",))
        )
    found.extend((rollout.ref, w.as_written()) for w in rollout.freeze_windows)
    return tuple(found)


def _route_weights(manifests: ManifestSet, route: str, where: str) -> dict[str, float]:
    for table in build(manifests).routes.values():
        if table.name == route:
            return {d.key: float(w) for d, w in table.candidates}
    raise RolloutError(f"{where}: the route '{route}' this rollout targets does not exist")


def _step(step: RolloutStep) -> Step:
    if step.kind == "setWeight":
        return Step("setWeight", weight=step.weight)
    if step.kind == "pause":
        return Step("pause", pause_s=None if step.pause == "manual" else seconds(step.pause))
    return Step("analysis", analysis=step.analysis)
