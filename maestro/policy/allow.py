"""Which providers a request with some tags may reach, and why the others may not.

A provider is allowed only if every tag allows it (``allow`` requirements in the taxonomy) and no Policy
rule with effect ``deny`` holds for it. Tags outside the taxonomy deny every provider: maestro never fails
open. A rule whose condition cannot be evaluated counts as holding (fail closed). Nothing here widens a set.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import cel

from maestro.manifests.checks import Taxonomy
from maestro.manifests.kinds.policy import Policy
from maestro.manifests.requirements import ProviderFacts, Requirement

UNKNOWN_TAG, TAG_RULE, DENY_RULE = "policy.unknown-tag", "policy.tags", "policy.rule"


class Finding(NamedTuple):
    """One reason a provider may not serve a request: ``kind`` is UNKNOWN_TAG, TAG_RULE or DENY_RULE."""

    kind: str
    reason: str


_FIELDS = re.compile(r"(?<![\w.])(request|provider)\.([A-Za-z_]\w*)")


@dataclass(frozen=True)
class DenyRule:
    """A Policy rule with effect deny, compiled once, evaluated only on the fields it reads."""

    name: str
    expression: str
    program: Any
    request_fields: tuple[str, ...]
    provider_fields: tuple[str, ...]

    @classmethod
    def of(cls, policy: str, name: str, expression: str) -> DenyRule:
        fields = _FIELDS.findall(expression)
        return cls(
            f"{policy}/{name}",
            expression,
            cel.compile(expression),
            tuple(sorted({f for v, f in fields if v == "request"})),
            tuple(sorted({f for v, f in fields if v == "provider"})),
        )

    def holds(self, request: Mapping[str, Any], provider: Mapping[str, Any]) -> bool:
        return self.verdict(request, provider)[0]

    def verdict(self, request: Mapping[str, Any], provider: Mapping[str, Any]) -> tuple[bool, str | None]:
        """Whether the rule holds, and why it failed to evaluate when it did (it then holds: fail closed)."""
        activation = {
            "request": {f: request.get(f) for f in self.request_fields},
            "provider": {f: provider.get(f) for f in self.provider_fields},
        }
        try:
            return bool(self.program.execute(activation)), None
        except (ValueError, TypeError, LookupError, ArithmeticError, RuntimeError) as e:
            return True, f"{type(e).__name__}: {str(e).split('. ')[0].strip().rstrip('.')[:120]}"


@dataclass(frozen=True)
class PolicyBook:
    """Everything the policies of a manifest set say about tags and providers, compiled once."""

    tag_requirements: Mapping[str, Requirement]
    deny_rules: tuple[DenyRule, ...]

    @classmethod
    def of(cls, taxonomy: Taxonomy, policies: Iterable[Policy]) -> PolicyBook:
        requirements = {
            name: Requirement.of(f"tag '{name}'", definition.get("allow", {}))
            for name, definition in taxonomy.tags.items()
        }
        rules = tuple(DenyRule.of(p.name, rule.name, rule.when) for p in policies for rule in p.deny_rules)
        return cls(requirements, rules)

    def judge(self, facts: ProviderFacts, tags: Iterable[str], request: Mapping[str, Any]) -> tuple[str, ...]:
        """Every reason ``facts`` may not serve a request with ``tags``; empty when it may."""
        return tuple(f.reason for f in self.findings(facts, tags, request))

    def findings(self, facts: ProviderFacts, tags: Iterable[str], request: Mapping[str, Any]) -> tuple[Finding, ...]:
        """``judge``'s reasons, each with its kind (an unknown tag, a tag's requirement, a deny rule)."""
        out: list[Finding] = []
        for tag in tags:
            requirement = self.tag_requirements.get(tag)
            if requirement is None:
                out.append(Finding(UNKNOWN_TAG, f"tag '{tag}' is unknown, and unknown tags are denied"))
            else:
                out.extend(Finding(TAG_RULE, reason) for reason in requirement.violations(facts))
        if self.deny_rules:
            provider = facts.as_cel()
            for rule in self.deny_rules:
                held, failure = rule.verdict(request, provider)
                if held and failure is None:
                    out.append(Finding(DENY_RULE, f"policy rule '{rule.name}' denies it"))
                elif held:
                    why = f"policy rule '{rule.name}' failed to evaluate ({failure}), so it denies it (fail closed)"
                    out.append(Finding(DENY_RULE, why))
        return tuple(out)


def request_view(tags: Sequence[str], **fields: Any) -> dict[str, Any]:
    """The CEL ``request`` variable for ``tags`` and the other request fields."""
    view: dict[str, Any] = {
        "tags": list(tags),
        "caller": "",
        "team": "",
        "alias": "",
        "tokens": 0,
        "headers": {},
        "metadata": {},
    }
    view.update(fields)
    return view
