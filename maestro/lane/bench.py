"""``maestro lane bench``: the lane (continuous batching) against a naive baseline on the same model.

The same prompts and token limit go, at each concurrency level, through the running lane (all requests
at once, at most ``level`` in flight, over its OpenAI API) and through a baseline: sequential transformers
``generate`` in the lane virtualenv, a subprocess. Both produce exactly ``max_tokens`` tokens per request
(the lane with ``ignore_eos``, the baseline with ``min_new_tokens``). A baseline request's latency counts
from when its wave arrived, as it would under that many concurrent callers. Cost per request is the
machine's price per hour (``serve.pricePerHour``) times the wall time the level took, per request.
The baseline runs while the lane stays up, idle (measured here: under 1 CPU second in 10 s idle).
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from maestro.lane.command import minimal_env
from maestro.lane.config import LaneConfig
from maestro.lane.errors import LaneError
from maestro.lane.health import healthy
from maestro.lane.models import resolve
from maestro.lane.paths import LanePaths

PROMPTS = (
    "What is the capital of France?",
    "Write one sentence about the sea.",
    "Name three colours.",
    "Explain what a compiler does in one sentence.",
    "Give a short tip for learning to cook.",
    "What is two plus two?",
    "Describe a cat in one sentence.",
    "Why is the sky blue? Answer briefly.",
)
LEVELS = (1, 8, 32)

# Run as ``python -c BASELINE`` in the lane venv; reads a JSON job on stdin, prints one JSON line a request.
BASELINE = r"""
import json, sys, time
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

job = json.load(sys.stdin)
tok = AutoTokenizer.from_pretrained(job["model"])
model = AutoModelForCausalLM.from_pretrained(job["model"], dtype=torch.float32).eval()
print(json.dumps({"loaded": True}), flush=True)
for level, count in job["levels"]:
    wave = time.perf_counter()
    for i in range(count):
        prompt = job["prompts"][i % len(job["prompts"])]
        ids = tok.apply_chat_template([{"role": "user", "content": prompt}], add_generation_prompt=True,
                                      return_tensors="pt", return_dict=True)
        with torch.inference_mode():
            out = model.generate(**ids, max_new_tokens=job["max_tokens"], min_new_tokens=job["max_tokens"],
                                 do_sample=False, pad_token_id=tok.eos_token_id)
        tokens = int(out.shape[-1] - ids["input_ids"].shape[-1])
        print(json.dumps({"level": level, "latency_s": time.perf_counter() - wave, "tokens": tokens}), flush=True)
"""


@dataclass(frozen=True, slots=True)
class Job:
    """What to measure: the served model name, the levels, the tokens per request, the machine's price."""

    model: str
    levels: tuple[int, ...] = LEVELS
    max_tokens: int = 32
    price_per_hour: float | None = None


@dataclass(frozen=True, slots=True)
class Level:
    """One system at one concurrency level."""

    system: str  # "lane" or "baseline"
    concurrency: int
    requests: int
    output_tokens: int
    seconds: float
    tokens_per_s: float
    p50_ms: float
    p95_ms: float
    cost_per_request_usd: float | None


@dataclass(frozen=True, slots=True)
class Bench:
    model: str
    max_tokens: int
    price_per_hour: float | None
    levels: tuple[Level, ...]
    ratios: dict[int, float] = field(default_factory=dict)  # lane tokens/s over baseline's, by concurrency


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) with linear interpolation; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    low, high = math.floor(pos), math.ceil(pos)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def level_of(
    system: str, concurrency: int, latencies_s: Sequence[float], tokens: int, seconds: float, *, price: float | None
) -> Level:
    n = len(latencies_s)
    cost = None if price is None or n == 0 else price / 3600.0 * seconds / n
    return Level(
        system,
        concurrency,
        n,
        tokens,
        seconds,
        tokens / seconds if seconds > 0 else 0.0,
        percentile(latencies_s, 0.5) * 1000,
        percentile(latencies_s, 0.95) * 1000,
        cost,
    )


def requests_at(level: int) -> int:
    """How many requests a level sends: one full wave, and at least four."""
    return max(level, 4)


