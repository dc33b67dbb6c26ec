"""Which weights a lane serves; a missing model is a clear error, never a download."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from maestro.lane.config import LaneConfig
from maestro.lane.errors import LaneError
from maestro.lane.models import hub_cache, resolve
from maestro.lane.paths import LanePaths

LANE = LaneConfig(name="l", host="127.0.0.1", port=1, served_name="m", source="p.yaml:3")


def test_embedded_model_needs_prepare(tmp_path: Path) -> None:
    with pytest.raises(LaneError, match="run `maestro lane install` then `maestro lane prepare`"):
        resolve(LANE, LanePaths(tmp_path), {})


def test_embedded_model_when_prepared(fake_home: LanePaths) -> None:
    assert resolve(LANE, fake_home, {}) == str(fake_home.models / "smollm2-135m-instruct")


def test_a_missing_model_path(tmp_path: Path) -> None:
    lane = replace(LANE, model=str(tmp_path / "nowhere"))
    with pytest.raises(LaneError, match=r"p.yaml:3: provider 'l' serve.model '.*nowhere' does not exist"):
        resolve(lane, LanePaths(tmp_path), {})


def test_a_model_folder(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    assert resolve(replace(LANE, model=str(tmp_path / "m")), LanePaths(tmp_path), {}) == str(tmp_path / "m")


def test_a_hub_id_must_be_cached(tmp_path: Path) -> None:
    lane = replace(LANE, model="org/model")
    env = {"HF_HOME": str(tmp_path / "hf")}
    with pytest.raises(LaneError, match=r"not in the local Hugging Face cache .* never downloads"):
        resolve(lane, LanePaths(tmp_path), env)
    (tmp_path / "hf" / "hub" / "models--org--model" / "snapshots").mkdir(parents=True)
    assert resolve(lane, LanePaths(tmp_path), env) == "org/model"


def test_hub_cache_locations(tmp_path: Path) -> None:
    assert hub_cache({"HF_HUB_CACHE": "/a"}) == Path("/a")
    assert hub_cache({"XDG_CACHE_HOME": "/c"}) == Path("/c/huggingface/hub")


def test_default_paths() -> None:
    assert LanePaths.default({"XDG_CACHE_HOME": "/c"}).venv == Path("/c/maestro/lane/venv")
    assert LanePaths.default({"MAESTRO_LANE_HOME": "/h"}).log("x") == Path("/h/run/x.log")
