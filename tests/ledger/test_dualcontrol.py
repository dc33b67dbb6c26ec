"""Dual control: rules from the example Policy and AutonomyLevels; distinct holders; never the requester."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.ledger import key, keyring, ledger

from maestro.ledger import dsse
from maestro.ledger import statement as st
from maestro.ledger.dualcontrol import Rule, approvers, rules_from
from maestro.ledger.errors import ApprovalError
from maestro.ledger.keys import Keyring, SigningKey
from maestro.ledger.query import verify_store
from maestro.manifests.validate import validate

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def rules() -> list[Rule]:
    manifests = validate([ROOT / "manifests", ROOT / "policies"]).manifests
    policies = [d.spec for d in manifests.of_kind("Policy")]
    levels = [(d.name, d.spec) for d in manifests.of_kind("AutonomyLevel")]
    return rules_from(policies, levels)


def test_rules_come_from_the_policy_and_the_autonomy_levels(rules):
    by_name = {(r.name, r.action): r for r in rules}
    assert by_name[("raise-autonomy", "autonomy.raise")] == Rule("raise-autonomy", "autonomy.raise", 2)
    assert by_name[("AutonomyLevel/L4", "deploy")] == Rule("AutonomyLevel/L4", "deploy", 2, level="L4")
    assert by_name[("AutonomyLevel/L2", "spend")].approvers == 1
    assert not any(r.level == "L0" for r in rules)


def _raise(actor: str = "alice", level: str = "L4") -> st.Action:
    return st.Action("autonomy.raise", actor, [st.Subject.of("Agent/refund-bot", b"spec")], autonomy_level=level)


RING = ("alice", "bob", "carol", "dave")


@pytest.mark.parametrize(
    ("signers", "ok"),
    [
        (["alice", "bob", "carol"], True),  # the requester and two others
        (["alice", "bob"], False),  # one approver
        (["alice", "bob", "bob"], False),  # one key twice counts once
        (["bob", "carol"], True),  # the requester need not sign at all
        (["alice", "bob", "bob2"], False),  # two keys of one holder count once
    ],
)
def test_append_enforces_two_distinct_approvers_other_than_the_requester(rules, signers, ok):
    led = ledger(2)
    keys = [key(n) if n != "bob2" else _second_key_of("bob") for n in signers]
    ring = Keyring.of([*(key(n).public for n in RING), _second_key_of("bob").public])
    envelope = led.prepare(_raise(), keys[0])
    for k in keys[1:]:
        envelope = envelope.signed_by(k)
    if ok:
        assert led.append_envelope(envelope, ring, rules, key("alice")) == 2
        assert verify_store(led, ring, rules, workers=1).ok
    else:
        with pytest.raises(ApprovalError, match="needs 2 approvals"):
            led.append_envelope(envelope, ring, rules, key("alice"))
        assert led.size() == 2


_SECOND: dict[str, SigningKey] = {}


def _second_key_of(name: str) -> SigningKey:
    return _SECOND.setdefault(name, SigningKey.generate(name))


def test_the_requester_signing_as_approver_does_not_count(rules):
    signers = [key("alice")]
    assert approvers([k.public for k in signers], "alice") == []
    assert approvers([key("bob").public, key("alice").public], "alice") == ["bob"]


def test_verify_enforces_the_threshold_on_entries_that_skipped_it(rules):
    led = ledger(1)
    led.append([_raise()], key("alice"))  # the plain path does not check approvals; verify must
    report = verify_store(led, keyring(*RING), rules, workers=1)
    assert report.first_break == 1
    assert "needs 2 approvals" in report.problems[0].message and "raise-autonomy" in report.problems[0].message


def test_an_approval_at_a_level_without_dual_control_needs_one(rules):
    led = ledger(1)
    spend = st.Action("spend", "alice", [st.Subject.of("invoice", b"1")], autonomy_level="L2")
    with pytest.raises(ApprovalError, match="needs 1 approvals"):
        led.append_envelope(led.prepare(spend, key("alice")), keyring(*RING), rules, key("alice"))
    envelope = led.prepare(spend, key("alice")).signed_by(key("bob"))
    assert led.append_envelope(envelope, keyring(*RING), rules, key("alice")) == 1


def test_a_stale_request_is_refused(rules):
    led = ledger(1)
    envelope = led.prepare(_raise(), key("alice")).signed_by(key("bob")).signed_by(key("carol"))
    led.append([st.Action("route", "gw", [st.Subject.of("r", b"")])], key("alice"))
    with pytest.raises(ApprovalError, match="prepare the request again"):
        led.append_envelope(envelope, keyring(*RING), rules, key("alice"))


def test_an_untrusted_co_signature_is_refused(rules):
    led = ledger(1)
    envelope = led.prepare(_raise(), key("alice")).signed_by(key("bob")).signed_by(key("mallory"))
    with pytest.raises(ApprovalError, match="not by a trusted key"):
        led.append_envelope(envelope, keyring(*RING), rules, key("alice"))


def test_a_duplicated_signature_in_the_envelope_counts_once(rules):
    led = ledger(1)
    envelope = led.prepare(_raise(), key("alice")).signed_by(key("bob"))
    doubled = dsse.Envelope(envelope.payload, envelope.payload_type, (*envelope.signatures, envelope.signatures[1]))
    with pytest.raises(ApprovalError):
        led.append_envelope(doubled, keyring(*RING), rules, key("alice"))
