"""Fixtures and hooks shared by every test: the Hypothesis profile, the lane opt-out, a private cache."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import postgres
from helpers.repo import EXAMPLE_DIRS
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parents[1]

# A loaded machine (two cores, other jobs) makes an example slow now and then: no deadline and no "too slow"
# health check; each test keeps its own number of examples. HYPOTHESIS_PROFILE=default restores Hypothesis's.
settings.register_profile("maestro", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "maestro"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``lane`` install and run the real vLLM lane (minutes; `.ci/run` runs them): MAESTRO_LANE_TESTS=0
    skips them for a quick local run, wherever they are (here, not in tests/lane/, so that a run of one file
    outside tests/lane/ honours it too)."""
    if os.environ.get("MAESTRO_LANE_TESTS") != "0":
        return
    skip = pytest.mark.skip(reason="the real vLLM lane: MAESTRO_LANE_TESTS=0 skips it")
    for item in items:
        if item.get_closest_marker("lane"):
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def private_cache(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Tests write no file into the user's own cache (``~/.cache/maestro``: the lane home, the CLI's error log):
    XDG_CACHE_HOME points into the test run's temporary folder. A test marked ``lane`` asks for the real cache
    (the lane virtualenv and model take minutes to build) and keeps the user's."""
    if request.node.get_closest_marker("lane"):
        yield Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        return
    cache = tmp_path_factory.getbasetemp() / "xdg-cache"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(cache))
        yield cache


@pytest.fixture
def example_repo(tmp_path: Path) -> Path:
    """A throwaway copy of the example repository (manifests/ and policies/) to break at will."""
    for name in EXAMPLE_DIRS:
        shutil.copytree(ROOT / name, tmp_path / name)
    return tmp_path


@pytest.fixture(autouse=True)
def fake_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """The eval test repository's provider (helpers.eval_repo) names $FAKE_API_KEY, and maestro never calls a
    provider whose key is unset."""
    monkeypatch.setenv("FAKE_API_KEY", "sk-fake-eval-key-0001")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """One real PostgreSQL server for the session (helpers.postgres); skipped where it is not installed."""
    with postgres.server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def state_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The state store on each backend: a SQLite file, and a fresh database on the real PostgreSQL server."""
    if request.param == "sqlite":
        return str(tmp_path / ".maestro" / "state.db")
    return postgres.new_database(request.getfixturevalue("postgres_server"))
