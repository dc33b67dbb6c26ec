"""maestro.manifests.diff: matching, order, renames and the risk of every kind of change."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from maestro.errors import SourceError
from maestro.manifests.diff import REDACTED, Change, DiffResult, Op, Risk, diff_sources
from maestro.manifests.loader import SourceFile
from maestro.manifests.sources import resolve_sides

HIGH, MEDIUM, LOW = Risk.HIGH, Risk.MEDIUM, Risk.LOW


def manifest(kind: str, name: str, spec: Any, **metadata: Any) -> str:
    """One document as YAML (JSON is YAML, and keeps the cases short)."""
    doc = {"apiVersion": "maestro.dev/v1", "kind": kind, "metadata": {"name": name, **metadata}, "spec": spec}
    return json.dumps(doc, indent=2)


def write(folder: Path, *docs: str, name: str = "set.yaml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("\n---\n".join(docs) + "\n", encoding="utf-8")
    return folder


def diff_dirs(tmp_path: Path, old: list[str], new: list[str]) -> DiffResult:
    """Write both sides as folders under ``tmp_path`` and diff them as the CLI does."""
    before, after = resolve_sides(str(write(tmp_path / "old", *old)), str(write(tmp_path / "new", *new)))
    return diff_sources(before.sources, after.sources, old_files=before.files, new_files=after.files)


def diff_text(old: str, new: str) -> DiffResult:
    return diff_sources([SourceFile("old.yaml", old.encode(), "")], [SourceFile("new.yaml", new.encode(), "")])


def changed(spec: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy of ``spec`` with ``path`` (dots; list items by position) set to ``value``, or removed."""
    out = copy.deepcopy(spec)
    *parents, last = path.split(".")
    here: Any = out
    for part in parents:
        here = here[int(part)] if isinstance(here, list) else here[part]
    key: Any = int(last) if isinstance(here, list) else last
    if value is _DROP:
        del here[key]
    else:
        here[key] = value
    return out


_DROP = object()

PROVIDERS = [
    manifest("Provider", f"{name}", {"type": "openai", "baseUrl": "https://x", "jurisdiction": where, "models": []})
    for name, where in (("us-p", "us"), ("eu-p", "eu"), ("eu-p2", "eu"), ("local", "onprem"))
]
AUTONOMY = {
    "level": 2,
    "allowedWithoutApproval": ["read", "suggest"],
    "requiresApproval": ["write"],
    "approvals": {"required": 2, "distinctApprovers": True, "roles": ["lead"]},
    "promotion": {"minEvalPassRate": 0.9},
}
AGENT = {
    "route": "r",
    "prompt": {"system": "Be brief."},
    "autonomyLevel": "L1",
    "tools": [{"name": "refund", "action": "write", "server": "refunds"}],
    "mcpServers": [
        {"name": "refunds", "command": ["python", "s.py"], "env": ["REFUND_API_KEY"], "idempotencyKeys": True}
    ],
}
PIPELINE = {
    "autonomyLevel": "L1",
    "steps": [
        {"id": "ask", "type": "agent", "agent": "a"},
        {"id": "ok", "type": "approval", "approval": {"approvers": 2}},
    ],
    "edges": [{"from": "ask", "to": "ok"}],
}
POLICY = {
    "taxonomy": {
        "tags": [
            {
                "name": "pii.email",
                "class": "pii",
                "allow": {"jurisdictions": ["eu"], "maxRetentionDays": 0, "trainingUse": False},
            }
        ]
    },
    "unknownTags": "deny",
    "rules": [{"name": "r1", "when": "true", "effect": "deny"}],
    "budgets": [{"name": "b", "scope": {"team": "t"}, "limitUsd": 100, "period": "month"}],
    "freezeWindows": [
        {"name": "f", "start": "2026-12-24T00:00:00Z", "end": "2026-12-28T00:00:00Z", "applies": ["deploy", "rollout"]}
    ],
    "killSwitch": {"engaged": True, "routes": ["r"]},
    "dualControl": [{"name": "d", "action": "policy.loosen", "approvers": 3, "distinctApprovers": True}],
    "demoteOnIncident": {"atOrAbove": 3, "to": "L2"},
}
ROUTE = {
    "alias": "chat",
    "candidates": [
        {"provider": "eu-p", "model": "m1", "weight": 70},
        {"provider": "eu-p2", "model": "m2", "weight": 30},
    ],
    "rules": [{"name": "pii", "when": "true", "require": {"jurisdictions": ["eu"], "trainingUse": False}}],
    "fallback": [{"provider": "eu-p", "model": "small"}, {"provider": "local", "model": "tiny"}],
    "limits": {"maxCostUsd": 0.02},
    "objective": {"quality": 0.5, "cost": 0.5},
}
PROVIDER = {
    "type": "vllm",
    "baseUrl": "http://127.0.0.1:8000/v1",
    "jurisdiction": "onprem",
    "models": [{"name": "m"}],
    "serve": {"model": "org/small"},
}
EVALS = {
    "target": {"route": "r"},
    "dataset": {"file": "d.jsonl"},
    "assertions": [
        {"name": "sim", "type": "similarity", "threshold": 0.8},
        {"name": "cheap", "type": "cost", "max": 0.01},
    ],
    "thresholds": {"passRate": 0.9, "metrics": {"sim": {"min": 0.7}, "latency": {"max": 500}}},
}
ROLLOUT = {
    "target": {"kind": "Route", "name": "r"},
    "steps": [{"setWeight": 10}, {"analysis": "health"}, {"pause": "manual"}, {"setWeight": 100}],
    "approvals": {"required": 2},
    "evalSuite": "s",
    "rollback": {"automatic": True},
}
BASE = {
    "AutonomyLevel": ("L2", AUTONOMY),
    "Agent": ("a", AGENT),
    "Pipeline": ("p", PIPELINE),
    "Policy": ("default", POLICY),
    "Route": ("r", ROUTE),
    "Provider": ("lane", PROVIDER),
    "EvalSuite": ("s", EVALS),
    "Rollout": ("ro", ROLLOUT),
}

