"""maestro.manifests.checks: the example repository passes, and each broken copy of it fails in one place."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from helpers.cli import run_cli
from helpers.repo import Break, example_paths, spot

from maestro.manifests.diagnostics import Severity
from maestro.manifests.schemas import KINDS
from maestro.manifests.validate import BUILTIN_POLICY, ValidationResult, validate

ROUTES, PROVIDERS, POLICY = "manifests/routes.yaml", "manifests/providers.yaml", "policies/default.yaml"
AUTONOMY, PIPELINES = "manifests/autonomy.yaml", "manifests/pipelines.yaml"
ROLLOUTS, EVALS, AGENTS = "manifests/rollouts.yaml", "manifests/evals.yaml", "manifests/agents.yaml"
# refund-flow's triage, a model step (on the lane, one schema-held call): made an agent step of support-agent
TRIAGE_MODEL_STEP = (
    "      type: model\n      route: support-chat\n      prompt: >-\n"
    "        You triage messages to the customer support of an online shop. Read the customer's request (JSON) and\n"
    "        say what they want: refund (money back for an order), question, or other. Answer JSON.\n"
)

BACKUP_ROUTE = """\
apiVersion: maestro.dev/v1
kind: Route
metadata:
  name: local-backup
spec:
  alias: local-backup
  candidates:
    - {provider: local-lane, model: smollm2-135m-instruct}
  fallback:
    - {route: local}
"""

SECOND_SUPPORT_CHAT = """\
apiVersion: maestro.dev/v1
kind: Route
metadata:
  name: support-chat
spec:
  alias: support-two
  candidates:
    - {provider: local-lane, model: smollm2-135m-instruct}
