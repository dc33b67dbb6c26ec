"""Where the lane keeps its virtualenv, converted models, logs and pid files (the user cache directory)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class LanePaths:
    """The lane's folders under one root: ``$XDG_CACHE_HOME/maestro/lane`` by default."""

    root: Path

    @classmethod
    def default(cls, env: Mapping[str, str] | None = None) -> LanePaths:
        env = os.environ if env is None else env
        if env.get("MAESTRO_LANE_HOME"):
            return cls(Path(env["MAESTRO_LANE_HOME"]))
        base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        return cls(Path(base) / "maestro" / "lane")

    @property
    def venv(self) -> Path:
        return self.root / "venv"

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    @property
    def install_marker(self) -> Path:
        return self.venv / "maestro-lane-install.json"

    @property
    def models(self) -> Path:
        return self.root / "models"

    def run_dir(self) -> Path:
        return self.root / "run"

    def log(self, name: str) -> Path:
        return self.run_dir() / f"{name}.log"

    def pid(self, name: str) -> Path:
        return self.run_dir() / f"{name}.pid"
