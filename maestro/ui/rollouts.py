"""/rollouts: every rollout in the state store (name, phase, step, canary weight, why it waits);
/rollouts/NAME: its steps, the canary's weight over time (from its transitions), every verdict with its n,
estimate, interval, alpha and threshold, its transitions, and the operator's buttons.

The page reads ``maestro.delivery`` and never decides anything itself: each button sends one event through
``Controller.send`` (promote, pause, resume, abort, undo) or ``Controller.approve`` (an approver's approval of
the current gate), the same functions ``maestro rollout`` calls, so the state machine stays in
``maestro.delivery.machine``. The controller records the transition (and the weight change) with the actor
``KEY_ID:SIGNER``; the UI adds a ``ui.rollout.VERB`` entry naming the key and its role.

/rollouts/NAME/events streams the rollout's state as server-sent events until it is no longer active.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from maestro.delivery import machine
from maestro.delivery.analysis import GUARD_ERROR_RATE, error_rate_test
from maestro.delivery.controller import Controller
from maestro.delivery.errors import DeliveryError
from maestro.delivery.spec import RolloutSpec
from maestro.delivery.status import status
from maestro.delivery.store import Stored
from maestro.ledger import Action, Keyring
from maestro.ledger.record import trusted_keyring
from maestro.ui import actions
from maestro.ui.auth import Who
from maestro.ui.config import UiConfig
from maestro.ui.pages import NotFound, Page, UiError

POLL_S = 1.0
EventOf = Callable[[float, str, frozenset[int]], machine.Event]
VERBS: Mapping[str, Callable[[Who, bool], EventOf]] = {
    "promote": lambda who, full: lambda now, frozen, ok: machine.Promote(now, full, frozen, ok),
    "pause": lambda who, full: lambda now, frozen, ok: machine.Pause(now),
    "resume": lambda who, full: lambda now, frozen, ok: machine.Resume(now, ok),
    "abort": lambda who, full: lambda now, frozen, ok: machine.Abort(now, f"aborted in the UI by {who.key_id}"),
    "undo": lambda who, full: lambda now, frozen, ok: machine.Undo(now),
}


class Refused(UiError):
    """The rollout's phase does not allow this action (409); the message says why."""

    status = 409


def view(config: UiConfig) -> Page:
    with _controller(config, "ui") as c:
        listed = [_summary(s) for s in c.store.all()]
    return Page("rollouts.html", "Rollouts", {"rollouts": listed})


def rollout(config: UiConfig, name: str) -> Page:
    return Page("rollout.html", f"Rollout {name}", detail(config, name))


def detail(config: UiConfig, name: str) -> dict[str, Any]:
    """What ``maestro rollout status`` shows, with the steps, the weight over time and each verdict's threshold."""
    with _controller(config, "ui") as c:
        stored = _get(c, name)
        data = status(c.store, stored)
        approved = sorted(c.approved(stored))
    spec, state = stored.spec, stored.state
    data["plan"] = [
        {"index": i, "step": s.describe(), "state": _step_state(i, state)} for i, s in enumerate(spec.steps)
    ]
    data["weightOverTime"] = [
        {"at": e["at"], "canaryWeight": e["canaryWeight"], "event": e["event"]} for e in data["events"]
    ]
    data["verdicts"] = [
        {**v, "threshold": _threshold(spec, str(v["metric"]), int(v["step"]), float(v["alpha"]))}
        for v in data["verdicts"]
    ]
    data["approvals"] = {"required": spec.approvals, "approvedGates": approved}
    data["active"] = state.phase in machine.ACTIVE
    return data


def act(config: UiConfig, who: Who, name: str, verb: str, *, full: bool = False) -> dict[str, Any]:
    """An operator's ``verb`` on rollout ``name`` through the controller; recorded as ``ui.rollout.VERB``."""
    if verb not in VERBS:
        raise NotFound(f"no rollout action '{verb}'", [*VERBS, "approve"])
    key = actions.signing_key(config, who)
    actor = f"{who.key_id}:{key.name}"
    with _controller(config, actor, who) as c:
        before = _get(c, name)
        try:
            after = c.send(name, VERBS[verb](who, full), actor)
        except DeliveryError as e:
            raise Refused(str(e)) from e
    details = {"rollout": name, "run": before.run, "verb": verb, "from": str(before.state.phase)}
    details |= {"to": str(after.state.phase), "canaryWeight": after.state.canary_weight, "full": full}
    index = actions.record(config, actions.action(config, who, f"ui.rollout.{verb}", details), who)
    return {**_summary(after), "ledgerIndex": index, "actor": actor}


