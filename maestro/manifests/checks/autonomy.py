"""Whole-set checks for autonomy levels and the agents that act at them."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

from maestro.manifests.autonomy import Permission, permission
from maestro.manifests.checks.context import Checker
from maestro.manifests.loader import Document
from maestro.manifests.references import outside

DUAL_CONTROL_LEVEL = 4


def check_levels(c: Checker) -> None:
    by_level: dict[int, Document] = {}
    for doc in c.manifests.of_kind("AutonomyLevel"):
        level = doc.spec["level"]
        if level in by_level:
            c.report(
                doc,
                ("spec", "level"),
                "autonomy.duplicate-level",
                f"level {level} is already defined by {by_level[level].ref}; each level needs one definition",
            )
            continue
        by_level[level] = doc
        approvals = doc.spec.get("approvals", {})
        if level >= DUAL_CONTROL_LEVEL and (
            approvals.get("required", 0) < 2 or not approvals.get("distinctApprovers", True)
        ):
            c.report(
                doc,
                ("spec", "approvals"),
                "autonomy.dual-control",
                f"level {level} acts with high autonomy: set approvals.required to 2 or more with "
                "distinctApprovers: true (dual control)",
            )
    ordered = [by_level[k] for k in sorted(by_level)]
    for lower, higher in pairwise(ordered):
        lost = set(lower.spec["allowedWithoutApproval"]) - set(higher.spec["allowedWithoutApproval"])
        if lost:
            c.report(
                higher,
                ("spec", "allowedWithoutApproval"),
                "autonomy.monotonic",
                f"{higher.name} needs approval for {', '.join(sorted(lost))}, which the lower {lower.name} "
                "may do without; higher levels should allow at least as much",
            )


def check_demotion(c: Checker) -> None:
    """A Policy's ``demoteOnIncident.to`` names a level below ``atOrAbove``: a demotion must lower the level.

    A set with no AutonomyLevel at all (a policies folder validated alone, a repository with no agents) has
    nothing a demotion could apply to, so the level is not looked up there.
    """
    if not c.manifests.of_kind("AutonomyLevel"):
        return
    for policy in c.manifests.of_kind("Policy"):
        demote = policy.spec.get("demoteOnIncident")
        if not demote:
            continue
        path = ("spec", "demoteOnIncident", "to")
        target = c.ref(policy, path, "AutonomyLevel", demote["to"])
        if target is not None and target.spec["level"] >= demote["atOrAbove"]:
            c.report(
                policy,
                path,
                "autonomy.demotion",
                f"demoting to {target.name} (level {target.spec['level']}) on an incident at level "
                f"{demote['atOrAbove']} or above does not lower the level; name a level below {demote['atOrAbove']}",
            )


def check_agents(c: Checker) -> None:
    for agent in c.manifests.of_kind("Agent"):
        spec = agent.spec
        c.ref(agent, ("spec", "route"), "Route", spec["route"])
        level = c.ref(agent, ("spec", "autonomyLevel"), "AutonomyLevel", spec["autonomyLevel"])
        if "file" in spec["prompt"]:
            check_file(c, agent, ("spec", "prompt", "file"), spec["prompt"]["file"])
        servers = [s["name"] for s in spec.get("mcpServers", [])]
        for i, tool in enumerate(spec.get("tools", [])):
            if "server" in tool and tool["server"] not in servers:
                c.report(
                    agent,
                    ("spec", "tools", i, "server"),
                    "ref.mcp-server",
                    f"tool '{tool['name']}' names MCP server '{tool['server']}', which the agent does not declare; "
                    f"its mcpServers: {', '.join(servers) or 'none'}",
                )
        if level is None:
            continue
        for i, tool in enumerate(spec.get("tools", [])):
            allowed = permission(level.spec, tool["action"])
            if allowed is Permission.NEEDS_APPROVAL:
                c.report(
                    agent,
                    ("spec", "tools", i, "action"),
                    "autonomy.tool-needs-approval",
                    f"tool '{tool['name']}' ({tool['action']}) needs a human approval at {level.name}",
                )
            elif allowed is Permission.FORBIDDEN:
                report_forbidden(c, agent, ("spec", "tools", i, "action"), tool, level)


def report_forbidden(
    c: Checker, doc: Document, path: tuple[str | int, ...], tool: dict[str, str], level: Document
) -> None:
    """A tool whose action is in neither of its level's lists: forbidden there, so an error."""
    c.report(
        doc,
        path,
        "autonomy.tool-forbidden",
        f"tool '{tool['name']}' ({tool['action']}) is forbidden at {level.name}: '{tool['action']}' is in neither "
        f"allowedWithoutApproval nor requiresApproval; add it to {level.name}'s requiresApproval, or run "
        f"{doc.ref} at a level that allows it",
    )


def check_file(c: Checker, doc: Document, path: tuple[str | int, ...], relative: str) -> None:
    """A file named relative to the manifest's folder must lie inside the repository (symbolic links
    followed) and exist there (skipped for sources with no folder)."""
    if not doc.base_dir:
        return
    problem = outside(doc.base_dir, relative)
    if problem is not None:
        c.report(doc, path, "ref.outside-repo", f"{problem}; maestro reads no file outside the repository")
    elif not (Path(doc.base_dir) / relative).is_file():
        c.report(doc, path, "ref.file", f"file '{relative}' does not exist next to {doc.file}; fix the path")
