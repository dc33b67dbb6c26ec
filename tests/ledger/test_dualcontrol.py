"""Dual control: rules from the example Policy and AutonomyLevels; distinct holders; never the requester."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from helpers.ledger import key, keyring, ledger
from hypothesis import given
from hypothesis import strategies as hs

from maestro.ledger import dsse
from maestro.ledger import statement as st
from maestro.ledger.dualcontrol import Rule, approvers, rules_from, shortfall
from maestro.ledger.errors import ApprovalError
from maestro.ledger.keys import Keyring, PublicKey, SigningKey
from maestro.ledger.query import verify_store
from maestro.ledger.store import Ledger
from maestro.manifests.kinds.autonomylevel import AutonomyLevel
from maestro.manifests.kinds.policy import Policy
from maestro.manifests.validate import validate

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def rules() -> list[Rule]:
    manifests = validate([ROOT / "manifests", ROOT / "policies"]).manifests
    return rules_from(manifests.records(Policy), manifests.records(AutonomyLevel))


def test_rules_come_from_the_policy_and_the_autonomy_levels(rules):
    by_name = {(r.name, r.action): r for r in rules}
    assert by_name[("raise-autonomy", "autonomy.raise")] == Rule(
        "raise-autonomy", "autonomy.raise", 2, expires_after=24 * 3600
    )
    assert by_name[("AutonomyLevel/L4", "deploy")] == Rule(
        "AutonomyLevel/L4", "deploy", 2, level="L4", expires_after=3600
    )
    assert by_name[("AutonomyLevel/L2", "spend")].approvers == 1
    assert not any(r.level == "L0" for r in rules)


def _raise(actor: str = "alice", level: str = "L4", **extra: datetime) -> st.Action:
    subjects = [st.Subject.of("Agent/refund-bot", b"spec")]
    return st.Action("autonomy.raise", actor, subjects, autonomy_level=level, **extra)  # type: ignore[arg-type]


RING = ("alice", "bob", "carol", "dave")


@pytest.mark.parametrize(
    ("signers", "ok"),
    [
        (["alice", "bob", "carol"], True),  # the requester and two others
        (["alice", "bob"], False),  # one approver
        (["alice", "bob", "bob"], False),  # one key twice counts once
        (["bob", "carol", "dave"], False),  # the requester (the actor) must sign
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
        with pytest.raises(ApprovalError, match=r"needs 2 approvals|did not sign it"):
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
    led.append([st.Action("route", "alice", [st.Subject.of("r", b"")])], key("alice"))
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


def test_one_key_under_two_names_counts_once(rules):
    """Even in a keyring built around the load-time refusal, one public key is one approver."""
    bob = key("bob").public
    robert = PublicKey("robert", bob.raw)
    assert approvers([key("alice").public, bob, robert], "alice") == ["bob"]
    assert "needs 2 approvals" in shortfall(rules, "autonomy.raise", "L4", "alice", [key("alice").public, bob, robert])


def _imported(lines: list[bytes]) -> Ledger:
    """A store holding ``lines`` as they are: entries written around every check of ``append``."""
    led = Ledger.open(":memory:")
    led.import_lines(lines, [], led.origin)
    return led


def test_an_actor_who_did_not_sign_is_refused_on_submit_and_by_verify(rules):
    led = ledger(1)
    claim = st.Action("route", "gateway:carol", [st.Subject.of("r", b"")])
    envelope = led.prepare(claim, key("alice"))  # alice signs an entry that says carol did it
    with pytest.raises(ApprovalError, match="its actor 'gateway:carol' did not sign it"):
        led.append_envelope(envelope, keyring(*RING), rules, key("alice"))
    with pytest.raises(ApprovalError, match="did not sign it"):
        led.append([claim], key("alice"))
    forged = _imported([*led.lines(), envelope.encode()])
    report = verify_store(forged, keyring(*RING), rules, workers=1)
    assert any(p.index == 1 and "its actor 'gateway:carol' did not sign it" in p.message for p in report.problems)


def test_approvals_signed_without_the_requester_are_refused(rules):
    """bob and carol approve an autonomy raise that names alice as requester; alice never signed."""
    led = ledger(1)
    envelope = dsse.sign(led.prepare(_raise(), key("bob")).payload, [key("bob"), key("carol"), key("dave")])
    with pytest.raises(ApprovalError, match="its actor 'alice' did not sign it"):
        led.append_envelope(envelope, keyring(*RING), rules, key("bob"))


def _approved(led: Ledger, action: st.Action) -> dsse.Envelope:
    return led.prepare(action, key("alice")).signed_by(key("bob")).signed_by(key("carol"))


def test_an_expired_approval_is_refused_on_submit(rules):
    led = ledger(1)
    asked = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    envelope = _approved(led, _raise(time=asked))
    with pytest.raises(ApprovalError, match=r"approvals expired.*raise-autonomy lets an approval stand 1d"):
        led.append_envelope(envelope, keyring(*RING), rules, key("alice"), now=asked + timedelta(hours=25))
    assert led.size() == 1
    assert led.append_envelope(envelope, keyring(*RING), rules, key("alice"), now=asked + timedelta(hours=23)) == 1
    assert verify_store(led, keyring(*RING), rules, workers=1).ok


def test_an_expired_approval_is_refused_by_verify(rules):
    """Appended a day and a half late under rules that did not expire (or by a tool that did not check)."""
    led = ledger(1)
    asked = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    lenient = [replace(r, expires_after=None) for r in rules]
    led.append_envelope(
        _approved(led, _raise(time=asked)), keyring(*RING), lenient, key("alice"), now=asked + timedelta(hours=36)
    )
    report = verify_store(led, keyring(*RING), rules, workers=1)
    assert [p.index for p in report.problems] == [1]
    assert "approvals expired: requested at 2026-12-01T09:00:00.000000Z" in report.problems[0].message
    assert verify_store(led, keyring(*RING), lenient, workers=1).ok


def test_a_request_dated_in_the_future_is_refused(rules):
    led = ledger(1)
    now = datetime.now(UTC)
    envelope = _approved(led, _raise(time=now + timedelta(days=30)))  # would never expire in practice
    with pytest.raises(ApprovalError, match="claims to be requested at"):
        led.append_envelope(envelope, keyring(*RING), rules, key("alice"), now=now)


def test_a_guarded_action_with_no_rules_fails_closed():
    led = ledger(1)
    envelope = _approved(led, _raise())
    with pytest.raises(ApprovalError, match=r"'autonomy\.raise' is a guarded action but no dual-control rule"):
        led.append_envelope(envelope, keyring(*RING), [], key("alice"))
    led.append([_raise()], key("alice"))  # written around submit
    report = verify_store(led, keyring(*RING), [], workers=1)
    assert [p.index for p in report.problems] == [1]
    assert "no dual-control rule for it was found" in report.problems[0].message
    plain = ledger(2)
    assert verify_store(plain, keyring(*RING), [], workers=1).ok  # unguarded actions need no rules


@given(picks=hs.lists(hs.tuples(hs.sampled_from(RING), hs.sampled_from(["", "-alias"])), max_size=8))
def test_approvals_never_exceed_the_distinct_keys_or_count_the_requester(picks):
    """Whatever names the signers' keys carry, one public key and one holder count once, the requester never."""
    alice = key("alice").public
    signers = [alice, *(PublicKey(name + alias, key(name).public.raw) for name, alias in picks)]
    got = approvers(signers, "gateway:alice")
    assert len(got) <= len({k.raw for k in signers} - {alice.raw})
    assert len(got) == len(set(got)) and not any(name.startswith("alice") for name in got)
