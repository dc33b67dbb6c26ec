"""Explaining Providers, Agents, EvalSuites and Rollouts."""

from __future__ import annotations

import os
from pathlib import Path

from maestro.explain.model import Explanation, Section, money
from maestro.manifests.autonomy import Permission, permission_of
from maestro.manifests.kinds.agent import Agent
from maestro.manifests.kinds.autonomylevel import AutonomyLevel
from maestro.manifests.kinds.evalsuite import EvalSuite
from maestro.manifests.kinds.pipeline import Pipeline
from maestro.manifests.kinds.provider import Provider
from maestro.manifests.kinds.rollout import Rollout
from maestro.manifests.kinds.route import Route
from maestro.manifests.loader import Document, ManifestSet


def explain_provider(manifests: ManifestSet, doc: Document) -> Explanation:
    provider: Provider = doc.record
    secret = provider.api_key_env
    secret_line = (
        f"API key from ${secret}: {'set' if os.environ.get(secret) else 'NOT SET in this environment'}"
        if secret
        else "no API key"
    )
    models = tuple(
        f"{m.name}: context {m.context_window:,} tokens, {money(m.price_in)} in / "
        f"{money(m.price_out)} out per 1M tokens" + (f", quality {m.quality:g}" if m.quality is not None else "")
        for m in provider.models
    )
    used_by = [r.ref for r in manifests.records(Route) if provider.name in _providers(r)]
    data = f"keeps data {provider.retention_days} day(s); " + (
        "may train on it" if provider.training_use else "does not train on it"
    )
    return Explanation(
        doc.ref,
        doc.file,
        doc.line,
        f"Provider '{provider.name}' is a {provider.type} endpoint at {provider.base_url} in jurisdiction "
        f"{provider.jurisdiction}; it {data}.",
        (
            Section("Models", models),
            Section("Secret", (secret_line,)),
            Section("Used by", tuple(used_by) or ("no route",)),
        ),
        {"type": provider.type, "jurisdiction": provider.jurisdiction, "secretEnv": secret, "usedBy": used_by},
    )


def _providers(route: Route) -> set[str]:
    """The providers a route names directly: its candidates and its provider/model fallbacks."""
    fallbacks = [f.target.provider for f in route.fallback if f.target is not None]
    return {c.provider for c in route.candidates} | set(fallbacks)


def explain_agent(manifests: ManifestSet, doc: Document) -> Explanation:
    agent: Agent = doc.record
    level = manifests.record(AutonomyLevel, agent.autonomy_level)
    allowed = {t.name: level.permission(t.action) if level else permission_of((), (), t.action) for t in agent.tools}
    says = {
        Permission.FREE: "runs on its own",
        Permission.NEEDS_APPROVAL: "waits for a human approval",
        Permission.FORBIDDEN: f"forbidden at {agent.autonomy_level} (in neither list): it never runs",
    }
    tools = tuple(f"{t.name} ({t.action}): {says[allowed[t.name]]}" for t in agent.tools)
    prompt = f"file {agent.prompt_file}" if agent.prompt_file is not None else "written inline"
    limits = tuple(f"{k}: {v}" for k, v in agent.limits.items())
    pipelines = [p.ref for p in manifests.records(Pipeline) if any(s.get("agent") == agent.name for s in p.steps)]
    return Explanation(
        doc.ref,
        doc.file,
        doc.line,
        f"Agent '{agent.name}' calls models through route {agent.route} and acts at autonomy level "
        f"{agent.autonomy_level}.",
        (
            Section("Prompt", (f"system prompt {prompt}",)),
            Section("Tools", tools or ("no tools",)),
            Section("Limits", limits or ("no per-step limits",)),
            Section("Used by", tuple(pipelines) or ("no pipeline",)),
        ),
        {
            "route": agent.route,
            "autonomyLevel": agent.autonomy_level,
            "toolsNeedingApproval": [n for n, p in allowed.items() if p is Permission.NEEDS_APPROVAL],
            "toolsForbidden": [n for n, p in allowed.items() if p is Permission.FORBIDDEN],
        },
    )