# (kind, what to change: path and new value, path of the change, op, risk, words in the reason)
CASES = [
    # autonomy levels
    ("AutonomyLevel", "level", 3, "spec.level", Op.CHANGED, HIGH, "autonomy level raised from 2 to 3"),
    ("AutonomyLevel", "level", 1, "spec.level", Op.CHANGED, MEDIUM, "lowered from 2 to 1 (tighter)"),
    (
        "AutonomyLevel",
        "allowedWithoutApproval",
        ["suggest", "read", "write"],
        "spec.allowedWithoutApproval",
        Op.ADDED,
        HIGH,
        "'write' may now run without approval",
    ),
    (
        "AutonomyLevel",
        "requiresApproval",
        [],
        "spec.requiresApproval",
        Op.REMOVED,
        HIGH,
        "'write' no longer gated by an approval",
    ),
    (
        "AutonomyLevel",
        "requiresApproval",
        ["write", "deploy"],
        "spec.requiresApproval",
        Op.ADDED,
        HIGH,
        "'deploy' newly permitted",
    ),
    (
        "AutonomyLevel",
        "approvals.required",
        1,
        "spec.approvals.required",
        Op.CHANGED,
        HIGH,
        "required approvals lowered from 2 to 1",
    ),
    ("AutonomyLevel", "approvals.required", 3, "spec.approvals.required", Op.CHANGED, MEDIUM, "(tighter)"),
    (
        "AutonomyLevel",
        "approvals.distinctApprovers",
        False,
        "spec.approvals.distinctApprovers",
        Op.CHANGED,
        HIGH,
        "distinct approvers turned off",
    ),
    (
        "AutonomyLevel",
        "approvals.distinctApprovers",
        _DROP,
        "spec.approvals.distinctApprovers",
        Op.REMOVED,
        LOW,
        "default value",
    ),
    (
        "AutonomyLevel",
        "promotion.minEvalPassRate",
        0.8,
        "spec.promotion.minEvalPassRate",
        Op.CHANGED,
        HIGH,
        "lowered from 0.9 to 0.8",
    ),
    # agents and pipelines
    ("Agent", "autonomyLevel", "L3", "spec.autonomyLevel", Op.CHANGED, HIGH, "autonomy level raised from 'L1' to 'L3'"),
    ("Agent", "prompt.system", "Be thorough.", "spec.prompt.system", Op.CHANGED, MEDIUM, "prompt text changed"),
    ("Agent", "prompt", {"file": "p.md"}, "spec.prompt.file", Op.ADDED, MEDIUM, "prompt file changed"),
    ("Agent", "route", "r2", "spec.route", Op.CHANGED, MEDIUM, "model changed: now uses route 'r2'"),
    (
        "Agent",
        "tools.0.action",
        "read",
        "spec.tools[refund].action",
        Op.CHANGED,
        HIGH,
        "action class of tool 'refund' weakened from 'write' to 'read'",
    ),
    # the agent graph: tools and MCP servers
    (
        "Agent",
        "tools",
        [*AGENT["tools"], {"name": "pay", "action": "spend"}],
        "spec.tools[pay]",
        Op.ADDED,
        HIGH,
        "write tool 'pay' (spend) added",
    ),
    (
        "Agent",
        "tools",
        [*AGENT["tools"], {"name": "look", "action": "read"}],
        "spec.tools[look]",
        Op.ADDED,
        MEDIUM,
        "tool 'look' (read) added",
    ),
    ("Agent", "tools.0.idempotent", True, "spec.tools[refund].idempotent", Op.ADDED, MEDIUM, "declared idempotent"),
    (
        "Agent",
        "mcpServers",
        [*AGENT["mcpServers"], {"name": "search", "url": "https://mcp.example.com/mcp"}],
        "spec.mcpServers[search]",
        Op.ADDED,
        HIGH,
        "MCP server 'search' (https://mcp.example.com/mcp) added: new code serves the agent's tools",
    ),
    (
        "Agent",
        "mcpServers.0.command.1",
        "other.py",
        "spec.mcpServers[refunds].command[1]",
        Op.CHANGED,
        HIGH,
        "command of MCP server 'refunds' changed ('s.py' -> 'other.py')",
    ),
    (
        "Agent",
        "mcpServers.0.env",
        ["REFUND_API_KEY", "AWS_SECRET_ACCESS_KEY"],
        "spec.mcpServers[refunds].env[1]",
        Op.ADDED,
        HIGH,
        "MCP server 'refunds' now receives the environment variable(s) 'AWS_SECRET_ACCESS_KEY'",
    ),
    (
        "Agent",
        "mcpServers.0.idempotencyKeys",
        _DROP,
        "spec.mcpServers[refunds].idempotencyKeys",
        Op.REMOVED,
        HIGH,
        "MCP server 'refunds' no longer honours idempotency keys",
    ),
    ("Pipeline", "autonomyLevel", "L2", "spec.autonomyLevel", Op.CHANGED, HIGH, "autonomy level raised"),
    (
        "Pipeline",
        "steps.1.approval.approvers",
        1,
        "spec.steps[ok].approval.approvers",
        Op.CHANGED,
        HIGH,
        "approvers required at step 'ok' lowered from 2 to 1",
    ),
    (
        "Pipeline",
        "steps",
        [{"id": "ask", "type": "agent", "agent": "a"}],
        "spec.steps[ok]",
        Op.REMOVED,
        HIGH,
        "approval step 'ok' removed",
    ),
    # policy
    ("Policy", "demoteOnIncident", _DROP, "spec.demoteOnIncident.to", Op.REMOVED, HIGH, "no longer lowers autonomy"),
    (
        "Policy",
        "demoteOnIncident.atOrAbove",
        4,
        "spec.demoteOnIncident.atOrAbove",
        Op.CHANGED,
        HIGH,
        "level an incident demotes from raised from 3 to 4",
    ),
    (
        "Policy",
        "taxonomy.tags.0.allow.jurisdictions",
        ["eu", "us"],
        "spec.taxonomy.tags[pii.email].allow.jurisdictions",
        Op.ADDED,
        HIGH,
        "tag 'pii.email' may now go to jurisdiction 'us'",
    ),
    (
        "Policy",
        "taxonomy.tags.0.allow.jurisdictions",
        _DROP,
        "spec.taxonomy.tags[pii.email].allow.jurisdictions",
        Op.REMOVED,
        HIGH,
        "no longer restricts jurisdictions",
    ),
    (
        "Policy",
        "taxonomy.tags.0.allow.maxRetentionDays",
        30,
        "spec.taxonomy.tags[pii.email].allow.maxRetentionDays",
        Op.CHANGED,
        HIGH,
        "retention allowed for tag 'pii.email' raised from 0 to 30",
    ),
    (
        "Policy",
        "taxonomy.tags.0.allow.trainingUse",
        True,
        "spec.taxonomy.tags[pii.email].allow.trainingUse",
        Op.CHANGED,
        HIGH,
        "may now go to providers that train on data",
    ),
    ("Policy", "rules", [], "spec.rules[r1]", Op.REMOVED, HIGH, "policy rule 'r1' removed"),
    (
        "Policy",
        "rules.0.effect",
        "warn",
        "spec.rules[r1].effect",
        Op.CHANGED,
        HIGH,
        "effect of policy rule 'r1' weakened from 'deny' to 'warn'",
    ),
    ("Policy", "dualControl", [], "spec.dualControl[d]", Op.REMOVED, HIGH, "dual control 'd' removed"),
    (
        "Policy",
        "dualControl.0.approvers",
        2,
        "spec.dualControl[d].approvers",
        Op.CHANGED,
        HIGH,
        "approvers required by dual control 'd' lowered from 3 to 2",
    ),
    (
        "Policy",
        "dualControl.0.distinctApprovers",
        False,
        "spec.dualControl[d].distinctApprovers",
        Op.CHANGED,
        HIGH,
        "no longer needs distinct approvers",
    ),
    ("Policy", "freezeWindows", [], "spec.freezeWindows[f]", Op.REMOVED, HIGH, "freeze window 'f' removed"),
    (
        "Policy",
        "freezeWindows.0.applies",
        ["rollout"],
        "spec.freezeWindows[f].applies",
        Op.REMOVED,
        HIGH,
        "freeze window 'f' no longer blocks 'deploy'",
    ),
    ("Policy", "killSwitch.engaged", False, "spec.killSwitch.engaged", Op.CHANGED, HIGH, "kill switch disengaged"),
    ("Policy", "killSwitch.routes", [], "spec.killSwitch.routes", Op.REMOVED, HIGH, "no longer covered"),
    (
        "Policy",
        "budgets.0.limitUsd",
        500,
        "spec.budgets[b].limitUsd",
        Op.CHANGED,
        HIGH,
        "limit of budget 'b' raised from 100 to 500",
    ),
    ("Policy", "budgets", [], "spec.budgets[b]", Op.REMOVED, HIGH, "budget 'b' removed"),
    ("Policy", "budgets.0.onExceed", "alert", "spec.budgets[b].onExceed", Op.ADDED, HIGH, "weakened from 'block'"),
    ("Policy", "unknownTags", "allow", "spec.unknownTags", Op.CHANGED, HIGH, "fails open"),
    ("Policy", "apiKeyEnv", ["*"], "spec.apiKeyEnv[0]", Op.ADDED, HIGH, "a provider key may be read from changed"),
    ("Provider", "baseUrl", "https://x.example/v1", "spec.baseUrl", Op.CHANGED, HIGH, "the API key now go to"),
    ("Provider", "apiKey", {"env": "X_API_KEY"}, "spec.apiKey.env", Op.ADDED, HIGH, "another secret is read"),
    ("Provider", "serve.apiKey", {"env": "X_API_KEY"}, "spec.serve.apiKey.env", Op.ADDED, HIGH, "lane's key reference"),
    # routes
    (
        "Route",
        "candidates.1",
        {"provider": "us-p", "model": "m3", "weight": 30},
        "spec.candidates[us-p/m3]",
        Op.ADDED,
        HIGH,
        "sends data to 'us', which this route did not reach before",
    ),
    (
        "Route",
        "candidates.1",
        {"provider": "eu-p", "model": "m3", "weight": 30},
        "spec.candidates[eu-p/m3]",
        Op.ADDED,
        MEDIUM,
        "candidate 'eu-p/m3' added",
    ),
    (
        "Route",
        "candidates.1",
        {"provider": "eu-p2", "model": "m9", "weight": 30},
        "spec.candidates[eu-p2/m9]",
        Op.ADDED,
        MEDIUM,
        "model changed: candidate 'eu-p2/m2' replaced by 'eu-p2/m9'",
    ),
    ("Route", "candidates.0.weight", 60, "spec.candidates[eu-p/m1].weight", Op.CHANGED, MEDIUM, "weights shifted"),
    (
        "Route",
        "fallback.1",
        {"provider": "us-p", "model": "big"},
        "spec.fallback[us-p/big]",
        Op.ADDED,
        HIGH,
        "fallback 'us-p/big' added: it sends data to 'us'",
    ),
    (
        "Route",
        "fallback",
        [{"provider": "eu-p", "model": "small"}],
        "spec.fallback[local/tiny]",
        Op.REMOVED,
        HIGH,
        "fallback 'local/tiny' removed",
    ),
    (
        "Route",
        "fallback",
        [{"provider": "local", "model": "tiny"}, {"provider": "eu-p", "model": "small"}],
        "spec.fallback",
        Op.MOVED,
        MEDIUM,
        "fallback order changed",
    ),
    (
        "Route",
        "shadow",
        [{"provider": "us-p", "model": "m", "sampleRate": 0.1}],
        "spec.shadow[us-p/m]",
        Op.ADDED,
        HIGH,
        "sends data to 'us'",
    ),
    (
        "Route",
        "rules.0.require.jurisdictions",
        ["eu", "us"],
        "spec.rules[pii].require.jurisdictions",
        Op.ADDED,
        HIGH,
        "rule 'pii' now allows jurisdiction 'us'",
    ),
    (
        "Route",
        "rules.0.require.jurisdictions",
        _DROP,
        "spec.rules[pii].require.jurisdictions",
        Op.REMOVED,
        HIGH,
        "rule 'pii' no longer restricts jurisdictions",
    ),
    (
        "Route",
        "rules.0.require.trainingUse",
        True,
        "spec.rules[pii].require.trainingUse",
        Op.CHANGED,
        HIGH,
        "no longer keeps data from providers that train",
    ),
    ("Route", "rules", [], "spec.rules[pii]", Op.REMOVED, HIGH, "route rule 'pii' removed"),
    (
        "Route",
        "limits.maxCostUsd",
        0.05,
        "spec.limits.maxCostUsd",
        Op.CHANGED,
        MEDIUM,
        "cost limit per request raised from 0.02 to 0.05",
    ),
    ("Route", "objective.cost", 0.1, "spec.objective.cost", Op.CHANGED, MEDIUM, "objective weights shifted"),
    # providers
    (
        "Provider",
        "jurisdiction",
        "us",
        "spec.jurisdiction",
        Op.CHANGED,
        HIGH,
        "provider jurisdiction changed from 'onprem' to 'us'",
    ),
    ("Provider", "trainingUse", True, "spec.trainingUse", Op.ADDED, HIGH, "trains on the data"),
    ("Provider", "serve.model", "org/big", "spec.serve.model", Op.CHANGED, MEDIUM, "model changed"),
    # evals
    (
        "EvalSuite",
        "thresholds.passRate",
        0.8,
        "spec.thresholds.passRate",
        Op.CHANGED,
        HIGH,
        "pass-rate threshold lowered from 0.9 to 0.8",
    ),
    ("EvalSuite", "thresholds.passRate", 0.95, "spec.thresholds.passRate", Op.CHANGED, MEDIUM, "(tighter)"),
    (
        "EvalSuite",
        "thresholds.metrics.sim.min",
        0.5,
        "spec.thresholds.metrics.sim.min",
        Op.CHANGED,
        HIGH,
        "minimum of metric 'sim' lowered",
    ),
    (
        "EvalSuite",
        "thresholds.metrics.latency.max",
        900,
        "spec.thresholds.metrics.latency.max",
        Op.CHANGED,
        HIGH,
        "maximum of metric 'latency' raised",
    ),
    (
        "EvalSuite",
        "assertions.0.threshold",
        0.6,
        "spec.assertions[sim].threshold",
        Op.CHANGED,
        HIGH,
        "threshold of assertion 'sim' lowered",
    ),
    ("EvalSuite", "assertions.1.max", 0.1, "spec.assertions[cheap].max", Op.CHANGED, HIGH, "raised"),
    (
        "EvalSuite",
        "assertions",
        [{"name": "sim", "type": "similarity", "threshold": 0.8}],
        "spec.assertions[cheap]",
        Op.REMOVED,
        HIGH,
        "assertion 'cheap' removed",
    ),
    # rollouts
    ("Rollout", "approvals.required", 1, "spec.approvals.required", Op.CHANGED, HIGH, "required approvals lowered"),
    ("Rollout", "steps.0.setWeight", 20, "spec.steps[0].setWeight", Op.CHANGED, MEDIUM, "rollout step weights changed"),
    (
        "Rollout",
        "steps",
        [{"setWeight": 10}, {"pause": "manual"}, {"analysis": "health"}, {"setWeight": 100}],
        "spec.steps",
        Op.MOVED,
        MEDIUM,
        "rollout step order changed",
    ),
    (
        "Rollout",
        "steps",
        [{"setWeight": 10}, {"pause": "manual"}, {"setWeight": 100}],
        "spec.steps[1]",
        Op.REMOVED,
        HIGH,
        "analysis step 'health' removed",
    ),
    (
        "Rollout",
        "rollback.automatic",
        False,
        "spec.rollback.automatic",
        Op.CHANGED,
        HIGH,
        "automatic rollback turned off",
    ),
    ("Rollout", "evalSuite", _DROP, "spec.evalSuite", Op.REMOVED, HIGH, "no longer gated by eval suite 's'"),
]


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}:{c[3]}:{c[4]}:{c[5]}" for c in CASES])
def test_every_rule_gives_its_risk_and_reason(tmp_path: Path, case: tuple[Any, ...]) -> None:
    kind, where, value, path, op, risk, reason = case
    name, spec = BASE[kind]
    old = [*PROVIDERS, manifest(kind, name, spec)]
    new = [*PROVIDERS, manifest(kind, name, changed(spec, where, value))]
    result = diff_dirs(tmp_path, old, new)
    found = [c for c in result.changes if c.path == path and c.op is op]
    assert found, [(c.path, c.op.value, c.reason) for c in result.changes]
    assert (found[0].kind, found[0].name) == (kind, name)
    assert found[0].risk is risk, found[0].reason
    assert reason in found[0].reason
    assert found[0].file is not None and found[0].file.endswith("set.yaml")


