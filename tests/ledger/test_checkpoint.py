"""Checkpoints: the C2SP tlog-checkpoint body, signed notes that fail on any change."""

from __future__ import annotations

import pytest
from helpers.ledger import key, keyring

from maestro.ledger import checkpoint as cp

ROOT = bytes(range(32))


def test_the_body_is_origin_size_and_base64_root():
    assert cp.Checkpoint("maestro.dev/ledger/x", 12, ROOT).text() == (
        "maestro.dev/ledger/x\n12\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"
    )


def test_a_signed_checkpoint_verifies_and_parses_back():
    note = cp.Checkpoint("o", 3, ROOT).sign(key("alice"))
    signed = cp.verify(note, keyring("alice", "bob"))
    assert signed.checkpoint == cp.Checkpoint("o", 3, ROOT)
    assert [k.name for k in signed.signers] == ["alice"]
    assert note.splitlines()[4].startswith("\u2014 alice ")


@pytest.mark.parametrize(
    "change",
    [
        lambda n: n.replace("\n3\n", "\n4\n", 1),
        lambda n: n.replace("o\n", "p\n", 1),
        lambda n: n.replace("AAEC", "AAED", 1),
    ],
)
def test_a_changed_checkpoint_no_longer_verifies(change):
    note = cp.Checkpoint("o", 3, ROOT).sign(key("alice"))
    with pytest.raises(cp.CheckpointError, match="no trusted key"):
        cp.verify(change(note), keyring("alice"))


def test_an_untrusted_signer_is_not_enough():
    note = cp.Checkpoint("o", 3, ROOT).sign(key("mallory"))
    with pytest.raises(cp.CheckpointError, match="no trusted key"):
        cp.verify(note, keyring("alice"))


@pytest.mark.parametrize(
    "note",
    [
        "",
        "o\n3\n",
        "o\n03\nAAAA\n\n\u2014 a AAAA\n",
        "o\nx\nAAAA\n\n",
        "o\n3\n" + "A" * 44 + "\n\nno dash\n",
        "o\n3\nAAAA\n\n\u2014 a AAAA\n",
    ],
)
def test_malformed_notes_are_refused(note):
    with pytest.raises(cp.CheckpointError):
        cp.verify(note, keyring("alice"))