def explain_eval(doc: Document) -> Explanation:
    suite: EvalSuite = doc.record
    target = ", ".join(f"{k} {v if isinstance(v, str) else v.get('route')}" for k, v in suite.target.items())
    dataset = suite.dataset
    if "inline" in dataset:
        size = f"{len(dataset['inline'])} inline case(s)"
    else:
        size = f"cases from {dataset['file']}{_count(doc, dataset['file'])}"
    assertions = tuple(
        f"{a.get('name', a['type'])}: {a['type']}"
        + (f", threshold {a['threshold']}" if "threshold" in a else "")
        + (f", weight {a['weight']}" if "weight" in a else "")
        for a in suite.assertions
    )
    gate = [f"pass rate at least {suite.pass_rate:.0%}"] if suite.pass_rate is not None else []
    gate += [
        f"{name} {', '.join(f'{k} {v}' for k, v in bound.items())}"
        for name, bound in suite.thresholds.get("metrics", {}).items()
    ]
    return Explanation(
        doc.ref,
        doc.file,
        doc.line,
        f"EvalSuite '{suite.name}' evaluates {target} on {size}, {suite.repeats} time(s) each.",
        (
            Section("Assertions", assertions),
            Section("Passes when", tuple(gate) or ("every assertion passes",)),
            Section(
                "Compared with",
                (f"git revision {suite.baseline_ref}" if suite.baseline_ref is not None else "no baseline",),
            ),
        ),
        {
            "target": suite.target,
            "assertions": [a["type"] for a in suite.assertions],
            "thresholds": suite.thresholds,
        },
    )


def _count(doc: Document, relative: str) -> str:
    path = Path(doc.base_dir) / relative
    try:
        with path.open(encoding="utf-8") as f:
            rows = sum(1 for line in f if line.strip())
    except OSError:
        return " (not readable)"
    if relative.endswith(".csv"):
        rows -= 1
    return f" ({rows} case(s))"


def explain_rollout(doc: Document) -> Explanation:
    rollout: Rollout = doc.record
    steps = []
    for step in rollout.steps:
        if "setWeight" in step:
            steps.append(f"send {step['setWeight']}% of traffic to the new version")
        elif "pause" in step:
            pause = step["pause"]
            steps.append("wait for a person to promote it" if pause == "manual" else f"wait {pause}")
        else:
            steps.append(f"run analysis '{step['analysis']}'")
    analyses = tuple(
        f"{a['name']}: every {a.get('interval', '1m')}, passes when `{a.get('successCondition', 'true')}`"
        + (f", fails when `{a['failureCondition']}`" if "failureCondition" in a else "")
        for a in rollout.analysis
    )
    rollback = rollout.rollback
    back = tuple(f"roll back when `{w}`" for w in rollback.get("when", []))
    if rollback.get("automatic", True):
        back += ("a failed analysis rolls back automatically",)
    approvals = rollout.approvals.get("required", 0)
    change = rollout.change
    what = f": {change['from']} -> {change['to']}" if "from" in change and "to" in change else ""
    return Explanation(
        doc.ref,
        doc.file,
        doc.line,
        f"Rollout '{rollout.name}' changes {rollout.target_kind} {rollout.target_name}{what} "
        f"in {len(rollout.steps)} step(s); {approvals} approval(s) needed to start.",
        (
            Section("Steps", tuple(f"{i + 1}. {s}" for i, s in enumerate(steps))),
            Section("Analysis", analyses or ("none",)),
            Section("Rollback", back or ("manual only",)),
            Section(
                "Gate",
                (
                    f"EvalSuite {rollout.eval_suite} must pass first"
                    if rollout.eval_suite is not None
                    else "no eval gate",
                ),
            ),
        ),
        {"target": rollout.target, "steps": list(rollout.steps), "approvals": approvals},
    )
