"""Fixtures shared by every test."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import postgres
from helpers.repo import EXAMPLE_DIRS

ROOT = Path(__file__).resolve().parents[1]


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
