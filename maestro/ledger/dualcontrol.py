"""Dual control: which entries need approvals, and whose signatures count.

Rules come from the loaded manifests as plain specs (the ledger imports nothing of ``maestro.manifests``):

* a Policy's ``dualControl`` item ``{action: autonomy.raise, approvers: 2}`` guards every entry whose
  action is ``autonomy.raise``;
* an AutonomyLevel's ``approvals: {required: N}`` guards the actions in its ``requiresApproval`` list when
  the entry's ``autonomyLevel`` is that level.

An approval is a valid signature on the entry's envelope by a trusted key. It counts once per key and once
per holder (the key's name), and never when the holder is the entry's actor, the requester.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from maestro.ledger.keys import PublicKey


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    action: str
    approvers: int
    level: str | None = None

    def applies(self, action: str, level: str | None) -> bool:
        return self.action == action and (self.level is None or self.level == level)


def rules_from(policies: Iterable[Mapping[str, Any]], levels: Iterable[tuple[str, Mapping[str, Any]]]) -> list[Rule]:
    """Rules from Policy specs and (name, spec) pairs of AutonomyLevels."""
    rules = [
        Rule(item["name"], item["action"], int(item["approvers"]))
        for spec in policies
        for item in spec.get("dualControl", [])
    ]
    for name, spec in levels:
        required = int(spec.get("approvals", {}).get("required", 0))
        if required:
            rules.extend(
                Rule(f"AutonomyLevel/{name}", action, required, level=name)
                for action in spec.get("requiresApproval", [])
            )
    return rules


def approvers(signers: Sequence[PublicKey], actor: str) -> list[str]:
    """Distinct holders among ``signers`` (already distinct keys), the requester left out."""
    names: list[str] = []
    for key in signers:
        if key.name != actor and key.name not in names:
            names.append(key.name)
    return names


def shortfall(rules: Sequence[Rule], action: str, level: str | None, actor: str, signers: Sequence[PublicKey]) -> str:
    """Why the approvals fall short ('' when they suffice)."""
    needed = [r for r in rules if r.applies(action, level)]
    if not needed:
        return ""
    strictest = max(needed, key=lambda r: r.approvers)
    got = approvers(signers, actor)
    if len(got) >= strictest.approvers:
        return ""
    who = ", ".join(got) or "nobody"
    return (
        f"'{action}' needs {strictest.approvers} approvals by distinct key holders other than the requester "
        f"'{actor}' (rule {strictest.name}); it has {len(got)} ({who})"
    )
