"""--executor ray against a local one-node Ray cluster started by the test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers.cli import run_cli
from helpers.eval_repo import suite, write
from helpers.eval_upstream import serve
from helpers.evals import card, user_text

ray = pytest.importorskip("ray", reason="Ray is not installed: pip install '.[ray]'")

CASES = "    inline:\n" + "\n".join(f"      - {{id: c{i}, input: 'q {i}', expected: ok}}" for i in range(8)) + "\n"


@pytest.fixture(scope="module")
def cluster() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield
    finally:
        ray.shutdown()


def answer(body: dict[str, Any]) -> str | tuple[int, str]:
    return (500, "no") if user_text(body) == "q 7" else "ok"


def test_cases_are_generated_on_ray_actors_and_cached_on_the_driver(repo: Path, cluster: None) -> None:
    with serve(answer) as up:
        write(repo, up.url, suite("spread", CASES, "    - {name: right, type: equals}\n"))
        result = run_cli("eval", "--executor", "ray", "--concurrency", "2")
        assert result.exit_code == 1  # case c7 got no answer from any deployment
        assert up.requests == 8
        data = card(repo, "spread")
        assert data["calls"]["generated"] == 7 and data["calls"]["workers"] == 2  # two actor processes
        assert [c["id"] for c in data["cases"] if c["passed"]] == [f"c{i}" for i in range(7)]
        (problem,) = data["problems"]
        assert problem["kind"] == "target" and problem["line"] == 15
        assert problem["message"].startswith("every deployment of route 'chat-route' failed: fake: HTTP 500")
        again = run_cli("eval", "--executor", "ray", "--concurrency", "2")
        assert again.exit_code == 1 and up.requests == 9  # only the failed case is tried again
    assert card(repo, "spread")["calls"]["generationsCached"] == 7


def test_an_unknown_executor_is_a_usage_error(repo: Path) -> None:
    with serve(answer) as up:
        write(repo, up.url, suite("spread", CASES, "    - {name: right, type: equals}\n"))
        result = run_cli("eval", "--executor", "spark")
    assert result.exit_code == 2 and "unknown executor 'spark'; use local or ray" in result.output
