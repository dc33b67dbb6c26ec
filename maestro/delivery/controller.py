"""The rollout controller: ticks the state machine of every active rollout, drives the live weights of its
route, and records each transition and verdict. Exactly one process acts at a time (``Lease``).

``Controller`` runs in ``maestro gateway`` (a thread started in the app's lifespan, ``start``/``stop``), in
``maestro rollout run NAME`` (``run_until_done``) and, for one event, in each ``maestro rollout`` command
(``begin``, ``send``), which act on the store directly under its write lock. A rollout's canary gets
``setWeight`` percent of the stable and canary's combined manifest weight through ``LiveWeights``; a weight
that falls (a rollback, an abort, the kill switch) is set in a freeze too.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

from maestro.delivery import freeze
from maestro.delivery.analysis import Arm, Second
from maestro.delivery.approvals import Approvals
from maestro.delivery.errors import TransitionError
from maestro.delivery.freeze import Freezes
from maestro.delivery.judge import Measured, Settings, judge
from maestro.delivery.lease import Lease
from maestro.delivery.machine import ACTIVE, Event, Phase, State, Tick, Transition, apply, start
from maestro.delivery.prometheus import Readings
from maestro.delivery.recording import Record, transition_action, verdict_action
from maestro.delivery.spec import RolloutSpec
from maestro.delivery.store import RolloutStore, Stored
from maestro.errors import MaestroError
from maestro.gateway.recording import weight_change_action
from maestro.gateway.switches import Switches
from maestro.ledger import Action, Keyring, SigningKey, Subject
from maestro.ledger.roles import Roles
from maestro.router import governance
from maestro.state import connect
from maestro.state import observations as obs
from maestro.state.weights import LiveWeights

log = logging.getLogger(__name__)


class Controller:
    def __init__(
        self,
        path: Path | str,
        *,
        actor: str,
        record: Record | None = None,
        keyring: Keyring | None = None,
        roles: Roles | None = None,
        alpha: float = 0.01,
        min_samples: int = 100,
        interval_s: float = 0.5,
        lease_s: float = 5.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.conn = connect(path)
        self.store = RolloutStore(self.conn)
        self.weights = LiveWeights(self.conn, clock)
        self.switches = Switches(self.conn)
        self.freezes = Freezes(self.conn)
        self.approvals = Approvals(self.conn, roles)
        self.keyring = keyring
        self.lease = Lease(self.conn, actor, lease_s)
        self.actor = actor
        self.record = record
        self.settings = Settings(alpha, min_samples)
        self.interval_s = interval_s
        self.readings = Readings()
        self.clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # commands

    def begin(self, spec: RolloutSpec, actor: str) -> Stored:
        """Start a run of ``spec``: its first transition recorded, its route's deployments watched."""
        state, transition = start(spec, self.clock())
        stored = self.store.create(spec, state, transition, actor)
        evals = (spec.eval_sample_rate, spec.eval_checks) if spec.eval_checks else None
        obs.watch(self.conn, spec.route, (spec.stable, spec.canary), evals)
        self._record(spec, transition, actor)
        return stored

    def send(self, name: str, event: Callable[[float, str, frozenset[int]], Event], actor: str) -> Stored:
        """Apply ``event(now, why frozen, approved gates)`` to rollout ``name``; set its weights, record it."""
        current = self.store.get(name)
        frozen = "" if current is None else self.frozen(current.spec, self.clock())
        approved = frozenset() if current is None else self.approved(current)
        stored, transition = self.store.update(
            name, lambda s: apply(s.spec, s.state, event(self.clock(), frozen, approved)), actor
        )
        self._after(stored, transition, actor, frozen)
        return stored

    # the loop

    def tick(self) -> list[Transition]:
        """One look at every active rollout, when this process holds the lease."""
        now = self.clock()
        if not self.store.active() or not self.lease.acquire(now):
            return []
        done = []
        for stored in self.store.active():
            frozen = self.frozen(stored.spec, now)
            tick = self._look(stored, now, frozen)
            after, transition = self.store.update(stored.spec.name, partial(_apply, tick), self.actor)
            self._after(after, transition, self.actor, frozen)
            if transition is not None:
                done.append(transition)
        return done

    def approve(self, name: str, key: SigningKey) -> list[str]:
        """``key``'s approval of rollout ``name``'s current gate (its manual pause, or its promotion); who counts."""
        stored = self.store.get(name)
        if stored is None or stored.state.phase not in ACTIVE:
            raise TransitionError(f"rollout '{name}' is not running: nothing to approve")
        gate = min(stored.state.step, len(stored.spec.steps))
        step = stored.spec.steps[gate] if gate < len(stored.spec.steps) else None
        if step is not None and not (step.kind == "pause" and step.pause_s is None):
            gate = len(stored.spec.steps)  # between gates: the approval is for the promotion
        spec = stored.spec
        self.approvals.add(
            name, stored.run, gate, spec.digest, requester=stored.started_by, key=key, wanted=spec.approval_roles
        )
        if self.record is not None:
            details = {"rollout": name, "run": stored.run, "gate": gate, "digest": stored.spec.digest}
            subject = Subject.of(f"Rollout/{name}", json.dumps(details, sort_keys=True).encode())
            manifests = {f"Rollout/{name}": stored.spec.digest.removeprefix("sha256:")}
            self.record(Action("rollout.approve", f"rollout:{key.name}", [subject], manifests, details=details))
        return self._approvers(stored, gate)

    def approved(self, stored: Stored) -> frozenset[int]:
        """The gates of ``stored``'s run (its manual pauses, the promotion) with the approvals they need."""
        if not stored.spec.approvals:
            return frozenset()
        gates = [i for i, s in enumerate(stored.spec.steps) if s.kind == "pause" and s.pause_s is None]
        gates.append(len(stored.spec.steps))
        return frozenset(g for g in gates if len(self._approvers(stored, g)) >= stored.spec.approvals)

    def _approvers(self, stored: Stored, gate: int) -> list[str]:
        spec = stored.spec
        return self.approvals.count(
            spec.name,
            stored.run,
            gate,
            spec.digest,
            requester=stored.started_by,
            keyring=self.keyring,
            wanted=spec.approval_roles,
        )

    def frozen(self, spec: RolloutSpec, now: float) -> str:
        """Why ``spec``'s rollout is frozen now ('' when it is not): the switch, ``maestro freeze``, its windows."""
        adhoc = [("maestro freeze", w) for w in self.freezes.windows()]
        return freeze.reason(now, self.switches.frozen(), [*adhoc, *spec.windows()])

    def run_until_done(self, name: str, on_transition: Callable[[Transition], None] | None = None) -> Stored:
        """Tick until rollout ``name`` is no longer active (``maestro rollout run``)."""
        while True:
            for t in self.tick():
                if on_transition is not None and t.name == name:
                    on_transition(t)
            stored = self.store.get(name)
            if stored is None or stored.state.phase not in ACTIVE:
                assert stored is not None
                return stored
            time.sleep(self.interval_s)

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="maestro-rollouts", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None
            self.lease.release()

    def close(self) -> None:
        self.stop()
        self.conn.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except (MaestroError, sqlite3.Error) as e:  # a busy store or a refused change: log, try again
                log.warning("rollout controller: %s", e)
            self._stop.wait(self.interval_s)

    # inside a tick

    def _look(self, stored: Stored, now: float, frozen: str) -> Tick:
        spec, state = stored.spec, stored.state
        sides = (spec.stable, spec.canary)
        summaries = {d: obs.summary(self.conn, spec.route, d, state.weight_since) for d in sides}
        seconds = obs.per_second(self.conn, spec.route, (spec.canary, spec.stable), stored.started_at, now)
        measured = Measured(
            errors={d: Arm.of_sums(s.n, s.errors, s.errors) for d, s in summaries.items()},
            latency={d: Arm.of_sums(s.n, s.latency_sum, s.latency_squares) for d, s in summaries.items()},
            seconds=[Second(*counts) for counts in seconds],
        )
        if spec.eval_checks:
            graded = {d: obs.eval_summary(self.conn, spec.route, d, state.weight_since) for d in sides}
            measured = replace(measured, evals={d: Arm.of_sums(g.n, g.errors, g.errors) for d, g in graded.items()})
        if any(mt.source == "prometheus" for ms in spec.analyses.values() for mt in ms):
            external = self.readings.of(mt for ms in spec.analyses.values() for mt in ms)
            measured = replace(measured, external=external)
        failures, verdicts = judge(spec, state, measured, self.settings)
        for v in (*failures, *verdicts):
            if self.store.verdict(spec.name, stored.run, state.step, v, now) and self.record is not None:
                self.record(verdict_action(spec, state.step, v, self.actor))
        killed = governance.covers(*self.switches.kills(), spec.route)
        return Tick(now, frozen, killed, failures, verdicts, self.approved(stored))

    def _after(self, stored: Stored, transition: Transition | None, actor: str, frozen: str) -> None:
        spec, state = stored.spec, stored.state
        self._set_weights(spec, state.canary_weight, frozen, actor)
        if transition is not None:
            self._record(spec, transition, actor, self._carried(stored, transition))
        if state.phase not in ACTIVE and state.phase != "Promoted":
            obs.unwatch(self.conn, spec.route)

    def _set_weights(self, spec: RolloutSpec, canary_weight: int, frozen: str, actor: str) -> None:
        if spec.splits_runs:
            return  # an Agent or Pipeline: runs read the canary's weight from the rollout when they start
        want = spec.live_weights(canary_weight)
        have = self.weights.current().get(spec.route, {})
        if all(abs(have.get(k, -1.0) - w) < 1e-9 for k, w in want.items()):
            return
        if not have and canary_weight == 0 and spec.weights.get(spec.canary, 0.0) == 0:
            return  # the manifest already gives the canary nothing: no override needed yet
        raises = want[spec.canary] > have.get(spec.canary, spec.weights.get(spec.canary, 0.0))
        change = self.weights.set(
            spec.route, want, spec.weights, actor=actor, frozen=bool(frozen) and raises, reason=f"rollout {spec.name}"
        )
        if self.record is not None:
            self.record(weight_change_action(change))

    def _record(
        self, spec: RolloutSpec, transition: Transition, actor: str, signoffs: Mapping[str, Any] | None = None
    ) -> None:
        if self.record is not None:
            self.record(transition_action(spec, transition, actor, signoffs))

    def _carried(self, stored: Stored, transition: Transition) -> Mapping[str, Any] | None:
        """The promotion's sign-offs, for its transition entry (None when it needed none)."""
        spec = stored.spec
        if not spec.approvals or transition.after != Phase.PROMOTED or transition.before == Phase.PROMOTED:
            return None
        gate = len(spec.steps)
        return self.approvals.carried(
            spec.name,
            stored.run,
            gate,
            spec.digest,
            requester=stored.started_by,
            required=spec.approvals,
            wanted=spec.approval_roles,
        )


def _apply(event: Event, stored: Stored) -> tuple[State, Transition | None]:
    return apply(stored.spec, stored.state, event)