"""


@dataclass(frozen=True)
class Case:
    """Breaks applied to a fresh copy of the example; the one finding expected, at ``marker`` in ``file``."""

    breaks: tuple[Break, ...]
    rule: str
    file: str
    marker: str  # "text|more": the finding points where | stands (see helpers.repo.spot)
    says: str = ""


def case(name: str, breaks: Break | tuple[Break, ...], rule: str, marker: str, says: str = "") -> Any:
    """A test case; the finding is expected in the file of the first break."""
    breaks = breaks if isinstance(breaks, tuple) else (breaks,)
    return pytest.param(Case(breaks, rule, breaks[0].file, marker, says), id=name)


CASES = [
    case(
        "duplicate-name",
        Break(ROUTES, "", SECOND_SUPPORT_CHAT),
        "set.duplicate-name",
        "name: |support-chat\nspec:\n  alias: support-two",
        "Route/support-chat is already defined at manifests/routes.yaml:2",
    ),
    case(
        "unresolved-provider",
        Break(
            ROUTES,
            "{provider: openai-us, model: gpt-4o-mini, weight",
            "{provider: openai-usa, model: gpt-4o-mini, weight",
        ),
        "ref.unresolved",
        "openai-usa",
        "Provider 'openai-usa' does not exist; did you mean 'openai-us'?",
    ),
    case(
        "unknown-model",
        Break(ROUTES, "model: gpt-4o-mini, weight: 90", "model: gpt-4o-mni, weight: 90"),
        "ref.model",
        "gpt-4o-mni",
        "provider 'openai-us' does not offer model 'gpt-4o-mni'; did you mean 'gpt-4o-mini'?",
    ),
    case(
        "unknown-tool",
        Break(PIPELINES, "tool: lookup_order", "tool: lookup_ordr"),
        "ref.tool",
        "lookup_ordr",
        "agent 'support-agent' has no tool 'lookup_ordr'; its tools: lookup_order, issue_refund",
    ),
    case(
        "missing-prompt-file",
        Break(AGENTS, "file: prompts/support-agent.md", "file: prompts/support-agnet.md"),
        "ref.file",
        "prompts/support-agnet.md",
        "file 'prompts/support-agnet.md' does not exist",
    ),
    case(
        "duplicate-alias",
        Break(ROUTES, "  alias: local\n", "  alias: chat\n"),
        "ref.alias",
        "alias: |chat\n  candidates:\n    - {provider: local-lane",
        "alias 'chat' is already served by Route/support-chat",
    ),
    case(
        "fallback-cycle",
        (
            Break(
                ROUTES,
                "  limits: {maxLatency: 30s",
                "  fallback:\n    - {route: local-backup}\n  limits: {maxLatency: 30s",
            ),
            Break(ROUTES, "", BACKUP_ROUTE),
        ),
        "route.fallback-cycle",
        "{route: |local-backup}",
        "fallbacks form a cycle: local -> local-backup -> local",
    ),
    case(
        "fallback-widens-jurisdiction",
        Break(
            ROUTES,
            "    - {provider: local-lane, model: smollm2-135m-instruct}\n  objective: {quality: 0.4",
            "    - {provider: local-lane, model: smollm2-135m-instruct}\n    - {provider: openai-us, model: gpt-4o}\n"
            "  objective: {quality: 0.4",
        ),
        "policy.fallback-widens",
        "{provider: openai-us, model: gpt-4o}",
        "fallback reaches provider 'openai-us' in jurisdiction 'us', outside this route's scope (eu, onprem)",
    ),
    case(
        "rule-with-no-allowed-candidate",
        Break(
            ROUTES,
            "    - name: no-credentials\n",
            "    - name: uk-only\n      when: \"'jurisdiction.eu-only' in request.tags\"\n"
            "      require: {jurisdictions: [uk]}\n    - name: no-credentials\n",
        ),
        "policy.no-allowed-candidate",
        "name: uk-only",
        "rule 'uk-only' leaves no candidate or fallback that satisfies it",
    ),
    case(
        "unknown-tag-in-cel",
        Break(ROUTES, "\"'pii.email' in request.tags", "\"'pii.emial' in request.tags"),
        "policy.unknown-tag",
        "\"'pii.emial'",
        "tag 'pii.emial' is not in the taxonomy and would be denied; did you mean 'pii.email'?",
    ),
    case(
        "unknown-tag-in-policy-rule",
        Break(POLICY, "\"'secret.credential' in request.tags", "\"'secret.credentials' in request.tags"),
        "policy.unknown-tag",
        "\"'secret.credentials'",
        "did you mean 'secret.credential'?",
    ),
    case(
        "unknown-jurisdiction",
        Break(PROVIDERS, "  jurisdiction: us\n", "  jurisdiction: usa\n"),
        "policy.unknown-jurisdiction",
        "usa",
        "jurisdiction 'usa' is not in the taxonomy (known: eu, onprem, uk, us)",
    ),
    case(
        "unknown-jurisdiction-in-a-tag",
        Break(POLICY, "allow: {jurisdictions: [eu]}", "allow: {jurisdictions: [europe]}"),
        "policy.unknown-jurisdiction",
        "europe",
    ),
    case(
        "freeze-window-ends-before-start",
        Break(POLICY, 'end: "2026-12-28T00:00:00Z"', 'end: "2026-12-20T00:00:00Z"'),
        "policy.freeze-window",
        '"2026-12-20',
        "freeze window 'holiday-freeze' ends before it starts",
    ),
    case(
        "duplicate-autonomy-level",
        Break(AUTONOMY, "  level: 5\n", "  level: 4\n"),
        "autonomy.duplicate-level",
        "level: |4\n  description: Autonomous",
        "level 4 is already defined by AutonomyLevel/L4",
    ),
    case(
        "l4-with-one-approver",
        Break(
            AUTONOMY,
            "{required: 2, distinctApprovers: true, expiresAfter: 1h, roles: [operator, owner]}",
            "{required: 1, distinctApprovers: true, expiresAfter: 1h, roles: [operator, owner]}",
        ),
        "autonomy.dual-control",
        "{required: 1, distinctApprovers: true, expiresAfter: 1h, roles: [operator, owner]}",
        "level 4 acts with high autonomy",
    ),
    case(
        "l5-without-distinct-approvers",
        Break(
            AUTONOMY,
            "{required: 2, distinctApprovers: true, expiresAfter: 1h, roles: [owner]}",
            "{required: 2, distinctApprovers: false, expiresAfter: 1h, roles: [owner]}",
        ),
        "autonomy.dual-control",
        "{required: 2, distinctApprovers: false",
        "level 5",
    ),
    case(
        "autonomy-not-monotonic",
        Break(
            AUTONOMY,
            "allowedWithoutApproval: [read, suggest, low-risk-write, write]\n",
            "allowedWithoutApproval: [read, suggest, write]\n",
        ),
        "autonomy.monotonic",
        "[read, suggest, write]",
        "L3 needs approval for low-risk-write, which the lower L2 may do without",
    ),
    case(
        "unbounded-loop",
        Break(PIPELINES, ', when: "state.needs_more_info", maxIterations: 3}', ', when: "state.needs_more_info"}'),
        "pipeline.unbounded-loop",
        "{from: reply, to: triage",
        "has no bound; set maxIterations on one of its edges",
    ),
    case(
        "unreachable-approval",
        Break(PIPELINES, "{from: lookup, to: approve, when:", "{from: lookup, to: reply, when:"),
        "pipeline.unreachable",
        "- id: |approve",
        "human approval step 'approve' cannot be reached from 'triage'",
    ),
    case(
        "non-exhaustive-branches",
        Break(PIPELINES, 'when: "output.amount <= 100"}', 'when: "output.amount < 100"}'),
        "pipeline.non-exhaustive",
        '"output.amount > 100"',
        "the edges from 'lookup' may all be false (-> approve: `output.amount > 100`; -> refund: "
        "`output.amount < 100`)",
    ),
    case(
        "side-effect-without-idempotency",
        (
            Break(PIPELINES, "tool: issue_refund", "tool: issue_refund"),
            Break(AGENTS, ", idempotencyKeys: true}", "}"),
        ),
        "pipeline.side-effect-idempotency",
        "tool: |issue_refund",
        "tool step 'refund' can call tool 'issue_refund' (write), which has side effects, and nothing makes a "
        "repeated call safe",
    ),
    case(
        "agent-step-whose-tool-loop-may-call-an-unsafe-tool",
        (
            Break(PIPELINES, "tool: issue_refund", "tool: lookup_order"),
            Break(AGENTS, ", idempotencyKeys: true}", "}"),
            Break(PIPELINES, TRIAGE_MODEL_STEP, "      type: agent\n      agent: support-agent\n"),
        ),
        "pipeline.side-effect-idempotency",
        "agent: |support-agent",
        "agent step 'triage' can call tool 'issue_refund' (write), which has side effects",
    ),
    case(
        "map-branch-names-an-unknown-tool",
        Break(
            PIPELINES,
            "",
            "apiVersion: maestro.dev/v1\nkind: Pipeline\nmetadata: {name: bulk-lookup}\nspec:\n  steps:\n"
            "    - id: each\n      type: map\n      map:\n        over: state.orders\n"
            "        step: {type: tool, agent: support-agent, tool: lookup_ordr}\n",
        ),
        "ref.tool",
        "tool: |lookup_ordr",
        "agent 'support-agent' has no tool 'lookup_ordr'",
    ),
    case(
        "output-schema-not-a-json-schema",
        Break(PIPELINES, "message: {type: string, maxLength: 280}", "message: {type: string, maxLength: -1}"),
        "pipeline.output-schema",
        "maxLength: |-1",
        "step 'reply' has an outputSchema that is not a valid JSON Schema: -1 is less than the minimum of 0",
    ),
    case(
        "output-schema-names-an-unknown-draft",
        Break(
            PIPELINES,
            "type: object\n        properties:\n          message",
            "$schema: http://example.com/x\n        type: object\n        properties:\n          message",
        ),
        "pipeline.output-schema",
        "$schema: |http://example.com/x",
        "step 'reply' has an outputSchema whose $schema 'http://example.com/x' is no JSON Schema draft maestro knows",
    ),
    case(
        "sub-pipeline-runs-its-own-pipeline",
        Break(
            PIPELINES,
            "",
            "apiVersion: maestro.dev/v1\nkind: Pipeline\nmetadata: {name: again}\nspec:\n  steps:\n"
            "    - {id: more, type: pipeline, pipeline: again}\n",
        ),
        "pipeline.sub-pipeline-cycle",
        "pipeline: |again}",
        "step 'more' runs Pipeline 'again', which runs 'again' again (again -> again)",
    ),
    case(
        "tool-without-server",
        (
            Break(PIPELINES, "tool: issue_refund", "tool: issue_refund"),
            Break(AGENTS, "      server: refunds\n      description: Refund", "      description: Refund"),
        ),
        "pipeline.tool-no-server",
        "tool: |issue_refund",
        "tool 'issue_refund' of agent 'support-agent' names no MCP server",
    ),
    case(
        "tool-names-an-undeclared-server",
        Break(AGENTS, "server: refunds\n      description: Look", "server: refund\n      description: Look"),
        "ref.mcp-server",
        "server: |refund",
        "tool 'lookup_order' names MCP server 'refund', which the agent does not declare; its mcpServers: refunds",
    ),
    case(
        "demotion-that-does-not-lower",
        Break(POLICY, "demoteOnIncident: {atOrAbove: 3, to: L2}", "demoteOnIncident: {atOrAbove: 3, to: L4}"),
        "autonomy.demotion",
        "to: |L4}",
        "demoting to L4 (level 4) on an incident at level 3 or above does not lower the level",
    ),
    case(
        "unknown-step-in-edge",
        Break(PIPELINES, "{from: refund, to: reply}", "{from: refund, to: replay}"),
        "pipeline.unknown-step",
        "replay",
        "edge to 'replay' names no step",
    ),
    case(
        "unknown-start-step",
        Break(PIPELINES, "  start: triage", "  start: triaj"),
        "pipeline.unknown-step",
        "triaj",
        "start step 'triaj' does not exist",
    ),
    case(
        "cel-syntax-at-its-column-in-words",
        Break(PIPELINES, 'when: "output.approved"}', 'when: "output.approved &&"}'),
        "cel.syntax",
        '"output.approved &&|"',
        "CEL does not compile: the expression ends too early: an operand or a closing bracket is missing",
    ),
    case(
        "cel-syntax-unexpected-token",
        Break(ROUTES, "when: \"request.caller == 'batch-jobs'\"", "when: \"request.caller == 'batch-jobs' >> 3\""),
        "cel.syntax",
        "'batch-jobs' >|> 3",
        "CEL does not compile: unexpected '>' here",
    ),
    case(
        "cel-syntax-in-a-block-scalar",
        Break(ROUTES, "when: \"request.caller == 'batch-jobs'\"", "when: >-\n        request.caller == 'batch-jobs' ("),
        "cel.syntax",
        "'batch-jobs' |(",
        "CEL does not compile: unexpected '(' after a complete expression",
    ),
    case(
        "cel-int-compared-with-a-string",
        Break(ROUTES, "when: \"'secret.credential' in request.tags\"", "when: \"request.tokens > '100'\""),
        "cel.type",
        "\"|request.tokens > '100'",
        "CEL types do not match",
    ),
    case(
        "cel-type-error-behind-a-tag-test",
        Break(
            ROUTES,
            "when: \"'secret.credential' in request.tags\"",
            "when: \"'secret.credential' in request.tags && request.tokens > '100'\"",
        ),
        "cel.type",
        "\"|'secret.credential' in request.tags &&",
        "CEL types do not match",
    ),
    case(
        "cel-condition-not-a-boolean",
        Break(ROUTES, "when: \"'secret.credential' in request.tags\"", 'when: "request.tokens"'),
        "cel.type",
        '"|request.tokens"',
        "a condition must be a boolean, and this expression is an int",
    ),
    case(
        "cel-policy-provider-field-type",
        Break(POLICY, "provider.trainingUse", "provider.dataRetentionDays > '30'"),
        "cel.type",
        "\"|'secret.credential' in request.tags && provider.dataRetentionDays",
        "CEL types do not match",
    ),
    case(
        "cel-eval-answer-length-compared-with-a-string",
        Break(EVALS, 'value: "size(output) < 2000"', "value: \"size(output) < '2000'\""),
        "cel.type",
        "\"|size(output) < '2000'",
        "CEL types do not match",
    ),
    case(
        "cel-rollout-metric-compared-with-a-string",
        Break(ROLLOUTS, '"metrics.error_rate > 0.05"', "\"metrics.error_rate > '0.05'\""),
        "cel.type",
        "\"|metrics.error_rate > '0.05'",
        "CEL types do not match",
    ),
    case(
        "cel-unknown-variable",
        Break(PIPELINES, 'when: "output.amount > 100"', 'when: "outptu.amount > 100"'),
        "cel.unknown-variable",
        '"|outptu.amount',
        "CEL variable 'outptu' does not exist here; use output, state, steps",
    ),
    case(
        "cel-unknown-field",
        Break(ROUTES, "when: \"request.caller == 'batch-jobs'\"", 'when: "request.tokenz > 1000"'),
        "cel.unknown-field",
        '"|request.tokenz',
        "'request.tokenz' does not exist",
    ),
    case(
        "cel-unknown-provider-field-in-policy",
        Break(POLICY, 'when: "provider.dataRetentionDays > 30"', 'when: "provider.retentionDays > 30"'),
        "cel.unknown-field",
        '"|provider.retentionDays',
        "'provider.retentionDays' does not exist",
    ),
    case(
        "rollout-unknown-analysis",
        Break(ROLLOUTS, "- analysis: health", "- analysis: helth"),
        "rollout.unknown-analysis",
        "helth",
        "analysis 'helth' is not defined under spec.analysis (defined: health)",
    ),
    case(
        "rollout-eval-metric-without-suite",
        (
            Break(
                ROLLOUTS,
                "          source: gateway\n",
                "          source: gateway\n        - {name: ok, source: eval}\n",
            ),
            Break(ROLLOUTS, "  evalSuite: support-quality\n", ""),
        ),
        "rollout.eval-metric",
        "name: ok, source: |eval",
        "an eval metric grades answers with the Rollout's suite: name it in spec.evalSuite",
    ),
    case(
        "rollout-weights-not-ending-at-100",
        Break(ROLLOUTS, "    - setWeight: 100\n", "    - setWeight: 90\n"),
        "rollout.weights",
        "setWeight: |90",
        "the last weight is 90, so the rollout never completes",
    ),
    case(
        "rollout-weights-dropping",
        Break(ROLLOUTS, "    - setWeight: 50\n", "    - setWeight: 5\n"),
        "rollout.weights",
        "setWeight: |5\n",
        "weight drops from 10 to 5",
    ),
    case(
        "rollout-cel-undefined-metric",
        Break(ROLLOUTS, '"metrics.error_rate < 0.02', '"metrics.eror_rate < 0.02'),
        "cel.unknown-field",
        '"|metrics.eror_rate',
        "'metrics.eror_rate' does not exist; fields: error_rate, p95_latency_ms",
    ),
    case(
        "rollback-cel-undefined-baseline-metric",
        Break(ROLLOUTS, "baseline.p95_latency_ms", "baseline.p99_latency_ms"),
        "cel.unknown-field",
        "1.5 * |baseline.p99_latency_ms",
        "'baseline.p99_latency_ms' does not exist",
    ),
    case(
        "rollout-unknown-eval-suite",
        Break(ROLLOUTS, "evalSuite: support-quality", "evalSuite: support-qualty"),
        "ref.unresolved",
        "support-qualty",
        "EvalSuite 'support-qualty' does not exist; did you mean 'support-quality'?",
    ),
    case(
        "eval-threshold-on-unknown-metric",
        Break(EVALS, "close-to-reference: {min: 0.75}", "close-to-referense: {min: 0.75}"),
        "eval.threshold",
        "close-to-referense",
        "no assertion produces metric 'close-to-referense'",
    ),
    case(
        "eval-threshold-names-the-type-of-a-named-assertion",
        Break(EVALS, "close-to-reference: {min: 0.75}", "similarity: {min: 0.75}"),
        "eval.threshold",
        "similarity: {min",
        "no assertion produces metric 'similarity'",
    ),
    case(
        "eval-threshold-old-metric-name",
        Break(EVALS, "latency_ms_p95: {max: 6000}", "cost_usd_mean: {max: 0.01}"),
        "eval.threshold",
        "cost_usd_mean",
        "pass_rate",
    ),
    case(
        "agent-tool-forbidden-at-its-level",
        Break(AGENTS, "      action: write", "      action: deploy"),
        "autonomy.tool-forbidden",
        "action: |deploy",
        "tool 'issue_refund' (deploy) is forbidden at L2",
    ),
    case(
        "pipeline-tool-forbidden-at-its-level",
        Break(PIPELINES, "  autonomyLevel: L2", "  autonomyLevel: L0"),
        "autonomy.tool-forbidden",
        "tool: |issue_refund",
        "tool 'issue_refund' (write) is forbidden at L0",
    ),
    case(
        "eval-missing-dataset",
        Break(EVALS, "file: evals/support-quality.jsonl", "file: evals/support.jsonl"),
        "ref.file",
        "evals/support.jsonl",
        "file 'evals/support.jsonl' does not exist",
    ),
    case(
        "prompt-file-outside-the-repository",
        Break(AGENTS, "file: prompts/support-agent.md", "file: ../../../../../../../../etc/hostname"),
        "ref.outside-repo",
        "../../../../../../../../etc/hostname",
        "'../../../../../../../../etc/hostname' resolves to /etc/hostname, outside the repository",
    ),
    case(
        "eval-dataset-outside-the-repository",
        Break(EVALS, "file: evals/support-quality.jsonl", "file: ../../elsewhere.jsonl"),
        "ref.outside-repo",
        "../../elsewhere.jsonl",
        "'../../elsewhere.jsonl' resolves to",
    ),
    case(
        "api-key-env-not-allowed",
        Break(PROVIDERS, "apiKey: {env: OPENAI_API_KEY}", "apiKey: {env: GITHUB_TOKEN}"),
        "secret.env-name",
        "GITHUB_TOKEN",
        "'GITHUB_TOKEN' holds one of the machine's own credentials",
    ),
    case(
        "api-key-env-off-pattern",
        Break(PROVIDERS, "apiKey: {env: OPENAI_API_KEY}", "apiKey: {env: DATABASE_URL}"),
        "secret.env-name",
        "DATABASE_URL",
        "'DATABASE_URL' does not match the Policy's apiKeyEnv (*_API_KEY)",
    ),
    case(
        "agent-unknown-route",
        Break(AGENTS, "  route: support-chat", "  route: suport-chat"),
        "ref.unresolved",
        "suport-chat",
        "Route 'suport-chat' does not exist; did you mean 'support-chat'?",
    ),
]


def run(repo: Path) -> ValidationResult:
    return validate(example_paths(repo))


@pytest.fixture
def repo(example_repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The example copy as the working folder, so diagnostics name files as manifests/routes.yaml."""
    monkeypatch.chdir(example_repo)
    return example_repo


