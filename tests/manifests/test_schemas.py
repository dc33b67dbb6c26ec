"""maestro.manifests.schemas: each kind's schema, and findings that say where and what to do."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from helpers.cli import run_cli
from helpers.repo import EXAMPLE_DIRS, Break, example_paths

from maestro.manifests import yamlio
from maestro.manifests.diagnostics import Diagnostic
from maestro.manifests.loader import SourceFile, discover, load
from maestro.manifests.schemas import KINDS, SchemaSet
from maestro.report.diagnostics import FORMATS

ROOT = Path(__file__).resolve().parents[2]
SECRET = "sk-live-9f8e7d6c5b4a39281706f5e4d3c2b1a0"
LITERAL_KEY = Break("manifests/providers.yaml", "apiKey: {env: OPENAI_API_KEY}", f"apiKey: {SECRET}", SECRET)
QUOTED_KEY = Break("manifests/providers.yaml", "apiKey: {env: ANTHROPIC_API_KEY}", f'apiKey: "{SECRET}"  # x', SECRET)


@pytest.fixture(scope="module")
def schemas() -> SchemaSet:
    return SchemaSet()


def example_documents() -> list[yamlio.ParsedDocument]:
    paths = discover(ROOT / d for d in EXAMPLE_DIRS)
    return [doc for p in paths for doc in yamlio.parse(p.read_text(encoding="utf-8"), yamlio.Limits())]


def schema_diagnostics(repo: Path, brk: Break, schemas: SchemaSet) -> tuple[tuple[int, int], list[Diagnostic]]:
    """Apply ``brk`` and schema-check the one file it touched; return where it landed and the findings."""
    where = brk.apply(repo)
    path = repo / brk.file
    result = load([SourceFile(brk.file, path.read_bytes(), str(path.parent))], schemas)
    return where, result.diagnostics


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_accepts_its_example_documents(kind: str, schemas: SchemaSet) -> None:
    docs = [d for d in example_documents() if d.data["kind"] == kind]
    assert docs, f"the example repository has no {kind}"
    for doc in docs:
        assert schemas.check(doc.data) == [], doc.data["metadata"]["name"]


# (file, key, typo): the first "  key:" of the file becomes "  typo:".
TYPOS = [
    pytest.param("manifests/providers.yaml", "region", "regoin", id="Provider"),
    pytest.param("manifests/routes.yaml", "objective", "objectve", id="Route"),
    pytest.param("policies/default.yaml", "unknownTags", "unknownTag", id="Policy"),
    pytest.param("manifests/autonomy.yaml", "description", "descripton", id="AutonomyLevel"),
    pytest.param("manifests/agents.yaml", "limits", "limit", id="Agent"),
    pytest.param("manifests/pipelines.yaml", "start", "strat", id="Pipeline"),
    pytest.param("manifests/evals.yaml", "repeats", "repeat", id="EvalSuite"),
    pytest.param("manifests/rollouts.yaml", "evalSuite", "evalSuit", id="Rollout"),
    pytest.param("manifests/providers.yaml", "maxOutputTokens", "maxOutputToken", id="in-a-list-item"),
    pytest.param("manifests/routes.yaml", "description", "descriptoin", id="in-metadata"),
    # A misspelt required key is one mistake: the unknown key with its hint, not also "missing 'alias'".
    pytest.param("manifests/routes.yaml", "alias", "alais", id="a-required-key"),
    pytest.param("manifests/agents.yaml", "route", "rout", id="a-required-key-of-an-agent"),
    pytest.param("manifests/autonomy.yaml", "level", "levle", id="a-required-key-of-a-level"),
]


@pytest.mark.parametrize(("file", "key", "typo"), TYPOS)
def test_a_typo_is_an_unknown_key_with_a_hint_at_the_key(
    example_repo: Path, schemas: SchemaSet, file: str, key: str, typo: str
) -> None:
    where, found = schema_diagnostics(example_repo, Break(file, f"  {key}:", f"  {typo}:", typo), schemas)
    assert [(d.rule, (d.line, d.column)) for d in found] == [("schema.unknown-key", where)]
    assert f"unknown key '{typo}'" in found[0].message
    assert f"did you mean '{key}'?" in found[0].message


BROKEN = [
    pytest.param(
        Break("manifests/routes.yaml", "spec:\n  alias: chat\n", "spec:\n", "spec"),
        "schema.required",
        "spec is missing the required key 'alias'",
        id="missing-required",
    ),
    pytest.param(
        Break(
            "manifests/providers.yaml",
            "  - name: gpt-4o-mini\n      contextWindow: 128000\n",
            "  - name: gpt-4o-mini\n",
            "name",
        ),
        "schema.required",
        "spec.models[0] is missing the required key 'contextWindow'",
        id="missing-required-in-a-list",
    ),
    pytest.param(
        Break("manifests/providers.yaml", "dataRetentionDays: 30 ", "dataRetentionDays: '30' ", "'30'"),
        "schema.type",
        "spec.dataRetentionDays must be an integer, not a string",
        id="wrong-type",
    ),
    pytest.param(
        Break("manifests/agents.yaml", "autonomyLevel: L2", "autonomyLevel: [L2]", "[L2]"),
        "schema.type",
        "spec.autonomyLevel must be a string, not a list",
        id="mapping-for-a-list",
    ),
    pytest.param(
        Break("manifests/providers.yaml", "type: openai\n", "type: opanai\n", "opanai"),
        "schema.value",
        "spec.type is 'opanai'; did you mean 'openai'?",
        id="enum-did-you-mean",
    ),
    pytest.param(
        Break("manifests/autonomy.yaml", "allowedWithoutApproval: [read]", "allowedWithoutApproval: [reed]", "reed"),
        "schema.value",
        "spec.allowedWithoutApproval[0] is 'reed'; did you mean 'read'?",
        id="enum-in-a-list",
    ),
    pytest.param(
        Break("policies/default.yaml", "onExceed: downgrade", "onExceed: explode", "explode"),
        "schema.value",
        "allowed: block, downgrade, alert",
        id="enum-no-close-match",
    ),
    pytest.param(
        Break("manifests/pipelines.yaml", "timeout: 4h", "timeout: 4 hours", "4 hours"),
        "schema.format",
        "spec.steps[2].approval.timeout does not have the expected form",
        id="duration",
    ),
    pytest.param(
        Break("manifests/routes.yaml", "weight: 90}", "weight: 900}", "900"),
        "schema.range",
        "spec.candidates[0].weight: must be at most 100",
        id="out-of-range",
    ),
    pytest.param(
        Break("manifests/routes.yaml", "kind: Route", "kind: Rotue", "Rotue"),
        "schema.kind",
        "unknown kind 'Rotue'; did you mean 'Route'?",
        id="kind-typo",
    ),
    pytest.param(
        Break("manifests/routes.yaml", "kind: Route", "kind: route", "route"),
        "schema.kind",
        "unknown kind 'route'; did you mean 'Route'?",
        id="kind-lower-case",
    ),
    pytest.param(
        Break("manifests/routes.yaml", "kind: Route", "kind: Banana", "Banana"),
        "schema.kind",
        "use one of: Provider, Route, Policy, AutonomyLevel, Agent, Pipeline, EvalSuite, Rollout",
        id="kind-unknown",
    ),
    pytest.param(
        Break("manifests/routes.yaml", "apiVersion: maestro.dev/v1", "apiVersion: maestro.dev/v2", "maestro.dev/v2"),
        "schema.api-version",
        "apiVersion is 'maestro.dev/v2'; set apiVersion: maestro.dev/v1",
        id="api-version-wrong",
    ),
    pytest.param(
        Break("manifests/routes.yaml", "apiVersion: maestro.dev/v1\nkind", "kind", "kind"),
        "schema.api-version",
        "apiVersion is missing",
        id="api-version-missing",
    ),
    pytest.param(
        Break("manifests/providers.yaml", "type: openai\n", "type: openai\n  serve: {model: x}\n", "{model"),
        "schema.variant",
        "`serve` is only allowed on providers of type `vllm`",
        id="serve-on-openai",
    ),
    pytest.param(
        Break("manifests/agents.yaml", "", "- apiVersion: maestro.dev/v1\n- kind: Agent\n", "- apiVersion"),
        "schema.not-a-mapping",
        "a manifest must be a mapping",
        id="document-is-a-list",
    ),
    pytest.param(
        Break("manifests/agents.yaml", "", "just some text\n", "just"),
        "schema.not-a-mapping",
        "a manifest must be a mapping",
        id="document-is-a-string",
    ),
]


@pytest.mark.parametrize(("brk", "rule", "says"), BROKEN)
def test_a_schema_problem_has_its_rule_place_and_fix(
    example_repo: Path, schemas: SchemaSet, brk: Break, rule: str, says: str
) -> None:
    where, found = schema_diagnostics(example_repo, brk, schemas)
    assert [(d.rule, (d.line, d.column)) for d in found] == [(rule, where)]
    assert says in found[0].message


def test_serve_moves_with_the_type(example_repo: Path, schemas: SchemaSet) -> None:
    """The local lane's serve block is fine while it is vllm, and refused at the block once it is not."""
    where, found = schema_diagnostics(
        example_repo, Break("manifests/providers.yaml", "type: vllm", "type: nim", "nim"), schemas
    )
    assert [d.rule for d in found] == ["schema.variant"]
    assert found[0].path == "spec.serve"
    assert found[0].line > where[0]


