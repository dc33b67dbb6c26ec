"""maestro.report.diagnostics: every finding, YAML errors included, in one style; one name per severity."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers.repo import Break, spot

from maestro.manifests.validate import validate
from maestro.report.diagnostics import render

ROUTES = "manifests/routes.yaml"


@pytest.fixture
def repo(example_repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(example_repo)
    return example_repo


@pytest.mark.parametrize(
    ("old", "new", "rule", "marker"),
    [
        pytest.param("  alias: chat\n", "  alias: [chat\n", "yaml.syntax", "", id="unclosed-flow-sequence"),
        pytest.param("  alias: chat\n", "  alias: chat\n\talias: x\n", "yaml.tab", "\talias", id="tab"),
        pytest.param("  alias: chat\n", "  alias: chat\n  alias: x\n", "yaml.duplicate-key", "alias: x", id="dup-key"),
    ],
)
def test_a_yaml_error_shows_the_source_line_and_a_caret(repo: Path, old: str, new: str, rule: str, marker: str) -> None:
    Break(ROUTES, old, new).apply(repo)
    result = validate([repo / "manifests", repo / "policies"])
    (found,) = [d for d in result.diagnostics if d.rule == rule]
    if marker:
        assert (found.line, found.column) == spot(repo / ROUTES, marker)
    lines = render("text", result.diagnostics, result.summary, result.manifests.locator.texts).splitlines()
    i = lines.index(next(x for x in lines if x.startswith(f"{ROUTES}:{found.line}:{found.column}: error {rule} ")))
    source = (repo / ROUTES).read_text(encoding="utf-8").splitlines()[found.line - 1]
    assert lines[i + 1] == "    " + source.replace("\t", " ")
    assert lines[i + 2] == "    " + " " * (found.column - 1) + "^"


def test_info_has_one_name_outside_sarif(repo: Path) -> None:
    result = validate([repo / "manifests"])  # the default-policy and needs-approval findings are info
    assert result.summary.info >= 1
    args = (result.diagnostics, result.summary, result.manifests.locator.texts)
    text = render("text", *args)
    assert text.splitlines()[-1].endswith(f"{result.summary.info} info")
    assert " note" not in text
    summary = json.loads(render("json", *args))["summary"]
    assert summary["info"] == result.summary.info
    assert "infos" not in summary
    sarif = json.loads(render("sarif", *args))
    assert {r["level"] for r in sarif["runs"][0]["results"]} == {"note"}  # SARIF's own name for it
