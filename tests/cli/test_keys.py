"""maestro keys init / list: the private key outside the repository with mode 0600, the public key inside."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from helpers.cli import run_cli


def outside(tmp_path: Path) -> Path:
    """A folder beside the test's repository (which is ``tmp_path`` itself), for keys and config."""
    return tmp_path.parent / f"{tmp_path.name}-outside"


@pytest.fixture
def repo(example_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(example_repo)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(outside(tmp_path) / "config"))
    monkeypatch.delenv("MAESTRO_LEDGER_KEY", raising=False)
    return example_repo


def test_init_writes_a_private_key_0600_outside_and_the_public_key_inside(repo, tmp_path):
    result = run_cli("keys", "init", "--name", "alice")
    assert result.exit_code == 0, result.output
    private = outside(tmp_path) / "config" / "maestro" / "ledger.key"
    assert os.stat(private).st_mode & 0o777 == 0o600
    assert (repo / ".maestro" / "keys" / "alice.pub").read_text().startswith("alice+")
    assert "state.db" in (repo / ".maestro" / ".gitignore").read_text()
    secret = private.read_text().strip().split("+", 4)[4]  # PRIVATE+KEY+NAME+HASH+KEY; base64 may hold "+"
    assert secret not in result.output
    assert "git add .maestro/keys/alice.pub" in result.output
    listed = run_cli("keys", "list")
    assert listed.output.startswith("alice ")


def test_init_with_roles_records_them_beside_the_keys_for_approvals(repo, tmp_path):
    import json

    (repo / ".maestro" / "keys").mkdir(parents=True, exist_ok=True)
    (repo / ".maestro" / "keys" / "roles.json").write_text('{"carol": ["finance"]}')
    key = outside(tmp_path) / "bob.key"
    result = run_cli("keys", "init", "--name", "bob", "--key", str(key), "--role", "support-lead", "--role", "ops")
    assert result.exit_code == 0, result.output
    roles = json.loads((repo / ".maestro" / "keys" / "roles.json").read_text())
    assert roles == {"bob": ["ops", "support-lead"], "carol": ["finance"]}  # carol's kept
    assert "git add .maestro/keys/bob.pub .maestro/keys/roles.json" in result.output


def test_init_refuses_to_replace_a_key_without_force(repo):
    assert run_cli("keys", "init", "--name", "alice").exit_code == 0
    again = run_cli("keys", "init", "--name", "alice")
    assert again.exit_code == 2
    assert "already exists; pass --force" in again.output
    assert run_cli("keys", "init", "--name", "alice", "--force").exit_code == 0


def test_init_honours_key_and_the_environment(repo, tmp_path, monkeypatch):
    bob = outside(tmp_path) / "k" / "bob.key"
    assert run_cli("keys", "init", "--name", "bob", "--key", str(bob)).exit_code == 0
    assert bob.exists()
    monkeypatch.setenv("MAESTRO_LEDGER_KEY", str(outside(tmp_path) / "env.key"))
    assert run_cli("keys", "init", "--name", "carol").exit_code == 0
    assert (outside(tmp_path) / "env.key").exists()


def test_a_bad_name_is_a_usage_error(repo):
    result = run_cli("keys", "init", "--name", "no spaces")
    assert result.exit_code == 2
    assert "not a usable key name" in result.output


def test_list_without_keys_says_what_to_run(repo):
    assert "run `maestro keys init`" in run_cli("keys", "list").output


def test_a_private_key_inside_the_repository_is_refused(repo):
    result = run_cli("keys", "init", "--name", "alice", "--key", "secrets/alice.key")
    assert result.exit_code == 2
    assert "inside the repository" in result.output
    assert not (repo / "secrets").exists() and not (repo / ".maestro").exists()


def test_one_key_committed_under_a_second_name_is_refused_naming_both_files(repo):
    """The attack: alice commits her own public key again as 'bob2' to count as a second approver."""
    from maestro.ledger.keys import PublicKey

    assert run_cli("keys", "init", "--name", "alice").exit_code == 0
    folder = repo / ".maestro" / "keys"
    alice = PublicKey.parse((folder / "alice.pub").read_text(), "alice.pub")
    (folder / "bob2.pub").write_text(PublicKey("bob2", alice.raw).vkey() + "\n")
    for command in (["keys", "list"], ["ledger", "verify"]):
        result = run_cli(*command)
        assert result.exit_code == 2, result.output
        assert "alice.pub" in result.output and "bob2.pub" in result.output
        assert "same public key under two names" in result.output
