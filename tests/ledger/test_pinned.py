"""Trusted keys read from a git revision: what the base branch trusts, whatever the checkout holds."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.eval_repo import commit_all, git
from helpers.ledger import key

from maestro.ledger.errors import KeyFileError
from maestro.ledger.keys import PublicKey, load_keyring, write_public_key
from maestro.ledger.pinned import keyring_at


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    for name in ("alice", "bob", "carol"):
        write_public_key(key(name).public, tmp_path)
    commit_all(tmp_path, "trusted keys")
    return tmp_path


def _names(ring) -> set[str]:
    return {k.name for k in ring}


def test_a_key_added_on_a_branch_or_in_the_checkout_is_not_trusted_at_main(repo):
    git(repo, "checkout", "-q", "-b", "pr")
    write_public_key(key("mallory").public, repo)
    commit_all(repo, "add my own approver key")
    (repo / ".maestro" / "keys" / "bob.pub").write_text(key("mallory2").public.vkey().replace("mallory2", "bob"))
    assert _names(keyring_at(repo, "main")) == {"alice", "bob", "carol"}
    assert keyring_at(repo, "main").get(key("bob").keyid) is not None  # bob's key as committed, not as edited
    assert "mallory" in _names(keyring_at(repo, "pr"))
    with pytest.raises(KeyFileError):
        load_keyring(repo / ".maestro" / "keys")  # the edited checkout file no longer matches its hash


def test_one_key_under_two_names_at_the_revision_is_refused_naming_both(repo):
    write_public_key(PublicKey("robert", key("bob").public.raw), repo)
    commit_all(repo, "bob again")
    with pytest.raises(KeyFileError, match=r"main:\.maestro/keys/bob\.pub and main:\.maestro/keys/robert\.pub"):
        keyring_at(repo, "main")


@pytest.mark.parametrize("ref", ["no-such-branch", "--upload-pack=x", ""])
def test_an_unknown_revision_is_a_clear_error(repo, ref):
    with pytest.raises(KeyFileError, match="is not a git revision"):
        keyring_at(repo, ref)


def test_a_revision_without_keys_gives_an_empty_keyring(tmp_path):
    (tmp_path / "README").write_text("x")
    commit_all(tmp_path, "no keys")
    assert len(keyring_at(tmp_path, "main")) == 0


def test_a_symlinked_key_at_the_revision_is_refused(repo):
    (repo / ".maestro" / "keys" / "dave.pub").symlink_to("/etc/hostname")
    commit_all(repo, "a link")
    with pytest.raises(KeyFileError, match=r"main:\.maestro/keys/dave\.pub is not a plain file"):
        keyring_at(repo, "main")


def test_the_shipped_workflow_verifies_the_ledger_with_the_base_branchs_keys():
    from maestro.manifests import yamlio

    workflow = Path(__file__).resolve().parents[2] / ".github" / "workflows" / "maestro-eval.yml"
    (doc,) = yamlio.parse(workflow.read_text(encoding="utf-8"), yamlio.Limits())
    (step,) = [s for s in doc.data["jobs"]["eval"]["steps"] if "maestro ledger verify" in s.get("run", "")]
    assert step["env"]["BASE_REF"] == "${{ github.base_ref }}"
    assert '--keys-from "origin/$BASE_REF"' in step["run"]
    assert "hashFiles" not in step["if"]  # deleting the keys in the pull request's checkout does not skip it
