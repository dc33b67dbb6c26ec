"""A data requirement: where data may go (jurisdictions), how long it may stay, whether it may train models.

Both a taxonomy tag's ``allow`` block and a route rule's ``require`` block are requirements; a provider is
admitted only when it meets every requirement in force. Requirements only ever remove providers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class ProviderFacts:
    """The attributes of a provider that policies may look at."""

    name: str
    type: str
    jurisdiction: str
    region: str
    retention_days: int
    training_use: bool

    @classmethod
    def of(cls, name: str, spec: Mapping[str, Any]) -> ProviderFacts:
        return cls(
            name,
            spec["type"],
            spec["jurisdiction"],
            spec.get("region", ""),
            spec.get("dataRetentionDays", 0),
            spec.get("trainingUse", False),
        )

    def as_cel(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "jurisdiction": self.jurisdiction,
            "region": self.region,
            "dataRetentionDays": self.retention_days,
            "trainingUse": self.training_use,
        }


@dataclass(frozen=True, slots=True)
class Requirement:
    source: str
    jurisdictions: frozenset[str] | None = None
    max_retention_days: int | None = None
    training_forbidden: bool = False

    @classmethod
    def of(cls, source: str, block: Mapping[str, Any]) -> Requirement:
        jurisdictions = block.get("jurisdictions")
        return cls(
            source,
            frozenset(jurisdictions) if jurisdictions is not None else None,
            block.get("maxRetentionDays"),
            block.get("trainingUse") is False,
        )

    def violations(self, facts: ProviderFacts) -> tuple[str, ...]:
        """Why ``facts`` does not meet this requirement; empty when it does."""
        out = []
        if self.jurisdictions is not None and facts.jurisdiction not in self.jurisdictions:
            allowed = ", ".join(sorted(self.jurisdictions))
            out.append(f"{self.source} allows only {allowed}, not {facts.jurisdiction}")
        if self.max_retention_days is not None and facts.retention_days > self.max_retention_days:
            out.append(
                f"{self.source} allows at most {self.max_retention_days} days of retention, "
                f"provider keeps {facts.retention_days}"
            )
        if self.training_forbidden and facts.training_use:
            out.append(f"{self.source} forbids providers that train on data")
        return tuple(out)