@pytest.mark.parametrize(
    ("step", "risk", "reason"),
    [
        ({"id": "pay", "type": "tool", "agent": "a", "tool": "refund"}, HIGH, "calls write tool 'refund' (write)"),
        ({"id": "look", "type": "tool", "agent": "a", "tool": "look"}, MEDIUM, "step 'look' added"),
        ({"id": "check", "type": "approval", "approval": {"approvers": 1}}, MEDIUM, "approval step 'check' added"),
    ],
)
def test_a_step_that_calls_a_write_tool_is_high(step: dict[str, Any], risk: Risk, reason: str) -> None:
    agent = manifest("Agent", "a", {**AGENT, "tools": [*AGENT["tools"], {"name": "look", "action": "read"}]})
    old = manifest("Pipeline", "p", PIPELINE)
    new = manifest("Pipeline", "p", {**PIPELINE, "steps": [*PIPELINE["steps"], step]})
    (found,) = diff_text(agent + "\n---\n" + old, agent + "\n---\n" + new).changes
    assert (found.path, found.op, found.risk) == (f"spec.steps[{step['id']}]", Op.ADDED, risk)
    assert reason in found.reason


def test_a_step_switched_to_a_write_tool_is_high() -> None:
    agent = manifest("Agent", "a", {**AGENT, "tools": [*AGENT["tools"], {"name": "look", "action": "read"}]})
    steps = [*PIPELINE["steps"], {"id": "act", "type": "tool", "agent": "a", "tool": "look"}]
    old = manifest("Pipeline", "p", {**PIPELINE, "steps": steps})
    new = manifest("Pipeline", "p", changed({**PIPELINE, "steps": steps}, "steps.2.tool", "refund"))
    (up,) = diff_text(agent + "\n---\n" + old, agent + "\n---\n" + new).changes
    (down,) = diff_text(agent + "\n---\n" + new, agent + "\n---\n" + old).changes
    assert (up.path, up.risk, down.risk) == ("spec.steps[act].tool", HIGH, MEDIUM)
    assert "now calls write tool 'refund' (write), not 'look'" in up.reason


