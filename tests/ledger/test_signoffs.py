"""Sign-offs carried in an entry's details: counted by dual control, checked by verify."""

from __future__ import annotations

from typing import Any

import pytest
from helpers.ledger import key, keyring, ledger

from maestro.ledger import signoffs
from maestro.ledger import statement as st
from maestro.ledger.dualcontrol import Rule
from maestro.ledger.query import verify_store

RING = ("alice", "bob", "carol")
DIGEST = "sha256:" + "ab" * 32
RULES = [Rule("risky-deploys", "deploy.high-risk", 2)]


def _deploy(approvers: tuple[str, ...], *, digest: str = DIGEST, signed: str = DIGEST, required: int = 2) -> st.Action:
    given = [signoffs.sign("deploy", signed, key(name)) for name in approvers]
    carried = signoffs.details("deploy", digest, given, requester="alice", required=required)
    details: dict[str, Any] = {"digest": DIGEST, "signoffs": carried}
    return st.Action("deploy.high-risk", "deploy:alice", [st.Subject.of("deploy/c1", b"plan")], details=details)


def _verify(action: st.Action, rules: list[Rule] = RULES) -> str:
    led = ledger(1)
    led.append([action], key("alice"))
    report = verify_store(led, keyring(*RING), rules, workers=1)
    return "" if report.ok else report.problems[0].message


def test_two_signoffs_by_others_meet_a_rule_of_two() -> None:
    assert _verify(_deploy(("bob", "carol"))) == ""


@pytest.mark.parametrize(
    ("action", "message"),
    [
        (_deploy(("bob",), required=1), "'deploy.high-risk' needs 2 approvals by distinct key holders"),
        (_deploy(("alice", "bob")), "it carries 1 sign-off(s) of deploy by key holders other than the requester"),
        (_deploy(("bob", "carol"), signed="sha256:" + "cd" * 32), "sign-off by bob, carol is not a valid signature"),
        (_deploy(("bob", "mallory")), "sign-off by mallory is not a valid signature by a trusted key"),
        (_deploy(("bob", "carol"), digest="sha256:" + "ef" * 32), "a digest the entry does not name"),
    ],
)
def test_verify_finds_signoffs_that_fall_short_or_do_not_hold(action: st.Action, message: str) -> None:
    assert message in _verify(action)


def test_signoffs_are_checked_even_where_no_rule_asks_for_them() -> None:
    assert _verify(_deploy(("bob", "carol")), rules=[]) == ""
    assert "is not a valid signature" in _verify(_deploy(("bob", "mallory")), rules=[])
