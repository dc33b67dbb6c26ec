"""Every rule validation can report, with a stable id. docs/rules.md is generated from this table."""

from __future__ import annotations

from dataclasses import dataclass

from maestro.manifests.diagnostics import Severity


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    severity: Severity
    summary: str


_E, _W, _I = Severity.ERROR, Severity.WARNING, Severity.INFO

RULES: dict[str, Rule] = {
    r.id: r
    for r in (
        # Reading the file and YAML itself.
        Rule("file.unreadable", _E, "The file could not be read (permissions, a broken link, a directory)."),
        Rule("file.too-large", _E, "The file is larger than the size limit (--max-file-size)."),
        Rule("file.binary", _E, "The file holds NUL bytes: it is binary, not YAML."),
        Rule("file.encoding", _E, "The file is not valid UTF-8."),
        Rule("yaml.syntax", _E, "The YAML cannot be parsed."),
        Rule("yaml.tab", _E, "A tab is used for indentation; YAML allows only spaces."),
        Rule("yaml.duplicate-key", _E, "A mapping holds the same key twice; YAML would silently keep one."),
        Rule(
            "yaml.tag",
            _E,
            "A language-specific or unknown tag (e.g. !!python/object); nothing is constructed.",
        ),
        Rule("yaml.alias-bomb", _E, "Anchors and aliases expand past the node limit (a 'billion laughs')."),
        Rule("yaml.too-deep", _E, "Nesting is deeper than the limit."),
        Rule("yaml.key", _E, "A mapping key is not a plain scalar."),
        # Each document against its kind's schema.
        Rule("schema.not-a-mapping", _E, "A document is not a mapping with apiVersion, kind, metadata, spec."),
        Rule("schema.api-version", _E, "apiVersion is missing or not maestro.dev/v1."),
        Rule("schema.kind", _E, "kind is missing or not one of the v1 kinds."),
        Rule("schema.unknown-key", _E, "A key the schema does not define (a typo, usually)."),
        Rule("schema.required", _E, "A required key is missing."),
        Rule("schema.type", _E, "A value has the wrong type."),
        Rule("schema.value", _E, "A value is not one of those allowed."),
        Rule("schema.format", _E, "A string does not match the expected form."),
        Rule("schema.range", _E, "A number or a list length is out of range."),
        Rule("schema.variant", _E, "A value matches none of the allowed shapes."),
        Rule("schema.invalid", _E, "The document breaks another schema constraint."),
        Rule("secret.inline", _E, "A secret is written inline; reference an environment variable instead."),
        Rule(
            "secret.env-name",
            _E,
            "A key's environment variable does not match the Policy's apiKeyEnv patterns (default *_API_KEY).",
        ),
        # The set as a whole.
        Rule("set.duplicate-name", _E, "Two documents of the same kind share a name."),
        Rule("set.no-documents", _W, "No manifest documents were found below the given paths."),
        Rule("set.default-policy", _I, "No Policy in the set: maestro's built-in default policy applies."),
        Rule("ref.unresolved", _E, "A reference names a document that does not exist."),
        Rule("ref.model", _E, "A provider/model pair names a model the provider does not offer."),
        Rule("ref.tool", _E, "A pipeline step names a tool its agent does not have."),
        Rule("ref.mcp-server", _E, "An agent's tool names an MCP server the agent does not declare in mcpServers."),
        Rule("ref.file", _E, "A referenced file (prompt, dataset) does not exist."),
        Rule(
            "ref.outside-repo",
            _E,
            "A referenced file (prompt, dataset, scorer) resolves outside the repository, symbolic links followed.",
        ),
        Rule("ref.alias", _E, "Two routes claim the same alias."),
        Rule("serve.served-name", _E, "A vLLM serve block's servedName is not one of the provider's models."),
        Rule("serve.extra-arg", _E, "A vLLM serve block's extraArgs holds an unknown flag or one maestro sets itself."),
        Rule("serve.code-loading", _E, "A vLLM serve block's extraArgs loads code (remote code, a class, a plugin)."),
        Rule("serve.open-bind", _E, "A vLLM lane binds a non-loopback address without serve.apiKey."),
        Rule("route.fallback-cycle", _E, "Route fallbacks form a cycle."),
        Rule("route.fallback-duplicate", _W, "A fallback repeats a candidate or an earlier fallback."),
        Rule("route.weights", _E, "All candidate weights are zero: no traffic can be served."),
        Rule("route.tag-unservable", _W, "Every candidate and fallback of a route is denied for some tag class."),
        Rule("route.objective", _W, "All objective weights are zero: the score cannot rank candidates."),
        Rule("policy.unknown-tag", _E, "A tag is not in the taxonomy: unknown tags are denied."),
        Rule("policy.unknown-jurisdiction", _E, "A jurisdiction is not in the taxonomy."),
        Rule("policy.fallback-widens", _E, "A fallback reaches a jurisdiction the route's rules do not allow."),
        Rule(
            "policy.no-allowed-candidate",
            _E,
            "A route rule leaves no candidate or fallback that satisfies it.",
        ),
        Rule(
            "policy.freeze-window",
            _E,
            "A freeze window ends before it starts, or its cron or time zone cannot be read.",
        ),
        Rule("policy.duplicate-tag", _E, "The taxonomy defines a tag or jurisdiction twice."),
        Rule("autonomy.duplicate-level", _E, "Two AutonomyLevels claim the same level."),
        Rule("autonomy.dual-control", _E, "Levels 4 and 5 need at least two distinct approvers."),
        Rule("autonomy.demotion", _E, "A Policy's demoteOnIncident names a level that is not below atOrAbove."),
        Rule("autonomy.monotonic", _W, "A higher level allows less without approval than a lower level."),
        Rule(
            "autonomy.tool-needs-approval",
            _I,
            "An agent's tool needs approval at the agent's autonomy level.",
        ),
        Rule(
            "autonomy.tool-forbidden",
            _E,
            "An agent's tool, or a pipeline's tool step, has an action in neither list of its autonomy level: "
            "forbidden there.",
        ),
        Rule("pipeline.unknown-step", _E, "An edge or start names a step that does not exist."),
        Rule("pipeline.unbounded-loop", _E, "The pipeline graph has a cycle with no maxIterations bound."),
        Rule("pipeline.unreachable", _E, "A step (a human approval, say) cannot be reached from the start."),
        Rule("pipeline.duplicate-step", _E, "Two steps share an id."),
        Rule(
            "pipeline.non-exhaustive",
            _E,
            "A step's conditional edges may all be false: add a default edge (no `when`) or complementary "
            "conditions (`x` / `!x`, `a > 100` / `a <= 100`).",
        ),
        Rule(
            "pipeline.side-effect-idempotency",
            _E,
            "A tool step with side effects (any action but read and suggest) whose tool is not `idempotent` and "
            "whose MCP server does not honour idempotency keys (`idempotencyKeys: true`).",
        ),
        Rule("pipeline.tool-no-server", _E, "A tool step's tool names no MCP server, so it cannot run."),
        Rule("pipeline.output-schema", _E, "A step's outputSchema is not a valid JSON Schema (its meta-schema)."),
        Rule(
            "pipeline.sub-pipeline-cycle",
            _E,
            "A pipeline step runs a Pipeline that runs the step's own Pipeline again, directly or through others.",
        ),
        Rule("rollout.weights", _W, "Canary weights do not rise step by step to 100."),
        Rule("rollout.unknown-analysis", _E, "A rollout step names an analysis that is not defined."),
        Rule(
            "rollout.eval-metric",
            _E,
            "A rollout's `eval` metric has no `spec.evalSuite`, or its suite has no check the gateway can grade an "
            "answer with alone (equals, contains, regex or json-schema with a value).",
        ),
        Rule("cel.syntax", _E, "A CEL expression does not compile."),
        Rule("cel.unknown-variable", _E, "A CEL expression uses a variable its context does not have."),
        Rule("cel.unknown-field", _E, "A CEL expression reads a field that does not exist."),
        Rule(
            "cel.type",
            _E,
            "A CEL expression applies an operator to the wrong types (an int compared with a string), or a "
            "condition is not a boolean.",
        ),
        Rule("eval.threshold", _W, "A metric threshold names a metric no assertion produces."),
    )
}