def test_autonomy_levels_compare_by_the_level_numbers_of_the_new_side() -> None:
    levels = "\n---\n".join(manifest("AutonomyLevel", n, {"level": lv}) for n, lv in (("careful", 1), ("bold", 4)))
    old = levels + "\n---\n" + manifest("Agent", "a", {**AGENT, "autonomyLevel": "bold"})
    new = levels + "\n---\n" + manifest("Agent", "a", {**AGENT, "autonomyLevel": "careful"})
    (down,) = diff_text(old, new).changes
    (up,) = diff_text(new, old).changes
    assert (down.risk, up.risk) == (MEDIUM, HIGH)
    assert "(level 1 to 4)" in up.reason


def test_reordering_candidates_tags_and_jurisdictions_is_no_change() -> None:
    spec = copy.deepcopy(ROUTE)
    spec["candidates"].reverse()
    spec["rules"][0]["require"]["jurisdictions"] = ["eu"]
    tags = changed(POLICY, "freezeWindows.0.applies", ["rollout", "deploy"])
    old = manifest("Route", "r", ROUTE) + "\n---\n" + manifest("Policy", "p", POLICY)
    new = manifest("Policy", "p", tags) + "\n---\n" + manifest("Route", "r", spec)
    assert diff_text(old, new).changes == ()


