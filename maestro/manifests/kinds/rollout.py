"""The Rollout kind: a change shifted to a target step by step, with analysis, approvals and rollback."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from maestro.manifests.checks.delivery import check_rollouts
from maestro.manifests.kinds.base import KindEntry, Source
from maestro.manifests.kinds.policy import FreezeWindow, freeze_window


@dataclass(frozen=True, slots=True)
class RolloutStep:
    """One step: ``setWeight`` (weight), ``pause`` (a duration as written, or ``manual``) or ``analysis``."""

    kind: str  # setWeight, pause, analysis
    weight: int = 0
    pause: str = ""
    analysis: str = ""

    def as_written(self) -> dict[str, Any]:
        if self.kind == "setWeight":
            return {"setWeight": self.weight}
        if self.kind == "pause":
            return {"pause": self.pause}
        return {"analysis": self.analysis}


@dataclass(frozen=True, slots=True)
class AnalysisMetric:
    name: str
    source: str  # gateway (when not written), prometheus, eval
    query: str | None
    url: str | None = None  # the Prometheus server of a `prometheus: {url, query}` metric
    sample_rate: float = 1.0  # an eval metric: the share of answers graded


@dataclass(frozen=True, slots=True)
class Analysis:
    name: str
    interval: str | None
    metrics: tuple[AnalysisMetric, ...]
    success_condition: str | None  # CEL over metrics and baseline
    failure_condition: str | None
    failure_limit: int | None
    inconclusive_limit: int | None


@dataclass(frozen=True, slots=True)
class Rollback:
    automatic: bool
    when: tuple[str, ...]  # CEL over metrics and baseline: any true rolls back
    to: str | None


@dataclass(frozen=True, slots=True)
class Rollout:
    name: str
    source: Source
    target_kind: str
    target_name: str
    target: Mapping[str, Any]  # as written (reports echo it)
    description: str | None
    change_from: str | None
    change_to: str | None
    stickiness: str | None  # caller, session; None: each request or run picked on its own
    steps: tuple[RolloutStep, ...]
    analysis: tuple[Analysis, ...]
    rollback: Rollback
    approvals_required: int
    approval_roles: tuple[str, ...]
    freeze_windows: tuple[FreezeWindow, ...]
    eval_suite: str | None

    @property
    def ref(self) -> str:
        return f"Rollout/{self.name}"


def _step(step: Mapping[str, Any]) -> RolloutStep:
    if "setWeight" in step:
        return RolloutStep("setWeight", weight=int(step["setWeight"]))
    if "pause" in step:
        return RolloutStep("pause", pause=str(step["pause"]))
    return RolloutStep("analysis", analysis=str(step["analysis"]))


def _metric(m: Mapping[str, Any]) -> AnalysisMetric:
    if "prometheus" in m:
        return AnalysisMetric(m["name"], "prometheus", m["prometheus"]["query"], m["prometheus"]["url"])
    return AnalysisMetric(m["name"], m.get("source", "gateway"), m.get("query"), sample_rate=m.get("sampleRate", 1.0))


def _analysis(a: Mapping[str, Any]) -> Analysis:
    return Analysis(
        a["name"],
        a.get("interval"),
        tuple(_metric(m) for m in a["metrics"]),
        a.get("successCondition"),
        a.get("failureCondition"),
        a.get("failureLimit"),
        a.get("inconclusiveLimit"),
    )


def rollout(name: str, spec: Mapping[str, Any], source: Source) -> Rollout:
    target, change = spec["target"], spec.get("change", {})
    rollback, approvals = spec.get("rollback", {}), spec.get("approvals", {})
    return Rollout(
        name,
        source,
        target["kind"],
        target["name"],
        target,
        change.get("description"),
        change.get("from"),
        change.get("to"),
        spec.get("stickiness"),
        tuple(_step(s) for s in spec["steps"]),
        tuple(_analysis(a) for a in spec.get("analysis", [])),
        Rollback(bool(rollback.get("automatic", True)), tuple(rollback.get("when", [])), rollback.get("to")),
        int(approvals.get("required", 0)),
        tuple(approvals.get("roles", [])),
        tuple(freeze_window(w) for w in spec.get("freezeWindows", [])),
        spec.get("evalSuite"),
    )


KIND = KindEntry("Rollout", "rollout.json", rollout, (check_rollouts,), "risk_delivery:ROLLOUT")
