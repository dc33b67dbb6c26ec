"""Benchmark `maestro validate` against check-jsonschema on generated repositories of 1,000 and 10,000 files.

    python benchmarks/validate_bench.py [--sizes 1000,10000] [--findings 2000] [--repeat 3] [--json] [--keep]
                                        [--maestro CMD]

For each size it writes a valid, referentially consistent repository (one document per file, so that
check-jsonschema, which refuses multi-document YAML files, can read every file), then runs, end to end as
subprocesses and in the same run:

* ``maestro validate . --format json``: YAML with line mapping, each kind's schema and the whole-set checks
  (references, policies, graphs, CEL). The run must report 0 errors and every file and document, or the
  benchmark fails: a benchmark of a run that found problems measures the wrong thing.
* ``check-jsonschema --schemafile schemas/manifest.json FILE...``: schema checks only (the peer), on the same
  files against the same schemas. It must pass every file too.

Time is wall-clock time of the whole command (start-up included). Peak memory is the peak resident set
size (``ru_maxrss``) of that one child process tree, read from ``os.wait4``, which returns the resource
usage of exactly the child it reaps, so one measurement never sees another's peak (unlike
``getrusage(RUSAGE_CHILDREN)``, whose ru_maxrss is the maximum over every child reaped so far). Each tool
gets one untimed warm-up run first (byte-code compilation, check-jsonschema's schema cache). Each tool runs
``--repeat`` times (default 3), alternating with the other; the median time and the largest peak are shown.

A many-findings case (``--findings 2000``; 0 skips it) copies the example repository's manifests
(``manifests/*.yaml``, several documents each) to that many files, so names repeat and every copy after the
first reports duplicate names, levels and aliases (about 13,000 findings at 2,000 files), and times
``maestro validate . --format json`` on it: a broken repository must validate as fast as a clean one. The
run must report findings and count every file, or the benchmark fails.

Targets (issue): maestro at least 1,000 files/s (clean and many-findings), no slower than check-jsonschema,
under 300 MB at 10,000 files. The exit status is 1 when a run is invalid, 0 otherwise (missed targets are
reported, not fatal).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "schemas" / "manifest.json"
EXAMPLE = ROOT / "manifests"
POLICY = ROOT / "policies" / "default.yaml"
DATA = Path(__file__).resolve().parent / ".data"

TARGET_FILES_PER_S = 1000.0
TARGET_PEAK_MB = 300.0
TARGET_PEAK_AT = 10_000

# Share of each kind among the generated files (after the policy and the six autonomy levels).
MIX = (("Provider", 0.08), ("Route", 0.20), ("Agent", 0.20), ("Pipeline", 0.17), ("EvalSuite", 0.18), ("Rollout", 0.17))
FIXED_FILES = 7  # policies/default.yaml and the autonomy levels L0..L5
PROMPT_FILES = 10
MIN_FILES = 30  # every kind present, and a provider in each jurisdiction


# --------------------------------------------------------------------------------------------------------
# Generating a repository


@dataclass
class _Provider:
    name: str
    jurisdiction: str
    models: list[str]


@dataclass
class _Agent:
    name: str
    tools: list[tuple[str, str]]  # (name, action)


LEVELS = (
    ("L0", 0, ["read"], [], None),
    ("L1", 1, ["read", "suggest"], ["low-risk-write"], "{required: 1, expiresAfter: 24h}"),
    (
        "L2",
        2,
        ["read", "suggest", "low-risk-write"],
        ["write", "external-call", "spend"],
        "{required: 1, expiresAfter: 8h, roles: [support-lead, operator]}",
    ),
    (
        "L3",
        3,
        ["read", "suggest", "low-risk-write", "write"],
        ["external-call", "spend", "deploy"],
        "{required: 1, expiresAfter: 4h, roles: [operator]}",
    ),
    (
        "L4",
        4,
        ["read", "suggest", "low-risk-write", "write", "external-call"],
        ["spend", "deploy", "irreversible"],
        "{required: 2, distinctApprovers: true, expiresAfter: 1h, roles: [operator, owner]}",
    ),
    (
        "L5",
        5,
        ["read", "suggest", "low-risk-write", "write", "external-call", "spend", "deploy"],
        ["irreversible"],
        "{required: 2, distinctApprovers: true, expiresAfter: 1h, roles: [owner]}",
    ),
)
PROVIDER_TYPES = {"us": ("openai", "anthropic"), "eu": ("nim", "openai-compatible"), "onprem": ("vllm",)}
TEAMS = ("support", "research", "sales", "finance", "platform", "legal")
REASONS = ("damaged", "not-delivered", "wrong-item", "return", "goodwill")


def counts(total: int) -> dict[str, int]:
    """How many files of each kind make ``total`` files, the fixed ones included."""
    rest = total - FIXED_FILES
    out = {kind: max(5 if kind == "Provider" else 2, int(rest * share)) for kind, share in MIX}
    out["Route"] += rest - sum(out.values())
    if out["Route"] < 2:
        raise SystemExit(f"--sizes: {total} is too small; use at least {MIN_FILES} files")
    return out


def _fixed(write: Callable[[str, str], None]) -> None:
    """The policy, the autonomy ladder, and the prompt files some agents name."""
    write("policies/default.yaml", POLICY.read_text(encoding="utf-8"))
    for name, level, free, approval, approvals in LEVELS:
        write(f"manifests/autonomy/{name.lower()}.yaml", _level(name, level, free, approval, approvals))
    for i in range(PROMPT_FILES):
        write(
            f"manifests/agents/prompts/agent-{i}.md",
            f"You are support agent {i}. Answer questions about orders politely and briefly.\n",
        )


def generate(root: Path, total: int, seed: int = 7) -> list[str]:
    """Write a repository of ``total`` one-document files under ``root``; return their relative paths."""
    rng = random.Random(seed + total)
    n = counts(total)
    files: list[str] = []

    def write(rel: str, text: str) -> None:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        if rel.endswith(".yaml"):
            files.append(rel)

    _fixed(write)
    providers = []
    for i in range(n["Provider"]):
        jurisdiction = ("us", "eu", "us", "eu", "onprem")[i % 5]
        p = _Provider(f"provider-{i:05d}", jurisdiction, [f"model-{i:05d}-{s}" for s in ("small", "large")])
        providers.append(p)
        write(f"manifests/providers/{p.name}.yaml", _provider(p, rng))
    by_jurisdiction = {j: [p for p in providers if p.jurisdiction == j] for j in ("us", "eu", "onprem")}

    routes = [f"route-{i:05d}" for i in range(n["Route"])]
    for i, name in enumerate(routes):
        write(f"manifests/routes/{name}.yaml", _route(name, i, routes, by_jurisdiction, rng))

    agents = []
    for i in range(n["Agent"]):
        tools = [(f"lookup_{i}", "read"), (f"draft_reply_{i}", "suggest")]
        if i % 3 == 0:
            tools.append((f"issue_refund_{i}", "write"))
        a = _Agent(f"agent-{i:05d}", tools)
        agents.append(a)
        write(f"manifests/agents/{a.name}.yaml", _agent(a, i, rng.choice(routes)))

    pipelines = [f"pipeline-{i:05d}" for i in range(n["Pipeline"])]
    for name in pipelines:
        write(f"manifests/pipelines/{name}.yaml", _pipeline(name, rng.choice(agents), rng.choice(routes), rng))

    suites = [f"suite-{i:05d}" for i in range(n["EvalSuite"])]
    for i, name in enumerate(suites):
        target = (
            ("route", rng.choice(routes)),
            ("agent", rng.choice(agents).name),
            ("pipeline", rng.choice(pipelines)),
        )[i % 3]
        write(f"manifests/evals/{name}.yaml", _suite(name, target, rng.choice(routes), rng))

    for i in range(n["Rollout"]):
        name = f"rollout-{i:05d}"
        kind, target = ("Route", rng.choice(routes)) if i % 2 == 0 else ("Agent", rng.choice(agents).name)
        write(f"manifests/rollouts/{name}.yaml", _rollout(name, kind, target, rng.choice(suites), rng))
    if len(files) != total:
        raise AssertionError(f"generated {len(files)} files, meant {total}")
    return sorted(files)


def copy_example(root: Path, total: int) -> int:
    """Write ``total`` files, copies of the example manifests in turn (with their prompt and dataset files)."""
    examples = sorted(EXAMPLE.glob("*.yaml"))
    for folder in ("prompts", "evals"):
        if (EXAMPLE / folder).is_dir():
            shutil.copytree(EXAMPLE / folder, root / "manifests" / folder, dirs_exist_ok=True)
    for i in range(total):
        source = examples[i % len(examples)]
        (root / "manifests" / f"{source.stem}-{i:05d}.yaml").write_bytes(source.read_bytes())
    return sum(1 for _ in (root / "manifests").rglob("*.y*ml"))


def _level(name: str, level: int, free: list[str], approval: list[str], approvals: str | None) -> str:
    lines = [
        "# One rung of the autonomy ladder.",
        "apiVersion: maestro.dev/v1",
        "kind: AutonomyLevel",
        "metadata:",
        f"  name: {name}",
        "spec:",
        f"  level: {level}",
        f"  description: Autonomy level {level}.",
        f"  allowedWithoutApproval: [{', '.join(free)}]",
        f"  requiresApproval: [{', '.join(approval)}]",
    ]
    if approvals:
        lines += [
            f"  approvals: {approvals}",
            "  promotion:",
            f"    minEvalPassRate: {0.9 + level / 100:.2f}",
            f"    minRunsAtLowerLevel: {50 * level}",
            "    maxIncidents: 0",
            "    evidence: [eval scorecard of the agent's suite]",
        ]
    return "\n".join(lines) + "\n"


def _provider(p: _Provider, rng: random.Random) -> str:
    kind = rng.choice(PROVIDER_TYPES[p.jurisdiction])
    retention = 30 if p.jurisdiction == "us" else 0
    env = p.name.upper().replace("-", "_") + "_API_KEY"
    base = "http://127.0.0.1:8000/v1" if kind == "vllm" else f"https://{p.name}.example.com/v1"
    lines = [
        f"# Upstream model API {p.name}; the key is read from the environment.",
        "apiVersion: maestro.dev/v1",
        "kind: Provider",
        "metadata:",
        f"  name: {p.name}",
        f"  description: Provider {p.name} processing in {p.jurisdiction}.",
        f"  labels: {{team: {rng.choice(TEAMS)}, tier: standard}}",
        "spec:",
        f"  type: {kind}",
        f"  baseUrl: {base}",
    ]
    if kind != "vllm":
        lines.append(f"  apiKey: {{env: {env}}}")
    lines += [
        f"  region: {p.jurisdiction}-{rng.choice(('east', 'west', 'central'))}",
        f"  jurisdiction: {p.jurisdiction}",
        f"  dataRetentionDays: {retention}",
        "  trainingUse: false",
        "  models:",
    ]
    for k, model in enumerate(p.models):
        lines += [
            f"    - name: {model}",
            f"      contextWindow: {rng.choice((8192, 32768, 128000, 200000))}",
            f"      maxOutputTokens: {rng.choice((4096, 8192, 16384))}",
            f"      price: {{inputPer1M: {0.1 + k * 2.4:.2f}, outputPer1M: {0.4 + k * 9.6:.2f}}}",
            f"      quality: {0.6 + k * 0.25:.2f}",
            "      capabilities: [chat, tools, json]",
        ]
    lines += [
        f"  rateLimits: {{requestsPerMinute: {rng.randint(100, 5000)}, "
        f"tokensPerMinute: {rng.randint(1, 20) * 100000}}}",
        "  timeouts: {connect: 5s, firstToken: 15s, total: 120s}",
    ]
    if kind == "vllm":
        lines += [
            "  serve:",
            f"    model: example/{p.models[0]}",
            f"    servedName: {p.models[0]}",
            "    maxModelLen: 8192",
            "    prefixCaching: true",
        ]
    return "\n".join(lines) + "\n"


def _route(name: str, i: int, routes: list[str], by_j: dict[str, list[_Provider]], rng: random.Random) -> str:
    us, eu, onprem = rng.choice(by_j["us"]), rng.choice(by_j["eu"]), rng.choice(by_j["onprem"])
    lines = [
        f"# Route {name}: clients call it as alias-{i:05d}.",
        "apiVersion: maestro.dev/v1",
        "kind: Route",
        "metadata:",
        f"  name: {name}",
        f"  description: Chat route {i}. US models by default; personal data stays in the EU or on-prem.",
        "spec:",
        f"  alias: alias-{i:05d}",
        "  candidates:",
        f"    - {{provider: {us.name}, model: {us.models[0]}, weight: 90}}",
        f"    - {{provider: {eu.name}, model: {eu.models[1]}, weight: 10}}",
        "  pins:",
        "    - name: batch-jobs-on-small",
        f"      when: \"request.caller == 'batch-{i}' && request.tokens < {rng.randint(1000, 9000)}\"",
        f"      target: {{provider: {us.name}, model: {us.models[0]}}}",
        "  rules:",
        "    - name: contact-details-stay-in-eu",
        "      when: \"'pii.email' in request.tags || 'pii.phone' in request.tags\"",
        "      require: {jurisdictions: [eu, onprem], maxRetentionDays: 0, trainingUse: false}",
        "      message: Requests with e-mail addresses or phone numbers are served in the EU or on-prem only.",
        "    - name: no-credentials",
        "      when: \"'secret.credential' in request.tags\"",
        "      deny: true",
        "  # Tried in order when no candidate is eligible or all fail; inside the rule's jurisdictions.",
        "  fallback:",
        f"    - {{provider: {onprem.name}, model: {onprem.models[0]}}}",
    ]
    if i > 0 and i % 4 == 0:  # a route fallback, always to an earlier route: never a cycle
        lines.append(f"    - {{route: {routes[rng.randrange(i)]}}}")
    lines += [
        "  objective: {quality: 0.5, latency: 0.2, cost: 0.2, reliability: 0.05, sovereignty: 0.05}",
        f"  limits: {{maxCostUsd: 0.02, maxLatency: {rng.randint(5, 30)}s, firstTokenTimeout: 2s}}",
        "  shadow:",
        f"    - {{provider: {eu.name}, model: {eu.models[0]}, sampleRate: 0.05}}",
        "  retry: {attempts: 2, backoff: 250ms}",
    ]
    return "\n".join(lines) + "\n"


def _agent(a: _Agent, i: int, route: str) -> str:
    # One agent in six runs at L2 with a write tool: maestro notes that the tool needs an approval (an info
    # finding with its line and column), as it does for the example repository.
    level = "L2" if i % 6 == 0 else "L3"
    lines = [
        "apiVersion: maestro.dev/v1",
        "kind: Agent",
        "metadata:",
        f"  name: {a.name}",
        f"  description: Answers customer questions about orders (agent {i}).",
        "spec:",
        f"  route: {route}",
        "  prompt:",
    ]
    if i % 4 == 0:
        lines.append(f"    file: prompts/agent-{i % PROMPT_FILES}.md     # relative to this manifest file")
    else:
        lines.append(f"    system: You are support agent {i}. Answer questions about orders politely and briefly.")
    server = "{name: orders, command: [python, examples/mcp_refund_server.py], idempotencyKeys: true}"
    lines += ["  mcpServers:", f"    - {server}", "  tools:"]
    for tool, action in a.tools:
        lines += [
            f"    - name: {tool}",
            f"      action: {action}",
            "      server: orders",
            f"      description: Tool {tool} of agent {i}; takes an order id.",
            "      inputSchema:",
            "        type: object",
            "        properties:",
            '          order_id: {type: string, pattern: "^A[0-9]{5}$", description: "Order id, e.g. A10432."}',
            "        required: [order_id]",
            "        additionalProperties: false",
        ]
    lines += [
        f"  autonomyLevel: {level}",
        "  limits:",
        "    maxCostUsdPerStep: 0.05",
        "    maxSteps: 8",
        "    maxTokensPerStep: 4000",
    ]
    return "\n".join(lines) + "\n"


def _pipeline(name: str, agent: _Agent, route: str, rng: random.Random) -> str:
    lookup = agent.tools[0][0]
    lines = [
        "apiVersion: maestro.dev/v1",
        "kind: Pipeline",
        "metadata:",
        f"  name: {name}",
        "  description: Triage a request, look the order up, get approval for large amounts, and reply.",
        "spec:",
        "  start: triage",
        "  autonomyLevel: L3",
        "  steps:",
        "    - id: triage",
        "      type: agent",
        f"      agent: {agent.name}",
        "      maxCostUsd: 0.05",
        "    - id: lookup",
        "      type: tool",
        f"      agent: {agent.name}",
        f"      tool: {lookup}",
        "      retry: {attempts: 3, backoff: 1s}",
        "    - id: approve",
        "      type: approval",
        "      approval:",
        "        approvers: 1",
        "        roles: [support-lead]",
        "        timeout: 4h",
        "        onTimeout: escalate",
        "    - id: reply",
        "      type: model",
        f"      route: {route}",
        "      prompt: Write a short, friendly reply that summarises what was done for the order.",
        f"      maxCostUsd: {rng.choice((0.01, 0.02, 0.05))}",
        "  edges:",
        "    - {from: triage, to: lookup, when: \"output.intent == 'refund'\"}",
        "    - {from: triage, to: reply, when: \"output.intent != 'refund'\"}",
        f'    - {{from: lookup, to: approve, when: "output.amount > {rng.randint(50, 500)}"}}',
        "    - {from: lookup, to: reply}",
        "    - {from: approve, to: reply}",  # whatever the approval: a condition here would leave approve stuck
        "    # The one loop: ask for more information, then triage again, at most 3 times.",
        '    - {from: reply, to: triage, when: "state.needs_more_info", maxIterations: 3}',
        "  limits:",
        "    maxCostUsd: 0.50",
        "    timeout: 24h",
    ]
    return "\n".join(lines) + "\n"


def _suite(name: str, target: tuple[str, str], judge: str, rng: random.Random) -> str:
    lines = [
        "apiVersion: maestro.dev/v1",
        "kind: EvalSuite",
        "metadata:",
        f"  name: {name}",
        f"  description: Answer quality of {target[0]} {target[1]} on realistic order questions.",
        "spec:",
        "  target:",
        f"    {target[0]}: {target[1]}",
        "  dataset:",
        "    inline:",
    ]
    for k in range(rng.randint(3, 6)):
        order = rng.randint(10000, 99999)
        intent = rng.choice(("refund", "shipping", "account", "other"))
        lines.append(
            f'      - {{id: case-{k}, input: "Question {k} about order A{order}.", expected: {intent}, '
            f"vars: {{must_mention: A{order}}}}}"
        )
    lines += [
        "  assertions:",
        "    - name: repeats-order-id",
        "      type: regex",
        '      value: "\\\\bA[0-9]{5}\\\\b"',
        "    - name: mentions-key-fact",
        "      type: cel",
        '      value: "output.contains(vars.must_mention)"',
        "    - name: concise",
        "      type: cel",
        f'      value: "size(output) < {rng.choice((500, 1000, 2000))}"',
        "    - name: judged-helpful",
        "      type: llm-judge",
        f"      route: {judge}",
        "      rubric: The answer is correct, polite and mentions the order id.",
        "    - name: cheap-enough",
        "      type: cost",
        "      max: 0.01",
        "    - name: fast-enough",
        "      type: latency",
        "      max: 8000",
        "  thresholds:",
        "    passRate: 0.9",
        "    metrics:",
        "      judged-helpful: {min: 0.75}",
        "      latency_ms_p95: {max: 6000}",
        "  repeats: 1",
        "  concurrency: 4",
        "  baseline: {ref: main, minDelta: -0.02}",
    ]
    return "\n".join(lines) + "\n"


def _rollout(name: str, kind: str, target: str, suite: str, rng: random.Random) -> str:
    first = rng.choice((5, 10, 20))
    lines = [
        "apiVersion: maestro.dev/v1",
        "kind: Rollout",
        "metadata:",
        f"  name: {name}",
        f"  description: Roll out a change to {kind} {target}, step by step.",
        "spec:",
        f"  target: {{kind: {kind}, name: {target}}}",
        "  change:",
        "    from: model-small",
        "    to: model-large",
        "  steps:",
        f"    - setWeight: {first}",
        "    - analysis: health",
        "    - pause: 10m",
        "    - setWeight: 50",
        "    - pause: manual",
        "    - setWeight: 100",
        "  analysis:",
        "    - name: health",
        "      interval: 1m",
        "      metrics:",
        "        - name: error_rate",
        "          source: gateway",
        "        - name: p95_latency_ms",
        "          source: prometheus",
        "          query: >-",
        "            1000 * histogram_quantile(0.95,",
        f'            sum by (le) (rate(maestro_request_duration_seconds_bucket{{target="{target}"}}[5m])))',
        f'      successCondition: "metrics.error_rate < 0.02 && metrics.p95_latency_ms < {rng.randint(2, 8)}000"',
        '      failureCondition: "metrics.error_rate > 0.05"',
        "      failureLimit: 1",
        "  rollback:",
        "    automatic: true",
        "    when:",
        '      - "metrics.error_rate > 0.05"',
        '      - "metrics.p95_latency_ms > 1.5 * baseline.p95_latency_ms"',
        "  approvals: {required: 1, roles: [platform-oncall]}",
        f"  evalSuite: {suite}",
    ]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------------------
# Measuring


@dataclass
class Run:
    seconds: float
    peak_mb: float
    returncode: int
    stdout: str
    stderr: str
    cpu_s: float = 0.0  # user + system CPU time of the child and the workers it waited for (os.wait4)


def measure(argv: Sequence[str], cwd: Path) -> Run:
    """Run ``argv``; wall time and the peak RSS of this child alone (os.wait4 gives its own rusage)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=cwd, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: tell Popen so it does not wait
        out.seek(0)
        err.seek(0)
        peak_kb = usage.ru_maxrss  # kilobytes on Linux
        cpu = usage.ru_utime + usage.ru_stime
        return Run(seconds, peak_kb / 1024, proc.returncode, out.read().decode(), err.read().decode(), cpu)


