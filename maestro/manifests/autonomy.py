"""What an AutonomyLevel says about one action: free, needs approval, or forbidden.

One meaning for validate, explain and the docs: an action in ``allowedWithoutApproval`` runs on its own,
one in ``requiresApproval`` runs after a human approval, and one in neither list is forbidden.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

ACTIONS = ("read", "suggest", "low-risk-write", "write", "external-call", "spend", "deploy", "irreversible")


class Permission(StrEnum):
    FREE = "free"
    NEEDS_APPROVAL = "needs approval"
    FORBIDDEN = "forbidden"


def permission(level_spec: Mapping[str, Any], action: str) -> Permission:
    """What the level with ``level_spec`` says about ``action``."""
    if action in level_spec.get("allowedWithoutApproval", ()):
        return Permission.FREE
    if action in level_spec.get("requiresApproval", ()):
        return Permission.NEEDS_APPROVAL
    return Permission.FORBIDDEN


def actions_by_permission(level_spec: Mapping[str, Any]) -> dict[Permission, list[str]]:
    """Every action class, grouped by what the level says about it, in the order of ``ACTIONS``."""
    out: dict[Permission, list[str]] = {p: [] for p in Permission}
    for action in ACTIONS:
        out[permission(level_spec, action)].append(action)
    return out
