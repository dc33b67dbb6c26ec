"""Explaining Providers, Agents, EvalSuites and Rollouts."""

from __future__ import annotations

import os
from pathlib import Path

from maestro.explain.model import Explanation, Section, money
from maestro.manifests.autonomy import Permission, permission
from maestro.manifests.loader import Document, ManifestSet


def explain_provider(manifests: ManifestSet, provider: Document) -> Explanation:
    spec = provider.spec
    secret = spec.get("apiKey", {}).get("env")
    secret_line = (
        f"API key from ${secret}: {'set' if os.environ.get(secret) else 'NOT SET in this environment'}"
        if secret
        else "no API key"
    )
    models = tuple(
        f"{m['name']}: context {m['contextWindow']:,} tokens, {money(m['price']['inputPer1M'])} in / "
        f"{money(m['price']['outputPer1M'])} out per 1M tokens"
        + (f", quality {m['quality']:g}" if "quality" in m else "")
        for m in spec["models"]
    )
    used_by = [
        r.ref
        for r in manifests.of_kind("Route")
        if any(x.get("provider") == provider.name for x in [*r.spec["candidates"], *r.spec.get("fallback", [])])
    ]
    data = f"keeps data {spec.get('dataRetentionDays', 0)} day(s); " + (
        "may train on it" if spec.get("trainingUse") else "does not train on it"
    )
    return Explanation(
        provider.ref,
        provider.file,
        provider.line,
        f"Provider '{provider.name}' is a {spec['type']} endpoint at {spec['baseUrl']} in jurisdiction "
        f"{spec['jurisdiction']}; it {data}.",
        (
            Section("Models", models),
            Section("Secret", (secret_line,)),
            Section("Used by", tuple(used_by) or ("no route",)),
        ),
        {"type": spec["type"], "jurisdiction": spec["jurisdiction"], "secretEnv": secret, "usedBy": used_by},
    )


def explain_agent(manifests: ManifestSet, agent: Document) -> Explanation:
    spec = agent.spec
    level = manifests.get("AutonomyLevel", spec["autonomyLevel"])
    allowed = {t["name"]: permission(level.spec if level else {}, t["action"]) for t in spec.get("tools", [])}
    says = {
        Permission.FREE: "runs on its own",
        Permission.NEEDS_APPROVAL: "waits for a human approval",
        Permission.FORBIDDEN: f"forbidden at {spec['autonomyLevel']} (in neither list): it never runs",
    }
    tools = tuple(f"{t['name']} ({t['action']}): {says[allowed[t['name']]]}" for t in spec.get("tools", []))
    prompt = f"file {spec['prompt']['file']}" if "file" in spec["prompt"] else "written inline"
    limits = tuple(f"{k}: {v}" for k, v in spec.get("limits", {}).items())
    pipelines = [
        p.ref for p in manifests.of_kind("Pipeline") if any(s.get("agent") == agent.name for s in p.spec["steps"])
    ]
    return Explanation(
        agent.ref,
        agent.file,
        agent.line,
        f"Agent '{agent.name}' calls models through route {spec['route']} and acts at autonomy level "
        f"{spec['autonomyLevel']}.",
        (
            Section("Prompt", (f"system prompt {prompt}",)),
            Section("Tools", tools or ("no tools",)),
            Section("Limits", limits or ("no per-step limits",)),
            Section("Used by", tuple(pipelines) or ("no pipeline",)),
        ),
        {
            "route": spec["route"],
            "autonomyLevel": spec["autonomyLevel"],
            "toolsNeedingApproval": [n for n, p in allowed.items() if p is Permission.NEEDS_APPROVAL],
            "toolsForbidden": [n for n, p in allowed.items() if p is Permission.FORBIDDEN],
        },
    )


def explain_eval(suite: Document) -> Explanation:
    spec = suite.spec
    target = ", ".join(f"{k} {v if isinstance(v, str) else v.get('route')}" for k, v in spec["target"].items())
    dataset = spec["dataset"]
    if "inline" in dataset:
        size = f"{len(dataset['inline'])} inline case(s)"
    else:
        size = f"cases from {dataset['file']}{_count(suite, dataset['file'])}"
    assertions = tuple(
        f"{a.get('name', a['type'])}: {a['type']}"
        + (f", threshold {a['threshold']}" if "threshold" in a else "")
        + (f", weight {a['weight']}" if "weight" in a else "")
        for a in spec["assertions"]
    )
    thresholds = spec.get("thresholds", {})
    gate = [f"pass rate at least {thresholds['passRate']:.0%}"] if "passRate" in thresholds else []
    gate += [
        f"{name} {', '.join(f'{k} {v}' for k, v in bound.items())}"
        for name, bound in thresholds.get("metrics", {}).items()
    ]
    baseline = spec.get("baseline", {})
    return Explanation(
        suite.ref,
        suite.file,
        suite.line,
        f"EvalSuite '{suite.name}' evaluates {target} on {size}, {spec.get('repeats', 1)} time(s) each.",
        (
            Section("Assertions", assertions),
            Section("Passes when", tuple(gate) or ("every assertion passes",)),
            Section("Compared with", (f"git revision {baseline['ref']}" if "ref" in baseline else "no baseline",)),
        ),
        {
            "target": spec["target"],
            "assertions": [a["type"] for a in spec["assertions"]],
            "thresholds": thresholds,
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


def explain_rollout(rollout: Document) -> Explanation:
    spec = rollout.spec
    steps = []
    for step in spec["steps"]:
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
        for a in spec.get("analysis", [])
    )
    rollback = spec.get("rollback", {})
    back = tuple(f"roll back when `{w}`" for w in rollback.get("when", []))
    if rollback.get("automatic", True):
        back += ("a failed analysis rolls back automatically",)
    approvals = spec.get("approvals", {}).get("required", 0)
    change = spec.get("change", {})
    what = f": {change['from']} -> {change['to']}" if "from" in change and "to" in change else ""
    return Explanation(
        rollout.ref,
        rollout.file,
        rollout.line,
        f"Rollout '{rollout.name}' changes {spec['target']['kind']} {spec['target']['name']}{what} "
        f"in {len(spec['steps'])} step(s); {approvals} approval(s) needed to start.",
        (
            Section("Steps", tuple(f"{i + 1}. {s}" for i, s in enumerate(steps))),
            Section("Analysis", analyses or ("none",)),
            Section("Rollback", back or ("manual only",)),
            Section(
                "Gate",
                (f"EvalSuite {spec['evalSuite']} must pass first" if "evalSuite" in spec else "no eval gate",),
            ),
        ),
        {"target": spec["target"], "steps": spec["steps"], "approvals": approvals},
    )
