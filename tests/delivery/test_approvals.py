from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from helpers.delivery import Clock, spec
from helpers.ledger import key, keyring

from maestro.delivery.controller import Controller
from maestro.delivery.errors import TransitionError
from maestro.delivery.machine import Phase, Promote, Resume
from maestro.delivery.spec import Step


def _controller(tmp_path: Path, *trusted: str) -> Controller:
    c = Controller(tmp_path / "state.db", actor="rollout-controller:alice", clock=Clock(), keyring=keyring(*trusted))
    gated = dataclasses.replace(
        spec(Step("setWeight", weight=10), Step("pause"), Step("setWeight", weight=50)), approvals=1
    )
    c.begin(gated, "rollout:alice")
    for _ in range(3):
        c.tick()
    return c


def _phase(c: Controller) -> Phase:
    stored = c.store.get("r1")
    assert stored is not None
    return stored.state.phase


def test_a_manual_pause_and_the_promotion_each_need_an_approval_by_someone_else(tmp_path: Path) -> None:
    c = _controller(tmp_path, "alice", "bob", "carol")
    assert _phase(c) is Phase.PAUSED
    with pytest.raises(TransitionError, match="resuming needs 1 approval"):
        c.send("r1", lambda now, frozen, ok: Resume(now, ok), "rollout:alice")
    with pytest.raises(TransitionError, match="'alice' started rollout 'r1' and cannot approve it"):
        c.approve("r1", key("alice"))
    assert c.approve("r1", key("bob")) == ["bob"]
    c.send("r1", lambda now, frozen, ok: Resume(now, ok), "rollout:alice")
    for _ in range(3):
        c.tick()
    stored = c.store.get("r1")
    assert stored is not None and stored.state.phase is Phase.PROGRESSING and stored.state.canary_weight == 50
    assert "promotion needs 1 approval(s)" in stored.state.waiting  # bob's approval was for the pause only
    with pytest.raises(TransitionError, match="promotion needs 1 approval"):
        c.send("r1", lambda now, frozen, ok: Promote(now, True, frozen, ok), "rollout:alice")
    c.approve("r1", key("carol"))
    c.tick()
    assert _phase(c) is Phase.PROMOTED


def test_an_approval_by_a_key_the_repository_does_not_trust_does_not_count(tmp_path: Path) -> None:
    c = _controller(tmp_path, "alice", "bob")
    assert c.approve("r1", key("mallory")) == []
    with pytest.raises(TransitionError, match="resuming needs 1 approval"):
        c.send("r1", lambda now, frozen, ok: Resume(now, ok), "rollout:alice")


def test_the_promotion_entry_carries_its_signoffs_and_ledger_verify_checks_them(tmp_path: Path) -> None:
    from helpers.ledger import ledger

    from maestro.ledger import Action
    from maestro.ledger.query import verify_store

    records: list[Action] = []
    c = _controller(tmp_path, "alice", "bob", "carol")
    c.record = records.append
    c.approve("r1", key("bob"))
    c.send("r1", lambda now, frozen, ok: Resume(now, ok), "rollout-controller:alice")
    c.approve("r1", key("carol"))
    for _ in range(3):
        c.tick()
    assert _phase(c) is Phase.PROMOTED
    promoted = [a for a in records if a.action == "rollout.transition" and a.details["to"] == "Promoted"]
    assert len(promoted) == 1 and "signoffs" not in records[0].details
    carried = promoted[0].details["signoffs"]
    assert carried["what"] == "rollout/r1/1/3" and carried["required"] == 1 and carried["requester"] == "rollout:alice"
    assert [s["approver"] for s in carried["signatures"]] == ["carol"]
    led = ledger(1)
    led.append([promoted[0]], key("alice"))
    assert verify_store(led, keyring("alice", "bob", "carol"), [], workers=1).ok
    forged = dict(carried, signatures=[dict(carried["signatures"][0], approver="bob", keyid=key("bob").keyid)])
    led.append([dataclasses.replace(promoted[0], details={**promoted[0].details, "signoffs": forged})], key("alice"))
    report = verify_store(led, keyring("alice", "bob", "carol"), [], workers=1)
    assert "sign-off by bob is not a valid signature" in report.problems[0].message


def _roled(tmp_path: Path, roles: dict[str, frozenset[str]]) -> Controller:
    c = Controller(
        tmp_path / "state.db",
        actor="rollout-controller:alice",
        clock=Clock(),
        keyring=keyring("alice", "bob", "carol"),
        roles=roles,
    )
    gated = dataclasses.replace(
        spec(Step("setWeight", weight=10), Step("pause")), approvals=1, approval_roles=("platform-oncall",)
    )
    c.begin(gated, "rollout:alice")
    for _ in range(3):
        c.tick()
    return c


