"""A lane's settings, read from a validated ``vllm`` Provider with a ``serve`` block."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from maestro.lane.errors import LaneError
from maestro.manifests.checks.serve import arg_problems, loopback, open_bind_message
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
    def of(cls, doc: Document) -> LaneConfig:
        spec, serve = doc.spec, doc.spec.get("serve", {})
        where = f"{doc.file}:{doc.line}"
        url = urlsplit(spec["baseUrl"])
        if url.hostname is None:
            raise LaneError(f"{where}: {doc.ref} baseUrl '{spec['baseUrl']}' names no host")
        port = url.port or (443 if url.scheme == "https" else 80)
        _check_extra_args(where, doc.ref, serve.get("extraArgs", []))
        key_env = serve.get("apiKey", {}).get("env")
        _check_bind(where, doc.ref, url.hostname, key_env)
        sat = serve.get("saturation", {})
        return cls(
            name=doc.name,
            host=url.hostname,
            port=port,
            served_name=serve.get("servedName") or spec["models"][0]["name"],
            model=serve.get("model"),
            dtype=serve.get("dtype"),
            max_model_len=serve.get("maxModelLen"),
            max_num_seqs=serve.get("maxNumSeqs"),
            prefix_caching=serve.get("prefixCaching"),
            tensor_parallel_size=serve.get("tensorParallelSize"),
            gpu_memory_utilization=serve.get("gpuMemoryUtilization"),
            extra_args=tuple(serve.get("extraArgs", [])),
            saturation=Saturation(sat.get("maxWaiting"), sat.get("maxKvCacheUsage")),
            price_per_hour=serve.get("pricePerHour"),
            api_key_env=key_env,
            source=where,
        )


def _check_extra_args(where: str, ref: str, args: list[str]) -> None:
    problems = [problem for _, _, problem in arg_problems(args)]
    if problems:
        raise LaneError(f"{where}: {ref} serve.extraArgs: " + "; ".join(problems))


def _check_bind(where: str, ref: str, host: str, key_env: str | None) -> None:
    if key_env is None and not loopback(host):
        raise LaneError(f"{where}: {ref}: {open_bind_message(host)}")


def lanes_of(manifests: ManifestSet) -> dict[str, LaneConfig]:
    """Every vllm Provider with a serve block, by name."""
    return {
        doc.name: LaneConfig.of(doc)
        for doc in manifests.of_kind("Provider")
        if doc.spec["type"] == "vllm" and "serve" in doc.spec
    }


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
