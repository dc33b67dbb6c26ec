"""Issue 14's constraint, measured: the benchmarks before and after the platform work, side by side, in one run.

    python benchmarks/platform_bench.py [--before b7b7aca] [--only router,gateway_cpu,...] [--repeat 1] [--json]

``--before`` (default ``b7b7aca``, main just before the first issue-14 merge: t14-evidence went in with
t16-delivery at ``1c53615``) is checked out into a temporary git worktree; "after" is this checkout. Each
benchmark runs in each tree with that tree's own script (the scripts barely changed, but the after tree's
import modules renamed since), with ``PYTHONPATH`` set to the tree, before and after alternating, so that
drift on a shared machine hits both alike:

* ``router``: ``router_bench.py --no-litellm --sizes 50,500``: wall and CPU p95 of a decision (ms).
* ``gateway_cpu``: ``gateway_cpu.py``: the gateway's CPU per buffered request, in process (ms, best run).
* ``gateway``: ``gateway_bench.py --rates 200 --no-peer``: the p99 the gateway adds at 200 req/s over the
  upstream's median (ms), and its CPU per request from /proc. On a 2-core machine shared with other jobs this
  one measures the machine as much as the gateway: read it beside the load average.
* ``validate``: ``validate_bench.py --sizes 1000 --findings 2000``: files per CPU second (clean, and the
  example copied 2,000 times with about 8,500 findings) and the wall files/s.
* ``ledger``: ``ledger_bench.py --sizes 20000``: signed, chained appends per second.

The load average is printed before and after each benchmark. The exit status is 1 when a benchmark fails in
either tree (its output is shown), 0 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BEFORE = "b7b7aca"
Parse = Callable[[str], dict[str, float]]


def _json(text: str) -> Any:
    return json.loads(text[text.index("{") :])


def _router(text: str) -> dict[str, float]:
    report = _json(text)["maestro"]
    out = {}
    for size in ("50", "500"):
        out[f"router p95 ms, {size} deployments (wall)"] = report[size]["p95_ms"]
        out[f"router p95 ms, {size} deployments (CPU)"] = report[size]["cpu_p95_ms"]
    return out


def _gateway_cpu(text: str) -> dict[str, float]:
    found = re.search(r"in-process: ([0-9.]+) ms", text)
    if found is None:
        raise ValueError("no 'in-process: N ms' line")
    return {"gateway CPU ms per buffered request (in process, best run)": float(found.group(1))}


def _gateway(text: str) -> dict[str, float]:
    rows = [r for r in _json(text)["rows"] if not r.get("stream")]
    row = rows[0]
    return {
        "gateway added p99 ms at 200 req/s (p99 over the direct p50)": row["gateway_p99_vs_direct_p50_ms"],
        "gateway CPU ms per request at 200 req/s (/proc)": row["gateway_cpu_ms_per_request"],
        "gateway errors at 200 req/s": row["gateway_errors"],
    }


def _validate(text: str) -> dict[str, float]:
    report = _json(text)
    clean = next(r for r in report["results"] if r["tool"] == "maestro validate")
    broken = report["findings"][0]
    return {
        "validate files per CPU s, 1,000 clean files": round(clean["files"] / clean["cpu_seconds"], 1),
        "validate files per CPU s, 2,000 copies (many findings)": round(broken["files"] / broken["cpu_seconds"], 1),
        "validate files/s wall, 1,000 clean files": clean["files_per_s"],
        "validate files/s wall, 2,000 copies": broken["files_per_s"],
    }


def _ledger(text: str) -> dict[str, float]:
    report = _json(text)
    return {
        "ledger appends/s (Ledger.append)": report["appends_per_s"],
        "ledger appends/s (Writer)": report["writer_appends_per_s"],
    }


def benchmarks(python: str) -> dict[str, tuple[list[str], Parse]]:
    maestro = f"{python} -m maestro.cli.main"
    return {
        "router": (["router_bench.py", "--no-litellm", "--sizes", "50,500", "--n", "2000", "--json"], _router),
        "gateway_cpu": (["gateway_cpu.py", "--requests", "1000", "--runs", "3"], _gateway_cpu),
        "gateway": (["gateway_bench.py", "--rates", "200", "--seconds", "5", "--no-peer", "--json"], _gateway),
        "validate": (
            [
                "validate_bench.py",
                "--sizes",
                "1000",
                "--findings",
                "2000",
                "--repeat",
                "1",
                "--json",
                "--maestro",
                maestro,
            ],
            _validate,
        ),
        "ledger": (["ledger_bench.py", "--sizes", "20000", "--json"], _ledger),
    }


def run_one(tree: Path, argv: list[str], parse: Parse) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run(
        [sys.executable, str(tree / "benchmarks" / argv[0]), *argv[1:]],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{argv[0]} in {tree} exited {done.returncode}:\n{(done.stdout + done.stderr)[-3000:]}")
    try:
        return parse(done.stdout)
    except (ValueError, KeyError, IndexError, StopIteration) as e:
        raise RuntimeError(f"{argv[0]} in {tree}: cannot read its output ({e!r}):\n{done.stdout[-2000:]}") from e


def _load() -> float:
    return round(os.getloadavg()[0], 2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", default=BEFORE, help=f"the revision before the work (default {BEFORE})")
    parser.add_argument("--only", default="", help="comma-separated benchmarks (default: all)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per benchmark and tree, alternating")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    chosen = benchmarks(sys.executable)
    if args.only:
        chosen = {k: v for k, v in chosen.items() if k in args.only.split(",")}
    revision = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    results: dict[str, Any] = {"before": args.before, "after": revision.stdout.strip(), "rows": [], "load": []}
    failed = False
    with tempfile.TemporaryDirectory(prefix="maestro-before-") as tmp:
        before = Path(tmp) / "tree"
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(before), args.before], cwd=ROOT, check=True, capture_output=True
        )
        try:
            for name, (bench_argv, parse) in chosen.items():
                values: dict[str, dict[str, list[float]]] = {}
                results["load"].append({"benchmark": name, "before": _load()})
                for _ in range(max(1, args.repeat)):
                    for label, tree in (("before", before), ("after", ROOT)):
                        try:
                            for measure, value in run_one(tree, bench_argv, parse).items():
                                values.setdefault(measure, {}).setdefault(label, []).append(value)
                        except RuntimeError as e:
                            failed = True
                            print(f"{name} ({label}) failed: {e}", file=sys.stderr)
                results["load"][-1]["after"] = _load()
                for measure, by_tree in values.items():
                    results["rows"].append({"measure": measure, **by_tree})
                print(f"  {name} done (load {results['load'][-1]})", file=sys.stderr)
        finally:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(before)], cwd=ROOT, check=False, capture_output=True
            )
    print(json.dumps(results, indent=2) if args.json else table(results))
    return 1 if failed else 0


def table(results: dict[str, Any]) -> str:
    lines = [
        f"before: {results['before']}; after: {results['after']}",
        "",
        "| measure | before | after |",
        "| --- | ---: | ---: |",
    ]
    for row in results["rows"]:
        cells = [", ".join(f"{v:g}" for v in row.get(k, [])) or "-" for k in ("before", "after")]
        lines.append(f"| {row['measure']} | {cells[0]} | {cells[1]} |")
    lines += ["", "load average (1 min) before and after each benchmark:"]
    lines += [f"  {entry['benchmark']}: {entry['before']} -> {entry.get('after')}" for entry in results["load"]]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