def test_the_example_repository_passes_clean(repo: Path) -> None:
    result = run(repo)
    assert [d for d in result.diagnostics if d.severity != Severity.INFO] == []
    assert not result.failed(strict=True)
    assert {d.kind for d in result.manifests.documents} == set(KINDS)


@pytest.mark.parametrize("c", CASES)
def test_one_break_gives_one_finding_in_the_right_place(repo: Path, c: Case) -> None:
    for brk in c.breaks:
        brk.apply(repo)
    result = run(repo)
    found = [(d.rule, d.file, d.line, d.column) for d in result.diagnostics if d.severity != Severity.INFO]
    assert found == [(c.rule, c.file, *spot(repo / c.file, c.marker))], result.diagnostics
    assert c.says in next(d.message for d in result.diagnostics if d.rule == c.rule)


def test_every_finding_is_collected_not_just_the_first(repo: Path) -> None:
    ids = (
        "unknown-model",
        "unknown-tool",
        "freeze-window-ends-before-start",
        "rollout-unknown-analysis",
        "eval-missing-dataset",
    )
    picked = [c.values[0] for c in CASES if c.id in ids]
    assert len(picked) == len(ids)
    for c in picked:
        for brk in c.breaks:
            brk.apply(repo)
    found = {(d.rule, d.file) for d in run(repo).diagnostics if d.severity != Severity.INFO}
    assert found == {(c.rule, c.file) for c in picked}


