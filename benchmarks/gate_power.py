"""How often the eval gate catches a true 3-point regression, and how often it fails two identical versions.

Simulates suites of 500 cases run once on the base and once on the head. Each case is *stable* (it passes
or fails every time, 80% pass) or, with probability ``--flaky``, *flaky* (passes with a probability drawn
uniformly from 0.2..0.9 on every run). A true 3-point regression breaks 15 of the 500 cases for good (stable
passing cases chosen at random now fail). Each simulated pair goes through the gate's own decision
(``stats.mcnemar_exact`` then ``gate.regression`` with minDelta 0), and, in the same run, through the test
an unpaired tool would use (a two-proportion z-test on the two pass rates) for comparison.

    python benchmarks/gate_power.py            # a table, flakiness 0..20%
    python benchmarks/gate_power.py --json     # {"power_3pt": ..., "false_fail_rate": ...} at --flaky
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
from scipy import stats as sps

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from maestro.evals import stats
from maestro.evals.gate import Verdict, regression

CARD = {"suite": "sim", "file": "sim.yaml", "line": 1}


def suite(rng: np.random.Generator, n: int, flaky: float) -> np.ndarray:
    """Each case's pass probability: 1 or 0 for stable cases, 0.2..0.9 for flaky ones."""
    is_flaky = rng.random(n) < flaky
    stable = (rng.random(n) < 0.8).astype(float)
    return np.where(is_flaky, rng.uniform(0.2, 0.9, n), stable)


def regress(rng: np.random.Generator, p: np.ndarray, points: float) -> np.ndarray:
    """``p`` with ``points`` x n stable passing cases broken (they now always fail)."""
    head = p.copy()
    candidates = np.flatnonzero(p == 1.0)
    k = round(points * p.size)
    head[rng.choice(candidates, size=min(k, candidates.size), replace=False)] = 0.0
    return head


def gate_fails(base: np.ndarray, head: np.ndarray) -> bool:
    test = stats.mcnemar_exact(head.tolist(), base.tolist())
    return regression(CARD, "pass_rate", asdict(test), 0.0).verdict is Verdict.FAIL


def unpaired_fails(base: np.ndarray, head: np.ndarray) -> bool:
    n = base.size
    p1, p2 = base.mean(), head.mean()
    pooled = (p1 + p2) / 2
    se = math.sqrt(2 * pooled * (1 - pooled) / n) if 0 < pooled < 1 else 0.0
    if se == 0:
        return False
    z = (p2 - p1) / se
    return bool(z < 0 and 2 * sps.norm.sf(abs(z)) < stats.ALPHA)


def simulate(cases: int, flaky: float, sims: int, seed: int) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    caught = caught_unpaired = false_fail = false_fail_unpaired = 0
    for _ in range(sims):
        p = suite(rng, cases, flaky)
        base = rng.random(cases) < p
        same = rng.random(cases) < p
        head = rng.random(cases) < regress(rng, p, 0.03)
        caught += gate_fails(base, head)
        caught_unpaired += unpaired_fails(base, head)
        false_fail += gate_fails(base, same)
        false_fail_unpaired += unpaired_fails(base, same)
    return {
        "power_3pt": caught / sims,
        "false_fail_rate": false_fail / sims,
        "unpaired_power_3pt": caught_unpaired / sims,
        "unpaired_false_fail_rate": false_fail_unpaired / sims,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=500)
    parser.add_argument("--sims", type=int, default=2000)
    parser.add_argument("--flaky", type=float, default=0.05, help="share of flaky cases for --json")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    if args.json:
        result = simulate(args.cases, args.flaky, args.sims, args.seed)
        result |= {
            "cases": args.cases,
            "sims": args.sims,
            "flaky": args.flaky,
            "seconds": round(time.perf_counter() - started, 2),
        }
        print(json.dumps(result))
        return
    print(f"{args.cases} cases, {args.sims} simulated pairs per row; gate = paired McNemar exact, peer = unpaired z")
    print("| flaky cases | gate power (3 pt) | gate false fails | unpaired power | unpaired false fails |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    for flaky in (0.0, 0.05, 0.10, 0.20):
        r = simulate(args.cases, flaky, args.sims, args.seed)
        print(
            f"| {flaky:.0%} | {r['power_3pt']:.3f} | {r['false_fail_rate']:.3f} | "
            f"{r['unpaired_power_3pt']:.3f} | {r['unpaired_false_fail_rate']:.3f} |"
        )
    print(f"took {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
