"""Benchmark what earned autonomy adds: the gate's demotion lookup per tool call, and `autonomy status`'s core.

    python benchmarks/autonomy_bench.py [--sizes 1000,20000] [--calls 200] [--runs 1000] [--json]

For each ledger size it appends that many signed entries to a real SQLite ledger in a temporary repository
(90% run entries, the rest incidents, rollbacks and three demotions, in batches like the runtime's), then:

* ``gate``: ``standing.demoted_levels`` as the runtime's tool gate calls it (opens the ledger, reads the
  ``autonomy.demote`` entries, decodes them), ``--calls`` times: p50 and p95 in ms;
* ``read``: ``standing.read_entries`` of every entry kind autonomy counts (what ``autonomy status`` reads);
* ``status``: ``earned.status`` over ``--runs`` runs and those entries (the measuring, no I/O).

There is no peer: no other graph runner measures autonomy. The exit status is 0.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from maestro.evidence import Action, Subject  # noqa: E402
from maestro.ledger.keys import SigningKey, write_public_key, write_signing_key  # noqa: E402
from maestro.ledger.store import Ledger  # noqa: E402
from maestro.manifests.validate import default_paths, validate  # noqa: E402
from maestro.runtime import earned, standing  # noqa: E402


def _entry(i: int) -> Action:
    kind = i % 20
    if kind == 0:
        details: dict[str, Any] = {"subject": "Agent/support-agent", "reason": f"incident {i}"}
        name = "autonomy.incident"
    elif kind == 1:
        details, name = (
            {"event": "rollback", "route": "support-chat", "rollout": "r", "reason": "p95"},
            "rollout.transition",
        )
    else:
        name = "run.node.end" if i % 2 else "run.tool.call"
        details = {"run": f"run-{i // 10}", "pipeline": "refund-flow", "node": "refund", "status": "succeeded"}
    return Action(name, "alice", [Subject.of("run", str(i).encode())], details=details)


def _repo(size: int) -> Path:
    root = Path(tempfile.mkdtemp(prefix="autonomy-bench-"))
    for name in ("manifests", "policies"):
        shutil.copytree(ROOT / name, root / name)
    key = SigningKey.generate("alice")
    write_public_key(key.public, root)
    write_signing_key(key, root / "alice.key", force=True)
    with Ledger.open(root / ".maestro" / "state.db") as ledger:
        for start in range(0, size, 500):
            ledger.append([_entry(i) for i in range(start, min(size, start + 500))], key)
        demotes = [
            Action(
                "autonomy.demote",
                "alice",
                [Subject.of("Agent/support-agent", b"d")],
                details={"subject": "Agent/support-agent", "from": f"L{n}", "to": "L2"},
            )
            for n in (3, 4, 5)
        ]
        ledger.append(demotes, key)
    return root


def _ms(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {"p50": statistics.median(ordered) * 1000, "p95": ordered[int(0.95 * (len(ordered) - 1))] * 1000}


def bench(size: int, calls: int, runs: int) -> dict[str, Any]:
    root = _repo(size)
    try:
        subjects = [("Agent/support-agent", "L3"), ("Pipeline/refund-flow", "L2")]
        gate = []
        for _ in range(calls):
            t = time.perf_counter()
            assert standing.demoted_levels(root, subjects) == ["L2"]
            gate.append(time.perf_counter() - t)
        reads = []
        for _ in range(5):
            t = time.perf_counter()
            entries = standing.read_entries(root / ".maestro" / "state.db")
            reads.append(time.perf_counter() - t)
        manifests = validate(default_paths(root)).manifests
        subject = earned.target(manifests, "support-agent")
        seen = [earned.RunSeen(f"run-{i}", "refund-flow", "succeeded", float(i), "L2") for i in range(runs)]
        measured = []
        for _ in range(5):
            t = time.perf_counter()
            status = earned.status(manifests, subject, seen, {}, entries)
            measured.append(time.perf_counter() - t)
        return {
            "entries": size + 3,
            "read": len(entries),
            "incidents": len(status.incidents),
            "gate_ms": _ms(gate),
            "read_ms": _ms(reads),
            "status_ms": _ms(measured),
        }
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,20000")
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = [bench(int(s), args.calls, args.runs) for s in args.sizes.split(",")]
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print("| ledger entries | read by status | gate p50 / p95 (ms) | read p50 (ms) | status p50 (ms), runs |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        g, rd, st = r["gate_ms"], r["read_ms"], r["status_ms"]
        print(
            f"| {r['entries']:,} | {r['read']:,} | {g['p50']:.2f} / {g['p95']:.2f} | {rd['p50']:.1f} | "
            f"{st['p50']:.1f}, {args.runs} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