def test_without_a_policy_the_builtin_default_applies(repo: Path) -> None:
    result = validate([repo / "manifests"])
    assert [d.rule for d in result.diagnostics if d.severity != Severity.INFO] == []
    assert "set.default-policy" in {d.rule for d in result.diagnostics}
    (policy,) = result.manifests.of_kind("Policy")
    assert policy.file == BUILTIN_POLICY
    assert not result.failed(strict=True)


def test_without_a_policy_tags_resolve_against_the_builtin_taxonomy(repo: Path) -> None:
    Break(ROUTES, "\"'pii.email' in request.tags", "\"'pii.emial' in request.tags").apply(repo)
    result = validate([repo / "manifests"])
    found = [(d.rule, d.file, d.line, d.column) for d in result.diagnostics if d.severity == Severity.ERROR]
    assert found == [("policy.unknown-tag", ROUTES, *spot(repo / ROUTES, "\"'pii.emial'"))]


def test_a_policy_that_fails_its_schema_does_not_let_the_default_in(repo: Path) -> None:
    """A broken Policy is an error, never a silent fallback to the built-in one."""
    Break(POLICY, "  unknownTags: deny", "  unknownTags: allow").apply(repo)
    result = run(repo)
    assert "schema.value" in {d.rule for d in result.diagnostics}
    assert "set.default-policy" not in {d.rule for d in result.diagnostics}
    assert result.failed()


