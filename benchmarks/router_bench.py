"""Benchmark maestro's routing decision against LiteLLM's deployment pick, on the same deployments.

    python benchmarks/router_bench.py [--sizes 5,50,500] [--n 2000] [--litellm-n 2000,500,200] [--json]

For each size N it generates, in memory, a manifest set of N providers with one model each, spread over the
default taxonomy's jurisdictions (us, eu, onprem in turn; some EU providers keep data 30 days), plus
``policies/default.yaml`` (tags, unknown-tag denial, the deny rule and the budgets are all evaluated), and
ONE Route whose candidates are all N deployments, with differing weights (so a seeded weighted pick runs),
an objective, a pin, a ``require`` rule over the ``pii.*`` tags, a deny rule, limits, three fallbacks and a
shadow. ``maestro.manifests.validate.validate_sources`` must report 0 errors on it, or the benchmark stops.
Live state gives every deployment latency and error statistics, so every score part is computed.

Then, in the same process and the same run:

* maestro ``router.decide`` on a 2 KB user prompt, each decision with its own seed and request id, in three
  variants: PII detection off (``detect=False``, the headline number), detection on a prompt without
  personal data, and detection on a prompt with some (an e-mail address, a phone number, an IBAN). Every
  PII decision is checked: no US provider may be allowed, ordered or shadowed, and the primary must be
  an EU or on-prem deployment; a single violation stops the benchmark with exit status 2.
* ``maestro.policy.detect.detect_messages`` alone on each 2 KB prompt (the detection target is about it).
* LiteLLM's ``Router.async_get_available_deployment(model="chat", ...)`` with ``enable_pre_call_checks=True``
  on the same N deployments, all in one model group ``chat`` (``openai/<model>`` with ``api_base``, a fake
  key and ``model_info`` carrying context window and prices), on the same 2 KB prompt. It makes no network
  call: the benchmark replaces ``socket.connect``/``getaddrinfo``/``create_connection`` with functions that
  record and refuse, and fails if any was called. ``LITELLM_LOCAL_MODEL_COST_MAP=True`` keeps LiteLLM from
  fetching its cost map at import.

Each measured call is timed alone after an untimed warm-up, with ``time.perf_counter_ns`` (wall clock: the
``p50_ms``/``p95_ms``/``p99_ms`` fields, which the targets read) and ``time.thread_time_ns`` (this thread's
CPU time: ``cpu_p*_ms``, which leaves out time lost to other processes on a busy machine; when the two
differ at the tail, the machine was contended, and the load averages in ``environment`` say so). The
garbage collector stays on (as in a server). Percentiles are nearest-rank. All maestro runs come before
LiteLLM is imported, so maestro's collections never walk LiteLLM's large heap. LiteLLM is slow at 500 deployments, so
it gets fewer samples there (``--litellm-n``). ``--json`` prints::

    {"maestro": {"5": {"p50_ms": ..., "p95_ms": ..., "p99_ms": ..., "n": ...}, "50": {...}, "500": {...}},
     "litellm": {"5": {...}, "50": {...}, "500": {...}},
     "maestro_detect_clean": {...}, "maestro_detect_pii": {...}, "detection_only": {"clean": ..., "pii": ...},
     "speedup_p95": {"5": ..., ...}, "targets": [...], "environment": {...}}

LiteLLM is a benchmark-only dependency (``pip install -e '.[bench]'``), never a runtime one. The exit status
is 2 when a decision breaks policy or LiteLLM touches the network, 1 when the manifests do not validate,
0 otherwise; missed targets are reported, not fatal.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import math
import os
import platform
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from maestro import router
from maestro.manifests.loader import SourceFile
from maestro.manifests.validate import validate_sources
from maestro.policy.detect import detect_messages

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "policies" / "default.yaml"
SIZES = (5, 50, 500)
JURISDICTIONS = ("us", "eu", "onprem")
TARGETS_P95_MS = {50: 0.5, 500: 2.0}  # maestro, PII detection off
TARGET_DETECT_P95_MS = 1.0  # detection on a 2 KB prompt
TARGET_SPEEDUP_AT_50 = 20.0
PROMPT_BYTES = 2048


class BenchmarkInvalid(Exception):
    """The run measured the wrong thing: a decision broke policy, or LiteLLM reached for the network."""


# --------------------------------------------------------------------------------------------------------
# The deployments, as maestro manifests and as a LiteLLM model list


def _provider(i: int) -> dict[str, Any]:
    """Deployment i: provider ``p{i}-{jurisdiction}`` offering one model ``m{i}``."""
    jurisdiction = JURISDICTIONS[i % len(JURISDICTIONS)]
    retention = {"us": 30, "eu": 30 if i % 4 == 1 else 0, "onprem": 0}[jurisdiction]
    return {
        "name": f"p{i:03d}-{jurisdiction}",
        "jurisdiction": jurisdiction,
        "retention": retention,
        "type": "openai" if jurisdiction == "us" else "openai-compatible",
        "base_url": f"https://p{i:03d}.{jurisdiction}.example.com/v1",
        "model": f"m{i:03d}",
        "context_window": 32768 if jurisdiction == "onprem" else 128000,
        "price_in": round(0.10 + (i % 13) * 0.2, 2),
        "price_out": round(0.30 + (i % 13) * 0.8, 2),
        "quality": round(0.50 + (i * 37 % 50) / 100, 2),
        "weight": 1 + i % 10,
    }


def manifest_yaml(size: int) -> bytes:
    providers = [_provider(i) for i in range(size)]
    docs = []
    for p in providers:
        docs.append(
            f"""apiVersion: maestro.dev/v1
