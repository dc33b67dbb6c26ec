"""Which weights a lane serves: the configured path or cached hub id, or the embedded SmolLM2."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from maestro.lane.config import LaneConfig
from maestro.lane.errors import LaneError
from maestro.lane.paths import LanePaths

EMBEDDED_NAME = "smollm2-135m-instruct"  # the folder `maestro lane prepare` writes under the models dir


def embedded_dir(paths: LanePaths) -> Path:
    return paths.models / EMBEDDED_NAME


def is_prepared(folder: Path) -> bool:
    return (folder / "config.json").is_file() and (folder / "maestro-prepared.json").is_file()


def resolve(config: LaneConfig, paths: LanePaths, env: Mapping[str, str] | None = None) -> str:
    """What to pass to ``--model``: a folder that exists or a hub id present in the local hub cache."""
    env = os.environ if env is None else env
    where = f"{config.source}: provider '{config.name}'"
    if config.model is None:
        folder = embedded_dir(paths)
        if not is_prepared(folder):
            raise LaneError(
                f"{where} serves the embedded SmolLM2-135M-Instruct, not prepared yet in {folder}; "
                "run `maestro lane install` then `maestro lane prepare`"
            )
        return str(folder)
    if _looks_like_path(config.model):
        folder = Path(config.model).expanduser()
        if not folder.exists():
            raise LaneError(
                f"{where} serve.model '{config.model}' does not exist; give a folder holding the model "
                "(config.json and weights), or remove serve.model to serve the embedded SmolLM2"
            )
        return str(folder.resolve())
    cached = hub_cache(env) / ("models--" + config.model.replace("/", "--"))
    if not (cached / "snapshots").is_dir():
        raise LaneError(
            f"{where} serve.model '{config.model}' is not in the local Hugging Face cache ({cached}) and the "
            "lane never downloads weights; download it once (`huggingface-cli download "
            f"{config.model}`), point serve.model at a folder, or remove serve.model to serve the embedded SmolLM2"
        )
    return config.model


def hub_cache(env: Mapping[str, str]) -> Path:
    if env.get("HF_HUB_CACHE"):
        return Path(env["HF_HUB_CACHE"])
    home = env.get("HF_HOME") or str(Path(env.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "huggingface")
    return Path(home) / "hub"


def _looks_like_path(model: str) -> bool:
    return model.startswith(("/", ".", "~")) or Path(model).exists()
