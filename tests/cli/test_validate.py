"""maestro validate: exit codes, every output format, and the default paths."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from helpers.cli import run_cli
from helpers.repo import Break, example_paths, spot

import maestro.cli.validate
from maestro.manifests.loader import discover
from maestro.report.diagnostics import FORMATS

UNKNOWN_MODEL = Break("manifests/routes.yaml", "model: gpt-4o-mini, weight: 90", "model: gpt-4o-mni, weight: 90")


@pytest.fixture
def repo(example_repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(example_repo)
    return example_repo


@pytest.fixture
def broken(repo: Path) -> Path:
    """The example with one error: a model its provider does not offer."""
    UNKNOWN_MODEL.apply(repo)
    return repo


def where_broken(repo: Path) -> tuple[int, int]:
    return spot(repo / UNKNOWN_MODEL.file, "gpt-4o-mni")


# How each format marks an error finding.
ERROR_MARK = {
    "text": ": error ",
    "json": '"severity": "error"',
    "sarif": '"level": "error"',
    "junit": "<failure",
    "github": "::error ",
}


def test_every_format_has_an_error_mark() -> None:
    assert set(ERROR_MARK) == set(FORMATS)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_clean_repository_exits_0_in_every_format(repo: Path, fmt: str) -> None:
    result = run_cli("validate", "--format", fmt)
    assert result.exit_code == 0, result.output
    assert ERROR_MARK[fmt] not in result.output


@pytest.mark.parametrize("fmt", FORMATS)
def test_findings_exit_1_in_every_format(broken: Path, fmt: str) -> None:
    result = run_cli("validate", "--format", fmt)
    assert result.exit_code == 1
    assert ERROR_MARK[fmt] in result.output
    assert "ref.model" in result.output


@pytest.mark.parametrize(
    ("args", "says"),
    [
        pytest.param(("validate", "no/such/folder"), "no such file or directory", id="missing-path"),
        pytest.param(("validate", "--format", "toml"), "unknown format 'toml'", id="bad-format"),
        pytest.param(("validate", "--max-file-size", "0"), "--max-file-size", id="bad-size"),
        pytest.param(("validate", "--no-such-option"), "No such option", id="bad-option"),
    ],
)
def test_usage_errors_exit_2(repo: Path, args: tuple[str, ...], says: str) -> None:
    result = run_cli(*args)
    assert result.exit_code == 2
    assert says in result.output
    assert "Traceback" not in result.output


def test_an_internal_error_exits_3_with_a_short_message_and_a_log(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the validator fell over")

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(maestro.cli.validate, "validate", explode)
    result = run_cli("validate")
    log = tmp_path / "cache" / "maestro" / "last-error.log"
    assert result.exit_code == 3
    assert "internal error: RuntimeError: the validator fell over" in result.output
    assert str(log) in result.output
    assert "Traceback" not in result.output
    assert len(result.output.splitlines()) <= 3
    assert "Traceback" in log.read_text(encoding="utf-8")
    assert "the validator fell over" in log.read_text(encoding="utf-8")


def test_json_lists_each_diagnostic_and_a_summary(broken: Path) -> None:
    report = json.loads(run_cli("validate", "--format", "json").output)
    errors = [d for d in report["diagnostics"] if d["severity"] == "error"]
    assert [(d["file"], d["line"], d["column"], d["rule"]) for d in errors] == [
        ("manifests/routes.yaml", *where_broken(broken), "ref.model")
    ]
    for d in report["diagnostics"]:
        assert {"file", "line", "column", "severity", "rule", "message"} <= set(d)
    assert report["summary"]["errors"] == 1
    assert report["summary"]["ok"] is False
    assert report["summary"]["files"] == len(discover(example_paths(broken)))


def test_sarif_is_2_1_0_with_rules_and_regions(broken: Path) -> None:
    sarif = json.loads(run_cli("validate", "--format", "sarif").output)
    assert sarif["version"] == "2.1.0"
    run = sarif["runs"][0]
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert "ref.model" in rule_ids
    (error,) = [r for r in run["results"] if r["level"] == "error"]
    assert error["ruleId"] == "ref.model"
    assert rule_ids[error["ruleIndex"]] == "ref.model"
    location = error["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "manifests/routes.yaml"
    line, column = where_broken(broken)
    assert location["region"] == {"startLine": line, "startColumn": column}


def test_junit_has_a_case_per_file_and_counts_failures(broken: Path) -> None:
    Break("manifests/rollouts.yaml", "- analysis: health", "- analysis: helth").apply(broken)
    suites = ET.fromstring(run_cli("validate", "--format", "junit").output)
    suite = suites.find("testsuite")
    assert suite is not None
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert set(cases) >= {"manifests/routes.yaml", "manifests/rollouts.yaml", "policies/default.yaml"}
    failed = sorted(name for name, case in cases.items() if case.find("failure") is not None)
    assert failed == ["manifests/rollouts.yaml", "manifests/routes.yaml"]
    assert suite.get("failures") == "2"
    assert suite.get("tests") == str(len(cases))


def test_github_annotations(broken: Path) -> None:
    lines = run_cli("validate", "--format", "github").output.splitlines()
    line, column = where_broken(broken)
    errors = [x for x in lines if x.startswith("::error ")]
    assert errors == [
        f"::error file=manifests/routes.yaml,line={line},col={column},title=ref.model::"
        "provider 'openai-us' does not offer model 'gpt-4o-mni'; did you mean 'gpt-4o-mini'?"
    ]
    assert all(x.startswith("::") for x in lines[:-1])
    assert lines[-1].startswith("failed:")


def test_text_shows_the_place_and_a_caret(broken: Path) -> None:
    lines = run_cli("validate").output.splitlines()
    line, column = where_broken(broken)
    head = f"manifests/routes.yaml:{line}:{column}: error ref.model "
    (i,) = [n for n, x in enumerate(lines) if x.startswith(head)]
    source = (broken / "manifests/routes.yaml").read_text(encoding="utf-8").splitlines()[line - 1]
    assert lines[i + 1] == f"    {source}"
    assert lines[i + 2] == "    " + " " * (column - 1) + "^"
    assert lines[i + 1][4 + column - 1 :].startswith("gpt-4o-mni")
    assert lines[-1].startswith("failed: ")
    assert "1 error(s)" in lines[-1]


def test_output_goes_to_a_file(broken: Path, tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    result = run_cli("validate", "--format", "json", "--out-file", str(target))
    assert result.exit_code == 1
    assert result.output == ""
    assert json.loads(target.read_text(encoding="utf-8"))["summary"]["errors"] == 1


def test_max_file_size_is_a_finding_per_file(repo: Path) -> None:
    result = run_cli("validate", "--max-file-size", "100", "--format", "json")
    assert result.exit_code == 1
    found = [(d["file"], d["rule"]) for d in json.loads(result.output)["diagnostics"]]
    files = [str(p.relative_to(repo)) for p in discover(example_paths(repo))]
    assert found == [(f, "file.too-large") for f in files] + [(".", "set.no-documents")]


@pytest.mark.parametrize("where", [".", "manifests", "manifests/prompts"])
def test_no_paths_means_manifests_and_policies_of_the_repository(
    repo: Path, where: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo / where)
    result = run_cli("validate", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["summary"]["files"] == len(discover(example_paths(repo)))


def test_no_paths_in_an_empty_folder_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = run_cli("validate")
    assert result.exit_code == 2
    assert "maestro init" in result.output
    assert "Traceback" not in result.output


def test_named_paths_are_validated_alone(broken: Path) -> None:
    """Naming only policies/ leaves the broken route out, and then there is nothing to resolve."""
    assert run_cli("validate", "policies").exit_code == 0
    assert run_cli("validate", "manifests/routes.yaml", "manifests/providers.yaml").exit_code == 1


def test_worker_processes_report_exactly_what_one_process_reports(broken: Path) -> None:
    one = run_cli("validate", "--no-ledger", "--json", "--jobs", "1")
    two = run_cli("validate", "--no-ledger", "--json", "-j", "2")
    assert one.exit_code == two.exit_code == 1, two.output
    assert json.loads(two.output) == json.loads(one.output)
    assert any(d["rule"] == "ref.model" for d in json.loads(one.output)["diagnostics"])
    assert run_cli("validate", "--jobs", "0").exit_code == 2
