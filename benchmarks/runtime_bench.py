"""Overhead of the durable runtime per node, and the time to resume a paused run (maestro only, no crash drill).

    python benchmarks/runtime_bench.py [--runs N] [--json]

Parts 1 and 2 of ``benchmarks/graph_bench.py``, which describes the method; ``--runs`` is its
``--overhead-runs``. ``python benchmarks/graph_bench.py`` adds the crash drill and the LangGraph peer.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import graph_bench


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    return graph_bench.main(
        ["--no-drill", "--no-langgraph", "--overhead-runs", str(args.runs), *(["--json"] if args.json else [])]
    )


if __name__ == "__main__":
    sys.exit(main())
