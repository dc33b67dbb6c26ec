"""Whole-set checks for eval suites and rollouts."""

from __future__ import annotations

from maestro.manifests.checks.autonomy import check_file
from maestro.manifests.checks.context import Checker

TARGET_KINDS = {"route": "Route", "agent": "Agent", "pipeline": "Pipeline"}


def check_evals(c: Checker) -> None:
    for suite in c.manifests.of_kind("EvalSuite"):
        spec = suite.spec
        target = spec["target"]
        for key, kind in TARGET_KINDS.items():
            if key in target:
                c.ref(suite, ("spec", "target", key), kind, target[key])
        if "prompt" in target:
            c.ref(suite, ("spec", "target", "prompt", "route"), "Route", target["prompt"]["route"])
            if "file" in target["prompt"]:
                check_file(c, suite, ("spec", "target", "prompt", "file"), target["prompt"]["file"])
        if "file" in spec["dataset"]:
            check_file(c, suite, ("spec", "dataset", "file"), spec["dataset"]["file"])
        metrics = set()
        for i, assertion in enumerate(spec["assertions"]):
            path = ("spec", "assertions", i)
            metrics.update({assertion["type"], assertion.get("name", assertion["type"])})
            kind = assertion["type"]
            if kind == "cel" and isinstance(assertion.get("value"), str):
                c.cel(suite, (*path, "value"), assertion["value"], "eval")
            elif kind == "python" and isinstance(assertion.get("value"), str):
                check_file(c, suite, (*path, "value"), assertion["value"].rsplit(":", 1)[0])
            if "route" in assertion:
                c.ref(suite, (*path, "route"), "Route", assertion["route"])
        for name in spec.get("thresholds", {}).get("metrics", {}):
            if name not in metrics:
                c.report(suite, ("spec", "thresholds", "metrics", name), "eval.threshold",
                         f"no assertion produces metric '{name}'; metrics here: {', '.join(sorted(metrics))}", key=True)


def check_rollouts(c: Checker) -> None:
    for rollout in c.manifests.of_kind("Rollout"):
        spec = rollout.spec
        c.ref(rollout, ("spec", "target", "name"), spec["target"]["kind"], spec["target"]["name"])
        if "evalSuite" in spec:
            c.ref(rollout, ("spec", "evalSuite"), "EvalSuite", spec["evalSuite"])
        analyses = {a["name"]: a for a in spec.get("analysis", [])}
        all_metrics = {m["name"] for a in analyses.values() for m in a["metrics"]}
        for i, analysis in enumerate(spec.get("analysis", [])):
            names = {m["name"] for m in analysis["metrics"]}
            for key in ("successCondition", "failureCondition"):
                if key in analysis:
                    c.cel(rollout, ("spec", "analysis", i, key), analysis[key], "rollout",
                          {"metrics": names, "baseline": names})
        for i, condition in enumerate(spec.get("rollback", {}).get("when", [])):
            c.cel(rollout, ("spec", "rollback", "when", i), condition, "rollout",
                  {"metrics": all_metrics, "baseline": all_metrics})
        weights = []
        for i, step in enumerate(spec["steps"]):
            if "analysis" in step and step["analysis"] not in analyses:
                known = ", ".join(analyses) or "none defined"
                c.report(rollout, ("spec", "steps", i, "analysis"), "rollout.unknown-analysis",
                         f"analysis '{step['analysis']}' is not defined under spec.analysis (defined: {known})")
            if "setWeight" in step:
                weights.append((i, step["setWeight"]))
        for (_, before), (i, after) in zip(weights, weights[1:], strict=False):
            if after < before:
                c.report(rollout, ("spec", "steps", i, "setWeight"), "rollout.weights",
                         f"weight drops from {before} to {after}; a canary should only rise (abort rolls back)")
        if weights and weights[-1][1] != 100:
            c.report(rollout, ("spec", "steps", weights[-1][0], "setWeight"), "rollout.weights",
                     f"the last weight is {weights[-1][1]}, so the rollout never completes; end with setWeight: 100")
