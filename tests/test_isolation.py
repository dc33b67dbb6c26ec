"""The suite's own guards: no Hypothesis deadline, no write into the user's cache, the lane opt-out wherever a
lane test lives, and stopping only the processes a test started."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.lane import pids_mentioning, stop_processes_mentioning
from hypothesis import HealthCheck, settings

from maestro.cli.app import log_path
from maestro.lane.paths import LanePaths

ROOT = Path(__file__).resolve().parents[1]


def test_the_default_hypothesis_profile_has_no_deadline() -> None:
    assert settings.default.deadline is None
    assert HealthCheck.too_slow in settings.default.suppress_health_check


def test_tests_do_not_write_into_the_user_s_cache(
    private_cache: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    base = tmp_path_factory.getbasetemp()
    assert Path(os.environ["XDG_CACHE_HOME"]) == private_cache and private_cache.is_relative_to(base)
    assert log_path().is_relative_to(base)  # the CLI's error log
    if "MAESTRO_LANE_HOME" not in os.environ:
        assert LanePaths.default().root.is_relative_to(base)  # the lane's virtualenv and models


def test_a_lane_test_outside_tests_lane_is_skipped_by_the_opt_out() -> None:
    # the README's lane job lives in tests/test_docs.py: run on its own, it once installed the real lane
    lane_job = "tests/test_docs.py::test_the_readme_main_job_brings_the_lane_up_asks_it_and_gates_an_eval_on_it"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs", lane_job],
        check=False,
        capture_output=True,
        text=True,
        env={**os.environ, "MAESTRO_LANE_TESTS": "0"},
        cwd=ROOT,
        timeout=300,
    )
    assert "1 skipped" in result.stdout and "MAESTRO_LANE_TESTS=0 skips it" in result.stdout, result.stdout


def test_stopping_a_test_s_processes_leaves_the_others_alone(tmp_path: Path) -> None:
    mine = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", str(tmp_path / "mine")])
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", str(tmp_path / "other")])
    try:
        assert pids_mentioning(str(tmp_path / "mine")) == [mine.pid]
        assert stop_processes_mentioning(str(tmp_path / "mine"), grace_s=10) == [mine.pid]
        assert mine.wait(10) == -15  # SIGTERM
        assert other.poll() is None
    finally:
        other.kill()
        other.wait(10)
        mine.kill()
