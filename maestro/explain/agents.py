"""Explaining an Agent: its route, prompt, tools with what its autonomy level lets each do, and limits."""

from __future__ import annotations

from maestro.explain.model import Explanation, Section
from maestro.manifests.autonomy import Permission, permission_of
from maestro.manifests.kinds.agent import Agent
from maestro.manifests.kinds.autonomylevel import AutonomyLevel
from maestro.manifests.kinds.pipeline import Pipeline
from maestro.manifests.loader import Document, ManifestSet


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
    pipelines = [p.ref for p in manifests.records(Pipeline) if any(s.agent == agent.name for s in p.steps)]
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
