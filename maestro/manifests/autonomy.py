"""What an AutonomyLevel says about one action: free, needs approval, or forbidden.

One meaning for validate, explain and the docs: an action in ``allowedWithoutApproval`` runs on its own,
one in ``requiresApproval`` runs after a human approval, and one in neither list is forbidden.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from enum import StrEnum
from typing import Any

ACTIONS = ("read", "suggest", "low-risk-write", "write", "external-call", "spend", "deploy", "irreversible")
# The action classes with side effects: everything but reading and suggesting.
WRITES = frozenset(ACTIONS) - {"read", "suggest"}


class Permission(StrEnum):
    FREE = "free"
    NEEDS_APPROVAL = "needs approval"
    FORBIDDEN = "forbidden"


def permission(level_spec: Mapping[str, Any], action: str) -> Permission:
    """What the level with ``level_spec`` says about ``action``."""
    free, gated = level_spec.get("allowedWithoutApproval", ()), level_spec.get("requiresApproval", ())
    return permission_of(free, gated, action)


def permission_of(free: Collection[str], gated: Collection[str], action: str) -> Permission:
    """What a level that allows ``free`` on its own and ``gated`` after approval says about ``action``."""
    if action in free:
        return Permission.FREE
    if action in gated:
        return Permission.NEEDS_APPROVAL
    return Permission.FORBIDDEN


def actions_by_permission(level_spec: Mapping[str, Any]) -> dict[Permission, list[str]]:
    """Every action class, grouped by what the level says about it, in the order of ``ACTIONS``."""
    free, gated = level_spec.get("allowedWithoutApproval", ()), level_spec.get("requiresApproval", ())
    return grouped(free, gated)


def grouped(free: Collection[str], gated: Collection[str]) -> dict[Permission, list[str]]:
    """Every action class, grouped by what a level allowing ``free`` and ``gated`` says, in ``ACTIONS`` order."""
    out: dict[Permission, list[str]] = {p: [] for p in Permission}
    for action in ACTIONS:
        out[permission_of(free, gated, action)].append(action)
    return out
