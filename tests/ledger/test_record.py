"""Recording from a command: only where the repository keeps keys, with the user's key."""

from __future__ import annotations

import pytest
from helpers.ledger import key

from maestro.ledger import statement as st
from maestro.ledger.errors import KeyFileError
from maestro.ledger.keys import write_public_key, write_signing_key
from maestro.ledger.record import configured_key, record
from maestro.ledger.store import Ledger


def _action(actor: str) -> st.Action:
    return st.Action("validate", actor, [st.Subject.of("manifests/a.yaml", b"a")])


@pytest.fixture
def config(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("MAESTRO_LEDGER_KEY", raising=False)
    return tmp_path / "config" / "maestro" / "ledger.key"


def test_a_repository_without_keys_records_nothing_and_reads_no_key(tmp_path, config):
    config.parent.mkdir(parents=True)
    config.write_text("garbage")  # would be an error if it were read
    assert record(tmp_path, _action) is None
    assert not (tmp_path / ".maestro").exists()


def test_a_user_without_a_key_records_nothing(tmp_path, config):
    write_public_key(key("alice").public, tmp_path)
    assert configured_key(tmp_path) is None


def test_the_users_key_records_an_entry_as_its_holder(tmp_path, config):
    write_public_key(key("alice").public, tmp_path)
    write_signing_key(key("alice"), config)
    recorded = record(tmp_path, _action)
    assert recorded is not None and recorded.index == 0
    with Ledger.open(recorded.store) as led:
        assert led.size() == 1
        assert next(iter(led.entries()))[1]


def test_an_untrusted_or_broken_key_is_an_error(tmp_path, config, monkeypatch):
    write_public_key(key("alice").public, tmp_path)
    write_signing_key(key("bob"), config)
    with pytest.raises(KeyFileError, match=r"not among the trusted keys.*--no-ledger"):
        record(tmp_path, _action)
    monkeypatch.setenv("MAESTRO_LEDGER_KEY", str(tmp_path / "missing.key"))
    with pytest.raises(KeyFileError, match="no signing key at"):
        record(tmp_path, _action)