def test_labels_and_descriptions_are_low_risk() -> None:
    old = manifest("Route", "r", ROUTE, labels={"team": "a"}, description="Chat.")
    new = manifest("Route", "r", changed(ROUTE, "rules.0.name", "pii"), labels={"team": "b"}, description="Talk.")
    result = diff_text(old, new)
    assert {(c.path, c.risk) for c in result.changes} == {("metadata.labels.team", LOW), ("metadata.description", LOW)}
    assert result.max_risk is LOW


def test_any_other_setting_is_medium_behaviour_change() -> None:
    (c,) = diff_text(manifest("Route", "r", ROUTE), manifest("Route", "r", {**ROUTE, "retry": {"attempts": 3}})).changes
    assert (c.path, c.op, c.risk, c.reason) == ("spec.retry.attempts", Op.ADDED, MEDIUM, "behaviour setting changed")


@pytest.mark.parametrize(
    ("kind", "risk"),
    [("Policy", HIGH), ("AutonomyLevel", HIGH), ("EvalSuite", HIGH), ("Route", MEDIUM), ("Rollout", MEDIUM)],
)
def test_removing_a_document(kind: str, risk: Risk) -> None:
    name, spec = BASE[kind]
    (c,) = diff_text(manifest(kind, name, spec), "").changes
    assert (c.kind, c.name, c.path, c.op, c.risk, c.file) == (kind, name, "", Op.REMOVED, risk, "old.yaml")
    assert c.reason


