"""Run a chaos scenario: fake upstreams, a gateway in front of them, a paced load, and what it measured.

Measured:
- ``success_rate``: answers that are complete (a 200, and for a stream its ``[DONE]``) over all requests;
- ``attempts_per_request``: upstream attempts (``x-maestro-attempts``) per request;
- ``p50_added_ms`` / ``p99_added_ms``: latency through the gateway under faults minus the median of the same
  requests sent straight to a healthy upstream;
- ``rescue_p99_ms``: p99 latency of the answers that needed more than one attempt;
- ``time_to_recover_s``: from a phase that heals an upstream to the end of its first answer served again;
- ``policy_violations``: answers served by a deployment the request's tags do not allow (checked against the
  router's allowed set for the tags alone, without live state);
- ``silent_truncations``: streams that ended without ``[DONE]`` and without an error event;
- ``max_attempts_to_down_provider_per_cooldown``: for an upstream that fails every call, the most calls it
  received in one window between two openings of its circuit (each at least a cooldown long); the calls
  that reached it before its circuit first opened are counted in ``attempts_before_open``.
"""

from __future__ import annotations

import asyncio
import json
import random
import tempfile
import time
from collections import Counter
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from maestro.errors import UsageError
from maestro.gateway.app import create_app
from maestro.gateway.chaos.scenario import Phase, Scenario, UpstreamSpec
from maestro.gateway.chaos.upstream import FakeUpstream, Faults
from maestro.gateway.config import BreakerSettings, from_manifests
from maestro.gateway.runtime import Runtime
from maestro.gateway.serve import Background
from maestro.manifests.validate import validate
from maestro.router import Request, RouterTable, decide

ALIAS = "drill"
_IN_FLIGHT_S = 0.05  # a call received this soon after an opening was admitted before it
MESSAGES = ({"role": "user", "content": "Say hello."},)


@dataclass(frozen=True, slots=True)
class Outcome:
    started: float
    ms: float
    stream: bool
    status: int
    complete: bool
    silent_truncation: bool
    served_by: str
    attempts: int
    tags: tuple[str, ...]
    client_error: str = ""


@dataclass
class DrillReport:
    scenario: str
    requests: int
    success_rate: float
    attempts_per_request: float
    baseline_p50_ms: float
    p50_added_ms: float
    p99_added_ms: float
    rescue_p99_ms: float | None
    time_to_recover_s: float | None
    policy_violations: int
    silent_truncations: int
    max_attempts_to_down_provider_per_cooldown: int | None
    attempts_before_open: dict[str, int] = field(default_factory=dict)
    served_by: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    missed: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def run(scenario: Scenario) -> DrillReport:
    with ExitStack() as stack:
        fakes = {u.name: FakeUpstream(u.name, u.faults, seed=i) for i, u in enumerate(scenario.upstreams)}
        urls = {name: stack.enter_context(Background(f.app())) for name, f in fakes.items()}
        baseline = FakeUpstream("baseline")
        baseline_url = stack.enter_context(Background(baseline.app()))
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="maestro-chaos-")))
        manifests = _manifests(scenario, urls, folder)
        config = from_manifests(
            manifests,
            environ={},
            breaker=BreakerSettings(scenario.failures, scenario.cooldown_s),
            stall_s=scenario.stall_s,
        )
        app = create_app(config)
        runtime: Runtime = app.state.runtime
        url = stack.enter_context(Background(app))
        base = asyncio.run(_baseline(baseline_url, scenario))
        started = time.monotonic()
        outcomes = asyncio.run(_load(url, scenario, fakes))
        return _report(
            scenario, outcomes, baseline=base, fakes=fakes, runtime=runtime, table=config.table, started=started
        )


