"""Recorded gateway decisions as a rollout's traffic, for ``maestro rollout simulate NAME --replay``.

The gateway records every decision in the ledger (``maestro.gateway.recording``: a ``route`` entry whose
details give the route, the deployments in the order tried and the one that served). ``read`` takes the
entries of a rollout's route whose first choice was its stable or its canary: each is one request of the
rollout, at its recorded time. The deployments before the one that served are counted as failed attempts,
the one that served as a good one (all of them failed when none served; a denied request is no traffic).

``Replay.second`` gives the simulator one second of those requests at the rollout's current canary weight: each
request goes to the canary with that probability (seeded), and takes the next recorded outcome of the side it
went to. A side never recorded mirrors the other's outcomes (the canary behaves as stable: said in the
result); the canary fails at ``Traffic.canary_error`` from ``onset_s`` on when a regression is injected.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from maestro.delivery.analysis import Second
from maestro.delivery.errors import RolloutError
from maestro.delivery.spec import RolloutSpec


@dataclass(frozen=True, slots=True)
class Recorded:
    times: tuple[float, ...]  # each request's second, from the first one
    outcomes: Mapping[str, tuple[bool, ...]]  # by deployment: its recorded attempts, ok or not, oldest first

    @property
    def seconds(self) -> float:
        return self.times[-1] if self.times else 0.0


def from_entries(spec: RolloutSpec, predicates: Iterable[Mapping[str, Any]]) -> Recorded:
    """The rollout's requests among ledger entry predicates (``route`` actions of its route), in time order."""
    sides = (spec.stable, spec.canary)
    times: list[float] = []
    outcomes: dict[str, list[bool]] = {d: [] for d in sides}
    start: datetime | None = None
    for p in predicates:
        details = p.get("details", {})
        if p.get("action") != "route" or details.get("route") != spec.route or details.get("denied"):
            continue
        order = list(details.get("order") or ())
        if not order or order[0] not in sides:
            continue
        when = datetime.fromisoformat(str(p["time"]).replace("Z", "+00:00"))
        start = start or when
        times.append((when - start).total_seconds())
        served = details.get("served_by")
        tried = order[: order.index(served) + 1] if served in order else order
        for deployment in tried:
            if deployment in outcomes:
                outcomes[deployment].append(deployment == served)
    if not times:
        raise RolloutError(
            f"the ledger holds no recorded decision of route '{spec.route}' that chose {spec.stable} or "
            f"{spec.canary} first; run traffic through `maestro gateway` (which records each decision), or "
            "simulate without --replay"
        )
    return Recorded(tuple(times), {d: tuple(v) for d, v in outcomes.items()})


def read(store: Path | str, spec: RolloutSpec, since: str | None = None) -> Recorded:
    """The rollout's requests recorded in the ledger of ``store`` (from ``since``, a ``ledger show`` time)."""
    from maestro.ledger import query
    from maestro.ledger.store import Ledger

    if not query.has_ledger(store):
        raise RolloutError(f"no ledger in {store}: nothing recorded to replay; simulate without --replay")
    with Ledger.open(store, readonly=True) as ledger:
        return from_entries(spec, (s.statement["predicate"] for s in query.show(ledger, since)))


class Replay:
    """The recorded requests, one second at a time, split at the rollout's current weight."""

    def __init__(self, spec: RolloutSpec, recorded: Recorded, canary_error: float | None, onset_s: float) -> None:
        self.spec = spec
        self.recorded = recorded
        self.canary_error = canary_error
        self.onset_s = onset_s
        self._next = 0  # the next request
        self._taken = dict.fromkeys(recorded.outcomes, 0)

    def assumed(self) -> list[str]:
        out = []
        stable, canary = (self.recorded.outcomes[d] for d in (self.spec.stable, self.spec.canary))
        if not canary and self.canary_error is None:
            out.append(f"the canary {self.spec.canary} has no recorded attempts: it replays stable's outcomes")
        if not stable:
            out.append(f"the stable {self.spec.stable} has no recorded attempts: it replays the canary's outcomes")
        return out

    def second(self, now: float, weight: int, rng: np.random.Generator) -> Second | None:
        """The requests recorded in (now - 1, now], or None once the recording has ended."""
        times = self.recorded.times
        if self._next >= len(times):
            return None
        counts = [0, 0, 0, 0]  # canary n, failed; stable n, failed
        while self._next < len(times) and times[self._next] < now:
            self._next += 1
            to_canary = bool(rng.random() < weight / 100)
            ok = self._outcome(self.spec.canary if to_canary else self.spec.stable)
            if to_canary and self.canary_error is not None and now > self.onset_s:
                ok = bool(rng.random() >= self.canary_error)
            side = 0 if to_canary else 2
            counts[side] += 1
            counts[side + 1] += not ok
        return Second(*counts)

    def _outcome(self, side: str) -> bool:
        other = self.spec.canary if side == self.spec.stable else self.spec.stable
        for deployment in (side, other):
            recorded = self.recorded.outcomes[deployment]
            if recorded:
                i = self._taken[deployment]
                self._taken[deployment] = i + 1
                return recorded[i % len(recorded)]
        return True