def test_adding_a_provider_is_medium_and_names_its_jurisdiction() -> None:
    (c,) = diff_text("", manifest("Provider", "lane", PROVIDER)).changes
    assert (c.op, c.risk) == (Op.ADDED, MEDIUM)
    assert "jurisdiction 'onprem'" in c.reason


def test_a_renamed_document_is_one_rename_plus_its_changes() -> None:
    old = manifest("Route", "chat", ROUTE)
    new = manifest("Route", "support-chat", changed(ROUTE, "limits.maxCostUsd", 0.03))
    rename, cost = diff_text(old, new).changes
    assert (rename.op, rename.path, rename.old, rename.new, rename.name) == (
        Op.RENAMED,
        "metadata.name",
        "chat",
        "support-chat",
        "support-chat",
    )
    assert rename.risk is MEDIUM and "refers to it by name" in rename.reason
    assert (cost.name, cost.path, cost.old, cost.new) == ("support-chat", "spec.limits.maxCostUsd", 0.02, 0.03)


def test_different_documents_are_not_a_rename() -> None:
    result = diff_text(manifest("Route", "a", ROUTE), manifest("Route", "b", {"alias": "x", "candidates": []}))
    assert sorted((c.name, c.op) for c in result.changes) == [("a", Op.REMOVED), ("b", Op.ADDED)]


