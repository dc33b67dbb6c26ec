"""Overhead of the durable runtime per node, and the time to resume a paused run.

    python benchmarks/runtime_bench.py [--runs N] [--json]

A 6-node pipeline of model nodes runs N times through the runtime (real DBOS on SQLite in a temporary
folder, no ledger keys) against a fake OpenAI-compatible upstream on 127.0.0.1. In the same process and
against the same upstream, the bare route call (the evals' ``Caller.chat``) runs 6N times. The overhead per
node is a run's wall time (start to end, its status polled every 2 ms) divided by its nodes, less the bare
call's median; its p95 is over the runs.
Resume: a 2-node pipeline with an approval between them; the time from sending the approval to the run's
end, less the one bare call after it.

This is a first slice: the issue's crash drill (200 runs, random SIGKILLs) and the LangGraph peer are not
measured here yet; tests/runtime/test_crash.py checks the exactly-once claim on one run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from helpers import eval_upstream

PIPELINE = """apiVersion: maestro.dev/v1
kind: Provider
metadata: {{name: fake}}
spec:
  type: openai
  baseUrl: {url}
  jurisdiction: us
  models:
    - {{name: m1, contextWindow: 100000, price: {{inputPer1M: 1.0, outputPer1M: 2.0}}}}
---
apiVersion: maestro.dev/v1
kind: Route
metadata: {{name: chat-route}}
spec:
  alias: chat
  candidates:
    - {{provider: fake, model: m1, weight: 100}}
---
apiVersion: maestro.dev/v1
kind: Pipeline
metadata: {{name: six}}
spec:
  steps:
{steps}
---
apiVersion: maestro.dev/v1
kind: Pipeline
metadata: {{name: paused}}
spec:
  steps:
    - {{id: n1, type: model, route: chat-route, prompt: "p"}}
    - {{id: ok, type: approval, approval: {{approvers: 1}}}}
    - {{id: n2, type: model, route: chat-route, prompt: "p"}}
"""


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, round(0.95 * len(values)) - 1)]


def wait_done(client: Any, run_id: str) -> None:
    """Poll the workflow's status every 2 ms (DBOS's own handle polls once a second)."""
    while (status := client.retrieve_workflow(run_id).get_status()).status in ("PENDING", "ENQUEUED"):
        time.sleep(0.002)
    assert status.status == "SUCCESS" and status.output["status"] == "succeeded", status.output


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from helpers.ledger import key

    from maestro.ledger.keys import write_public_key
    from maestro.runtime import engine, runs, snapshot

    with tempfile.TemporaryDirectory() as folder, eval_upstream.serve(lambda body: '{"ok": true}') as up:
        root = Path(folder)
        (root / "manifests").mkdir()
        steps = "\n".join(f"    - {{id: n{i}, type: model, route: chat-route, prompt: 'p'}}" for i in range(6))
        (root / "manifests" / "all.yaml").write_text(PIPELINE.format(url=up.url, steps=steps))
        os.chdir(root)
        manifests = snapshot.manifests(snapshot.take(root))

        from maestro import providers
        from maestro.calls import RouteCaller

        async def bare(n: int) -> list[float]:
            pool = providers.pool(providers.specs_of(manifests))
            caller, times = RouteCaller(manifests, pool), []
            for _ in range(n):
                t = time.perf_counter()
                await caller.chat("chat-route", [{"role": "user", "content": "{}"}])
                times.append(time.perf_counter() - t)
            await pool.aclose()
            return times

        node_overhead, resume = [], []
        with engine.launched(root), engine.client(root) as client:
            bare_median = statistics.median(asyncio.run(bare(6 * args.runs)))
            for _ in range(args.runs):
                run = runs.new_run(root, "six", {})
                t = time.perf_counter()
                runs.start(run)
                wait_done(client, run["id"])
                node_overhead.append((time.perf_counter() - t) / 6 - bare_median)
            write_public_key(key("bob").public, root)
            for _ in range(max(3, args.runs // 4)):
                run = runs.new_run(root, "paused", {"requester": "alice"})
                runs.start(run)
                paused = runs.follow(client, run["id"], lambda _: None, poll_s=0.002)
                t = time.perf_counter()
                assert paused.interrupt is not None, (paused.status, paused.reason)
                interrupt = paused.interrupt["interrupt"]
                runs.decide(client, run["id"], interrupt, key("bob"), decision="approve")
                wait_done(client, run["id"])
                resume.append(time.perf_counter() - t - bare_median)
    result = {
        "runs": args.runs,
        "bare_call_median_ms": round(bare_median * 1000, 2),
        "node_overhead_p50_ms": round(statistics.median(node_overhead) * 1000, 2),
        "node_overhead_p95_ms": round(p95(node_overhead) * 1000, 2),
        "resume_p50_ms": round(statistics.median(resume) * 1000, 2),
        "resume_p95_ms": round(p95(resume) * 1000, 2),
    }
    if args.json:
        print(json.dumps(result))
    else:
        for name, value in result.items():
            print(f"{name:<24} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