def approve(config: UiConfig, who: Who, name: str) -> dict[str, Any]:
    """An approver's approval of rollout ``name``'s current gate, signed with their own ledger key or the UI's."""
    key = actions.signing_key(config, who)
    with _controller(config, f"{who.key_id}:{key.name}", who) as c:
        stored = _get(c, name)
        try:
            approvers = c.approve(name, key)
        except DeliveryError as e:
            raise Refused(str(e)) from e
    details = {"rollout": name, "run": stored.run, "verb": "approve", "approvers": approvers}
    index = actions.record(config, actions.action(config, who, "ui.rollout.approve", details), who)
    return {**_summary(stored), "approvers": approvers, "ledgerIndex": index}


async def events(config: UiConfig, name: str, fragment: Callable[[Mapping[str, Any]], str]) -> AsyncIterator[str]:
    """Server-sent events: ``state`` (the rendered fragment) whenever the rollout changes, until it is done."""
    last = ""
    while True:
        data = await asyncio.to_thread(detail, config, name)
        text = fragment(data)
        if text != last:
            last = text
            yield "event: state\ndata: " + "\ndata: ".join(text.splitlines()) + "\n\n"
        if not data["active"]:
            yield "event: end\ndata: " + json.dumps({"phase": data["phase"]}) + "\n\n"
            return
        await asyncio.sleep(POLL_S)


@contextmanager
def _controller(config: UiConfig, actor: str, who: Who | None = None) -> Iterator[Controller]:
    """The rollout controller acting as ``actor``; with ``who``, its transitions are recorded signed with their key."""
    c = Controller(
        config.state_path,
        actor=actor,
        record=(lambda a: _record(config, a, who)) if who is not None else None,
        keyring=_keyring(config),
    )
    try:
        yield c
    finally:
        c.close()


def _record(config: UiConfig, action: Action, who: Who) -> None:
    actions.record(config, action, who)


def _keyring(config: UiConfig) -> Keyring | None:
    """The repository's trusted ledger keys (whose approvals count), as ``maestro rollout`` reads them."""
    return trusted_keyring(config.root)


def _get(c: Controller, name: str) -> Stored:
    stored = c.store.get(name)
    if stored is None:
        raise NotFound(f"no rollout '{name}' has been started", [f"/rollouts/{s.spec.name}" for s in c.store.all()])
    return stored


def _summary(s: Stored) -> dict[str, Any]:
    spec, state = s.spec, s.state
    return {
        "name": spec.name,
        "run": s.run,
        "route": spec.route,
        "phase": str(state.phase),
        "step": state.step,
        "steps": len(spec.steps),
        "stepDescription": spec.steps[state.step].describe() if state.step < len(spec.steps) else "done",
        "canaryWeight": state.canary_weight,
        "waiting": state.waiting,
        "startedBy": s.started_by,
    }


def _step_state(index: int, state: machine.State) -> str:
    if index < state.step or state.phase is machine.Phase.PROMOTED:
        return "done"
    if index == state.step and state.phase in machine.ACTIVE:
        return "current"
    return "not reached"


def _threshold(spec: RolloutSpec, metric: str, step: int, alpha: float) -> str:
    """The rule a verdict on ``metric`` at ``step`` was judged by (``maestro.delivery.analysis``, the spec's CEL)."""
    if metric == "error_rate":
        t = error_rate_test(alpha or 0.01)
        return (
            f"fail when the interval's low end is over {t.fail_margin:g}, pass when its high end is under "
            f"{t.pass_margin:g}; hard guard: canary error rate over {GUARD_ERROR_RATE:.0%}"
        )
    if metric == "latency_ms":
        return "fail when surely over 10% slower than stable's mean latency, pass when surely under"
    if metric.startswith("rollback.when[") and metric.endswith("]"):
        index = metric.removeprefix("rollback.when[").removesuffix("]")
        return spec.rollback_when[int(index)] if index.isdigit() and int(index) < len(spec.rollback_when) else metric
    analysis = spec.steps[step].analysis if step < len(spec.steps) else ""
    success, failure = spec.conditions.get(analysis, ("", ""))
    return {"successCondition": success, "failureCondition": failure}.get(metric) or "see the reason"
