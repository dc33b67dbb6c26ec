"""The rollout state machine: its phases, the events that drive it and every transition, in one place.

Phases::

    Progressing ──(steps done)──────────────> Promoted ──(undo)──> RolledBack
      │  ▲   │ ──(failing verdict, guard)───> RolledBack
      │  │   └──(abort, kill switch)────────> Aborted
    (pause: manual, pause)
      ▼  │ (resume, promote)
    Paused ──(failing verdict, abort, kill)─> RolledBack / Aborted

``apply(spec, state, event)`` is pure: it returns the next state and, when the phase, the step or the canary's
weight changed, the ``Transition`` to record. The controller and the CLI only send events and store what comes
back. A freeze holds every step that would advance and refuses a promotion; a rollback, an abort and the kill
switch take the canary's traffic away in a freeze too. Inconclusive analysis holds: it never passes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from maestro.delivery.analysis import Outcome, Verdict
from maestro.delivery.errors import TransitionError
from maestro.delivery.spec import RolloutSpec, Step


class Phase(StrEnum):
    PROGRESSING = "Progressing"
    PAUSED = "Paused"
    PROMOTED = "Promoted"
    ABORTED = "Aborted"
    ROLLED_BACK = "RolledBack"


ACTIVE = frozenset({Phase.PROGRESSING, Phase.PAUSED})


def freeze_wait(why: str) -> str:
    return f"{why}: the rollout holds until it ends (a failing verdict still rolls back)"


@dataclass(frozen=True, slots=True)
class State:
    name: str
    phase: Phase
    step: int
    canary_weight: int
    step_started: float
    waiting: str = ""  # why it holds: a freeze, a manual pause, an analysis without a verdict yet
    weight_since: float = 0.0  # when the canary's weight last changed: the analysis reads measurements since


@dataclass(frozen=True, slots=True)
class Transition:
    name: str
    at: float
    event: str
    before: Phase
    after: Phase
    step: int
    canary_weight: int
    reason: str


@dataclass(frozen=True, slots=True)
class Tick:
    """Time passed: the controller's look at the switches and the analysis of the current step."""

    now: float
    frozen: str = ""  # why changes are frozen ('' when they are not)
    killed: bool = False
    failures: tuple[Verdict, ...] = ()  # failing verdicts from the guards, whatever the step
    verdicts: tuple[Verdict, ...] = ()  # the current analysis step's verdicts
    approved: frozenset[int] = frozenset()  # gates (a manual pause's step, len(steps): the promotion) approved


@dataclass(frozen=True, slots=True)
class Promote:
    now: float
    full: bool = False
    frozen: str = ""
    approved: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class Pause:
    now: float


@dataclass(frozen=True, slots=True)
class Resume:
    now: float
    approved: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class Abort:
    now: float
    reason: str = "aborted by request"


@dataclass(frozen=True, slots=True)
class Undo:
    now: float


Event = Tick | Promote | Pause | Resume | Abort | Undo


def start(spec: RolloutSpec, now: float) -> tuple[State, Transition]:
    state = State(spec.name, Phase.PROGRESSING, 0, 0, now, weight_since=now)
    return state, Transition(
        spec.name, now, "start", Phase.PROGRESSING, Phase.PROGRESSING, 0, 0, f"pinned {spec.digest}"
    )


def apply(spec: RolloutSpec, state: State, event: Event) -> tuple[State, Transition | None]:
    """The state after ``event``, and the transition to record (None when only ``waiting`` changed or nothing)."""
    if isinstance(event, Tick):
        return _tick(spec, state, event)
    if isinstance(event, Abort | Undo):
        return _stop(state, event)
    if state.phase not in ACTIVE:
        raise TransitionError(f"rollout '{state.name}' is {state.phase}; start it again to run it anew")
    if isinstance(event, Promote):
        return _promote(spec, state, event)
    if isinstance(event, Pause):
        if state.phase is Phase.PAUSED:
            raise TransitionError(f"rollout '{state.name}' is already paused ({state.waiting})")
        return _move(state, "pause", event.now, phase=Phase.PAUSED, waiting="paused by request; resume to go on")
    if state.phase is not Phase.PAUSED:
        raise TransitionError(f"rollout '{state.name}' is not paused")
    manual = _current(spec, state)
    at_gate = manual is not None and manual.kind == "pause" and manual.pause_s is None
    if at_gate:
        _check_gate(spec, state, state.step, event.approved, "resuming")
    return _move(state, "resume", event.now, phase=Phase.PROGRESSING, step=state.step + 1 if at_gate else state.step)


def _tick(spec: RolloutSpec, state: State, tick: Tick) -> tuple[State, Transition | None]:
    if state.phase not in ACTIVE:
        return state, None
    if tick.killed:
        return _move(state, "kill", tick.now, phase=Phase.ABORTED, weight=0, reason="the kill switch is engaged")
    if tick.failures and spec.automatic_rollback:
        failed = tick.failures[0]
        return _move(state, "rollback", tick.now, phase=Phase.ROLLED_BACK, weight=0, reason=failed.reason)
    if tick.failures and state.phase is Phase.PROGRESSING:
        return _move(
            state,
            "pause",
            tick.now,
            phase=Phase.PAUSED,
            waiting=f"failing, rollback not automatic: {tick.failures[0].reason}",
        )
    if state.phase is Phase.PAUSED:
        return state, None
    if tick.frozen:
        return _hold(state, freeze_wait(tick.frozen))
    return _advance(spec, state, tick)