kind: Provider
metadata:
  name: {p["name"]}
spec:
  type: {p["type"]}
  baseUrl: {p["base_url"]}
  apiKey: {{env: P{p["model"].upper()}_API_KEY}}
  region: {p["jurisdiction"]}-1
  jurisdiction: {p["jurisdiction"]}
  dataRetentionDays: {p["retention"]}
  trainingUse: false
  models:
    - name: {p["model"]}
      contextWindow: {p["context_window"]}
      maxOutputTokens: 4096
      price: {{inputPer1M: {p["price_in"]}, outputPer1M: {p["price_out"]}}}
      quality: {p["quality"]}
      capabilities: [chat]
"""
        )
    candidates = "\n".join(
        f"    - {{provider: {p['name']}, model: {p['model']}, weight: {p['weight']}}}" for p in providers
    )
    safe = [p for p in providers if p["jurisdiction"] != "us" and p["retention"] == 0]
    fallback = "\n".join(f"    - {{provider: {p['name']}, model: {p['model']}}}" for p in safe[-3:])
    shadow = safe[0]
    docs.append(
        f"""apiVersion: maestro.dev/v1
kind: Route
metadata:
  name: chat
  description: One route over all {size} deployments.
spec:
  alias: chat
  candidates:
{candidates}
  pins:
    - name: batch-jobs
      when: "request.caller == 'batch-jobs'"
      target: {{provider: {providers[0]["name"]}, model: {providers[0]["model"]}}}
  rules:
    - name: personal-data-stays-in-eu
      when: "request.tags.exists(t, t.startsWith('pii.'))"
      require: {{jurisdictions: [eu, onprem], maxRetentionDays: 0, trainingUse: false}}
      message: Personal data is served in the EU or on-prem only, by providers that keep nothing.
    - name: no-credentials
      when: "'secret.credential' in request.tags"
      deny: true
      message: Never send credentials.
  fallback:
{fallback}
  objective: {{quality: 0.5, latency: 0.2, cost: 0.2, reliability: 0.05, sovereignty: 0.05}}
  limits: {{maxCostUsd: 0.05, maxLatency: 8s, firstTokenTimeout: 2s}}
  shadow:
    - {{provider: {shadow["name"]}, model: {shadow["model"]}, sampleRate: 0.05}}
  retry: {{attempts: 2, backoff: 250ms}}
