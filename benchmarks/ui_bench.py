"""Benchmark the evidence UI in headless Chromium: how soon a large Pipeline graph is drawn, and a ledger page
over 10,000 entries.

    python benchmarks/ui_bench.py [--loads N] [--json]

A throwaway repository holds the example manifests plus two generated Pipelines of 100 and 300 model steps
(a chain, with a conditional skip edge from every third step), and a ledger of 10,000 entries. ``maestro ui``'s
app is served by uvicorn on 127.0.0.1 in this process; Debian's Chromium (``/usr/bin/chromium``) is driven
by Playwright, logged in once, and loads each page ``--loads`` times (10).

- ``graph_page_p95_ms``: per size, the time from navigation start until cytoscape + dagre have laid out and
  drawn every step (``window.maestroDrawnAt``, ``performance.now()`` in the page) on ``/manifests/Pipeline/NAME``,
  the same drawing code and graph record as ``/runs/RUN``. Targets (issue 17, item 4, for a run page): 100
  steps within 1 s and 300 within 2 s (p95).
- ``ledger_10k_p95_ms``: ``/ledger`` over 10,000 entries (paged: the newest 200 are rendered), from navigation
  start to ``DOMContentLoaded``; the stand-in for "a run with 10,000 events stays responsive" until runs
  carry that many.

There is no peer in the same run: no other tool serves these pages.
"""

from __future__ import annotations

import argparse
import json
import shutil
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

from maestro.gateway.config import api_keys_from_json
from maestro.ledger import Action, Ledger, Subject
from maestro.ledger.keys import SigningKey, write_public_key
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
LEDGER_ENTRIES = 10_000
TOKEN = "bench-viewer-token-0001"


def pipeline(size: int) -> str:
    steps = "\n".join(f"    - {{id: s{i}, type: model, route: support-chat, prompt: step {i}}}" for i in range(size))
    edges = [f"    - {{from: s{i}, to: s{i + 1}}}" for i in range(size - 1)]
    edges += [f'    - {{from: s{i}, to: s{i + 2}, when: "output.skip"}}' for i in range(0, size - 2, 3)]
    return (
        f"---\napiVersion: maestro.dev/v1\nkind: Pipeline\nmetadata: {{name: bench-{size}}}\nspec:\n"
        f"  start: s0\n  steps:\n{steps}\n  edges:\n" + "\n".join(edges) + "\n"
    )


def make_repo(root: Path) -> UiConfig:
    for name in ("manifests", "policies"):
        shutil.copytree(ROOT / name, root / name)
    with (root / "manifests" / "pipelines.yaml").open("a", encoding="utf-8") as f:
        for size in SIZES:
            f.write(pipeline(size))
    key = SigningKey.generate("bench")
    write_public_key(key.public, root)
    state = root / ".maestro" / "state.db"
    with Ledger.open(state) as ledger:
        for start in range(0, LEDGER_ENTRIES, 1000):
            ledger.append(
                [
                    Action("route", "bench", [Subject.of("request", str(i).encode())])
                    for i in range(start, start + 1000)
                ],
                key,
            )
    keys = api_keys_from_json(json.dumps([{"id": "bench", "token": TOKEN, "role": "viewer"}]), "bench", roles=ROLES)
    return UiConfig(root=root, state_path=state, keys=keys, signing_key=key)


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


def loaded_ms(page: Page, url: str) -> float:
    page.goto(url, wait_until="domcontentloaded")
    return float(page.evaluate("() => performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd"))


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[18] if len(values) > 1 else values[0]


def run(loads: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp, serving(make_repo(Path(tmp))) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_context(viewport={"width": 1200, "height": 800}).new_page()
        page.goto(f"{url}/login")
        page.fill("input[name=token]", TOKEN)
        page.click("button[type=submit]")
        page.wait_for_url(f"{url}/providers")
        graphs = {
            size: [drawn_ms(page, f"{url}/manifests/Pipeline/bench-{size}") for _ in range(loads)] for size in SIZES
        }
        ledger = [loaded_ms(page, f"{url}/ledger") for _ in range(loads)]
        browser.close()
    return {
        "loads": loads,
        "graph_page_p95_ms": {str(size): round(p95(v), 1) for size, v in graphs.items()},
        "graph_page_median_ms": {str(size): round(statistics.median(v), 1) for size, v in graphs.items()},
        "ledger_10k_p95_ms": round(p95(ledger), 1),
        "ledger_10k_median_ms": round(statistics.median(ledger), 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=int, default=10)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = run(args.loads)
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"{'page':<34} {'median ms':>10} {'p95 ms':>10}  target")
    for size in SIZES:
        target = "1000" if size == 100 else "2000"
        print(
            f"{f'Pipeline graph, {size} steps':<34} {result['graph_page_median_ms'][str(size)]:>10} "  # type: ignore[index]
            f"{result['graph_page_p95_ms'][str(size)]:>10}  {target}"  # type: ignore[index]
        )
    print(f"{'/ledger over 10,000 entries':<34} {result['ledger_10k_median_ms']:>10} {result['ledger_10k_p95_ms']:>10}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
