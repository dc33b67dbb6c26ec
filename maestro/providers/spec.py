"""What a client needs from a Provider manifest: where, which protocol, which key, timeouts, prices."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from maestro.manifests.durations import seconds
from maestro.manifests.kinds.provider import Provider
from maestro.manifests.kinds.provider import provider as provider_record
from maestro.manifests.loader import ManifestSet, Source
from maestro.providers.usage import Price

PROTOCOLS = {
    "openai": "openai",
    "nim": "openai",
    "vllm": "openai",
    "openai-compatible": "openai",
    "anthropic": "anthropic",
}


@dataclass(frozen=True, slots=True)
class Timeouts:
    connect_s: float = 5.0
    first_token_s: float = 15.0
    total_s: float = 120.0


@dataclass(frozen=True, slots=True)
class ProviderSpec:
    name: str
    type: str
    base_url: str
    api_key_env: str | None
    timeouts: Timeouts
    prices: Mapping[str, Price]
    requests_per_minute: int | None = None  # the manifest's rateLimits: what maestro should stay under
    tokens_per_minute: int | None = None

    @property
    def protocol(self) -> str:
        return PROTOCOLS[self.type]

    @classmethod
    def of_record(cls, provider: Provider) -> ProviderSpec:
        """The client settings of a Provider's record."""
        defaults = Timeouts()
        p = provider
        timeouts = Timeouts(
            seconds(p.connect_timeout) if p.connect_timeout is not None else defaults.connect_s,
            seconds(p.first_token_timeout) if p.first_token_timeout is not None else defaults.first_token_s,
            seconds(p.total_timeout) if p.total_timeout is not None else defaults.total_s,
        )
        prices = {m.name: Price(m.price_in, m.price_out) for m in p.models}
        return cls(
            p.name,
            p.type,
            p.base_url.rstrip("/"),
            p.api_key_env,
            timeouts,
            prices,
            p.requests_per_minute,
            p.tokens_per_minute,
        )

    @classmethod
    def of(cls, name: str, spec: Mapping[str, Any]) -> ProviderSpec:
        """The client settings of a Provider's spec as written (for tests and tools that build one by hand)."""
        return cls.of_record(provider_record(name, spec, Source(name, 0, 1, 1, ".")))


def specs_of(manifests: ManifestSet) -> dict[str, ProviderSpec]:
    """Every Provider of a validated manifest set, by name."""
    return {p.name: ProviderSpec.of_record(p) for p in manifests.records(Provider)}
