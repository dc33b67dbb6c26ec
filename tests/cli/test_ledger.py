"""maestro validate records into the ledger; maestro ledger show / export / import / prove / verify / anchor."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
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
    for name in ("GITHUB_ACTIONS", "ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    return example_repo


@pytest.fixture
def keyed(repo: Path) -> Path:
    assert run_cli("keys", "init", "--name", "alice").exit_code == 0
    return repo


def _secret(tmp_path: Path) -> str:
    return (outside(tmp_path) / "config" / "maestro" / "ledger.key").read_text().strip().split("+", 4)[4]


def test_a_repository_without_keys_validates_exactly_as_before(repo):
    plain = run_cli("validate")
    assert plain.exit_code == 0
    assert plain.output == run_cli("validate", "--no-ledger").output
    assert "ledger" not in plain.output
    assert not (repo / ".maestro").exists()


def test_validate_records_an_entry_with_the_manifests_hashes(keyed, tmp_path):
    first = run_cli("validate")
    assert first.exit_code == 0, first.output
    assert "ledger: recorded entry 0" in first.stderr
    assert "ledger" not in first.stdout  # reports on stdout (json, sarif) stay clean
    assert "recorded" not in run_cli("validate", "--no-ledger").output
    assert "recorded entry 1" in run_cli("validate", "-f", "json").stderr
    shown = run_cli("ledger", "show", "--format", "json")
    assert shown.exit_code == 0
    lines = shown.output.splitlines()
    assert len(lines) == 2 and '"action":"validate"' not in lines[0]  # sorted, spaced JSON per line
    assert '"manifests/routes.yaml"' in lines[0] and '"actor": "alice"' in lines[0]
    assert "validate" in run_cli("ledger", "show").output
    verified = run_cli("ledger", "verify")
    assert verified.exit_code == 0, verified.output
    assert verified.output.startswith("ok: ") and "2 entries" in verified.output
    assert _secret(tmp_path) not in first.output + shown.output + verified.output


def test_tampering_with_the_store_is_exit_1_with_the_index(keyed):
    for _ in range(3):
        run_cli("validate")
    conn = sqlite3.connect(keyed / ".maestro" / "state.db")
    conn.execute("DROP TRIGGER ledger_entries_no_delete")
    conn.execute("DELETE FROM ledger_entries WHERE idx = 1")
    conn.commit()
    conn.close()
    result = run_cli("ledger", "verify")
    assert result.exit_code == 1
    assert "FAILED" in result.output and "breaks at entry 1" in result.output


def test_show_and_prove_refuse_a_damaged_entry(keyed):
    for _ in range(2):
        run_cli("validate")
    conn = sqlite3.connect(keyed / ".maestro" / "state.db")
    conn.execute("DROP TRIGGER ledger_entries_no_update")
    conn.execute("UPDATE ledger_entries SET envelope = CAST(substr(envelope, 1, 50) AS BLOB) WHERE idx = 1")
    conn.commit()
    conn.close()
    shown = run_cli("ledger", "show")
    assert shown.exit_code == 2 and "entry 1 is damaged" in shown.output
    proved = run_cli("ledger", "prove", "1")
    assert proved.exit_code == 2 and "no longer matches its stored hash" in proved.output


def test_export_verify_and_a_flipped_byte_in_the_file(keyed, tmp_path):
    for _ in range(3):
        run_cli("validate")
    out = tmp_path / "ledger.intoto.jsonl"
    assert run_cli("ledger", "export", str(out)).output == f"wrote 3 entries to {out}\n"
    assert run_cli("ledger", "verify", str(out)).exit_code == 0
    lines = out.read_bytes().split(b"\n")
    entry2 = [i for i, line in enumerate(lines) if line][1 + 2 * 2]  # head, then entry/checkpoint pairs
    lines[entry2] = lines[entry2][:100] + bytes([lines[entry2][100] ^ 1]) + lines[entry2][101:]
    out.write_bytes(b"\n".join(lines))
    result = run_cli("ledger", "verify", str(out), "--format", "json")
    assert result.exit_code == 1
    assert '"firstBreak": 2' in result.output


def test_a_truncated_export_is_exit_1_and_import_refuses_it(keyed, tmp_path):
    for _ in range(2):
        run_cli("validate")
    out = tmp_path / "x.intoto.jsonl"
    run_cli("ledger", "export", str(out))
    out.write_bytes(out.read_bytes()[:-40])
    result = run_cli("ledger", "verify", str(out))
    assert result.exit_code == 1 and "breaks at entry" in result.output
    imported = run_cli("ledger", "import", str(out), "--state", str(tmp_path / "other.db"))
    assert imported.exit_code == 2
    assert "does not verify" in imported.output and "maestro ledger verify" in imported.output


def test_import_into_an_empty_store_and_refusal_of_another_ledger(keyed, tmp_path):
    run_cli("validate")
    out = tmp_path / "x.intoto.jsonl"
    run_cli("ledger", "export", str(out))
    other = tmp_path / "other.db"
    assert run_cli("ledger", "import", str(out), "--state", str(other)).output == f"imported 1 entries from {out}\n"
    assert run_cli("ledger", "verify", "--state", str(other)).exit_code == 0
    (keyed / ".maestro" / "state.db").unlink()
    run_cli("validate")  # a new ledger, another origin
    refused = run_cli("ledger", "import", str(out))
    assert refused.exit_code == 2 and "another ledger" in refused.output


def test_prove_an_entry_and_consistency(keyed):
    for _ in range(3):
        run_cli("validate")
    proof = run_cli("ledger", "prove", "1")
    assert proof.exit_code == 0
    assert "entry 1 is in the signed tree of 3 entries (verified)" in proof.output
    assert "\u2014 alice " in proof.output
    consistency = run_cli("ledger", "prove", "0", "--consistency-from", "2", "-f", "json")
    assert '"oldSize": 2' in consistency.output
    missing = run_cli("ledger", "prove", "7")
    assert missing.exit_code == 2 and "no entry 7" in missing.output


def test_a_key_open_to_others_stops_validate_with_the_fix(keyed, tmp_path):
    key = outside(tmp_path) / "config" / "maestro" / "ledger.key"
    key.chmod(0o644)
    result = run_cli("validate")
    assert result.exit_code == 2
    assert f"run `chmod 600 {key}`" in result.output
    assert _secret(tmp_path) not in result.output
    assert run_cli("validate", "--no-ledger").exit_code == 0


def test_a_corrupt_store_says_what_to_do(keyed):
    run_cli("validate")
    db = keyed / ".maestro" / "state.db"
    for extra in ("-wal", "-shm"):
        Path(str(db) + extra).unlink(missing_ok=True)
    db.write_bytes(b"garbage" * 1000)
    result = run_cli("ledger", "show")
    assert result.exit_code == 2
    assert "move it aside" in result.output and "Traceback" not in result.output


def test_verify_without_trusted_keys_is_a_usage_error(repo):
    result = run_cli("ledger", "verify")
    assert result.exit_code == 2
    assert "no trusted public keys" in result.output and "maestro keys init" in result.output


def test_show_since(keyed):
    run_cli("validate")
    assert "validate" in run_cli("ledger", "show", "--since", "1h").output
    assert run_cli("ledger", "show", "--since", "2999-01-01").output == "no entries\n"
    bad = run_cli("ledger", "show", "--since", "yesterday")
    assert bad.exit_code == 2 and "30m, 2h, 7d" in bad.output


def test_anchor_outside_github_actions_says_it_needs_oidc(keyed, tmp_path):
    run_cli("validate")
    out = tmp_path / "x.intoto.jsonl"
    run_cli("ledger", "export", str(out))
    result = run_cli("ledger", "anchor", str(out))
    assert result.exit_code == 2
    assert "needs GitHub Actions OIDC" in result.output
    assert not (tmp_path / "x.intoto.jsonl.checkpoint").exists()


def test_verify_bundle_needs_an_identity_and_a_real_bundle(keyed, tmp_path):
    pytest.importorskip("sigstore")
    run_cli("validate")
    note = tmp_path / "x.checkpoint"
    bundle = tmp_path / "x.checkpoint.sigstore.json"
    note.write_text("n\n1\nAAAA\n", encoding="utf-8")
    bundle.write_text("{}", encoding="utf-8")
    assert "--identity" in run_cli("ledger", "verify", "--bundle", str(bundle)).output
    result = run_cli("ledger", "verify", "--bundle", str(bundle), "--identity", "https://github.com/o/r")
    assert result.exit_code == 2
    assert "not a Sigstore bundle" in result.output or "does not verify" in result.output


def test_dual_control_request_approve_submit(keyed, tmp_path):
    keys = {name: outside(tmp_path) / f"{name}.key" for name in ("bob", "carol")}
    for name, path in keys.items():
        assert run_cli("keys", "init", "--name", name, "--key", str(path)).exit_code == 0
    run_cli("validate")
    request = tmp_path / "raise.dsse.json"
    made = run_cli(
        "ledger",
        "request",
        "autonomy.raise",
        "--subject",
        "Agent/refund-bot=manifests/agents.yaml",
        "--level",
        "L4",
        "--out",
        str(request),
    )
    assert made.exit_code == 0, made.output
    own = run_cli("ledger", "approve", str(request))
    assert own.exit_code == 2 and "cannot approve it" in own.output
    assert run_cli("ledger", "approve", str(request), "--key", str(keys["bob"])).exit_code == 0
    twice = run_cli("ledger", "approve", str(request), "--key", str(keys["bob"]))
    assert twice.exit_code == 2 and "counts once" in twice.output
    short = run_cli("ledger", "submit", str(request))
    assert short.exit_code == 2
    assert "needs 2 approvals" in short.output and "it has 1 (bob)" in short.output
    assert run_cli("ledger", "approve", str(request), "--key", str(keys["carol"])).exit_code == 0
    done = run_cli("ledger", "submit", str(request))
    assert done.output == "appended entry 1\n", done.output
    assert run_cli("ledger", "verify").exit_code == 0
    run_cli("validate")
    stale = run_cli("ledger", "submit", str(request))
    assert stale.exit_code == 2 and "prepare the request again" in stale.output


def test_verify_applies_the_dual_control_rules_of_the_manifests(keyed, tmp_path):
    from maestro.ledger.keys import read_signing_key
    from maestro.ledger.statement import Action, Subject
    from maestro.ledger.store import Ledger

    run_cli("validate")
    alice = read_signing_key(outside(tmp_path) / "config" / "maestro" / "ledger.key")
    with Ledger.open(keyed / ".maestro" / "state.db") as led:  # an entry written around the approvals
        led.append([Action("autonomy.raise", "alice", [Subject.of("Agent/x", b"")], autonomy_level="L4")], alice)
    result = run_cli("ledger", "verify")
    assert result.exit_code == 1
    assert "entry 1: 'autonomy.raise' needs 2 approvals" in result.output


def test_verify_against_a_checkpoint_kept_elsewhere(keyed, tmp_path):
    import json

    run_cli("validate")
    kept = tmp_path / "kept.checkpoint"
    kept.write_text(json.loads(run_cli("ledger", "prove", "0", "-f", "json").output)["checkpoint"], encoding="utf-8")
    run_cli("validate")
    assert run_cli("ledger", "verify", "--checkpoint", str(kept)).exit_code == 0
    (keyed / ".maestro" / "state.db").unlink()  # the history is rewritten from scratch
    run_cli("validate")
    result = run_cli("ledger", "verify", "--checkpoint", str(kept))
    assert result.exit_code == 1
    assert "the given checkpoint is of another ledger" in result.output


def test_a_kept_checkpoint_catches_a_cleanly_cut_history(keyed, tmp_path):
    import json

    run_cli("validate")
    run_cli("validate")
    kept = tmp_path / "kept.checkpoint"
    kept.write_text(json.loads(run_cli("ledger", "prove", "0", "-f", "json").output)["checkpoint"], encoding="utf-8")
    conn = sqlite3.connect(keyed / ".maestro" / "state.db")
    for trigger in ("ledger_entries_no_delete", "ledger_checkpoints_no_delete"):
        conn.execute(f"DROP TRIGGER {trigger}")
    conn.execute("DELETE FROM ledger_entries WHERE idx = 1")  # the last entry and its checkpoint: a shorter
    conn.execute("DELETE FROM ledger_checkpoints WHERE size = 2")  # log that is consistent in itself
    conn.commit()
    conn.close()
    assert run_cli("ledger", "verify").exit_code == 0  # nothing inside the store can tell
    result = run_cli("ledger", "verify", "--checkpoint", str(kept))
    assert result.exit_code == 1
    assert "truncated: the given checkpoint covers 2 entries" in result.output


def test_eval_and_gate_verdicts_are_recorded_where_the_repository_keeps_a_ledger(keyed):
    from maestro.cli.recording import record
    from maestro.evals.evidence import eval_action, gate_action
    from maestro.evals.gate import Finding, GateResult, Verdict

    card = {
        "suite": "support-quality",
        "digest": "ab" * 32,
        "revision": "HEAD",
        "summary": {"cases": 12, "passRate": 0.75},
        "problems": [],
        "cost": {"totalUsd": 0.0021},
    }
    record(eval_action([card]))
    failed = Finding("support-quality", "pass_rate", Verdict.FAIL, 0.75, 0.6, 0.9, ">= 0.9", "below")
    record(gate_action(GateResult((failed,)), [card]))
    record(eval_action([card]), no_ledger=True)  # --no-ledger: nothing
    shown = run_cli("ledger", "show", "--format", "json")
    lines = shown.output.splitlines()
    assert len(lines) == 2
    assert '"action": "eval"' in lines[0] and '"usd": 0.0021' in lines[0]
    assert '"action": "gate"' in lines[1] and '"support-quality/pass_rate"' in lines[1] and '"fail"' in lines[1]
    assert run_cli("ledger", "verify").exit_code == 0


def test_eval_and_gate_record_nothing_without_keys(repo):
    from maestro.cli.recording import record
    from maestro.evals.evidence import eval_action

    card = {"suite": "s", "summary": {"cases": 1, "passRate": 1.0}, "problems": [], "cost": {"totalUsd": 0}}
    record(eval_action([card]))
    assert eval_action([]) is None  # no scorecards, no entry
    assert not (repo / ".maestro").exists()


@pytest.mark.parametrize("command", [["validate"], ["gateway", "--port", "1"]])
def test_every_command_refuses_an_untrusted_key_with_the_same_message(keyed, tmp_path, monkeypatch, command):
    from helpers.ledger import key

    from maestro.ledger.keys import write_signing_key

    bob = outside(tmp_path) / "bob.key"
    write_signing_key(key("bob"), bob)
    monkeypatch.setenv("MAESTRO_LEDGER_KEY", str(bob))
    result = run_cli(*command)
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines()[-1] == (
        f"maestro: error: the signing key 'bob' is not among the trusted keys in {keyed / '.maestro' / 'keys'}; "
        "commit its public key (`maestro keys init` writes it), or pass --no-ledger"
    )
    assert not (keyed / ".maestro" / "state.db").exists()  # refused before anything was recorded or served


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_show_on_a_new_repository_is_an_empty_state_that_names_the_next_command(repo, fmt):
    result = run_cli("ledger", "show", "--format", fmt)
    assert result.exit_code == 0, result.output
    if fmt == "text":
        assert result.output.startswith("no ledger entries yet")
        assert "`maestro keys init`, then `maestro validate`" in result.output
    else:
        assert result.output.strip() == ""  # JSON lines: no entries, no lines


def test_a_pull_request_that_adds_its_own_approver_key_is_refused_with_keys_from_main(keyed, tmp_path):
    from helpers.eval_repo import commit_all, git

    bob = outside(tmp_path) / "bob.key"
    assert run_cli("keys", "init", "--name", "bob", "--key", str(bob)).exit_code == 0
    run_cli("validate")
    commit_all(keyed, "the keys the team trusts: alice, bob")
    git(keyed, "checkout", "-q", "-b", "pr")
    mallory = outside(tmp_path) / "mallory.key"  # alice's second identity, added by her own pull request
    assert run_cli("keys", "init", "--name", "mallory", "--key", str(mallory)).exit_code == 0
    request = tmp_path / "raise.dsse.json"
    subject = "Agent/refund-bot=manifests/agents.yaml"
    made = run_cli("ledger", "request", "autonomy.raise", "--subject", subject, "--level", "L4", "--out", str(request))
    assert made.exit_code == 0, made.output
    for approver in (bob, mallory):
        assert run_cli("ledger", "approve", str(request), "--key", str(approver)).exit_code == 0
    pinned = run_cli("ledger", "submit", str(request), "--keys-from", "main")
    assert pinned.exit_code == 2 and "not by a trusted key" in pinned.output
    assert run_cli("ledger", "submit", str(request)).exit_code == 0  # the checkout's keys would let it in
    assert run_cli("ledger", "verify").exit_code == 0
    result = run_cli("ledger", "verify", "--keys-from", "main")
    assert result.exit_code == 1, result.output
    assert "entry 1: signature by key" in result.output and "not a trusted key" in result.output
    both = run_cli("ledger", "verify", "--keys-from", "main", "--keys", str(keyed / ".maestro" / "keys"))
    assert both.exit_code == 2 and "not both" in both.output
    unknown = run_cli("ledger", "verify", "--keys-from", "no-such-branch")
    assert unknown.exit_code == 2 and "'no-such-branch' is not a git revision" in unknown.output
    git(keyed, "update-ref", "refs/remotes/origin/main", "main")  # what actions/checkout fetches
    step = _workflow_step(keyed, "main")
    assert step.returncode == 1 and "not a trusted key" in step.stdout  # the shipped workflow's step refuses it


def _workflow_step(repo: Path, base: str) -> subprocess.CompletedProcess[str]:
    """Run the shipped workflow's ledger step, as GitHub would, with the base branch ``base``."""
    from maestro.manifests import yamlio

    root = Path(__file__).resolve().parents[2]
    workflow = (root / ".github" / "workflows" / "maestro-eval.yml").read_text(encoding="utf-8")
    (doc,) = yamlio.parse(workflow, yamlio.Limits())
    (step,) = [s for s in doc.data["jobs"]["eval"]["steps"] if "maestro ledger verify" in s.get("run", "")]
    env = {**os.environ, "BASE_REF": base, "PYTHONPATH": str(root)}
    env["PATH"] = f"{Path(sys.executable).parent}:{env['PATH']}"
    return subprocess.run(["bash", "-c", step["run"]], cwd=repo, env=env, capture_output=True, text=True, check=False)


