"""The maestro-validate hook, run by the real pre-commit in a throwaway git repository."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture
def user_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "user"
    shutil.copytree(ROOT / "manifests", repo / "manifests")
    shutil.copytree(ROOT / "policies", repo / "policies")
    git(repo, "init", "-q")
    git(repo, "-c", "user.email=t@example.com", "-c", "user.name=t", "add", ".")
    return repo


def try_repo(repo: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
        "HOME": str(home),
        "PRE_COMMIT_HOME": str(home / "pre-commit"),
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "maestro-validate", "--all-files"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_hook_passes_clean_manifests_and_fails_broken_ones(user_repo: Path, tmp_path: Path):
    home = tmp_path / "home"
    home.mkdir()
    passed = try_repo(user_repo, home)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "maestro validate" in passed.stdout and "Passed" in passed.stdout

    routes = user_repo / "manifests" / "routes.yaml"
    routes.write_text(routes.read_text(encoding="utf-8").replace("weight: 90", "wieght: 90", 1), encoding="utf-8")
    git(user_repo, "add", ".")
    failed = try_repo(user_repo, home)
    assert failed.returncode == 1
    assert "schema.unknown-key" in failed.stdout
    assert "did you mean 'weight'?" in failed.stdout
