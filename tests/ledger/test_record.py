"""The one recording API: only where the repository keeps keys, with a trusted key, cheap to import."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.ledger import key

from maestro.evidence import Action, Subject
from maestro.ledger import dsse
from maestro.ledger.errors import ApprovalError, KeyFileError
from maestro.ledger.keys import KEYS_DIR, write_public_key, write_signing_key
from maestro.ledger.record import configured_key, record, recorder
from maestro.ledger.statement import parse
from maestro.ledger.store import Ledger
from maestro.runtime import evidence as runtime_evidence


def _action(actor: str) -> Action:
    return Action("validate", actor, [Subject.of("manifests/a.yaml", b"a")])


def untrusted(root: Path, name: str) -> str:
    """The one message every recorder gives for a key the repository at ``root`` does not trust."""
    return (
        f"the signing key '{name}' is not among the trusted keys in {root / KEYS_DIR}; commit its public key "
        "(`maestro keys init` writes it), or pass --no-ledger"
    )


@pytest.fixture
def config(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("MAESTRO_LEDGER_KEY", raising=False)
    monkeypatch.delenv("MAESTRO_STATE_URL", raising=False)
    return tmp_path / "config" / "maestro" / "ledger.key"


def test_a_repository_without_keys_records_nothing_and_reads_no_key(tmp_path, config):
    config.parent.mkdir(parents=True)
    config.write_text("garbage")  # would be an error if it were read
    assert record(tmp_path, _action) is None
    assert recorder(tmp_path, config) is None  # even a key named explicitly is not read
    assert not (tmp_path / ".maestro").exists()


def test_a_user_without_a_key_records_nothing(tmp_path, config):
    write_public_key(key("alice").public, tmp_path)
    assert configured_key(tmp_path) is None
    assert recorder(tmp_path) is None
    assert record(tmp_path, _action) is None
    assert not (tmp_path / ".maestro" / "state.db").exists()


def test_the_users_key_records_an_entry_as_its_holder(tmp_path, config):
    write_public_key(key("alice").public, tmp_path)
    write_signing_key(key("alice"), config)
    recorded = record(tmp_path, _action)
    assert recorded is not None and recorded.index == 0
    assert recorded.store == tmp_path / ".maestro" / "state.db"
    with Ledger.open(recorded.store) as led:
        assert led.size() == 1
        assert next(iter(led.entries()))[1]


def test_a_recorder_appends_a_list_now_or_through_the_background_writer(tmp_path, config, monkeypatch):
    monkeypatch.setenv("MAESTRO_STATE_URL", str(tmp_path / "shared.db"))  # the repository's store, by URL or path
    write_public_key(key("alice").public, tmp_path)
    write_signing_key(key("alice"), config)
    rec = recorder(tmp_path)
    assert rec is not None and rec.signer == "alice" and rec.store == str(tmp_path / "shared.db")
    assert rec.append([_action("alice"), _action("cli:alice")]).index == 0
    assert rec.append([]).index is None
    with rec.writer(max_delay=0.01) as writer:
        writer.submit(_action("gateway:alice"))
        with pytest.raises(ApprovalError, match="not recorded"):
            writer.submit(_action("gateway:bob"))  # an actor is bound to the key that signs
    with Ledger.open(rec.store) as led:
        actors = [parse(dsse.decode(line).payload).actor for _, line in led.entries()]
    assert actors == ["alice", "cli:alice", "gateway:alice"]


def test_an_explicit_store_overrides_the_repositorys(tmp_path, config):
    write_public_key(key("alice").public, tmp_path)
    write_signing_key(key("alice"), config)
    recorded = record(tmp_path, _action, store=tmp_path / "elsewhere.db")
    assert recorded is not None and recorded.store == tmp_path / "elsewhere.db"
    assert not (tmp_path / ".maestro" / "state.db").exists()


def test_an_untrusted_or_broken_key_is_an_error(tmp_path, config, monkeypatch):
    write_public_key(key("alice").public, tmp_path)
    write_signing_key(key("bob"), config)
    with pytest.raises(KeyFileError, match=r"not among the trusted keys.*--no-ledger"):
        record(tmp_path, _action)
    monkeypatch.setenv("MAESTRO_LEDGER_KEY", str(tmp_path / "missing.key"))
    with pytest.raises(KeyFileError, match="no signing key at"):
        record(tmp_path, _action)


RUN = {"id": "run-1", "pipeline": "refunds", "snapshot": {"digest": "sha256:00"}}


@pytest.mark.parametrize(
    "caller",
    [
        pytest.param(lambda root: record(root, _action), id="record"),
        pytest.param(recorder, id="recorder"),
        pytest.param(lambda root: runtime_evidence.record(root, "run.node.start", RUN, details={}), id="runtime"),
    ],
)
def test_every_recorder_refuses_an_untrusted_key_with_one_message(tmp_path, config, caller):
    write_public_key(key("alice").public, tmp_path)
    write_signing_key(key("bob"), config)
    with pytest.raises(KeyFileError) as refused:
        caller(tmp_path)
    assert str(refused.value) == untrusted(tmp_path, "bob")
    assert not (tmp_path / ".maestro" / "state.db").exists()


def test_the_runtime_records_through_the_api_and_nothing_without_a_ledger(tmp_path, config):
    assert runtime_evidence.record(tmp_path, "run.node.start", RUN, details={"node": "a"}) is None
    write_public_key(key("alice").public, tmp_path)
    write_signing_key(key("alice"), config)
    assert runtime_evidence.record(tmp_path, "run.node.start", RUN, details={"node": "a"}) == 0
    with Ledger.open(tmp_path / ".maestro" / "state.db") as led:
        assert led.size() == 1


HEAVY = (
    "cryptography",
    "nacl",
    "sigstore",
    "psycopg",
    "maestro.ledger.keys",
    "maestro.ledger.dsse",
    "maestro.ledger.merkle",
    "maestro.ledger.store",
    "maestro.ledger.verify",
    "maestro.ledger.export",
    "maestro.ledger.anchor",
    "maestro.ledger.writer",
)


@pytest.mark.parametrize(
    "module", ["maestro.ledger.record", "maestro.ledger", "maestro.evidence", "maestro.cli.recording"]
)
def test_importing_the_recording_api_pulls_no_cryptography_store_or_proofs(module: str) -> None:
    probe = f"import json, sys, {module}; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    modules = set(json.loads(done.stdout))
    assert module in modules
    assert not {m for m in modules if m.startswith(HEAVY)}


def test_validate_in_a_repository_without_keys_imports_no_ledger_cryptography(example_repo: Path) -> None:
    probe = (
        "import json, sys\nfrom maestro.cli.main import main\ncode = main(['validate', '--out-file', '/dev/null'])\n"
        "print(json.dumps([code, sorted(sys.modules)]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=example_repo, capture_output=True, text=True, timeout=120, check=True
    )
    code, modules = json.loads(done.stdout.strip().splitlines()[-1])
    assert code == 0 and "maestro.ledger.record" in modules
    assert not {m for m in modules if m.startswith(HEAVY)}