def test_a_rename_across_kinds_is_not_a_rename() -> None:
    result = diff_text(manifest("Route", "a", {}), manifest("Agent", "a", {}))
    assert sorted((c.kind, c.op) for c in result.changes) == [("Agent", Op.ADDED), ("Route", Op.REMOVED)]


def test_documents_without_kind_and_name_are_skipped() -> None:
    old = "just: a mapping\n---\n- a list\n---\nkind: Route\nmetadata: {}\n"
    assert diff_text(old, "plain text\n").changes == ()


def test_unparsable_yaml_names_file_line_and_column() -> None:
    with pytest.raises(SourceError, match=r"^new\.yaml:3:1: key 'kind' appears twice"):
        diff_text("", "kind: Route\nmetadata: {name: r}\nkind: Agent\n")


def test_unreadable_source_is_a_source_error() -> None:
    with pytest.raises(SourceError, match=r"gone\.yaml: permission denied"):
        diff_sources([SourceFile("gone.yaml", None, "", "permission denied")], [])


def test_secret_values_are_redacted() -> None:
    old = manifest("Provider", "p", {**PROVIDER, "apiKey": "sk-live-abcdefghijklmnopqrstuvwxyz"})
    new = manifest("Provider", "p", {**PROVIDER, "apiKey": {"env": "OPENAI_API_KEY"}})
    (c,) = [c for c in diff_text(old, new).changes if c.path == "spec.apiKey"]
    assert (c.old, c.new) == (REDACTED, {"env": "OPENAI_API_KEY"})
    assert "abcdefghij" not in repr(diff_text(old, new))


