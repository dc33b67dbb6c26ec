"""The rollout part of a drill (a scenario's ``rollout`` key): a Rollout of the drill's route from one upstream
(the stable) to another (the canary), run by the real rollout controller in the drill's gateway, and a fault
injected into the canary at a random moment of its first weighted step.

    "rollout": {"from": "stable", "to": "canary",
                "steps": [{"setWeight": 10}, {"analysis": "health"}, {"setWeight": 50}, {"analysis": "health"},
                          {"setWeight": 100}],
                "metrics": ["error_rate"],
                "fault": {"error_rate": 0.06},
                "onsetWithin": [1, 20], "seed": 0}

``Watch`` follows the rollout in the state store from a thread: once the canary has its first step's weight it
waits a seeded random time within ``onsetWithin`` seconds, gives the canary ``fault``, then waits for the
rollout to end and lets the load run a few seconds more (traffic all on stable shows in the canary's call log).
What it measures:

- ``time_to_detect_s``: from the onset to the rollback (the controller's transition);
- ``mttr_s``: from the onset to all traffic on stable: the later of the rollback and the canary's last call;
- ``canary_requests_after_onset`` / ``canary_failed_after_onset``: calls the canary received from the onset on,
  and those it failed.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

import httpx

from maestro.chaos.upstream import Faults
from maestro.delivery.machine import ACTIVE
from maestro.delivery.store import RolloutStore
from maestro.state import connect

NAME = "drill-canary"
TAIL_S = 3.0  # the load goes on this long after the rollout ended
_POLL_S = 0.05
_KEYS = {"from", "to", "steps", "metrics", "fault", "onsetWithin", "seed"}


@dataclass(frozen=True, slots=True)
class RolloutDrill:
    stable: str
    canary: str
    steps: tuple[Mapping[str, Any], ...]
    metrics: tuple[str, ...]
    fault: Faults
    onset_within: tuple[float, float]
    seed: int = 0

    @property
    def first_weight(self) -> int:
        return next(int(s["setWeight"]) for s in self.steps if "setWeight" in s)

    def scaled(self, factor: float) -> RolloutDrill:
        low, high = self.onset_within
        return RolloutDrill(
            self.stable, self.canary, self.steps, self.metrics, self.fault, (low / factor, high / factor), self.seed
        )


def parse(data: Any, upstreams: set[str]) -> RolloutDrill:
    if not isinstance(data, dict):
        raise TypeError("rollout must be an object")
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise ValueError(f"rollout: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(_KEYS))}")
    for side in ("from", "to"):
        if data.get(side) not in upstreams:
            raise ValueError(f"rollout.{side} must name one of the upstreams ({', '.join(sorted(upstreams))})")
    steps = tuple(data.get("steps", ()))
    if not any(isinstance(s, dict) and "setWeight" in s for s in steps):
        raise ValueError("rollout.steps needs a setWeight step: the fault is timed within the first one")
    allowed = {f.name for f in fields(Faults)}
    fault = data.get("fault", {})
    if not isinstance(fault, dict) or not set(fault) <= allowed:
        raise ValueError(f"rollout.fault must be an object of faults ({', '.join(sorted(allowed))})")
    low, high = (float(x) for x in data.get("onsetWithin", (1, 30)))
    if not 0 <= low <= high:
        raise ValueError("rollout.onsetWithin must be [low, high] seconds with 0 <= low <= high")
    return RolloutDrill(
        stable=data["from"],
        canary=data["to"],
        steps=steps,
        metrics=tuple(data.get("metrics", ("error_rate",))),
        fault=Faults(**fault),
        onset_within=(low, high),
        seed=int(data.get("seed", 0)),
    )


def manifest(drill: RolloutDrill, route: str) -> dict[str, Any]:
    """The Rollout manifest of the drill's route."""
    analyses = sorted({str(s["analysis"]) for s in drill.steps if "analysis" in s})
    return {
        "apiVersion": "maestro.dev/v1",
        "kind": "Rollout",
        "metadata": {"name": NAME},
        "spec": {
            "target": {"kind": "Route", "name": route},
            "change": {"from": f"{drill.stable}/m1", "to": f"{drill.canary}/m1"},
            "steps": [dict(s) for s in drill.steps],
            "analysis": [
                {"name": a, "metrics": [{"name": m, "source": "gateway"} for m in drill.metrics]} for a in analyses
            ],
        },
    }


class Watch:
    """Follows the drill's rollout from a thread, injects the fault, and says when the load may stop."""

    def __init__(self, state_path: str, drill: RolloutDrill, canary_url: str) -> None:
        self.state_path = state_path
        self.drill = drill
        self.canary_url = canary_url
        self.finished = threading.Event()
        self.onset: tuple[float, float] | None = None  # (wall clock, monotonic clock)
        self.onset_weight: int | None = None
        self.phase = ""
        self.ended_at: float | None = None  # wall clock of the rollout's last transition
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="maestro-chaos-canary", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        conn = connect(self.state_path)
        try:
            store = RolloutStore(conn)
            delay = random.Random(self.drill.seed).uniform(*self.drill.onset_within)
            stepped: float | None = None
            while not self._stop.wait(_POLL_S):
                stored = store.get(NAME)
                if stored is None:
                    continue
                if stepped is None and stored.state.canary_weight == self.drill.first_weight:
                    stepped = time.monotonic()
                active = stored.state.phase in ACTIVE
                if active and self.onset is None and stepped is not None and time.monotonic() - stepped >= delay:
                    httpx.put(self.canary_url + "/_chaos/faults", json=asdict(self.drill.fault), timeout=30)
                    self.onset = (time.time(), time.monotonic())
                    self.onset_weight = stored.state.canary_weight
                if not active:
                    self.phase = str(stored.state.phase)
                    events = store.events(NAME)
                    self.ended_at = float(events[-1]["at"]) if events else time.time()  # type: ignore[arg-type]
                    self._stop.wait(TAIL_S)
                    break
        finally:
            conn.close()
            self.finished.set()


def measures(watch: Watch, canary_calls: Sequence[tuple[float, str]]) -> dict[str, Any]:
    """The rollout's numbers for the report (None where the fault never began or nothing rolled back)."""
    out: dict[str, Any] = {
        "rollout_phase": watch.phase or "unfinished",
        "onset_canary_weight": watch.onset_weight,
        "time_to_detect_s": None,
        "mttr_s": None,
        "canary_requests_after_onset": None,
        "canary_failed_after_onset": None,
    }
    if watch.onset is None:
        return out
    wall, mono = watch.onset
    after = [(t, outcome) for t, outcome in canary_calls if t >= mono]
    out["canary_requests_after_onset"] = len(after)
    out["canary_failed_after_onset"] = sum(outcome != "ok" for _, outcome in after)
    if watch.phase == "RolledBack" and watch.ended_at is not None:
        detect = watch.ended_at - wall
        last_call = max((t for t, _ in after), default=mono) - mono
        out["time_to_detect_s"] = round(detect, 3)
        out["mttr_s"] = round(max(detect, last_call), 3)
    return out
