"""Fixtures shared by every test."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
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