def _manifests(scenario: Scenario, urls: Mapping[str, str], folder: Path) -> Any:
    docs: list[dict[str, Any]] = [_provider(u, urls[u.name], scenario.first_token) for u in scenario.upstreams]
    docs.append(
        {
            "apiVersion": "maestro.dev/v1",
            "kind": "Route",
            "metadata": {"name": "drill"},
            "spec": {
                "alias": ALIAS,
                "candidates": [{"provider": n, "model": "m1", "weight": 100} for n in scenario.candidates],
                **(
                    {"fallback": [{"provider": n, "model": "m1"} for n in scenario.fallback]}
                    if scenario.fallback
                    else {}
                ),
                "limits": {"firstTokenTimeout": scenario.first_token},
                "retry": {"attempts": scenario.retries, "backoff": scenario.backoff},
            },
        }
    )
    (folder / "manifests").mkdir()
    # JSON is YAML: each document on its own, in a file the manifest loader reads
    text = "\n---\n".join(json.dumps(d) for d in docs)
    (folder / "manifests" / "drill.yaml").write_text(text + "\n", encoding="utf-8")
    result = validate([folder / "manifests"])
    if result.summary.errors:
        first = next(d for d in result.diagnostics if d.severity == "error")
        raise UsageError(f"scenario '{scenario.name}' makes invalid manifests: {first.message}")
    return result.manifests


def _provider(u: UpstreamSpec, url: str, first_token: str) -> dict[str, Any]:
    return {
        "apiVersion": "maestro.dev/v1",
        "kind": "Provider",
        "metadata": {"name": u.name},
        "spec": {
            "type": "openai-compatible",
            "baseUrl": url + "/v1",
            "jurisdiction": u.jurisdiction,
            "models": [
                {"name": "m1", "contextWindow": 100000, "price": {"inputPer1M": u.price_in, "outputPer1M": u.price_out}}
            ],
            "timeouts": {"connect": "1s", "firstToken": first_token, "total": "30s"},
        },
    }


async def _baseline(url: str, scenario: Scenario) -> dict[bool, float]:
    """The median latency of straight calls to a healthy upstream, streamed and not."""
    out = {}
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        for stream in (False, True):
            times = []
            for _ in range(40):
                t0 = time.perf_counter()
                body = {"model": "m1", "messages": list(MESSAGES), "stream": stream}
                response = await client.post("/v1/chat/completions", json=body)
                await response.aread()
                times.append((time.perf_counter() - t0) * 1000)
            out[stream] = _quantile(times, 0.5) or 0.0
    return out


async def _load(url: str, scenario: Scenario, fakes: Mapping[str, FakeUpstream]) -> list[Outcome]:
    load = scenario.load
    rng = random.Random(0)
    gate = asyncio.Semaphore(load.concurrency)
    phases = sorted(scenario.phases, key=lambda p: p.at_s)
    limits = httpx.Limits(
        max_connections=load.concurrency + 8, max_keepalive_connections=load.concurrency + 8, keepalive_expiry=3
    )
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:
        loop = asyncio.get_running_loop()
        start = loop.time()
        tasks = []
        for i in range(load.requests):
            delay = start + i / load.rate_per_s - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            phases = _apply(phases, loop.time() - start, fakes)
            stream = rng.random() < load.stream_share
            tags = load.tags if rng.random() < load.tagged_share else ()
            await gate.acquire()
            tasks.append(asyncio.create_task(_one(client, gate, stream, tags)))
        return list(await asyncio.gather(*tasks))


def _apply(phases: list[Phase], elapsed: float, fakes: Mapping[str, FakeUpstream]) -> list[Phase]:
    while phases and phases[0].at_s <= elapsed:
        for name, faults in phases[0].faults.items():
            fakes[name].faults = faults
        phases = phases[1:]
    return phases


async def _one(client: httpx.AsyncClient, gate: asyncio.Semaphore, stream: bool, tags: tuple[str, ...]) -> Outcome:
    body: dict[str, Any] = {"model": ALIAS, "messages": list(MESSAGES), "stream": stream}
    if tags:
        body["tags"] = list(tags)
    started = time.monotonic()
    try:
        async with client.stream("POST", "/v1/chat/completions", json=body) as response:
            text = (await response.aread()).decode("utf-8", "replace")
        status = response.status_code
        headers = response.headers
    except httpx.HTTPError as e:
        ms = (time.monotonic() - started) * 1000
        return Outcome(started, ms, stream, 0, False, False, "none", 0, tags, type(e).__name__)
    finally:
        gate.release()
    ms = (time.monotonic() - started) * 1000
    done = "data: [DONE]" in text
    errored = '"error"' in text
    complete = status == 200 and (done if stream else '"choices"' in text)
    silent = stream and status == 200 and not done and not errored
    return Outcome(
        started,
        ms,
        stream,
        status,
        complete,
        silent,
        headers.get("x-maestro-served-by", "none"),
        int(headers.get("x-maestro-attempts", "0") or 0),
        tags,
    )