def test_verify_with_a_real_sigstore_bundle_of_the_head_checkpoint(keyed, tmp_path):
    import json

    pytest.importorskip("sigstore")
    from helpers.sigstore_ca import LocalSigstore

    workflow = "https://github.com/o/r/.github/workflows/ledger.yml@refs/heads/main"
    run_cli("validate")
    run_cli("validate")
    exported = tmp_path / "l.intoto.jsonl"
    assert run_cli("ledger", "export", str(exported)).exit_code == 0
    note = json.loads(run_cli("ledger", "prove", "1", "-f", "json").output)["checkpoint"]
    checkpoint = tmp_path / "l.intoto.jsonl.checkpoint"  # what `ledger anchor` writes beside the export
    checkpoint.write_text(note, encoding="utf-8")
    local = LocalSigstore()
    root = local.trusted_root(tmp_path / "trusted-root.json")
    bundle = local.bundle(note.encode(), workflow, "https://token.actions.githubusercontent.com", tmp_path / "b")
    bundle = bundle.rename(tmp_path / "l.intoto.jsonl.checkpoint.sigstore.json")
    args = ["ledger", "verify", str(exported), "--bundle", str(bundle), "--trusted-root", str(root)]
    accepted = run_cli(*args, "--identity", workflow)
    assert accepted.exit_code == 0, accepted.output
    assert accepted.output.startswith("ok: ")
    refused = run_cli(*args, "--identity", workflow.replace("o/r", "attacker/fork"))
    assert refused.exit_code == 2
    assert "does not verify for identity https://github.com/attacker/fork" in refused.output