WARNING_ONLY = Break(ROLLOUTS, "    - setWeight: 100\n", "    - setWeight: 90\n")


def test_strict_makes_warnings_fail(repo: Path) -> None:
    WARNING_ONLY.apply(repo)
    result = run(repo)
    assert (result.summary.errors, result.summary.warnings) == (0, 1)
    assert not result.failed()
    assert result.failed(strict=True)


@pytest.mark.parametrize(("args", "code"), [((), 0), (("--strict",), 1)])
def test_strict_makes_warnings_fail_on_the_command_line(repo: Path, args: tuple[str, ...], code: int) -> None:
    WARNING_ONLY.apply(repo)
    result = run_cli("validate", *args)
    assert result.exit_code == code, result.output
    assert "warning rollout.weights" in result.output


def test_a_prompt_symlinked_out_of_the_repository_is_refused(repo: Path, tmp_path_factory: Any) -> None:
    elsewhere = tmp_path_factory.mktemp("elsewhere") / "secret.md"
    elsewhere.write_text("not yours\n", encoding="utf-8")
    prompt = repo / "manifests" / "prompts" / "support-agent.md"
    prompt.unlink()
    prompt.symlink_to(elsewhere)
    (finding,) = [d for d in validate(example_paths(repo)).diagnostics if d.severity is Severity.ERROR]
    assert (finding.rule, finding.file, finding.path) == ("ref.outside-repo", AGENTS, "spec.prompt.file")
    assert (finding.line, finding.column) == spot(repo / AGENTS, "prompts/support-agent.md")
    assert "through a symbolic link" in finding.message and str(elsewhere) in finding.message