def test_an_approval_by_a_holder_without_one_of_the_rollouts_roles_is_refused_and_does_not_count(
    tmp_path: Path,
) -> None:
    roles = {"bob": frozenset({"support-lead"}), "carol": frozenset({"platform-oncall"})}
    c = _roled(tmp_path, roles)
    assert _phase(c) is Phase.PAUSED
    with pytest.raises(TransitionError, match="'bob' holds support-lead; this needs one of platform-oncall"):
        c.approve("r1", key("bob"))
    stored = c.store.get("r1")
    assert stored is not None and c.approved(stored) == frozenset()
    assert c.approve("r1", key("carol")) == ["carol"]
    c.send("r1", lambda now, frozen, ok: Resume(now, ok), "rollout:alice")
    assert _phase(c) is Phase.PROGRESSING


def test_a_signoff_stops_counting_when_its_holder_loses_the_role(tmp_path: Path) -> None:
    roles = {"carol": frozenset({"platform-oncall"})}
    c = _roled(tmp_path, roles)
    assert c.approve("r1", key("carol")) == ["carol"]
    roles["carol"] = frozenset()  # roles.json edited: carol is no longer on call
    stored = c.store.get("r1")
    assert stored is not None and c.approved(stored) == frozenset()
    with pytest.raises(TransitionError, match="resuming needs 1 approval"):
        c.send("r1", lambda now, frozen, ok: Resume(now, ok), "rollout:alice")


def test_the_promotion_entry_carries_only_signoffs_by_role_holders_and_the_roles_asked(tmp_path: Path) -> None:
    from maestro.ledger import Action

    records: list[Action] = []
    roles = {"bob": frozenset({"platform-oncall"}), "carol": frozenset({"platform-oncall"})}
    c = _roled(tmp_path, roles)
    c.record = records.append
    c.approve("r1", key("bob"))
    c.send("r1", lambda now, frozen, ok: Resume(now, ok), "rollout:alice")
    assert c.approve("r1", key("carol")) == ["carol"]  # the promotion
    assert c.approve("r1", key("bob")) == ["carol", "bob"]
    roles["carol"] = frozenset()  # carol's sign-off is stored, but she no longer holds the role
    for _ in range(3):
        c.tick()
    assert _phase(c) is Phase.PROMOTED
    promoted = [a for a in records if a.action == "rollout.transition" and a.details["to"] == "Promoted"]
    carried = promoted[0].details["signoffs"]
    assert carried["roles"] == ["platform-oncall"]
    assert [x["approver"] for x in carried["signatures"]] == ["bob"]


def test_ledger_verify_checks_the_signoffs_claimed_against_the_pinned_rollouts_approvals(tmp_path: Path) -> None:
    from helpers.ledger import ledger

    from maestro.ledger import Action
    from maestro.ledger.dualcontrol import Rule
    from maestro.ledger.query import verify_store

    records: list[Action] = []
    c = _controller(tmp_path, "alice", "bob", "carol")
    c.record = records.append
    c.approve("r1", key("bob"))
    c.send("r1", lambda now, frozen, ok: Resume(now, ok), "rollout-controller:alice")
    c.approve("r1", key("carol"))
    for _ in range(3):
        c.tick()
    promoted = next(a for a in records if a.action == "rollout.transition" and a.details["to"] == "Promoted")
    stored = c.store.get("r1")
    assert stored is not None
    digest = stored.spec.digest.removeprefix("sha256:")
    pinned = [Rule("Rollout/r1", "rollout.transition", 2, digest=digest, roles=("platform-oncall",))]
    ring = keyring("alice", "bob", "carol")

    def problems(*actions: Action) -> list[str]:
        led = ledger(1)
        led.append(list(actions), key("alice"))
        return [p.message.removeprefix("entry 1: ") for p in verify_store(led, ring, pinned, workers=1).problems]

    assert problems(promoted) == [
        "its sign-offs claim 1 approval(s) were required; Rollout/r1 at that digest asks 2"
    ]  # the pinned Rollout asks 2 (a manifest digest the entry names): the entry's own claim of 1 does not do
    pinned[0] = dataclasses.replace(pinned[0], approvers=1)
    assert problems(promoted) == ["its sign-offs claim the roles none; Rollout/r1 asks platform-oncall"]
    pinned[0] = dataclasses.replace(pinned[0], roles=())
    assert problems(promoted) == []
    details = {k: v for k, v in promoted.details.items() if k not in ("signoffs", "digest")}
    stripped = dataclasses.replace(promoted, details=details)
    assert problems(stripped) == ["it promotes Rollout/r1, which asks 1 approval(s), and carries no sign-offs"]
    assert problems(dataclasses.replace(stripped, manifests={})) == []  # the pinned Rollout not named: unchecked
