"""Fixtures: a throwaway lane home whose venv ``python`` is the fake vLLM server, and a lane configured on it."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.lane import FAKE, Lane, config_of, write_repo

from maestro import state
from maestro.lane import lifecycle, process, registry
from maestro.lane.paths import LanePaths


@pytest.fixture
def fake_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LanePaths:
    """A lane home whose venv python runs the fake server; the embedded model counts as prepared."""
    paths = LanePaths(tmp_path / "lane-home")
    paths.python.parent.mkdir(parents=True)
    paths.python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE}" "$@"\n')
    paths.python.chmod(0o755)
    model = paths.models / "smollm2-135m-instruct"
    model.mkdir(parents=True)
    (model / "config.json").write_text("{}")
    (model / "maestro-prepared.json").write_text("{}")
    monkeypatch.setenv("MAESTRO_LANE_HOME", str(paths.root))
    return paths


@pytest.fixture
def lane(tmp_path: Path, fake_home: LanePaths, monkeypatch: pytest.MonkeyPatch) -> Iterator[Lane]:
    """A configured lane on a free port with the fake server; every process it started is gone afterwards."""
    root = write_repo(tmp_path / "repo")
    conn = registry.connect(state.default_path(root))
    env = dict(os.environ)
    made = Lane(root, fake_home, config_of(root), conn, env)
    yield made
    pid = process.read_pid(fake_home.pid(made.config.name))
    if pid is not None:
        lifecycle.down(made.config, fake_home, conn, grace_s=1.0)
    conn.close()
