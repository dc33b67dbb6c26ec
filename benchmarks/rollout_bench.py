"""Rollouts on synthetic traffic (maestro.delivery.simulate: the live judge and state machine, no requests):
MTTR, false aborts, power and canary time against a Flagger-style fixed-interval schedule.

    python benchmarks/rollout_bench.py [--json] [--runs 200] [--drills 100]

- MTTR: stable at 1% errors, the canary going from 1% to 6% at a random second of its 10% step, 50 req/s;
  the time from the fault's onset to all traffic on stable (the controller ticks once a second).
- The floor under it: a test told the onset and the exact rates (the sequential probability ratio test of 6%
  against 1% on the canary's share of the failures from the onset on, alpha 0.01), which no test can beat on
  average; its p95 says what MTTR the traffic allows at all.
- False aborts: healthy canaries (1% like stable) that were rolled back.
- Power: the canary 5 points worse from the start at 10% weight; requests on the route until the rollback.
- Canary time: the median time to promote a healthy canary over Flagger's fixed schedule of the same safety
  (1-minute interval, 5 steps: 300 s to promote; threshold 5: 5 failed checks, 5 minutes, to abort).
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from maestro.delivery.simulate import Run, Traffic, simulate
from maestro.delivery.spec import Metric, RolloutSpec, Step

FLAGGER_PROMOTE_S = 5 * 60.0
SPEC = RolloutSpec(
    name="bench",
    digest="sha256:" + "0" * 64,
    route="bench",
    stable="stable/m",
    canary="canary/m",
    steps=(
        Step("setWeight", weight=10),
        Step("analysis", analysis="health"),
        Step("setWeight", weight=50),
        Step("analysis", analysis="health"),
        Step("setWeight", weight=100),
    ),
    analyses={"health": (Metric("error_rate", "gateway"),)},
    weights={"stable/m": 100.0, "canary/m": 0.0},
)


def measure(runs: int, drill_runs: int) -> dict[str, float]:
    healthy = [simulate(SPEC, Traffic(), seed) for seed in range(runs)]
    promote_times = [r.seconds for r in healthy if r.phase == "Promoted"]
    drills = [_drill(seed) for seed in range(10_000, 10_000 + drill_runs)]
    floor = [_oracle(seed) for seed in range(30_000, 30_000 + drill_runs)]
    power = [simulate(SPEC, Traffic(canary_error=0.06), 20_000 + seed) for seed in range(max(20, runs // 4))]
    mttr = [r.detected_s for r in drills if r.detected_s is not None]
    detect = [r.requests_to_detect for r in power if r.requests_to_detect is not None]
    return {
        "runs_healthy": len(healthy),
        "runs_drill": len(drills),
        "mttr_p50_s": float(np.percentile(mttr, 50)) if mttr else float("nan"),
        "mttr_p95_s": float(np.percentile(mttr, 95)) if mttr else float("nan"),
        "drill_missed": len(drills) - len(mttr),
        "canary_failed_p50": float(np.median([r.canary_failed for r in drills])),
        "oracle_p50_s": float(np.percentile(floor, 50)),
        "oracle_p95_s": float(np.percentile(floor, 95)),
        "false_abort_rate": sum(r.phase == "RolledBack" for r in healthy) / len(healthy),
        "detect_requests_p95": float(np.percentile(detect, 95)) if detect else float("nan"),
        "power_missed": len(power) - len(detect),
        "promote_p50_s": float(np.median(promote_times)) if promote_times else float("nan"),
        "flagger_promote_s": FLAGGER_PROMOTE_S,
        "canary_time_ratio": float(np.median(promote_times)) / FLAGGER_PROMOTE_S if promote_times else float("nan"),
    }


def _drill(seed: int) -> Run:
    """The fault at a random second of the 10% step: the same seed's healthy run says when that step ends (the
    traffic is the same draw for draw until the onset)."""
    healthy = simulate(SPEC, Traffic(), seed)
    end = next((at for at, event, weight in healthy.events if event == "analysisPassed" and weight == 10), 60.0)
    onset = float(np.random.default_rng(seed).uniform(1.0, end))
    return simulate(SPEC, Traffic(canary_error=0.06, onset_s=onset), seed)


def _oracle(seed: int, alpha: float = 0.01) -> float:
    """Seconds from the onset until the ratio test of 6% against 1%, told the onset, reaches 1/alpha (a tick
    a second, as in the simulator)."""
    rng = np.random.default_rng(seed)
    log_lr, t = 0.0, 0
    while log_lr < np.log(1 / alpha):
        t += 1
        n = int(rng.poisson(50))
        nc = int(rng.binomial(n, 0.1))
        xc, xs = int(rng.binomial(nc, 0.06)), int(rng.binomial(n - nc, 0.01))
        s = nc / n if n else 0.0
        log_lr += xc * np.log(6.0) - (xc + xs) * np.log1p(5.0 * s)
    return float(t)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON")
    parser.add_argument("--runs", type=int, default=200, help="healthy rollouts simulated (default 200)")
    parser.add_argument("--drills", type=int, default=100, help="seeded drills (default 100)")
    args = parser.parse_args()
    result = measure(args.runs, args.drills)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    targets = {
        "mttr_p50_s": "",
        "mttr_p95_s": "<= 60 (goal 30)",
        "oracle_p95_s": "(no test can do much better)",
        "false_abort_rate": "<= 0.01",
        "detect_requests_p95": "<= 5200",
        "canary_time_ratio": "<= 0.7 (goal 0.5)",
    }
    print(f"{'measure':<22} {'value':>10}  target")
    for key, value in result.items():
        print(f"{key:<22} {value:>10.3f}  {targets.get(key, '')}")


if __name__ == "__main__":
    main()
