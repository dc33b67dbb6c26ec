"""Signed decisions: whose count for which request."""

from __future__ import annotations

from helpers.ledger import key, keyring

from maestro.runtime import approvals

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
