"""A lane's settings, read from a validated ``vllm`` Provider with a ``serve`` block."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from maestro.lane.errors import LaneError
from maestro.manifests.checks.serve import arg_problems, loopback, open_bind_message
from maestro.manifests.kinds.provider import Provider, Serve
from maestro.manifests.loader import Document, ManifestSet


@dataclass(frozen=True, slots=True)
class Saturation:
    """Thresholds past which the lane counts as saturated (None: that signal is not used)."""

    max_waiting: int | None = None
    max_kv_cache_usage: float | None = None


@dataclass(frozen=True, slots=True)
class LaneConfig:
    """How to launch one lane: the provider it serves and vLLM's settings."""

    name: str
    host: str
    port: int
    served_name: str
    model: str | None = None  # None: the embedded SmolLM2-135M-Instruct
    dtype: str | None = None
    max_model_len: int | None = None
    max_num_seqs: int | None = None
    prefix_caching: bool | None = None
    tensor_parallel_size: int | None = None
    gpu_memory_utilization: float | None = None
    extra_args: tuple[str, ...] = ()
    saturation: Saturation = Saturation()
    price_per_hour: float | None = None
    api_key_env: str | None = None  # the variable holding the key the server demands (serve.apiKey.env)
    source: str = ""  # file:line of the provider, for messages

    @property
    def base(self) -> str:
        """The server's root URL (without the /v1 of the OpenAI API)."""
        return f"http://{self.host}:{self.port}"

    @property
    def deployment(self) -> str:
        """The router's name of the deployment this lane serves: ``provider/model``."""
        return f"{self.name}/{self.served_name}"

    @classmethod
    def of(cls, provider: Provider | Document) -> LaneConfig:
        """The lane of a vllm Provider (its record, or the document that carries it)."""
        if isinstance(provider, Document):
            if not isinstance(provider.record, Provider):
                where = f"{provider.file}:{provider.line}"
                raise LaneError(f"{where}: {provider.ref} is not a Provider; name a vllm Provider")
            provider = provider.record
        serve = provider.serve or _NO_SERVE
        where, ref = provider.source.where, provider.ref
        url = urlsplit(provider.base_url)
        if url.hostname is None:
            raise LaneError(f"{where}: {ref} baseUrl '{provider.base_url}' names no host")
        port = url.port or (443 if url.scheme == "https" else 80)
        _check_extra_args(where, ref, list(serve.extra_args))
        _check_bind(where, ref, url.hostname, serve.api_key_env)
        return cls(
            name=provider.name,
            host=url.hostname,
            port=port,
            served_name=serve.served_name or provider.models[0].name,
            model=serve.model,
            dtype=serve.dtype,
            max_model_len=serve.max_model_len,
            max_num_seqs=serve.max_num_seqs,
            prefix_caching=serve.prefix_caching,
            tensor_parallel_size=serve.tensor_parallel_size,
            gpu_memory_utilization=serve.gpu_memory_utilization,
            extra_args=serve.extra_args,
            saturation=Saturation(serve.max_waiting, serve.max_kv_cache_usage),
            price_per_hour=serve.price_per_hour,
            api_key_env=serve.api_key_env,
            source=where,
        )


_NO_SERVE = Serve.of({})


def _check_extra_args(where: str, ref: str, args: list[str]) -> None:
    problems = [problem for _, _, problem in arg_problems(args)]
    if problems:
        raise LaneError(f"{where}: {ref} serve.extraArgs: " + "; ".join(problems))


def _check_bind(where: str, ref: str, host: str, key_env: str | None) -> None:
    if key_env is None and not loopback(host):
        raise LaneError(f"{where}: {ref}: {open_bind_message(host)}")


def lanes_of(manifests: ManifestSet) -> dict[str, LaneConfig]:
    """Every vllm Provider with a serve block, by name."""
    return {p.name: LaneConfig.of(p) for p in manifests.records(Provider) if p.type == "vllm" and p.serve is not None}


def select(lanes: Mapping[str, LaneConfig], name: str | None) -> list[LaneConfig]:
    """The lane ``name``, or every lane when ``name`` is None; an unknown name is a LaneError."""
    if name is None:
        if not lanes:
            raise LaneError("no vllm Provider with a `serve:` block in the manifests; add one (see docs/manifests.md)")
        return list(lanes.values())
    if name not in lanes:
        known = ", ".join(sorted(lanes)) or "none"
        raise LaneError(f"no lane named '{name}' (a vllm Provider with a `serve:` block); known: {known}")
    return [lanes[name]]
