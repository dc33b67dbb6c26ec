"""Datasets: JSONL and CSV files next to the manifest, each bad row reported with its line, the rest kept."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.cli import run_cli
from helpers.eval_repo import suite, write
from helpers.eval_upstream import serve
from helpers.evals import card, user_text

ASSERT = "    - {name: echo, type: contains}\n"


def echo(body: dict[str, object]) -> str:
    return f"you said: {user_text(body)}"  # type: ignore[arg-type]


def run_with(repo: Path, name: str, raw: bytes) -> tuple[int, str, int]:
    with serve(echo) as up:
        write(repo, up.url, suite("ds", f"    file: data/{name}\n", ASSERT))
        (repo / "manifests" / "data").mkdir(exist_ok=True)
        (repo / "manifests" / "data" / name).write_bytes(raw)
        result = run_cli("eval")
        return result.exit_code, result.output, up.requests


def test_jsonl_rows_keep_their_line_and_a_broken_row_is_reported(repo: Path) -> None:
    raw = (
        b'{"id": "a", "input": "alpha", "expected": "alpha"}\n'
        b"\n"
        b'{"id": "b", "input": "beta", "expected": "beta"\n'  # line 3: not JSON
        b'{"id": "c", "expected": "gamma"}\n'  # line 4: no input
        b'{"id": "a", "input": "again", "expected": "again"}\n'  # line 5: duplicate id
        b'{"id": "d", "input": "delta", "expected": "delta", "extra": 1}\n'  # line 6: unknown field
        b'{"id": "e", "input": "eps\xff", "expected": "x"}\n'  # line 7: not UTF-8
        b'{"id": "f", "input": "phi", "expected": "phi"}\n'
    )
    code, output, requests = run_with(repo, "cases.jsonl", raw)
    assert code == 1 and requests == 2
    data = card(repo, "ds")
    assert [(c["id"], c["line"], c["passed"]) for c in data["cases"]] == [("a", 1, True), ("f", 8, True)]
    problems = {p["line"]: p["message"] for p in data["problems"]}
    assert set(problems) == {3, 4, 5, 6, 7}
    assert problems[3].startswith("not valid JSON at column")
    assert "'input' is a required property" in problems[4]
    assert "already used on line 1" in problems[5]
    assert "'extra' was unexpected" in problems[6]
    assert problems[7].startswith("not UTF-8 at column")
    assert "manifests/data/cases.jsonl:3: case 'line-3': not valid JSON" in output


def test_csv_rows_with_vars_and_context_columns(repo: Path) -> None:
    raw = (
        b"id,input,expected,context,vars.lang\n"
        b'x,"hello, world",hello,"[""a"", ""b""]",en\n'
        b"y,bonjour,bonjour,plain context,fr\n"
    )
    code, _, requests = run_with(repo, "cases.csv", raw)
    assert code == 0 and requests == 2
    assert [(c["id"], c["line"]) for c in card(repo, "ds")["cases"]] == [("x", 2), ("y", 3)]


def test_a_csv_with_a_bad_encoding_reports_the_row_and_keeps_the_others(repo: Path) -> None:
    raw = b"id,input,expected\nok1,fine,fine\n" + b"bad,caf\xe9,cafe\n" + b"ok2,good,good\n"
    code, output, requests = run_with(repo, "cases.csv", raw)
    assert code == 1 and requests == 2
    data = card(repo, "ds")
    assert [p["line"] for p in data["problems"]] == [3]
    assert "column 'input' is not UTF-8 text" in data["problems"][0]["message"]
    assert "manifests/data/cases.csv:3:" in output
    assert [c["id"] for c in data["cases"]] == ["ok1", "ok2"]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"id,expected\nq,a\n", "no 'input' column"),
        (b"input,expected,notes\nq,a,n\n", "unknown column(s) notes"),
    ],
)
def test_a_csv_header_that_cannot_work_is_a_usage_error(repo: Path, raw: bytes, message: str) -> None:
    code, output, requests = run_with(repo, "cases.csv", raw)
    assert code == 2 and message in output and requests == 0


def test_a_missing_dataset_file_is_found_by_validation_with_its_place(repo: Path) -> None:
    with serve(echo) as up:
        write(repo, up.url, suite("ds", "    file: data/none.jsonl\n", ASSERT))
        result = run_cli("eval")
    assert result.exit_code == 2
    assert "manifests/evals.yaml:7:11: file 'data/none.jsonl' does not exist next to manifests/evals.yaml" in (
        result.output
    )
