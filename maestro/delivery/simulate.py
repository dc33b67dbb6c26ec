"""A rollout on synthetic traffic: the same judge and state machine as the live controller, no requests sent.

Each simulated second ``rate`` requests arrive (Poisson), the canary takes its current weight's share
(binomial), and each side fails with its error rate; from ``onset_s`` on the canary fails with
``canary_error``. The controller's tick is one second, so a simulated time is never shorter than a live one
would be. Manual pauses are resumed at once (a person is not simulated) and metrics the simulator cannot
synthesize (anything but the gateway's ``error_rate``), and success conditions that read them, are assumed to
pass; the result lists what was assumed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from maestro.delivery.analysis import Arm, Outcome, Second
from maestro.delivery.judge import Measured, Settings, judge
from maestro.delivery.machine import ACTIVE, Phase, Resume, Tick, apply, start
from maestro.delivery.replay import Replay
from maestro.delivery.spec import RolloutSpec


@dataclass(frozen=True, slots=True)
class Traffic:
    rate: float = 50.0  # requests per second on the route
    stable_error: float = 0.01
    canary_error: float = 0.01  # from onset_s on (before it, the canary fails like stable)
    onset_s: float = 0.0


@dataclass(frozen=True, slots=True)
class Run:
    phase: Phase
    seconds: float  # until the rollout ended (promoted, rolled back) or the limit
    requests: int  # on the route, from the start
    onset_s: float
    detected_s: float | None  # from the fault's onset to all traffic on stable (a rollback), when it rolled back
    requests_to_detect: int | None  # on the route, from the onset to the rollback
    canary_failed: int  # canary requests that failed from the onset to the end
    events: list[tuple[float, str, int]] = field(default_factory=list)  # (second, event, canary weight)
    assumed: tuple[str, ...] = ()  # metrics assumed to pass, and manual pauses resumed at once

    def as_json(self) -> dict[str, object]:
        return {
            "phase": str(self.phase),
            "seconds": self.seconds,
            "requests": self.requests,
            "onsetS": self.onset_s,
            "mttrS": self.detected_s,
            "requestsToDetect": self.requests_to_detect,
            "canaryFailed": self.canary_failed,
            "events": [{"at": t, "event": e, "canaryWeight": w} for t, e, w in self.events],
            "assumed": list(self.assumed),
        }


def simulate(
    spec: RolloutSpec,
    traffic: Traffic,
    seed: int,
    *,
    settings: Settings | None = None,
    limit_s: float = 4 * 3600,
    replay: Replay | None = None,
) -> Run:
    """The rollout on ``traffic`` (synthetic), or on the recorded requests of ``replay`` until they run out."""
    settings = settings or Settings(unmeasured=Outcome.PASS)
    rng = np.random.default_rng(seed)
    state, _ = start(spec, 0.0)
    n = {spec.stable: 0, spec.canary: 0}
    bad = {spec.stable: 0, spec.canary: 0}
    events: list[tuple[float, str, int]] = []
    seconds: list[Second] = []
    assumed: set[str] = set()
    now, requests, at_onset, canary_failed = 0.0, 0, 0, 0
    gates = frozenset(range(len(spec.steps) + 1))  # approvals are not simulated: every gate is approved
    if spec.approvals:
        assumed.add(f"{spec.approvals} approval(s) at each gate given at once")
    if replay is not None:
        assumed.update(replay.assumed())
    while state.phase in ACTIVE and now < limit_s:
        now += 1.0
        faulty = now > traffic.onset_s
        if replay is None:
            second: Second | None = _draw(traffic, state.canary_weight, faulty, rng)
        else:
            second = replay.second(now, state.canary_weight, rng)
        if second is None:  # the recording ended
            now -= 1.0
            break
        failed = second.canary_errors
        n[spec.canary] += second.canary_n
        bad[spec.canary] += failed
        n[spec.stable] += second.stable_n
        bad[spec.stable] += second.stable_errors
        seconds.append(second)
        requests += second.canary_n + second.stable_n
        weight = state.canary_weight
        if not faulty:
            at_onset = requests
        else:
            canary_failed += failed
        errors_arms = {d: Arm.of_sums(n[d], bad[d], bad[d]) for d in n}
        failures, verdicts = judge(spec, state, Measured(errors_arms, None, seconds), settings)  # no latency
        assumed.update(
            f"{v.metric}: {v.reason}" if "[" in v.metric or "Condition" in v.metric else v.metric
            for v in verdicts
            if "assumed to pass" in v.reason
        )
        state, transition = apply(spec, state, Tick(now, "", False, failures, verdicts, gates))
        if state.phase is Phase.PAUSED:
            assumed.add(f"manual pause at step {state.step} resumed at once")
            state, transition = apply(spec, state, Resume(now, gates))
        if transition is not None:
            events.append((now, transition.event, transition.canary_weight))
        if state.canary_weight != weight:  # the analysis reads measurements since the weight last changed
            n, bad = dict.fromkeys(n, 0), dict.fromkeys(bad, 0)
    rolled_back = state.phase is Phase.ROLLED_BACK
    return Run(
        phase=state.phase,
        seconds=now,
        requests=requests,
        onset_s=traffic.onset_s,
        detected_s=now - traffic.onset_s if rolled_back else None,
        requests_to_detect=requests - at_onset if rolled_back else None,
        canary_failed=canary_failed,
        events=events,
        assumed=tuple(sorted(assumed)),
    )


def _draw(traffic: Traffic, weight: int, faulty: bool, rng: np.random.Generator) -> Second:
    """One second of synthetic traffic at the canary's ``weight``."""
    arrivals = int(rng.poisson(traffic.rate))
    to_canary = int(rng.binomial(arrivals, weight / 100))
    failed = int(rng.binomial(to_canary, traffic.canary_error if faulty else traffic.stable_error))
    stable_failed = int(rng.binomial(arrivals - to_canary, traffic.stable_error))
    return Second(to_canary, failed, arrivals - to_canary, stable_failed)
