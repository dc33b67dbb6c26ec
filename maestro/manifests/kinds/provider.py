"""The Provider kind: an upstream that serves models (OpenAI, Anthropic, NIM, a vLLM lane)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from maestro.manifests.checks.routing import check_providers
from maestro.manifests.checks.secrets import check_key_env
from maestro.manifests.checks.serve import check_serve
from maestro.manifests.diff.risk_routing import PROVIDER
from maestro.manifests.kinds.base import KindEntry, Source
from maestro.manifests.requirements import ProviderFacts


@dataclass(frozen=True, slots=True)
class Model:
    name: str
    context_window: int
    price_in: float  # USD per million input tokens
    price_out: float
    quality: float | None = None  # as written; the router scores a model without one at 0.5
    max_output_tokens: int | None = None


@dataclass(frozen=True, slots=True)
class Serve:
    """A vLLM provider's ``serve:`` block: how maestro starts the server."""

    served_name: str | None
    model: str | None
    dtype: str | None
    max_model_len: int | None
    max_num_seqs: int | None
    prefix_caching: bool | None
    tensor_parallel_size: int | None
    gpu_memory_utilization: float | None
    extra_args: tuple[str, ...]
    max_waiting: int | None
    max_kv_cache_usage: float | None
    price_per_hour: float | None
    api_key_env: str | None

    @classmethod
    def of(cls, serve: Mapping[str, Any]) -> Serve:
        sat = serve.get("saturation", {})
        return cls(
            serve.get("servedName"),
            serve.get("model"),
            serve.get("dtype"),
            serve.get("maxModelLen"),
            serve.get("maxNumSeqs"),
            serve.get("prefixCaching"),
            serve.get("tensorParallelSize"),
            serve.get("gpuMemoryUtilization"),
            tuple(serve.get("extraArgs", [])),
            sat.get("maxWaiting"),
            sat.get("maxKvCacheUsage"),
            serve.get("pricePerHour"),
            serve.get("apiKey", {}).get("env"),
        )


@dataclass(frozen=True, slots=True)
class Provider:
    name: str
    source: Source
    type: str
    base_url: str  # as written
    jurisdiction: str
    region: str
    retention_days: int
    training_use: bool
    models: tuple[Model, ...]
    api_key_env: str | None
    requests_per_minute: int | None
    tokens_per_minute: int | None
    connect_timeout: str | None  # durations as written (250ms, 30s)
    first_token_timeout: str | None
    total_timeout: str | None
    serve: Serve | None

    @property
    def ref(self) -> str:
        return f"Provider/{self.name}"

    @property
    def facts(self) -> ProviderFacts:
        return ProviderFacts(
            self.name, self.type, self.jurisdiction, self.region, self.retention_days, self.training_use
        )

    def model(self, name: str) -> Model | None:
        return next((m for m in self.models if m.name == name), None)


def provider(name: str, spec: Mapping[str, Any], source: Source) -> Provider:
    limits, timeouts = spec.get("rateLimits", {}), spec.get("timeouts", {})
    models = tuple(
        Model(
            m["name"],
            m["contextWindow"],
            m["price"]["inputPer1M"],
            m["price"]["outputPer1M"],
            m.get("quality"),
            m.get("maxOutputTokens"),
        )
        for m in spec["models"]
    )
    return Provider(
        name,
        source,
        spec["type"],
        spec["baseUrl"],
        spec["jurisdiction"],
        spec.get("region", ""),
        spec.get("dataRetentionDays", 0),
        spec.get("trainingUse", False),
        models,
        spec.get("apiKey", {}).get("env"),
        limits.get("requestsPerMinute"),
        limits.get("tokensPerMinute"),
        timeouts.get("connect"),
        timeouts.get("firstToken"),
        timeouts.get("total"),
        Serve.of(spec["serve"]) if "serve" in spec else None,
    )


KIND = KindEntry("Provider", "provider.json", provider, (check_providers, check_key_env, check_serve), PROVIDER)
