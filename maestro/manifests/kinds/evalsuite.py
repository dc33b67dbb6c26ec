"""The EvalSuite kind: a dataset, assertions over a target's answers, and the thresholds that gate a change."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from maestro.manifests.checks.delivery import check_evals
from maestro.manifests.diff.model import HIGH
from maestro.manifests.diff.risk_delivery import EVAL_SUITE
from maestro.manifests.kinds.base import KindEntry, Source


@dataclass(frozen=True, slots=True)
class PromptTarget:
    route: str
    system: str | None
    file: str | None  # the system prompt's file, relative to the document's folder
    template: str


@dataclass(frozen=True, slots=True)
class EvalSuite:
    name: str
    source: Source
    target_kind: str  # route, agent, pipeline or prompt
    target_name: str | None  # the route, agent or pipeline; None for a prompt target
    prompt: PromptTarget | None
    target: Mapping[str, Any]  # as written (reports echo it)
    dataset: Mapping[str, Any]  # {inline: [...]} or {file: ...}, as written
    assertions: tuple[Mapping[str, Any], ...]  # as written; evals/checks.py types each
    pass_rate: float | None
    metrics: Mapping[str, tuple[float | None, float | None]]  # name -> (min, max)
    repeats: int
    concurrency: int | None  # None: the runner's default
    max_tokens: int | None
    temperature: float | None
    baseline_ref: str | None
    min_delta: float
    slo: Mapping[str, Any] | None  # as written
    thresholds: Mapping[str, Any]  # as written (reports echo it)

    @property
    def ref(self) -> str:
        return f"EvalSuite/{self.name}"


def eval_suite(name: str, spec: Mapping[str, Any], source: Source) -> EvalSuite:
    target, thresholds, baseline = spec["target"], spec.get("thresholds", {}), spec.get("baseline", {})
    kind = next(iter(target))
    prompt = None
    if "prompt" in target:
        p = target["prompt"]
        kind, prompt = "prompt", PromptTarget(p["route"], p.get("system"), p.get("file"), p["template"])
    elif "route" in target:
        kind = "route"
    return EvalSuite(
        name,
        source,
        kind,
        None if prompt else target[kind],
        prompt,
        target,
        spec["dataset"],
        tuple(spec["assertions"]),
        thresholds.get("passRate"),
        {k: (v.get("min"), v.get("max")) for k, v in thresholds.get("metrics", {}).items()},
        int(spec.get("repeats", 1)),
        spec.get("concurrency"),
        spec.get("maxTokens"),
        spec.get("temperature"),
        baseline.get("ref"),
        float(baseline.get("minDelta", 0.0)),
        spec.get("slo"),
        thresholds,
    )


KIND = KindEntry(
    "EvalSuite",
    "evalsuite.json",
    eval_suite,
    (check_evals,),
    EVAL_SUITE,
    (HIGH, "eval suite removed: its checks no longer gate changes"),
)