def test_every_problem_of_a_document_is_reported(example_repo: Path, schemas: SchemaSet) -> None:
    Break("manifests/providers.yaml", "  region: us\n", "  regoin: us\n", "regoin").apply(example_repo)
    _, found = schema_diagnostics(
        example_repo, Break("manifests/providers.yaml", "type: openai\n", "type: opanai\n", "opanai"), schemas
    )
    assert sorted(d.rule for d in found) == ["schema.unknown-key", "schema.value"]


def test_a_literal_api_key_is_secret_inline(example_repo: Path, schemas: SchemaSet) -> None:
    where, found = schema_diagnostics(example_repo, LITERAL_KEY, schemas)
    assert [(d.rule, (d.line, d.column), d.path) for d in found] == [("secret.inline", where, "spec.apiKey")]
    assert "{env: YOUR_API_KEY}" in found[0].message


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_literal_api_key_never_reaches_any_output(
    example_repo: Path, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    LITERAL_KEY.apply(example_repo)
    QUOTED_KEY.apply(example_repo)
    monkeypatch.chdir(example_repo)
    result = run_cli("validate", "--format", fmt, *map(str, example_paths(example_repo)))
    assert result.exit_code == 1
    assert result.output.count("secret.inline") >= 2
    assert SECRET not in result.output
    assert SECRET[:12] not in result.output


def test_the_secret_finding_is_kept_and_its_line_redacted(example_repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Structured formats still carry the finding, so CI can act on it; text shows the line up to the secret."""
    LITERAL_KEY.apply(example_repo)
    monkeypatch.chdir(example_repo)
    found = json.loads(run_cli("validate", "-f", "json").output)["diagnostics"]
    assert [d["rule"] for d in found if d["severity"] == "error"] == ["secret.inline"]
    sarif = json.loads(run_cli("validate", "-f", "sarif").output)
    assert [r["ruleId"] for r in sarif["runs"][0]["results"] if r["level"] == "error"] == ["secret.inline"]
    junit = ET.fromstring(run_cli("validate", "-f", "junit").output)
    assert [f.get("type") for f in junit.iter("failure")] == ["secret.inline"]
    text = run_cli("validate").output
    assert "    apiKey: <redacted>\n              ^\n" in text