def batches(files: list[str], fixed: Sequence[str]) -> list[list[str]]:
    """Split ``files`` so each command line stays well under the system's argument limit."""
    limit = min(os.sysconf("SC_ARG_MAX") // 2, 1 << 20) - sum(len(a) + 1 for a in fixed) - 4096
    out: list[list[str]] = [[]]
    size = 0
    for f in files:
        if out[-1] and size + len(f) + 1 > limit:
            out.append([])
            size = 0
        out[-1].append(f)
        size += len(f) + 1
    return out


def run_maestro(cmd: list[str], data: Path, files: int) -> Run:
    run = measure([*cmd, "validate", ".", "--format", "json"], data)
    try:
        summary = json.loads(run.stdout)["summary"]
    except (ValueError, KeyError) as e:
        raise SystemExit(f"maestro produced no JSON report (exit {run.returncode}): {e}\n{run.stderr[-2000:]}") from e
    if summary["errors"] or run.returncode != 0 or summary["files"] != files or summary["documents"] != files:
        first = [d for d in json.loads(run.stdout)["diagnostics"] if d["severity"] == "error"][:5]
        raise SystemExit(
            f"INVALID BENCHMARK: maestro must pass all {files} files with 0 errors; it reported "
            f"{summary} (exit {run.returncode}); first errors: {json.dumps(first, indent=2)}"
        )
    run.stdout = f"0 errors, {summary['warnings']} warnings, {_info(summary)} info"
    return run


def _info(summary: dict[str, int]) -> int:
    """The info count; maestro before 2026-12-06 named it "infos" (so --maestro can measure an older tree)."""
    return summary.get("info", summary.get("infos", 0))


def run_maestro_findings(cmd: list[str], data: Path, files: int) -> Run:
    run = measure([*cmd, "validate", ".", "--format", "json"], data)
    try:
        summary = json.loads(run.stdout)["summary"]
    except (ValueError, KeyError) as e:
        raise SystemExit(f"maestro produced no JSON report (exit {run.returncode}): {e}\n{run.stderr[-2000:]}") from e
    findings = summary["errors"] + summary["warnings"] + _info(summary)
    if run.returncode != 1 or summary["files"] != files or findings < files:
        raise SystemExit(
            f"INVALID BENCHMARK: maestro must read all {files} copied files and report findings in them (exit 1); "
            f"it reported {summary} (exit {run.returncode})"
        )
    run.stdout = f"{summary['errors']} errors, {summary['warnings']} warnings, {_info(summary)} info"
    return run


def run_peer(cmd: list[str], data: Path, files: list[str]) -> Run:
    fixed = [*cmd, "--schemafile", str(SCHEMA)]
    total = Run(0.0, 0.0, 0, "", "")
    for group in batches(files, fixed):
        run = measure([*fixed, *group], data)
        if run.returncode != 0 or "ok -- validation done" not in run.stdout:
            raise SystemExit(
                f"INVALID BENCHMARK: check-jsonschema must pass every file (exit {run.returncode}):\n"
                f"{(run.stdout + run.stderr)[-3000:]}"
            )
        total = Run(total.seconds + run.seconds, max(total.peak_mb, run.peak_mb), 0, "", "", total.cpu_s + run.cpu_s)
    total.stdout = "all valid" + (f" ({len(batches(files, fixed))} batches)" if len(batches(files, fixed)) > 1 else "")
    return total


@dataclass
class Row:
    tool: str
    what: str
    files: int
    seconds: float
    files_per_s: float
    peak_rss_mb: float
    findings: str
    runs_s: list[float]
    cpu_seconds: float = 0.0  # median user + system CPU time


def row(tool: str, what: str, files: int, runs: list[Run]) -> Row:
    seconds = statistics.median(r.seconds for r in runs)
    return Row(
        tool,
        what,
        files,
        round(seconds, 3),
        round(files / seconds, 1),
        round(max(r.peak_mb for r in runs), 1),
        runs[0].stdout,
        [round(r.seconds, 3) for r in runs],
        round(statistics.median(r.cpu_s for r in runs), 3),
    )


def machine() -> dict[str, object]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        memory_gb = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (OSError, ValueError):
        memory_gb = None
    return {
        "date": dt.date.today().isoformat(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "memory_gb": memory_gb,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "versions": _versions(),
        "revision": _revision(),
    }


def _revision() -> str:
    try:
        out = subprocess.run(
            ["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return out.stdout.strip()


def _versions() -> dict[str, str]:
    from importlib import metadata

    out = {}
    for dist in ("maestro-ai", "check-jsonschema", "jsonschema", "ruamel.yaml", "ruamel.yaml.clib"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out


def _tool(name: str) -> list[str]:
    found = Path(sys.executable).parent / name
    if found.exists():
        return [str(found)]
    which = shutil.which(name)
    if which is None:
        raise SystemExit(f"{name} is not installed; install it (pip install -e '.[test]') and run again")
    return [which]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated file counts (default 1000,10000)")
    parser.add_argument(
        "--findings", type=int, default=2000, help="files in the many-findings case (copies of manifests/; 0: skip)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs per tool and size; the median is shown")
    parser.add_argument("--json", action="store_true", help="print the results as JSON instead of a table")
    parser.add_argument("--keep", action="store_true", help=f"generate into {DATA.relative_to(ROOT)}/ and keep it")
    parser.add_argument("--maestro", default=None, help="command that runs maestro (default: the installed one)")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    maestro = args.maestro.split() if args.maestro else _tool("maestro")
    peer = _tool("check-jsonschema")

    info = machine()
    base = DATA if args.keep else Path(tempfile.mkdtemp(prefix="maestro-bench-"))
    rows: list[Row] = []
    broken: list[Row] = []
    try:
        warm = base / "warm-up"
        shutil.rmtree(warm, ignore_errors=True)
        warm_files = generate(warm, 50)
        run_maestro(maestro, warm, len(warm_files))
        run_peer(peer, warm, warm_files)
        for size in sizes:
            data = base / str(size)
            shutil.rmtree(data, ignore_errors=True)
            files = generate(data, size)
            ours, theirs = [], []
            for _ in range(max(1, args.repeat)):  # interleaved, so drift on a shared machine hits both alike
                ours.append(run_maestro(maestro, data, size))
                theirs.append(run_peer(peer, data, files))
            rows.append(row("maestro validate", "YAML + lines, schemas, whole-set checks", size, ours))
            rows.append(row("check-jsonschema", "schemas only", size, theirs))
            print(
                f"  {size} files: maestro {rows[-2].seconds:.2f}s, check-jsonschema {rows[-1].seconds:.2f}s",
                file=sys.stderr,
            )
        if args.findings:
            data = base / f"findings-{args.findings}"
            shutil.rmtree(data, ignore_errors=True)
            files = copy_example(data, args.findings)
            runs = [run_maestro_findings(maestro, data, files) for _ in range(max(1, args.repeat))]
            broken.append(row("maestro validate", "copies of manifests/: many findings", files, runs))
            print(f"  {files} copied files: maestro {broken[-1].seconds:.2f}s", file=sys.stderr)
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)

    info["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    result = {
        "machine": info,
        "results": [asdict(r) for r in rows],
        "findings": [asdict(r) for r in broken],
        "targets": targets(rows) + findings_targets(broken),
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(table(result))
    return 0


def targets(rows: list[Row]) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for ours, theirs in zip(rows[::2], rows[1::2], strict=True):
        ratio = ours.seconds / theirs.seconds
        out.append(
            {
                "files": ours.files,
                "check": f"maestro >= {TARGET_FILES_PER_S:,.0f} files/s",
                "value": ours.files_per_s,
                "met": ours.files_per_s >= TARGET_FILES_PER_S,
            }
        )
        out.append(
            {
                "files": ours.files,
                "check": "maestro time / check-jsonschema time <= 1",
                "value": round(ratio, 2),
                "met": ratio <= 1,
            }
        )
        if ours.files >= TARGET_PEAK_AT:
            out.append(
                {
                    "files": ours.files,
                    "check": f"maestro peak RSS < {TARGET_PEAK_MB:.0f} MB",
                    "value": ours.peak_rss_mb,
                    "met": ours.peak_rss_mb < TARGET_PEAK_MB,
                }
            )
    return out


def findings_targets(rows: list[Row]) -> list[dict[str, object]]:
    return [
        {
            "files": r.files,
            "check": f"maestro >= {TARGET_FILES_PER_S:,.0f} files/s with many findings",
            "value": r.files_per_s,
            "met": r.files_per_s >= TARGET_FILES_PER_S,
        }
        for r in rows
    ]


def table(result: dict[str, object]) -> str:
    m = result["machine"]
    assert isinstance(m, dict)
    lines = [
        f"maestro validate vs check-jsonschema, {m['date']}",
        f"machine: {m['cpu']}, {m['cores']} cores ({m['usable_cores']} usable), {m['memory_gb']} GB, {m['os']}, "
        f"Python {m['python']}",
        "versions: " + ", ".join(f"{k} {v}" for k, v in m["versions"].items()) + f"; maestro tree {m['revision']}",
        f"load average (1, 5, 15 min) before: {m['load_average']}, after: {m['load_average_after']}",
        "",
        f"{'tool':<17} {'checks':<38} {'files':>6} {'seconds':>8} {'files/s':>8} {'CPU s':>6} {'peak RSS MB':>11} "
        f"{'ratio':>6}  result",
    ]
    rows = result["results"]
    assert isinstance(rows, list)
    for ours, theirs in zip(rows[::2], rows[1::2], strict=True):
        for r in (ours, theirs):
            ratio = f"{ours['seconds'] / theirs['seconds']:.2f}" if r is ours else ""
            lines.append(
                f"{r['tool']:<17} {r['what']:<38} {r['files']:>6} {r['seconds']:>8.2f} {r['files_per_s']:>8.0f} "
                f"{r['cpu_seconds']:>6.2f} {r['peak_rss_mb']:>11.1f} {ratio:>6}  {r['findings']}"
            )
    broken = result["findings"]
    assert isinstance(broken, list)
    for r in broken:
        lines.append(
            f"{r['tool']:<17} {r['what']:<38} {r['files']:>6} {r['seconds']:>8.2f} "
            f"{r['files_per_s']:>8.0f} {r['cpu_seconds']:>6.2f} {r['peak_rss_mb']:>11.1f} {'':>6}  {r['findings']}"
        )
    runs = len((rows or broken)[0]["runs_s"]) if rows or broken else 0
    lines += [
        "",
        f"seconds: median of {runs} run(s), wall clock, start-up included; CPU s: median user + system time "
        "(maestro's worker processes included); "
        "peak RSS: largest of the runs (os.wait4)",
        "ratio: maestro seconds / check-jsonschema seconds (below 1: maestro is faster)",
        "",
        "targets:",
    ]
    checks = result["targets"]
    assert isinstance(checks, list)
    for t in checks:
        lines.append(f"  {'met   ' if t['met'] else 'MISSED'} {t['files']:>6} files: {t['check']} ({t['value']})")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
