"""PR-safe evals: code-running checks need --allow-code, files a suite names stay inside the repository."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from helpers.cli import run_cli
from helpers.eval_repo import suite, write
from helpers.eval_upstream import serve

from maestro.evals.errors import EvalError
from maestro.evals.trust import confined_reader

CASES = "    inline:\n      - {id: c0, input: 'q 0', expected: ok}\n      - {id: c1, input: 'q 1', expected: ok}\n"
PYTHON = "    - {name: custom, type: python, value: 'score.py:check'}\n"


def ok(body: dict[str, Any]) -> str:
    return "ok"


def scorer(repo: Path) -> Path:
    (repo / "manifests").mkdir(exist_ok=True)
    marker = repo / "scorer-ran"
    (repo / "manifests" / "score.py").write_text(
        f"def check(output, case):\n    open({str(marker)!r}, 'w').close()\n    return True\n", encoding="utf-8"
    )
    return marker


def test_a_python_check_is_refused_without_allow_code_before_any_call(repo: Path) -> None:
    marker = scorer(repo)
    with serve(ok) as up:
        write(repo, up.url, suite("s", CASES, PYTHON))
        result = run_cli("eval")
        assert up.requests == 0
    assert result.exit_code == 2
    assert "suite 's' has check(s) that run code from the repository" in result.output, result.output
    assert "'custom' (python, manifests/evals.yaml:12)" in result.output, (
        result.output and "--allow-code" in result.output
    )
    assert not marker.exists()


def test_allow_code_runs_the_python_check(repo: Path) -> None:
    marker = scorer(repo)
    with serve(ok) as up:
        write(repo, up.url, suite("s", CASES, PYTHON))
        result = run_cli("eval", "--allow-code")
        assert up.requests == 2
    assert result.exit_code == 0, result.output
    assert marker.exists()


def test_a_dataset_outside_the_repository_is_refused_at_its_line(repo: Path, tmp_path_factory: Any) -> None:
    secret = tmp_path_factory.mktemp("elsewhere") / "secret.jsonl"
    secret.write_text('{"id": "x", "input": "the machine\'s secret"}\n', encoding="utf-8")
    relative = os.path.relpath(secret, repo / "manifests")
    with serve(ok) as up:
        write(repo, up.url, suite("s", f"    file: {relative}\n", "    - {type: contains}\n"))
        result = run_cli("eval")
        assert up.requests == 0
    assert result.exit_code == 2
    assert "manifests/evals.yaml:7:" in result.output and "outside the repository" in result.output


def test_a_symlinked_prompt_that_leaves_the_repository_is_refused(repo: Path, tmp_path_factory: Any) -> None:
    outside = tmp_path_factory.mktemp("elsewhere") / "hostname"
    outside.write_text("the machine's secret\n", encoding="utf-8")
    (repo / "manifests").mkdir()
    (repo / "manifests" / "prompt.md").symlink_to(outside)
    target = "  target:\n    prompt: {route: chat-route, file: prompt.md, template: '{{input}}'}\n"
    seen: list[str] = []

    def record(body: dict[str, Any]) -> str:
        seen.append(str(body))
        return "ok"

    with serve(record) as up:
        text = suite("s", CASES, "    - {type: contains}\n").replace("  target: {route: chat-route}\n", target)
        write(repo, up.url, text)
        result = run_cli("eval")
        assert up.requests == 0
    assert result.exit_code == 2
    assert "through a symbolic link" in result.output and "outside the repository" in result.output
    assert not any("secret" in s for s in seen)


def test_the_reader_refuses_a_path_outside_even_without_validation(repo: Path) -> None:
    (repo / "manifests").mkdir()
    (repo / "manifests" / "a.txt").write_text("inside", encoding="utf-8")
    assert confined_reader(str(repo / "manifests"), "a.txt") == b"inside"
    assert confined_reader(str(repo / "manifests"), "missing.txt") is None
    with pytest.raises(EvalError, match="outside the repository"):
        confined_reader(str(repo / "manifests"), "../../../../../../etc/hostname")
    with pytest.raises(EvalError, match="absolute path"):
        confined_reader(str(repo / "manifests"), "/etc/hostname")