def test_prompt_file_contents_are_compared_between_folders(tmp_path: Path) -> None:
    agent = manifest("Agent", "a", {**AGENT, "prompt": {"file": "prompts/a.md"}})
    for side, text in (("old", "Be brief."), ("new", "Be brief and kind.")):
        (tmp_path / side / "prompts").mkdir(parents=True)
        (tmp_path / side / "prompts" / "a.md").write_text(text, encoding="utf-8")
    (c,) = diff_dirs(tmp_path, [agent], [agent]).changes
    assert (c.path, c.op, c.risk) == ("spec.prompt.file", Op.CHANGED, MEDIUM)
    assert c.reason == "prompt file content changed (prompts/a.md)"
    assert str(c.old).startswith("prompts/a.md (sha256:") and c.old != c.new


def test_result_helpers() -> None:
    def change(risk: Risk) -> Change:
        return Change("Route", "r", "spec.x", Op.CHANGED, 1, 2, risk, "because")

    result = DiffResult((change(LOW), change(HIGH), change(LOW)))
    assert result.counts() == {LOW: 2, MEDIUM: 0, HIGH: 1}
    assert result.max_risk is HIGH
    assert result.reaches(MEDIUM) and result.reaches(HIGH)
    assert not DiffResult((change(LOW),)).reaches(MEDIUM)
    assert DiffResult(()).max_risk is None


def test_duration_limits_compare_by_their_length() -> None:
    def route(latency: str) -> str:
        return manifest("Route", "r", {**ROUTE, "limits": {"maxCostUsd": 0.02, "maxLatency": latency}})

    (up,) = diff_text(route("800ms"), route("2s")).changes
    (down,) = diff_text(route("1m"), route("59s")).changes
    assert up.risk is MEDIUM and "raised from '800ms' to '2s'" in up.reason
    assert "lowered from '1m' to '59s' (tighter)" in down.reason


def test_a_new_or_wider_path_into_a_write_tool_step_is_high() -> None:
    agent = manifest("Agent", "a", {**AGENT, "tools": [*AGENT["tools"], {"name": "look", "action": "read"}]})
    steps = [*PIPELINE["steps"], {"id": "pay", "type": "tool", "agent": "a", "tool": "refund"}]
    steps.append({"id": "look", "type": "tool", "agent": "a", "tool": "look"})
    edges = [{"from": "ask", "to": "ok"}, {"from": "ok", "to": "pay", "when": "output.approved"}]
    base = {**PIPELINE, "steps": steps, "edges": edges}

    def changes(new: dict[str, Any]) -> list[Change]:
        old_side = agent + "\n---\n" + manifest("Pipeline", "p", base)
        return diff_text(old_side, agent + "\n---\n" + manifest("Pipeline", "p", new)).changes

    (bypass,) = changes({**base, "edges": [*edges, {"from": "ask", "to": "pay"}]})
    assert (bypass.path, bypass.risk) == ("spec.edges[ask->pay]", HIGH)
    assert "a new path into a step that calls write tool 'refund' (write)" in bypass.reason
    (wider,) = changes(changed(base, "edges.1.when", "true"))
    assert (wider.path, wider.risk) == ("spec.edges[ok->pay].when", HIGH)
    (harmless,) = changes({**base, "edges": [*edges, {"from": "ask", "to": "look"}]})
    assert (harmless.risk, harmless.reason) == (MEDIUM, "edge ask->look added: the flow changed")