def test_a_symlink_that_stays_inside_the_repository_is_fine(repo: Path) -> None:
    prompt = repo / "manifests" / "prompts" / "support-agent.md"
    (repo / "shared.md").write_text(prompt.read_text(encoding="utf-8"), encoding="utf-8")
    prompt.unlink()
    prompt.symlink_to(repo / "shared.md")
    assert not [d for d in validate(example_paths(repo)).diagnostics if d.severity is Severity.ERROR]


def test_a_policy_can_allow_more_key_names_but_never_the_machines_own(repo: Path) -> None:
    Break(POLICY, "spec:\n  taxonomy:", "spec:\n  apiKeyEnv: ['*_API_KEY', '*_TOKEN']\n  taxonomy:").apply(repo)
    Break(PROVIDERS, "apiKey: {env: OPENAI_API_KEY}", "apiKey: {env: OPENAI_TOKEN}").apply(repo)
    Break(PROVIDERS, "apiKey: {env: MISTRAL_API_KEY}", "apiKey: {env: GITHUB_TOKEN}").apply(repo)
    found = [d for d in validate(example_paths(repo)).diagnostics if d.severity is Severity.ERROR]
    assert [(d.rule, d.message.split("'")[1]) for d in found] == [("secret.env-name", "GITHUB_TOKEN")]


