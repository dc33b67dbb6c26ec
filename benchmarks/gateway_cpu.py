"""The gateway's own CPU per chat request, without the network in front of it: a steadier figure to compare
two versions by than the wall-clock benchmark on a shared machine.

    python benchmarks/gateway_cpu.py [--requests 2000] [--stream]       # CPU time per request, best of 4 runs
    python benchmarks/gateway_cpu.py --instructions [--stream]          # instructions per request (valgrind)

The app from ``create_app`` (a one-route manifest set, no budgets, no tracer provider) is called in-process
on uvloop through a minimal ASGI driver, one request at a time, against ``gateway_bench.py``'s fake upstream served by
uvicorn in another process. CPU time is ``time.process_time`` of this process, so it leaves out uvicorn's
HTTP parsing in front of the app, the load generator and the upstream; on a machine shared with other jobs it
still varies by a third from run to run. ``--instructions`` counts instructions with valgrind's callgrind
instead, which repeats to a tenth of a percent: it runs 40 and then 140 requests and divides the difference
by 100, so start-up cancels out.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import gateway_bench as bench
import uvloop  # the event loop uvicorn serves the gateway on


async def call(app: Any, body: bytes) -> None:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/chat/completions",
        "raw_path": b"/v1/chat/completions",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"gateway"), (b"content-type", b"application/json")],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 2),
        "state": {},
    }
    sent, out = False, []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)  # the client never goes away
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        out.append(message)

    await app(scope, receive, send)
    answer = b"".join(m.get("body", b"") for m in out[1:])
    if out[0]["status"] != 200 or b"Hello" not in answer:
        raise SystemExit(f"wrong answer: {out[0]['status']} {answer[:200]!r}")


async def measure(upstream: str, requests: int, runs: int, stream: bool) -> list[float]:
    from maestro.cli.request_files import load_manifests
    from maestro.gateway import create_app, from_manifests

    body = json.dumps({**bench.BODY, "stream": stream}).encode()
    with tempfile.TemporaryDirectory() as tmp:
        manifests = bench.write_manifests(Path(tmp), upstream)
        app = create_app(from_manifests(load_manifests([manifests]), state_path=Path(tmp) / "state.db"))
        async with app.router.lifespan_context(app):
            for _ in range(min(requests, 300)):  # warm-up: connections, caches
                await call(app, body)
            per_request = []
            for _ in range(runs):
                started = time.process_time()
                for _ in range(requests):
                    await call(app, body)
                per_request.append((time.process_time() - started) / requests * 1000)
    return per_request


def instructions(args: argparse.Namespace, upstream: str) -> float:
    if shutil.which("valgrind") is None:
        raise SystemExit("--instructions needs valgrind (apt-get install valgrind)")
    counts = []
    for requests in (40, 140):
        command = [sys.executable, __file__, "--requests", str(requests), "--runs", "0", "--upstream", upstream]
        done = subprocess.run(
            ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *command, *(["--stream"] * args.stream)],
            capture_output=True,
            text=True,
            check=True,
        )
        found = re.search(r"Collected : (\d+)", done.stderr)
        if found is None:
            raise SystemExit(f"valgrind printed no instruction count:\n{done.stderr[-2000:]}")
        counts.append(int(found.group(1)))
    return (counts[1] - counts[0]) / 100


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=4)
    parser.add_argument("--stream", action="store_true")
    parser.add_argument("--instructions", action="store_true")
    parser.add_argument("--upstream", help=argparse.SUPPRESS)  # an upstream already served (valgrind runs)
    args = parser.parse_args()
    if args.upstream:
        uvloop.run(measure(args.upstream, args.requests, args.runs, args.stream))
        return
    port = bench.free_port()
    upstream = subprocess.Popen([sys.executable, bench.__file__, "--serve-upstream", str(port)])
    url = f"http://127.0.0.1:{port}"
    try:
        bench.wait_up(url, "/v1/models")
        kind = "streamed" if args.stream else "buffered"
        if args.instructions:
            print(f"{instructions(args, url) / 1e6:.3f} M instructions per {kind} request")
        else:
            runs = uvloop.run(measure(url, args.requests, args.runs, args.stream))
            print(
                f"gateway CPU per {kind} request, in-process: {min(runs):.3f} ms"
                f" (runs: {', '.join(f'{r:.3f}' for r in runs)}; load average {os.getloadavg()[0]:.2f})"
            )
    finally:
        upstream.terminate()
        upstream.wait(20)


if __name__ == "__main__":
    main()