async def _lane_level(client: httpx.AsyncClient, url: str, job: Job, level: int) -> Level:
    gate = asyncio.Semaphore(level)

    async def one(i: int) -> tuple[float, int]:
        body = {
            "model": job.model,
            "messages": [{"role": "user", "content": PROMPTS[i % len(PROMPTS)]}],
            "max_tokens": job.max_tokens,
            "temperature": 0,
            "ignore_eos": True,
        }
        async with gate:
            response = await client.post(url, json=body)
        response.raise_for_status()
        return time.perf_counter() - wave, int(response.json()["usage"]["completion_tokens"])

    wave = time.perf_counter()
    done = await asyncio.gather(*(one(i) for i in range(requests_at(level))))
    seconds = time.perf_counter() - wave
    return level_of("lane", level, [d[0] for d in done], sum(d[1] for d in done), seconds, price=job.price_per_hour)


async def run_lane(base: str, job: Job, timeout_s: float = 900) -> list[Level]:
    """Each level through the running lane at ``base`` (http://host:port)."""
    limits = httpx.Limits(max_connections=max(job.levels), max_keepalive_connections=max(job.levels))
    async with httpx.AsyncClient(timeout=timeout_s, limits=limits) as client:
        try:
            url = f"{base}/v1/chat/completions"
            await _lane_level(client, url, Job(job.model, (1,), 4), 1)  # warm-up
            return [await _lane_level(client, url, job, c) for c in job.levels]
        except httpx.HTTPError as e:
            raise LaneError(f"the lane at {base} failed during the benchmark: {e}; see `maestro lane logs`") from e


def run_baseline(python: Path, model_dir: str, job: Job, timeout_s: float = 3600) -> list[Level]:
    """Each level through sequential transformers ``generate`` in the lane virtualenv."""
    spec = {
        "model": model_dir,
        "prompts": list(PROMPTS),
        "max_tokens": job.max_tokens,
        "levels": [[c, requests_at(c)] for c in job.levels],
    }
    try:
        done = subprocess.run(
            [str(python), "-c", BASELINE],
            input=json.dumps(spec),
            capture_output=True,
            text=True,
            env=minimal_env(os.environ),
            timeout=timeout_s,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        raise LaneError(f"the baseline did not finish: {e}") from e
    if done.returncode != 0:
        tail = "\n".join(f"    {line}" for line in done.stderr.splitlines()[-15:])
        raise LaneError(f"the baseline failed (exit {done.returncode}):\n{tail}")
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    out = []
    for c in job.levels:
        mine = [r for r in rows if r.get("level") == c]
        lat = [r["latency_s"] for r in mine]
        out.append(
            level_of(
                "baseline", c, lat, sum(r["tokens"] for r in mine), max(lat, default=0.0), price=job.price_per_hour
            )
        )
    return out


def compare(job: Job, lane: list[Level], baseline: list[Level]) -> Bench:
    by_level = {b.concurrency: b for b in baseline}
    ratios = {
        a.concurrency: a.tokens_per_s / by_level[a.concurrency].tokens_per_s
        for a in lane
        if a.concurrency in by_level and by_level[a.concurrency].tokens_per_s > 0
    }
    return Bench(job.model, job.max_tokens, job.price_per_hour, (*lane, *baseline), ratios)


def measure(config: LaneConfig, paths: LanePaths, job: Job, *, baseline: bool = True) -> Bench:
    """Benchmark the running lane ``config`` and, with ``baseline``, the naive baseline on its model."""
    with httpx.Client(timeout=3.0) as client:
        if not healthy(client, config.base):
            raise LaneError(f"lane '{config.name}' does not answer {config.base}/health; run `maestro lane up --wait`")
    lane = asyncio.run(run_lane(config.base, job))
    slow = run_baseline(paths.python, resolve(config, paths), job) if baseline else []
    return compare(job, lane, slow)


def table(result: Bench) -> str:
    """A plain-text table of every level, and the lane/baseline throughput ratios."""
    head = f"{'system':<9} {'conc':>4} {'reqs':>4} {'tokens':>6} {'secs':>7} {'tok/s':>7} {'p50 ms':>8} {'p95 ms':>8}"
    lines = [f"model {result.model}, {result.max_tokens} output tokens a request", head + f" {'USD/req':>10}"]
    for lv in result.levels:
        cost = "-" if lv.cost_per_request_usd is None else f"{lv.cost_per_request_usd:.6f}"
        lines.append(
            f"{lv.system:<9} {lv.concurrency:>4} {lv.requests:>4} {lv.output_tokens:>6} {lv.seconds:>7.1f} "
            f"{lv.tokens_per_s:>7.1f} {lv.p50_ms:>8.0f} {lv.p95_ms:>8.0f} {cost:>10}"
        )
    for level, ratio in result.ratios.items():
        lines.append(f"lane / baseline tokens/s at {level} concurrent: {ratio:.2f}x")
    return "\n".join(lines) + "\n"
