"""Which providers a set of tags may reach, and why the others may not.

A provider is allowed for a request only if every tag allows it: its jurisdiction is in the tag's
``allow.jurisdictions``, its retention is within ``allow.maxRetentionDays`` and it does not train on data
unless ``allow.trainingUse`` is true. Tags that are not in the taxonomy deny everything, and a Policy rule
whose CEL condition holds with effect ``deny`` removes the provider. Nothing here ever widens a set.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import cel

from maestro.manifests.checks import Taxonomy
from maestro.manifests.loader import Document


@dataclass(frozen=True, slots=True)
class Verdict:
    provider: str
    allowed: bool
    reasons: tuple[str, ...]


def provider_facts(provider: Document) -> dict[str, Any]:
    """A provider's attributes as the CEL ``provider`` variable sees them."""
    spec = provider.spec
    return {
        "name": provider.name,
        "type": spec["type"],
        "jurisdiction": spec["jurisdiction"],
        "region": spec.get("region", ""),
        "dataRetentionDays": spec.get("dataRetentionDays", 0),
        "trainingUse": spec.get("trainingUse", False),
    }


def judge(
    provider: Document,
    tags: Sequence[str],
    taxonomy: Taxonomy,
    policies: Iterable[Document] = (),
    request: Mapping[str, Any] | None = None,
) -> Verdict:
    """Whether ``provider`` may serve a request carrying ``tags``, with every reason it may not."""
    facts = provider_facts(provider)
    reasons: list[str] = []
    for tag in tags:
        definition = taxonomy.tags.get(tag)
        if definition is None:
            reasons.append(f"tag '{tag}' is unknown, and unknown tags are denied")
            continue
        reasons.extend(_tag_reasons(tag, definition.get("allow", {}), facts))
    req = {
        "tags": list(tags),
        "caller": "",
        "team": "",
        "alias": "",
        "tokens": 0,
        "headers": {},
        "metadata": {},
    }
    req.update(request or {})
    for policy in policies:
        for rule in policy.spec.get("rules", []):
            if rule["effect"] == "deny" and _holds(rule["when"], {"request": req, "provider": facts}):
                reasons.append(f"policy rule '{policy.name}/{rule['name']}' denies it")
    return Verdict(provider.name, not reasons, tuple(reasons))


def _tag_reasons(tag: str, allow: Mapping[str, Any], facts: Mapping[str, Any]) -> list[str]:
    reasons = []
    if "jurisdictions" in allow and facts["jurisdiction"] not in allow["jurisdictions"]:
        reasons.append(f"tag '{tag}' allows only {', '.join(allow['jurisdictions'])}, not {facts['jurisdiction']}")
    if "maxRetentionDays" in allow and facts["dataRetentionDays"] > allow["maxRetentionDays"]:
        reasons.append(
            f"tag '{tag}' allows at most {allow['maxRetentionDays']} days of retention, provider keeps "
            f"{facts['dataRetentionDays']}"
        )
    if not allow.get("trainingUse", True) and facts["trainingUse"]:
        reasons.append(f"tag '{tag}' forbids providers that train on data")
    return reasons


def _holds(expression: str, activation: Mapping[str, Any]) -> bool:
    """Evaluate a deny condition; an expression that cannot be evaluated counts as holding (fail closed)."""
    try:
        return bool(cel.evaluate(expression, dict(activation)))
    except (ValueError, TypeError, KeyError, RuntimeError):
        return True
