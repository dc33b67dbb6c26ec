"""Key files: the Go note formats, mode 0600, clear refusals that never show key bytes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from helpers.ledger import key

from maestro.ledger import checkpoint as cp
from maestro.ledger.errors import KeyFileError
from maestro.ledger.keys import (
    Keyring,
    PublicKey,
    key_path,
    load_keyring,
    read_signing_key,
    write_public_key,
    write_signing_key,
)

# The example key pair and signed note of golang.org/x/mod/sumdb/note (note_test.go).
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
GO_SIG = "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="


def _write(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text, encoding="ascii")
    path.chmod(mode)
    return path


def test_the_go_reference_keys_and_note_are_reproduced_byte_for_byte(tmp_path):
    signing = read_signing_key(_write(tmp_path / "peter.key", GO_SKEY + "\n"))
    assert signing.public.vkey() == GO_VKEY
    assert PublicKey.parse(GO_VKEY, "vkey") == signing.public
    note = cp.sign_note(GO_TEXT, signing)
    assert note == f"{GO_TEXT}\n\u2014 PeterNeumann {GO_SIG}\n"


def test_written_keys_read_back_with_mode_0600(tmp_path):
    where = tmp_path / "deep" / "ledger.key"
    write_signing_key(key("alice"), where)
    assert os.stat(where).st_mode & 0o777 == 0o600
    assert read_signing_key(where).keyid == key("alice").keyid
    public = write_public_key(key("alice").public, tmp_path)
    assert public == tmp_path / ".maestro" / "keys" / "alice.pub"
    assert [k.name for k in load_keyring(tmp_path / ".maestro" / "keys")] == ["alice"]


def test_an_existing_key_is_not_overwritten_without_force(tmp_path):
    where = tmp_path / "ledger.key"
    write_signing_key(key("alice"), where)
    with pytest.raises(KeyFileError, match="already exists; pass --force"):
        write_signing_key(key("bob"), where)
    write_signing_key(key("bob"), where, force=True)
    assert read_signing_key(where).name == "bob"


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_a_key_open_to_others_is_refused_with_the_fix(tmp_path, mode):
    where = tmp_path / "ledger.key"
    write_signing_key(key("alice"), where)
    where.chmod(mode)
    with pytest.raises(KeyFileError, match=rf"open to other users \(mode 0{mode:o}\); run `chmod 600 {where}`"):
        read_signing_key(where)


def test_a_missing_key_says_how_to_make_one(tmp_path):
    with pytest.raises(KeyFileError, match=r"no signing key at .*nope.key; run `maestro keys init`"):
        read_signing_key(tmp_path / "nope.key")


@pytest.mark.parametrize(
    "text",
    [
        "hello",
        GO_SKEY.replace("PRIVATE", "PUBLIC"),
        GO_SKEY[:-4] + "AAAA",  # damaged: the hash no longer matches
        GO_SKEY[:-8],  # wrong length
        GO_SKEY.replace("PeterNeumann", "Peter Neumann"),
    ],
)
def test_malformed_keys_are_refused_without_quoting_them(tmp_path, text):
    where = _write(tmp_path / "bad.key", text)
    with pytest.raises(KeyFileError) as caught:
        read_signing_key(where)
    message = str(caught.value)
    assert str(where) in message and ("keys init" in message or "damaged" in message)
    secret = GO_SKEY.split("+", 4)[4]
    assert secret[:12] not in message and secret[:12] not in repr(caught.value.__cause__)


def test_an_unreadable_key_is_refused(tmp_path):
    where = _write(tmp_path / "bin.key", "x")
    where.write_bytes(b"\xff\xfe")
    where.chmod(0o600)
    with pytest.raises(KeyFileError, match="cannot read the signing key"):
        read_signing_key(where)


def test_the_repr_of_a_signing_key_hides_it():
    assert "alice" in repr(key("alice"))
    assert "_key" not in repr(key("alice"))


@pytest.mark.parametrize("text", ["alice+00000000+AAAA", "x", GO_VKEY.replace("c74f20a3", "c74f20a4")])
def test_malformed_public_keys_name_the_file(tmp_path, text):
    folder = tmp_path / "keys"
    folder.mkdir()
    _write(folder / "x.pub", text, 0o644)
    with pytest.raises(KeyFileError, match=r"x\.pub"):
        load_keyring(folder)


def test_key_path_prefers_the_flag_then_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.delenv("MAESTRO_LEDGER_KEY", raising=False)
    assert key_path() == tmp_path / "maestro" / "ledger.key"
    monkeypatch.setenv("MAESTRO_LEDGER_KEY", "/k/env.key")
    assert key_path() == Path("/k/env.key")
    assert key_path(Path("flag.key")) == Path("flag.key")


def test_keyring_finds_note_signers_by_name_and_hash():
    ring = Keyring.of([key("alice").public, key("bob").public])
    bob = key("bob").public
    assert ring.by_note_hash("bob", bob.note_hash) == bob
    assert ring.by_note_hash("alice", bob.note_hash) is None


def test_one_public_key_under_two_names_is_refused_naming_both_files(tmp_path):
    """The attack: bob's one key committed again as 'robert' would count as a second approver."""
    folder = tmp_path / "keys"
    folder.mkdir()
    bob = key("bob")
    robert = PublicKey("robert", bob.public.raw)
    assert robert.keyid != bob.keyid  # the key id hashes the name: two ids for one key
    _write(folder / "bob.pub", bob.public.vkey() + "\n", 0o644)
    _write(folder / "robert.pub", robert.vkey() + "\n", 0o644)
    with pytest.raises(KeyFileError) as refused:
        load_keyring(folder)
    message = str(refused.value)
    assert str(folder / "bob.pub") in message and str(folder / "robert.pub") in message
    assert "same public key under two names" in message
    with pytest.raises(KeyFileError, match="same public key"):
        Keyring.of([bob.public, robert])


def test_one_key_listed_twice_under_its_own_name_is_one_key():
    ring = Keyring.of([key("bob").public, key("bob").public])
    assert len(ring) == 1
