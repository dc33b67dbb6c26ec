"""Signed decisions: whose count for which request."""

from __future__ import annotations

import pytest
from helpers.ledger import key, keyring

from maestro.runtime import approvals
from maestro.runtime.errors import RunError

REQUEST = {"interrupt": "run-1:approve:0:main", "what": "refund 249.0", "required": 1}


def test_interrupt_ids_are_stable_and_unique_per_node_iteration_and_branch():
    ids = {approvals.interrupt_id("run-1", n, i, b) for n in ("a", "b") for i in (0, 1) for b in ("main", "x")}
    assert len(ids) == 8
    assert approvals.interrupt_id("run-1", "approve", 0) == "run-1:approve:0:main"


def test_a_trusted_approver_counts():
    message = approvals.sign(key("bob"), REQUEST["interrupt"], "approve", REQUEST, "ok")
    checked = approvals.check(message, REQUEST, keyring("alice", "bob"), requester="alice")
    assert (checked.name, checked.decision, checked.reason) == ("bob", "approve", "")


def test_the_requester_an_untrusted_key_and_another_request_do_not_count():
    ring = keyring("alice", "bob")
    mine = approvals.sign(key("alice"), REQUEST["interrupt"], "approve", REQUEST, "")
    assert "cannot approve" in approvals.check(mine, REQUEST, ring, requester="alice").reason
    stranger = approvals.sign(key("mallory"), REQUEST["interrupt"], "approve", REQUEST, "")
    assert "not in .maestro/keys/" in approvals.check(stranger, REQUEST, ring, requester="alice").reason
    other = {**REQUEST, "what": "refund 9999.0"}
    signed_other = approvals.sign(key("bob"), REQUEST["interrupt"], "approve", other, "")
    assert "does not match" in approvals.check(signed_other, REQUEST, ring, requester="alice").reason


ROLED = {**REQUEST, "roles": ["refund-approver"]}


def test_with_roles_only_a_holder_of_one_counts(tmp_path):  # type: ignore[no-untyped-def]
    (tmp_path / "roles.json").write_text('{"bob": ["support"], "carol": ["refund-approver", "finance"]}')
    roles = approvals.load_roles(tmp_path)
    ring = keyring("alice", "bob", "carol")
    bob = approvals.sign(key("bob"), ROLED["interrupt"], "approve", ROLED, "")
    checked = approvals.check(bob, ROLED, ring, requester="alice", roles=roles)
    assert checked.name is None
    why = "'bob' holds support; this needs one of refund-approver (.maestro/keys/roles.json gives roles)"
    assert checked.reason == why
    carol = approvals.sign(key("carol"), ROLED["interrupt"], "reject", ROLED, "")
    assert approvals.check(carol, ROLED, ring, requester="alice", roles=roles).name == "carol"
    anyone = approvals.sign(key("bob"), REQUEST["interrupt"], "approve", REQUEST, "")
    assert approvals.check(anyone, REQUEST, ring, requester="alice", roles=roles).name == "bob"  # no roles asked


@pytest.mark.parametrize("text", ["[1]", '{"bob": "approver"}', "{nope"])
def test_a_broken_roles_file_is_a_clear_error(tmp_path, text):  # type: ignore[no-untyped-def]
    (tmp_path / "roles.json").write_text(text)
    with pytest.raises(RunError, match=r"roles\.json"):
        approvals.load_roles(tmp_path)
    assert approvals.load_roles(tmp_path / "absent") == {}