def _report(
    scenario: Scenario,
    outcomes: list[Outcome],
    *,
    baseline: Mapping[bool, float],
    fakes: Mapping[str, FakeUpstream],
    runtime: Runtime,
    table: RouterTable,
    started: float,
) -> DrillReport:
    n = len(outcomes) or 1
    added = [o.ms - baseline[o.stream] for o in outcomes if o.complete]
    rescued = [o.ms for o in outcomes if o.complete and o.attempts > 1]
    per_window, before = _down_attempts(scenario, fakes, runtime)
    report = DrillReport(
        scenario=scenario.name,
        requests=len(outcomes),
        success_rate=round(sum(o.complete for o in outcomes) / n, 6),
        attempts_per_request=round(sum(o.attempts for o in outcomes) / n, 4),
        baseline_p50_ms=round(max(baseline.values()), 3),
        p50_added_ms=round(_quantile(added, 0.5) or 0.0, 3),
        p99_added_ms=round(_quantile(added, 0.99) or 0.0, 3),
        rescue_p99_ms=_round(_quantile(rescued, 0.99)),
        time_to_recover_s=_recovery(scenario, outcomes, started),
        policy_violations=_violations(outcomes, table),
        silent_truncations=sum(o.silent_truncation for o in outcomes),
        max_attempts_to_down_provider_per_cooldown=per_window,
        attempts_before_open=before,
        served_by=dict(Counter(o.served_by for o in outcomes)),
        statuses=dict(sorted(Counter(str(o.status or o.client_error) for o in outcomes).items())),
    )
    report.missed = scenario.missed({k: v for k, v in report.as_dict().items() if isinstance(v, int | float)})
    return report


def _down(faults: Faults) -> bool:
    return faults.error_rate >= 1 or faults.hang_rate >= 1 or faults.rate_limit_rate >= 1


def _down_attempts(
    scenario: Scenario, fakes: Mapping[str, FakeUpstream], runtime: Runtime
) -> tuple[int | None, dict[str, int]]:
    """The most calls a failing-every-call upstream received between two openings of its circuit.

    Each opening starts a window that lasts until the next opening (at least one cooldown); a healthy breaker
    lets exactly one call through per window: the half-open probe, whose failure opens the next window. Calls
    received within ``_IN_FLIGHT_S`` of an opening were sent before it and are not counted in that window.
    """
    worst: int | None = None
    before: dict[str, int] = {}
    openings = list(runtime.breakers.openings)
    for name, fake in fakes.items():
        failed = [t for t, outcome in fake.calls if outcome != "ok"]
        if not failed or not any(_down(f) for f in _faults_over_time(scenario, name)):
            continue
        opened = [t for t, key in openings if key == f"{name}/m1"]
        before[name] = sum(1 for t in failed if not opened or t < opened[0] + _IN_FLIGHT_S)
        for start, end in zip(opened, [*opened[1:], float("inf")], strict=True):
            count = sum(1 for t in failed if start + _IN_FLIGHT_S <= t < end)
            worst = max(worst or 0, count)
    return worst, before


def _faults_over_time(scenario: Scenario, name: str) -> list[Faults]:
    start = next(u.faults for u in scenario.upstreams if u.name == name)
    return [start, *(p.faults[name] for p in scenario.phases if name in p.faults)]


def _recovery(scenario: Scenario, outcomes: list[Outcome], started: float) -> float | None:
    """Seconds from the phase that healed a failing upstream to the end of its first answer after that."""
    out = None
    for phase in scenario.phases:
        for name, faults in phase.faults.items():
            if _down(faults):
                continue
            healed = started + phase.at_s
            served = [
                o.started + o.ms / 1000
                for o in outcomes
                if o.complete and o.served_by == f"{name}/m1" and o.started >= healed
            ]
            if served:
                out = max(out or 0.0, min(served) - healed)
    return None if out is None else round(out, 3)


def _violations(outcomes: list[Outcome], table: RouterTable) -> int:
    allowed: dict[tuple[str, ...], frozenset[str]] = {}
    count = 0
    for o in outcomes:
        if o.status != 200:
            continue
        if o.tags not in allowed:
            request = Request(alias=ALIAS, messages=MESSAGES, tags=frozenset(o.tags))
            allowed[o.tags] = decide(table, request).allowed
        if o.served_by not in allowed[o.tags]:
            count += 1
    return count


def _quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
