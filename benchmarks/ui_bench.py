"""Benchmark the evidence UI in headless Chromium: how soon a large run's page is drawn, and a run of 10,000
node events.

    python benchmarks/ui_bench.py [--loads N] [--events N] [--json]

A throwaway repository holds two generated Pipelines of 100 and 300 model steps (a chain, with a conditional
skip edge from every third step) and a one-step loop taken ``--events`` times (10,000), against a fake
OpenAI-compatible upstream on 127.0.0.1; each runs once for real through the runtime (DBOS on SQLite).
``maestro ui``'s app is served by uvicorn on 127.0.0.1 in this process; Debian's Chromium
(``/usr/bin/chromium``) is driven by Playwright, logged in once, and loads each page ``--loads`` times (10).

- ``run_page_p95_ms``: per size, ``/runs/RUN``: the time from navigation start until cytoscape has drawn every
  step at the positions the server laid out (``window.maestroDrawnAt``, ``performance.now()`` in the page,
  set on cytoscape's first render). Targets (issue 17, item 4): 100 steps within 1 s and 300 within 2 s (p95).
- ``events_10k_p95_ms``: ``/runs/RUN`` of the loop run (10,000 timeline rows, shown 100 to a page), from
  navigation start until its one-step graph is drawn.
- ``layout_ms``: the server's layered layout of each graph the first time (``maestro.ui.layout``; later pages
  of the same graph reuse it).
- ``cpu_s``: this process's CPU time (the server and Playwright; Chromium is a child process and not counted)
  over all the page loads.

There is no peer in the same run: no other tool serves these pages.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn
from playwright.sync_api import Page, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from helpers import eval_upstream

from maestro import state
from maestro.gateway.config import api_keys_from_json
from maestro.runtime import engine, runs
from maestro.ui import layout
from maestro.ui.app import create_app
from maestro.ui.config import ROLES, UiConfig

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
SIZES = (100, 300)
TOKEN = "bench-viewer-token-0001"
PROVIDER = """---
apiVersion: maestro.dev/v1
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
"""


def pipeline(size: int) -> str:
    steps = "\n".join(f"    - {{id: s{i}, type: model, route: chat-route, prompt: step {i}}}" for i in range(size))
    edges = [f"    - {{from: s{i}, to: s{i + 1}}}" for i in range(size - 1)]
    edges += [f'    - {{from: s{i}, to: s{i + 2}, when: "output.skip"}}' for i in range(0, size - 2, 3)]
    return (
        f"---\napiVersion: maestro.dev/v1\nkind: Pipeline\nmetadata: {{name: bench-{size}}}\nspec:\n"
        f"  start: s0\n  steps:\n{steps}\n  edges:\n" + "\n".join(edges) + "\n"
    )


def loop(events: int) -> str:
    return (
        "---\napiVersion: maestro.dev/v1\nkind: Pipeline\nmetadata: {name: bench-loop}\nspec:\n  start: again\n"
        "  steps:\n    - {id: again, type: model, route: chat-route, prompt: again}\n"
        f"  edges:\n    - {{from: again, to: again, maxIterations: {events - 1}}}\n"
    )


def make_repo(root: Path, upstream: str, events: int) -> None:
    (root / "manifests").mkdir()
    text = PROVIDER.format(url=upstream) + "".join(pipeline(size) for size in SIZES) + loop(events)
    (root / "manifests" / "bench.yaml").write_text(text, encoding="utf-8")


def run_all(root: Path, names: list[str]) -> dict[str, str]:
    """Run each Pipeline once for real (DBOS on SQLite in ``root``); its run id by name."""
    ids = {}
    with engine.launched(root), engine.client(root) as client:
        for name in names:
            run = runs.start(runs.new_run(root, name, {}))
            done = runs.follow(client, run, lambda _: None, poll_s=0.2)
            assert done.status == "succeeded", (name, done.status, done.reason)
            ids[name] = run
    return ids


@contextmanager
def serving(config: UiConfig) -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(config), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def drawn_ms(page: Page, url: str) -> float:
    page.goto(url)
    deadline = time.monotonic() + 30
    while not page.evaluate("() => window.maestroDrawnAt !== undefined"):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url}: the graph was not drawn within 30 s")
        time.sleep(0.01)
    return float(page.evaluate("() => window.maestroDrawnAt"))


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[18] if len(values) > 1 else values[0]


def run(loads: int, events: int) -> dict[str, object]:
    with (
        tempfile.TemporaryDirectory() as tmp,
        eval_upstream.serve(lambda body: '{"skip": false}') as up,
    ):
        root = Path(tmp)
        os.chdir(root)
        make_repo(root, up.url, events)
        names = [f"bench-{size}" for size in SIZES] + ["bench-loop"]
        ids = run_all(root, names)
        keys = api_keys_from_json(json.dumps([{"id": "b", "token": TOKEN, "role": "viewer"}]), "bench", roles=ROLES)
        config = UiConfig(root=root, state_path=state.default_path(root), keys=keys)
        layout_ms = {}
        for size in SIZES:
            nodes = [f"s{i}" for i in range(size)]
            edges = [(f"s{i}", f"s{i + 1}") for i in range(size - 1)] + [
                (f"s{i}", f"s{i + 2}") for i in range(0, size - 2, 3)
            ]
            t = time.perf_counter()
            layout.positions(nodes, edges, "s0")
            layout_ms[str(size)] = round((time.perf_counter() - t) * 1000, 1)
        with serving(config) as url, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            page = browser.new_context(viewport={"width": 1200, "height": 800}).new_page()
            page.goto(f"{url}/login")
            page.fill("input[name=token]", TOKEN)
            page.click("button[type=submit]")
            page.wait_for_url(f"{url}/providers")
            cpu = time.process_time()
            pages = {name: [drawn_ms(page, f"{url}/runs/{ids[name]}") for _ in range(loads)] for name in names}
            cpu_s = time.process_time() - cpu
            rows = page.locator("table.timeline tr").count() - 1
            browser.close()
    sized = {str(size): pages[f"bench-{size}"] for size in SIZES}
    return {
        "loads": loads,
        "run_page_p95_ms": {size: round(p95(v), 1) for size, v in sized.items()},
        "run_page_median_ms": {size: round(statistics.median(v), 1) for size, v in sized.items()},
        "events": events,
        "events_10k_p95_ms": round(p95(pages["bench-loop"]), 1),
        "events_10k_median_ms": round(statistics.median(pages["bench-loop"]), 1),
        "events_rows_shown": rows,
        "layout_ms": layout_ms,
        "cpu_s": round(cpu_s, 2),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=int, default=10)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = run(args.loads, args.events)
    if args.json:
        print(json.dumps(result))
        return 0
    p95s, medians = result["run_page_p95_ms"], result["run_page_median_ms"]
    print(f"{'page':<34} {'median ms':>10} {'p95 ms':>10}  target")
    for size in SIZES:
        target = "1000" if size == 100 else "2000"
        print(f"{f'/runs/RUN, {size} steps':<34} {medians[str(size)]:>10} {p95s[str(size)]:>10}  {target}")  # type: ignore[index]
    label = f"/runs/RUN, {args.events} events"
    print(f"{label:<34} {result['events_10k_median_ms']:>10} {result['events_10k_p95_ms']:>10}")
    print(f"server layout ms {result['layout_ms']}, CPU {result['cpu_s']} s, load {result['load_average']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