"""
    )
    return "---\n".join(docs).encode()


def build_table(size: int) -> router.RouterTable:
    sources = [
        SourceFile("policies/default.yaml", POLICY.read_bytes(), str(ROOT / "policies")),
        SourceFile(f"bench-{size}.yaml", manifest_yaml(size), str(ROOT)),
    ]
    result = validate_sources(sources)
    errors = [d for d in result.diagnostics if d.severity.value == "error"]
    if errors:
        shown = "\n".join(f"  {d.file}:{d.line}:{d.column} {d.rule}: {d.message}" for d in errors[:10])
        raise SystemExit(f"the generated manifests for {size} deployments do not validate:\n{shown}")
    table = router.build(result.manifests)
    route = table.route("chat")
    if len(route.candidates) != size:
        raise SystemExit(f"route 'chat' has {len(route.candidates)} candidates, expected {size}")
    return table


def live_state(size: int) -> router.LiveState:
    deployments = {}
    for i in range(size):
        p = _provider(i)
        deployments[f"{p['name']}/{p['model']}"] = router.DeploymentState(
            latency_p50_ms=200.0 + (i * 53 % 400),
            latency_p95_ms=600.0 + (i * 97 % 1500),
            error_rate=(i % 7) / 100,
        )
    return router.LiveState(deployments=deployments)


def litellm_model_list(size: int) -> list[dict[str, Any]]:
    out = []
    for i in range(size):
        p = _provider(i)
        out.append(
            {
                "model_name": "chat",
                "litellm_params": {
                    "model": f"openai/{p['model']}",
                    "api_base": p["base_url"],
                    "api_key": "sk-fake",
                    "weight": p["weight"],
                },
                "model_info": {
                    "id": f"{p['name']}/{p['model']}",
                    "max_input_tokens": p["context_window"],
                    "max_output_tokens": 4096,
                    "max_tokens": 4096,
                    "input_cost_per_token": p["price_in"] / 1_000_000,
                    "output_cost_per_token": p["price_out"] / 1_000_000,
                },
            }
        )
    return out


# --------------------------------------------------------------------------------------------------------
# Prompts


_FILLER = (
    "Our order arrived two days late and one of the three items was the wrong colour. The support page "
    "says returns are free within thirty days, but the form keeps rejecting the order reference. Could you "
    "explain the return process step by step, tell me whether I need the original packaging, and say how "
    "long a refund usually takes once the parcel is received at the warehouse? "
)
_PII = (
    " You can reach me at jane.doe@example.org or on +44 20 7946 0958, and the refund should go to "
    "DE89 3704 0044 0532 0130 00. "
)


def prompt(*, pii: bool) -> str:
    text = _PII if pii else ""
    while len(text) < PROMPT_BYTES:
        text += _FILLER
    text = text[:PROMPT_BYTES]
    if pii:  # the personal data sits in the middle of the prompt, not at its start
        half = PROMPT_BYTES // 2
        text = (text[len(_PII) : half] + _PII + text[half:])[:PROMPT_BYTES]
    return text


def messages(text: str) -> tuple[dict[str, str], ...]:
    return (
        {"role": "system", "content": "You are a helpful customer-support assistant."},
        {"role": "user", "content": text},
    )


# --------------------------------------------------------------------------------------------------------
# Timing


class Samples:
    """Per-call durations in nanoseconds: wall clock, and this thread's CPU time over the same span.

    Wall-clock time is what a caller waits; CPU time leaves out the time the thread was not running (other
    processes on a busy machine), so when the two disagree at the tail the machine was contended.
    """

    def __init__(self) -> None:
        self.wall: list[int] = []
        self.cpu: list[int] = []


def _rank(ordered: Sequence[int], q: float) -> float:
    index = min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))  # nearest rank
    return round(ordered[index] / 1e6, 4)


def percentiles(samples: Samples) -> dict[str, float]:
    wall, cpu = sorted(samples.wall), sorted(samples.cpu)
    return {
        "p50_ms": _rank(wall, 0.50),
        "p95_ms": _rank(wall, 0.95),
        "p99_ms": _rank(wall, 0.99),
        "mean_ms": round(sum(wall) / len(wall) / 1e6, 4),
        "max_ms": round(wall[-1] / 1e6, 4),
        "cpu_p50_ms": _rank(cpu, 0.50),
        "cpu_p95_ms": _rank(cpu, 0.95),
        "cpu_p99_ms": _rank(cpu, 0.99),
        "n": len(wall),
    }


def time_calls(
    call: Callable[[int], object], n: int, warmup: int, check: Callable[[Any], None] | None = None
) -> Samples:
    """Time ``call(i)`` for i in 0..n-1; ``check`` sees each result, outside the timed region."""
    for i in range(warmup):
        call(-1 - i)
    out = Samples()
    wall, cpu = time.perf_counter_ns, time.thread_time_ns
    for i in range(n):
        start_cpu, start = cpu(), wall()
        result = call(i)
        end = wall()
        out.cpu.append(cpu() - start_cpu)
        out.wall.append(end - start)
        if check is not None:
            check(result)
        del result
    return out


def _is_us(table: router.RouterTable, key: str) -> bool:
    return table.deployments[key].provider.jurisdiction == "us"


def check_pii_decision(table: router.RouterTable, decision: router.Decision) -> None:
    """A PII request may never reach a US provider, nor one that keeps data; fail loudly otherwise."""
    if not decision.tags & {"pii.email", "pii.phone", "pii.iban"}:
        raise BenchmarkInvalid(f"PII prompt not detected: tags {sorted(decision.tags)}")
    leaks = [k for k in (*decision.order, *decision.allowed, *decision.shadow) if _is_us(table, k)]
    if leaks:
        raise BenchmarkInvalid(f"decision {decision.decision_id} lets PII reach US deployments: {leaks[:5]}")
    kept = [k for k in decision.order if table.deployments[k].provider.retention_days > 0]
    if kept:
        raise BenchmarkInvalid(f"decision {decision.decision_id} lets PII reach providers that keep data: {kept}")
    if decision.primary is None or decision.denied:
        raise BenchmarkInvalid(f"decision {decision.decision_id} for a PII request was denied: {decision.denied}")


def bench_maestro(size: int, n: int, warmup: int, texts: Mapping[str, str]) -> dict[str, Samples]:
    table = build_table(size)
    state = live_state(size)
    clean, pii = messages(texts["clean"]), messages(texts["pii"])

    def run(msgs: tuple[dict[str, str], ...], detect: bool, check: bool) -> Samples:
        decide, Request = router.decide, router.Request

        def call(i: int) -> router.Decision:
            return decide(
                table, Request(alias="chat", messages=msgs, request_id=f"req-{i}"), state, seed=i, detect=detect
            )

        def verify(decision: router.Decision) -> None:
            if decision.primary is None:
                raise BenchmarkInvalid(f"no deployment chosen: {decision.denied}")
            if check:
                check_pii_decision(table, decision)

        return time_calls(call, n, warmup, verify)

    out = {
        "nodetect": run(clean, False, False),
        "detect_clean": run(clean, True, False),
        "detect_pii": run(pii, True, True),
    }
    # Caller-asserted PII with detection off must be as safe as detected PII.
    asserted = router.decide(
        table, router.Request(alias="chat", messages=clean, tags=frozenset({"pii.email"})), state, detect=False
    )
    check_pii_decision(table, asserted)
    # The same context-window check LiteLLM's pre-call checks make: 40k tokens never reach a 32k deployment.
    big = router.decide(table, router.Request(alias="chat", messages=messages("word " * 40_000)), state, detect=False)
    if any(table.deployments[k].context_window < 40_000 for k in big.order):
        raise BenchmarkInvalid("maestro let a 40k-token prompt reach a 32k deployment")
    return out


def profile(size: int, n: int, texts: Mapping[str, str], *, detect: bool, top: int = 25) -> str:
    """cProfile of ``n`` decisions at ``size`` deployments, the top costs by own time."""
    import cProfile
    import io
    import pstats

    table, state = build_table(size), live_state(size)
    msgs = messages(texts["pii" if detect else "clean"])
    requests = [router.Request(alias="chat", messages=msgs, request_id=f"req-{i}") for i in range(n)]
    for request in requests[:50]:
        router.decide(table, request, state, detect=detect)
    profiler = cProfile.Profile()
    profiler.enable()
    for i, request in enumerate(requests):
        router.decide(table, request, state, seed=i, detect=detect)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()


def bench_detection(n: int, warmup: int, texts: Mapping[str, str]) -> dict[str, Samples]:
    out = {}
    for name, text in texts.items():
        msgs = messages(text)
        found = detect_messages(msgs)
        if (name == "pii") != bool(found):
            raise BenchmarkInvalid(f"detection on the {name} prompt found {sorted(found)}")
        out[name] = time_calls(lambda _i, m=msgs: detect_messages(m), n, warmup)  # type: ignore[misc]
    return out


# --------------------------------------------------------------------------------------------------------
# LiteLLM, with the network switched off


class NetworkGuard:
    """Replaces the socket entry points with functions that record the attempt and refuse it."""

    def __init__(self) -> None:
        self.attempts: list[str] = []
        self._saved: list[tuple[Any, str, Any]] = []

    def __enter__(self) -> NetworkGuard:
        for owner, name in ((socket.socket, "connect"), (socket, "getaddrinfo"), (socket, "create_connection")):
            self._saved.append((owner, name, getattr(owner, name)))
            setattr(owner, name, self._refuse(name))
        return self

    def __exit__(self, *exc: object) -> None:
        for owner, name, original in self._saved:
            setattr(owner, name, original)

    def _refuse(self, name: str) -> Callable[..., Any]:
        def refuse(*args: Any, **kwargs: Any) -> Any:
            self.attempts.append(f"{name}{args[1:2] if name == 'connect' else args[:1]}")
            raise OSError(f"router_bench: network is switched off ({name})")

        return refuse


def import_litellm() -> Any:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no cost-map download at import
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    try:
        import litellm
    except ImportError:
        raise SystemExit("LiteLLM is not installed: pip install -e '.[bench]'") from None
    logging.getLogger("LiteLLM").setLevel(logging.ERROR)
    logging.getLogger("LiteLLM Router").setLevel(logging.ERROR)
    litellm.suppress_debug_info = True
    return litellm


def bench_litellm(litellm: Any, size: int, n: int, warmup: int, text: str, *, guard: NetworkGuard) -> Samples:
    llm_router = litellm.Router(model_list=litellm_model_list(size), enable_pre_call_checks=True)
    msgs = list(messages(text))
    valid = {f"{p['name']}/{p['model']}" for p in map(_provider, range(size))}

    async def measure() -> Samples:
        pick = llm_router.async_get_available_deployment
        for _ in range(warmup):
            await pick(model="chat", request_kwargs={}, messages=msgs)
        out = Samples()
        wall, cpu = time.perf_counter_ns, time.thread_time_ns
        for _ in range(n):
            start_cpu, start = cpu(), wall()
            deployment = await pick(model="chat", request_kwargs={}, messages=msgs)
            end = wall()
            out.cpu.append(cpu() - start_cpu)
            out.wall.append(end - start)
            if deployment["model_info"]["id"] not in valid:
                raise BenchmarkInvalid(f"LiteLLM picked an unknown deployment: {deployment['model_info']}")
        return out

    async def context_check() -> None:
        big = [{"role": "user", "content": "word " * 40_000}]  # about 40k tokens: over the on-prem 32k windows
        for _ in range(3):
            deployment = await llm_router.async_get_available_deployment(model="chat", request_kwargs={}, messages=big)
            if deployment["model_info"]["max_input_tokens"] < 40_000:
                raise BenchmarkInvalid("LiteLLM's pre-call checks let a 40k-token prompt reach a 32k deployment")

    asyncio.run(context_check())
    samples = asyncio.run(measure())
    if guard.attempts:
        raise BenchmarkInvalid(f"LiteLLM tried the network: {guard.attempts[:5]}")
    return samples


# --------------------------------------------------------------------------------------------------------
# Report


def targets(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    out = []
    for size, limit in TARGETS_P95_MS.items():
        got = report["maestro"].get(str(size), {}).get("p95_ms")
        if got is not None:
            out.append(_target(f"maestro p95 at {size} deployments, no PII detection", got, limit, "ms"))
    for name in ("clean", "pii"):
        got = report["detection_only"].get(name, {}).get("p95_ms")
        if got is not None:
            out.append(_target(f"PII detection alone on 2 KB ({name} prompt) p95", got, TARGET_DETECT_P95_MS, "ms"))
    speedup = report["speedup_p95"].get("50")
    if speedup is not None:
        out.append(
            {
                "target": "at least 20x faster than LiteLLM at 50 (p95)",
                "value": speedup,
                "limit": TARGET_SPEEDUP_AT_50,
                "met": speedup >= TARGET_SPEEDUP_AT_50,
            }
        )
    return out


def _target(name: str, value: float, limit: float, unit: str) -> dict[str, Any]:
    return {"target": f"{name} <= {limit} {unit}", "value": round(value, 4), "limit": limit, "met": value <= limit}


def print_table(report: Mapping[str, Any]) -> None:
    rows = [
        ("maestro, no PII detection", "maestro"),
        ("maestro, detection, clean 2 KB", "maestro_detect_clean"),
        ("maestro, detection, PII 2 KB", "maestro_detect_pii"),
        ("LiteLLM, pre-call checks", "litellm"),
    ]
    head = ("router", "deployments", "n", "p50 ms", "p95 ms", "p99 ms", "cpu p50", "cpu p95", "cpu p99")
    print(f"{head[0]:34} {head[1]:>11} {head[2]:>6}" + "".join(f" {h:>9}" for h in head[3:]))
    for size in report["maestro"]:
        for label, key in rows:
            r = report[key].get(size)
            if r:
                cells = ("p50_ms", "p95_ms", "p99_ms", "cpu_p50_ms", "cpu_p95_ms", "cpu_p99_ms")
                print(f"{label:34} {size:>11} {r['n']:>6}" + "".join(f" {r[c]:>9.3f}" for c in cells))
        speed = report["speedup_p95"].get(size)
        if speed is not None:
            p50 = report["speedup_p50"][size]
            print(f"{'  speed-up vs LiteLLM':34} {size:>11} {'':>6} {p50:>8.0f}x {speed:>8.0f}x")
    print()
    for name, r in report["detection_only"].items():
        print(f"detect_messages alone, {name} 2 KB prompt: p50 {r['p50_ms']:.3f} ms, p95 {r['p95_ms']:.3f} ms")
    print(f"PII decisions checked: {report['pii_decisions_checked']}, none reached a US or data-keeping provider")
    print(f"LiteLLM network attempts: {report['litellm_network_attempts']}")
    env = report["environment"]
    print(f"load average before/after: {env['load_before']} / {env['load_after']} on {env['cpus']} CPUs")
    print()
    for t in report["targets"]:
        print(f"[{'met' if t['met'] else 'MISSED'}] {t['target']}: {t['value']}")


def environment(litellm: Any | None) -> dict[str, Any]:
    version = None
    if litellm is not None:
        from importlib.metadata import version as dist_version

        version = dist_version("litellm")
    try:
        head = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "--", "maestro"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
    except OSError:
        head, dirty = "", ""
    return {
        "maestro_commit": head + ("+uncommitted" if dirty else ""),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "litellm": version,
        "prompt_bytes": PROMPT_BYTES,
    }


def _progress(args: argparse.Namespace, what: str) -> None:
    if not args.json:
        print(f"... {what} done", file=sys.stderr)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n", 1)[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="deployment counts (default 5,50,500)")
    parser.add_argument("--n", type=int, default=2000, help="maestro decisions per size and variant")
    parser.add_argument("--warmup", type=int, default=200, help="untimed maestro decisions first")
    parser.add_argument("--litellm-n", default="2000,500,200", help="LiteLLM picks per size (one or one per size)")
    parser.add_argument("--litellm-warmup", type=int, default=10)
    parser.add_argument("--no-litellm", action="store_true", help="measure maestro only")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument(
        "--profile",
        type=int,
        metavar="SIZE",
        help="print a cProfile of maestro's decisions at SIZE deployments (detection off, then on a PII prompt)",
    )
    return parser


def run(args: argparse.Namespace, texts: Mapping[str, str]) -> dict[str, Any]:
    """Every measurement, maestro first, then LiteLLM; raises BenchmarkInvalid on a broken decision."""
    sizes = [int(s) for s in args.sizes.split(",")]
    litellm_n = [int(s) for s in args.litellm_n.split(",")]
    litellm_n = (litellm_n * len(sizes))[: len(sizes)] if len(litellm_n) == 1 else litellm_n
    report: dict[str, Any] = {
        "maestro": {},
        "litellm": {},
        "maestro_detect_clean": {},
        "maestro_detect_pii": {},
        "detection_only": {},
        "speedup_p50": {},
        "speedup_p95": {},
    }
    checked = 0
    litellm = None
    load_before = _load()
    with NetworkGuard() as guard:
        # maestro first, before LiteLLM is imported: its import adds a large heap that every full
        # garbage collection would walk, which a maestro process never carries.
        for size in sizes:
            gc.collect()
            runs = bench_maestro(size, args.n, args.warmup, texts)
            checked += len(runs["detect_pii"].wall) + 1
            report["maestro"][str(size)] = percentiles(runs["nodetect"])
            report["maestro_detect_clean"][str(size)] = percentiles(runs["detect_clean"])
            report["maestro_detect_pii"][str(size)] = percentiles(runs["detect_pii"])
            _progress(args, f"maestro, {size} deployments")
        gc.collect()
        for name, samples in bench_detection(args.n, args.warmup, texts).items():
            report["detection_only"][name] = percentiles(samples)
        if not args.no_litellm:
            litellm = import_litellm()
            for size, picks in zip(sizes, litellm_n, strict=False):
                gc.collect()
                samples = bench_litellm(litellm, size, picks, args.litellm_warmup, texts["clean"], guard=guard)
                peer = report["litellm"][str(size)] = percentiles(samples)
                ours = report["maestro"][str(size)]
                report["speedup_p50"][str(size)] = round(peer["p50_ms"] / ours["p50_ms"], 1)
                report["speedup_p95"][str(size)] = round(peer["p95_ms"] / ours["p95_ms"], 1)
                _progress(args, f"LiteLLM, {size} deployments")
        report["litellm_network_attempts"] = len(guard.attempts)
    report["pii_decisions_checked"] = checked
    report["targets"] = targets(report)
    report["environment"] = {**environment(litellm), "load_before": load_before, "load_after": _load()}
    return report


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    texts = {"clean": prompt(pii=False), "pii": prompt(pii=True)}
    assert all(len(t.encode()) == PROMPT_BYTES for t in texts.values())
    if args.profile:
        for detect in (False, True):
            print(f"== maestro decide, {args.profile} deployments, detection {'on (PII prompt)' if detect else 'off'}")
            print(profile(args.profile, min(args.n, 500), texts, detect=detect))
        return 0
    try:
        report = run(args, texts)
    except BenchmarkInvalid as exc:
        print(f"router_bench: INVALID RUN: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_table(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
