"""Whole-set checks for eval suites and rollouts."""

from __future__ import annotations

from itertools import pairwise

from maestro.manifests import windows
from maestro.manifests.checks.autonomy import check_file
from maestro.manifests.checks.context import Checker
from maestro.manifests.loader import Document
from maestro.manifests.metrics import ANSWER_ONLY_CHECKS, RUN_METRICS, answer_only, assertion_metric

TARGET_KINDS = {"route": "Route", "agent": "Agent", "pipeline": "Pipeline"}


def check_evals(c: Checker) -> None:
    for suite in c.manifests.of_kind("EvalSuite"):
        spec = suite.spec
        _eval_target(c, suite)
        if "file" in spec["dataset"]:
            check_file(c, suite, ("spec", "dataset", "file"), spec["dataset"]["file"])
        metrics = set(RUN_METRICS)
        for i, assertion in enumerate(spec["assertions"]):
            metrics.add(assertion_metric(assertion, i))
            _assertion(c, suite, ("spec", "assertions", i), assertion)
        for name in spec.get("thresholds", {}).get("metrics", {}):
            if name not in metrics:
                message = f"no assertion produces metric '{name}'; metrics here: {', '.join(sorted(metrics))}"
                c.report(suite, ("spec", "thresholds", "metrics", name), "eval.threshold", message, key=True)


def _eval_target(c: Checker, suite: Document) -> None:
    target = suite.spec["target"]
    for key, kind in TARGET_KINDS.items():
        if key in target:
            c.ref(suite, ("spec", "target", key), kind, target[key])
    if "prompt" in target:
        c.ref(suite, ("spec", "target", "prompt", "route"), "Route", target["prompt"]["route"])
        if "file" in target["prompt"]:
            check_file(c, suite, ("spec", "target", "prompt", "file"), target["prompt"]["file"])


def _assertion(c: Checker, suite: Document, path: tuple[str | int, ...], assertion: dict[str, object]) -> None:
    kind, value = assertion["type"], assertion.get("value")
    if kind == "cel" and isinstance(value, str):
        c.cel(suite, (*path, "value"), value, "eval")
    elif kind == "python" and isinstance(value, str):
        check_file(c, suite, (*path, "value"), value.rsplit(":", 1)[0])
    if isinstance(assertion.get("route"), str):
        c.ref(suite, (*path, "route"), "Route", str(assertion["route"]))


def check_rollouts(c: Checker) -> None:
    for rollout in c.manifests.of_kind("Rollout"):
        spec = rollout.spec
        c.ref(rollout, ("spec", "target", "name"), spec["target"]["kind"], spec["target"]["name"])
        if "evalSuite" in spec:
            c.ref(rollout, ("spec", "evalSuite"), "EvalSuite", spec["evalSuite"])
        _rollout_conditions(c, rollout)
        _rollout_steps(c, rollout)
        _rollout_evals(c, rollout)
        for i, window in enumerate(spec.get("freezeWindows", [])):
            try:
                windows.parse(window)
            except windows.WindowProblem as p:
                c.report(rollout, ("spec", "freezeWindows", i, p.key), "policy.freeze-window", str(p))


def _rollout_conditions(c: Checker, rollout: Document) -> None:
    spec = rollout.spec
    every = {m["name"] for a in spec.get("analysis", []) for m in a["metrics"]}
    for i, analysis in enumerate(spec.get("analysis", [])):
        names = {m["name"] for m in analysis["metrics"]}
        for key in ("successCondition", "failureCondition"):
            if key in analysis:
                fields = {"metrics": names, "baseline": names}
                c.cel(rollout, ("spec", "analysis", i, key), analysis[key], "rollout", fields)
    for i, condition in enumerate(spec.get("rollback", {}).get("when", [])):
        fields = {"metrics": every, "baseline": every}
        c.cel(rollout, ("spec", "rollback", "when", i), condition, "rollout", fields)


def _rollout_evals(c: Checker, rollout: Document) -> None:
    """An ``eval`` metric grades answers with the Rollout's evalSuite: it needs one the gateway can run."""
    spec = rollout.spec
    evals = [
        (i, j)
        for i, a in enumerate(spec.get("analysis", []))
        for j, m in enumerate(a["metrics"])
        if m.get("source") == "eval"
    ]
    if not evals:
        return
    if "evalSuite" not in spec:
        i, j = evals[0]
        message = "an eval metric grades answers with the Rollout's suite: name it in spec.evalSuite"
        c.report(rollout, ("spec", "analysis", i, "metrics", j, "source"), "rollout.eval-metric", message)
        return
    suite = c.manifests.get("EvalSuite", spec["evalSuite"])
    if suite is not None and not any(answer_only(a) for a in suite.spec["assertions"]):
        message = (
            f"EvalSuite '{suite.name}' has no check the gateway can grade an answer with alone "
            f"({', '.join(ANSWER_ONLY_CHECKS)} with a value); add one, or drop the eval metric"
        )
        c.report(rollout, ("spec", "evalSuite"), "rollout.eval-metric", message)


def _rollout_steps(c: Checker, rollout: Document) -> None:
    analyses = [a["name"] for a in rollout.spec.get("analysis", [])]
    weights = []
    for i, step in enumerate(rollout.spec["steps"]):
        if "analysis" in step and step["analysis"] not in analyses:
            known = ", ".join(analyses) or "none defined"
            message = f"analysis '{step['analysis']}' is not defined under spec.analysis (defined: {known})"
            c.report(rollout, ("spec", "steps", i, "analysis"), "rollout.unknown-analysis", message)
        if "setWeight" in step:
            weights.append((i, step["setWeight"]))
    for (_, before), (i, after) in pairwise(weights):
        if after < before:
            message = f"weight drops from {before} to {after}; a canary should only rise (abort rolls back)"
            c.report(rollout, ("spec", "steps", i, "setWeight"), "rollout.weights", message)
    if weights and weights[-1][1] != 100:
        last, weight = weights[-1]
        message = f"the last weight is {weight}, so the rollout never completes; end with setWeight: 100"
        c.report(rollout, ("spec", "steps", last, "setWeight"), "rollout.weights", message)