@pytest.mark.parametrize(
    "metric", ["pass_rate", "score", "cost_usd", "cost_usd_total", "latency_ms_p50", "hallucination_rate", "cel-3"]
)
def test_every_metric_the_gate_knows_validates(repo: Path, metric: str) -> None:
    """validate accepts exactly the names the gate reads: its run metrics, and TYPE-N for an unnamed assertion."""
    Break(EVALS, "latency_ms_p95: {max: 6000}", f"{metric}: {{max: 6000}}").apply(repo)
    if metric == "cel-3":
        Break(EVALS, "    - name: mentions-key-fact\n", "    -\n").apply(repo)
    assert [d for d in run(repo).diagnostics if d.severity != Severity.INFO] == []


def test_a_file_named_alone_resolves_against_its_repository(repo: Path) -> None:
    """`validate manifests/routes.yaml` reads the rest of the repository for references, reports only that file."""
    Break(AGENTS, "  route: support-chat", "  route: suport-chat").apply(repo)  # a mistake in another file
    clean = validate([Path(ROUTES)])
    assert [d for d in clean.diagnostics if d.severity != Severity.INFO] == []
    assert (clean.summary.files, clean.summary.documents) == (1, 3)
    Break(
        ROUTES, "{provider: openai-us, model: gpt-4o-mini, weight", "{provider: openai-usa, model: gpt-4o-mini, weight"
    ).apply(repo)
    broken = validate([Path(ROUTES)])
    assert [(d.rule, d.file) for d in broken.diagnostics if d.severity != Severity.INFO] == [("ref.unresolved", ROUTES)]


