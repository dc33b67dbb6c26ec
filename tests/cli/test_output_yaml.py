"""`-o yaml`: every command offering it prints, as YAML, exactly the data `-o json` prints."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from helpers.cli import run_cli
from helpers.eval_repo import suite, write
from helpers.gateway import environ, two_up
from helpers.lane import write_repo

from maestro.manifests import yamlio

ROOT = Path(__file__).resolve().parents[2]
REQUEST = {"model": "chat", "request_id": "p", "caller": "web", "messages": [{"role": "user", "content": "Hours?"}]}


def same_as_json(*args: str, code: int = 0, measured: str = "") -> Any:
    """Run ``maestro ARGS -o json`` and ``-o yaml``; the YAML must parse back to what the JSON holds (but
    for a ``measured`` field of each row, such as a latency, that differs between two runs)."""
    as_json = run_cli(*args, "-o", "json")
    as_yaml = run_cli(*args, "-o", "yaml")
    assert as_json.exit_code == code, as_json.output
    assert as_yaml.exit_code == code, as_yaml.output
    data = json.loads(as_json.output)
    assert _without(_yaml_data(as_yaml.output), measured) == _without(data, measured)
    assert not as_yaml.output.lstrip().startswith(("{", "[")), "block style, not JSON"
    return data


def _without(data: Any, field: str) -> Any:
    if not field:
        return data
    assert all(isinstance(row[field], float) for row in data)
    return [{k: v for k, v in row.items() if k != field} for row in data]


def _yaml_data(text: str) -> Any:
    (doc,) = yamlio.parse(text, yamlio.Limits(max_bytes=1 << 26, max_nodes=10_000_000))
    return doc.data


@pytest.fixture
def repo(example_repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(example_repo)
    return example_repo


def test_validate_report_clean_and_with_findings(repo: Path) -> None:
    clean = same_as_json("validate", "--no-ledger")
    assert clean["summary"]["errors"] == 0
    routes = repo / "manifests" / "routes.yaml"
    routes.write_text(routes.read_text(encoding="utf-8").replace("weight:", "wieght:", 1), encoding="utf-8")
    broken = same_as_json("validate", "--no-ledger", code=1)
    assert any("wieght" in d["message"] for d in broken["diagnostics"])


def test_explain_and_a_decision_trace(repo: Path, tmp_path: Path) -> None:
    explained = same_as_json("explain", "Route/support-chat")
    assert explained["explanations"][0]["ref"] == "Route/support-chat"
    request = tmp_path / "request.json"
    request.write_text(json.dumps(REQUEST), encoding="utf-8")
    traced = same_as_json("explain", "Route/support-chat", "--request", str(request))
    assert traced["route"] == "support-chat"


def test_diff_of_two_folders(repo: Path, tmp_path: Path) -> None:
    old = tmp_path / "old"
    shutil.copytree(repo / "manifests", old)
    routes = repo / "manifests" / "routes.yaml"
    routes.write_text(routes.read_text(encoding="utf-8").replace("weight: 90", "weight: 50", 1), encoding="utf-8")
    changed = same_as_json("diff", str(old), str(repo / "manifests"))
    assert changed["changes"], changed


def test_route_simulate(repo: Path) -> None:
    rows = same_as_json("route", "simulate", "-r", str(ROOT / "examples" / "requests.jsonl"))
    assert rows


def test_ledger_show_is_one_document_per_entry(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path.parent / f"{tmp_path.name}-config"))
    monkeypatch.delenv("MAESTRO_LEDGER_KEY", raising=False)
    assert run_cli("keys", "init", "--name", "alice").exit_code == 0
    assert run_cli("validate").exit_code == 0
    assert run_cli("validate").exit_code == 0
    as_json = run_cli("ledger", "show", "-o", "json")
    as_yaml = run_cli("ledger", "show", "-o", "yaml")
    assert as_json.exit_code == as_yaml.exit_code == 0, as_yaml.output
    lines = [json.loads(line) for line in as_json.output.splitlines()]
    docs = [d.data for d in yamlio.parse(as_yaml.output, yamlio.Limits())]
    assert len(lines) == 2 and docs == lines


def test_ledger_show_on_a_new_repository_prints_nothing_in_either(repo: Path) -> None:
    assert run_cli("ledger", "show", "-o", "yaml").output == run_cli("ledger", "show", "-o", "json").output == ""


def test_eval_plan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    dataset = "    inline:\n" + "\n".join(f"      - {{id: c{i}, input: 'q {i}', expected: a}}" for i in range(4)) + "\n"
    write(tmp_path, "http://127.0.0.1:9/v1", suite("refunds", dataset, "    - {name: has-a, type: contains}\n"))
    plans = same_as_json("eval", "plan", "refunds")
    assert plans[0]["cases"] == 4


def test_lane_status(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(write_repo(tmp_path / "repo"))
    (row,) = same_as_json("lane", "status")
    assert row["name"] == "lane-a" and not row["running"]


def test_providers_status(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in environ().items():
        monkeypatch.setenv(name, value)
    with two_up(tmp_path) as rig:
        rows = same_as_json(
            "providers",
            "status",
            "-m",
            str(rig.repo / "manifests"),
            "-m",
            str(rig.repo / "policies"),
            measured="latency_ms",
        )
    assert {r["provider"] for r in rows} == {"alpha", "beta"}


@pytest.mark.parametrize(
    "data",
    [
        {"z": 1, "a": [{"b": "yes", "c": "1.0", "d": None, "e": "é"}], "f": "two\nlines\n", "g": "  odd\n\n"},
        [{"on": "off", "n": "null", "t": "2024-01-01", "x": 1.5, "y": -0.0, "k": "#x", "l": "a: b"}, [], {}],
        "plain",
    ],
)
def test_dump_round_trips_in_the_given_key_order(data: Any) -> None:
    text = yamlio.dump(data)
    back = _yaml_data(text)
    assert back == data
    assert json.dumps(back) == json.dumps(data)  # the key order too


def test_dump_all_writes_one_document_each() -> None:
    assert [d.data for d in yamlio.parse(yamlio.dump_all([{"a": 1}, {"b": [2]}]), yamlio.Limits())] == [
        {"a": 1},
        {"b": [2]},
    ]
    assert yamlio.dump_all([]) == ""
