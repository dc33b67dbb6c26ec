"""The drill's load: a baseline of straight calls to a healthy upstream, then a paced open loop through the
gateway, applying the scenario's phases as it goes, one Outcome per request.

``in_process`` runs the paced loop in a process of its own (``python -m maestro.chaos.load``, the
spec on stdin, the outcomes as JSON on stdout), so that the drill's process serves only the gateway: what
the drill measures is the gateway, not the load's own share of a busy CPU."""

from __future__ import annotations

import asyncio
import json
import random
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import httpx

from maestro.chaos.process import child_env, set_faults
from maestro.chaos.scenario import Load, Phase, Scenario
from maestro.chaos.upstream import Faults

ALIAS = "drill"
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
    refusal: str = ""  # for an error answer: its status, code and the kinds of reason it gave


async def baseline(url: str, scenario: Scenario) -> dict[bool, float]:
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
            out[stream] = quantile(times, 0.5) or 0.0
    return out


def in_process(url: str, scenario: Scenario, upstreams: Mapping[str, str]) -> tuple[float, list[Outcome]]:
    """``run`` in a child process: (when the load began, on the machine's monotonic clock; the outcomes)."""
    spec = {
        "url": url,
        "load": asdict(scenario.load),
        "phases": [[p.at_s, {n: asdict(f) for n, f in p.faults.items()}] for p in scenario.phases],
        "upstreams": dict(upstreams),
    }
    limit_s = 120 + 2 * scenario.load.requests / scenario.load.rate_per_s
    done = subprocess.run(
        [sys.executable, "-m", "maestro.chaos.load"],
        input=json.dumps(spec),
        capture_output=True,
        text=True,
        env=child_env(),
        timeout=limit_s,
        check=False,
    )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no error output"])[-1]
        raise RuntimeError(f"the drill's load process failed (exit {done.returncode}): {last}")
    data = json.loads(done.stdout)
    outcomes = [Outcome(**{**o, "tags": tuple(o["tags"])}) for o in data["outcomes"]]
    return float(data["started"]), outcomes


def main() -> None:
    """The child of ``in_process``: the spec on stdin, ``{"started", "outcomes"}`` on stdout."""
    spec = json.loads(sys.stdin.read())
    load = Load(**{**spec["load"], "tags": tuple(spec["load"]["tags"])})
    phases = [Phase(float(at), {n: Faults(**f) for n, f in faults.items()}) for at, faults in spec["phases"]]
    started = time.monotonic()
    outcomes = asyncio.run(run(spec["url"], load, phases, spec["upstreams"]))
    json.dump({"started": started, "outcomes": [asdict(o) for o in outcomes]}, sys.stdout)


async def run(
    url: str,
    load: Load,
    phases: Sequence[Phase],
    upstreams: Mapping[str, str],
    until: Callable[[], bool] | None = None,
) -> list[Outcome]:
    """The paced load through the gateway at ``url``; ``upstreams`` are the fake upstreams' URLs by name, whose
    faults the phases change. It stops early once ``until()`` is true (a rollout drill that is over)."""
    rng = random.Random(0)
    gate = asyncio.Semaphore(load.concurrency)
    pending = sorted(phases, key=lambda p: p.at_s)
    limits = httpx.Limits(
        max_connections=load.concurrency + 8, max_keepalive_connections=load.concurrency + 8, keepalive_expiry=3
    )
    async with (
        httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client,
        httpx.AsyncClient(timeout=30) as control,
    ):
        loop = asyncio.get_running_loop()
        start = loop.time()
        tasks = []
        for i in range(load.requests):
            if until is not None and until():
                break
            delay = start + i / load.rate_per_s - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            pending = await _apply(pending, loop.time() - start, upstreams, control)
            stream = rng.random() < load.stream_share
            tags = load.tags if rng.random() < load.tagged_share else ()
            await gate.acquire()
            tasks.append(asyncio.create_task(_one(client, gate, stream, tags)))
        return list(await asyncio.gather(*tasks))


async def _apply(
    phases: list[Phase], elapsed: float, upstreams: Mapping[str, str], control: httpx.AsyncClient
) -> list[Phase]:
    while phases and phases[0].at_s <= elapsed:
        for name, faults in phases[0].faults.items():
            await set_faults(control, upstreams[name], faults)
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
        refusal=_refusal(status, text),
    )


def _refusal(status: int, text: str) -> str:
    """``"503 no_deployment_available (first-token-timeout)"`` for an error answer; empty for a 200."""
    if status == 200:
        return ""
    try:
        error = json.loads(text)["error"]
    except (ValueError, KeyError, TypeError):
        return f"{status} (not an OpenAI error body)"
    kinds = sorted({str(u.get("reason", "")).split(":", 1)[0] for u in error.get("unavailable", [])})
    return f"{status} {error.get('code')}" + (f" ({', '.join(kinds)})" if kinds else "")


def quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


if __name__ == "__main__":
    main()