def test_a_duplicate_of_a_document_elsewhere_in_the_repository_is_reported_in_the_named_file(repo: Path) -> None:
    Break(PROVIDERS, "", SECOND_SUPPORT_CHAT.replace("alias: support-two", "alias: support-three")).apply(repo)
    found = [(d.rule, d.file) for d in validate([Path(PROVIDERS)]).diagnostics if d.severity != Severity.INFO]
    assert found == [("set.duplicate-name", PROVIDERS)]


def test_a_pipeline_above_its_agents_level_is_judged_at_the_agents_stricter_level(repo: Path) -> None:
    """The stricter level applies (as at run time): an irreversible tool forbidden at the agent's L2 (and at the
    pipeline's L3) is one finding, at the agent's tool, not a second one at the pipeline's step."""
    Break(PIPELINES, "  autonomyLevel: L2", "  autonomyLevel: L3").apply(repo)
    Break(AGENTS, "      action: write", "      action: irreversible").apply(repo)
    found = [(d.rule, d.file) for d in run(repo).diagnostics if d.severity != Severity.INFO]
    assert found == [("autonomy.tool-forbidden", AGENTS)]


def test_a_sub_pipeline_cycle_through_two_pipelines_is_an_error_at_each_step_on_it(repo: Path) -> None:
    docs = {"ping": "pong", "pong": "ping", "caller": "ping"}  # caller runs ping, but nothing runs caller again
    for name, child in docs.items():
        text = (
            f"apiVersion: maestro.dev/v1\nkind: Pipeline\nmetadata: {{name: {name}}}\nspec:\n  steps:\n"
            f"    - {{id: to-{child}, type: pipeline, pipeline: {child}}}\n"
        )
        Break(PIPELINES, "", text).apply(repo)
    found = [d for d in run(repo).diagnostics if d.severity != Severity.INFO]
    assert [(d.rule, d.line) for d in found] == [
        ("pipeline.sub-pipeline-cycle", spot(repo / PIPELINES, "pipeline: |pong}")[0]),
        ("pipeline.sub-pipeline-cycle", spot(repo / PIPELINES, "pipeline: |ping}")[0]),
    ]
    assert "(ping -> pong -> ping)" in found[0].message and "(pong -> ping -> pong)" in found[1].message