def _advance(spec: RolloutSpec, state: State, tick: Tick) -> tuple[State, Transition | None]:
    """The current step's move, once nothing holds the rollout."""
    step = _current(spec, state)
    if step is None:
        if spec.approvals and len(spec.steps) not in tick.approved:
            return _hold(state, _needs(spec, "promotion"))
        return _move(state, "promote", tick.now, phase=Phase.PROMOTED, weight=100, reason="every step done")
    if step.kind == "setWeight":
        return _move(state, "setWeight", tick.now, step=state.step + 1, weight=step.weight)
    if step.kind == "pause" and step.pause_s is None:
        why = _needs(spec, "resuming") if spec.approvals else "manual pause: resume or promote to go on"
        return _move(state, "pause", tick.now, phase=Phase.PAUSED, waiting=why)
    if step.kind == "pause":
        assert step.pause_s is not None
        if tick.now - state.step_started >= step.pause_s:
            return _move(state, "pauseDone", tick.now, step=state.step + 1)
        return _hold(state, f"pausing {step.pause_s:g}s")
    return _analysis(state, step.analysis, tick)


def _analysis(state: State, name: str, tick: Tick) -> tuple[State, Transition | None]:
    if tick.verdicts and all(v.outcome is Outcome.PASS for v in tick.verdicts):
        passed = ", ".join(v.metric for v in tick.verdicts)
        return _move(
            state, "analysisPassed", tick.now, step=state.step + 1, reason=f"analysis '{name}' passed: {passed}"
        )
    pending = ", ".join(v.metric for v in tick.verdicts if v.outcome is not Outcome.PASS) or "no metrics"
    return _hold(state, f"analysis '{name}': no passing verdict yet for {pending}; inconclusive holds")


def _promote(spec: RolloutSpec, state: State, event: Promote) -> tuple[State, Transition | None]:
    if event.frozen:
        raise TransitionError(
            f"{event.frozen}: rollout '{state.name}' cannot be promoted until it ends; traffic stays as it is"
        )
    if event.full:
        _check_gate(spec, state, len(spec.steps), event.approved, "promotion")
        return _move(state, "promoteFull", event.now, phase=Phase.PROMOTED, weight=100, reason="promoted by request")
    step = _current(spec, state)
    if step is None or (step.kind == "pause" and step.pause_s is None):
        _check_gate(spec, state, len(spec.steps) if step is None else state.step, event.approved, "promotion")
    if step is None:
        return _move(state, "promote", event.now, phase=Phase.PROMOTED, weight=100, reason="every step done")
    weight = step.weight if step.kind == "setWeight" else state.canary_weight
    return _move(
        state,
        "promote",
        event.now,
        phase=Phase.PROGRESSING,
        step=state.step + 1,
        weight=weight,
        reason=f"skipped {step.describe()} by request",
    )


def _stop(state: State, event: Abort | Undo) -> tuple[State, Transition]:
    if isinstance(event, Abort):
        if state.phase not in ACTIVE:
            raise TransitionError(f"rollout '{state.name}' is {state.phase}: nothing to abort")
        return _move(state, "abort", event.now, phase=Phase.ABORTED, weight=0, reason=event.reason)
    if state.phase in {Phase.ABORTED, Phase.ROLLED_BACK}:
        raise TransitionError(f"rollout '{state.name}' is {state.phase}: its traffic is already on stable")
    return _move(
        state, "undo", event.now, phase=Phase.ROLLED_BACK, weight=0, reason="undo: back to the previous stable"
    )


def _needs(spec: RolloutSpec, what: str) -> str:
    return (
        f"{what} needs {spec.approvals} approval(s) by key holders other than the requester: "
        f"`maestro rollout approve {spec.name}`"
    )


def _check_gate(spec: RolloutSpec, state: State, gate: int, approved: frozenset[int], what: str) -> None:
    if spec.approvals and gate not in approved:
        raise TransitionError(f"rollout '{state.name}': {_needs(spec, what)}")


def _current(spec: RolloutSpec, state: State) -> Step | None:
    return spec.steps[state.step] if state.step < len(spec.steps) else None


def _hold(state: State, why: str) -> tuple[State, None]:
    return (state if state.waiting == why else replace(state, waiting=why)), None


def _move(
    state: State,
    event: str,
    now: float,
    *,
    phase: Phase | None = None,
    step: int | None = None,
    weight: int | None = None,
    waiting: str = "",
    reason: str = "",
) -> tuple[State, Transition]:
    after = replace(
        state,
        phase=phase or state.phase,
        step=state.step if step is None else step,
        canary_weight=state.canary_weight if weight is None else weight,
        step_started=now if step is not None and step != state.step else state.step_started,
        waiting=waiting,
        weight_since=now if weight is not None and weight != state.canary_weight else state.weight_since,
    )
    why = reason or waiting or event
    return after, Transition(state.name, now, event, state.phase, after.phase, after.step, after.canary_weight, why)
