"""Sigstore anchoring: what can be checked offline (the real signing needs GitHub Actions and the network)."""

from __future__ import annotations

import json

import pytest

from maestro.ledger import anchor
from maestro.ledger.errors import AnchorError

ACTIONS = {
    "GITHUB_ACTIONS": "true",
    "ACTIONS_ID_TOKEN_REQUEST_URL": "https://example.invalid/token",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "t",
}


@pytest.mark.parametrize(
    ("env", "ok"),
    [
        (ACTIONS, True),
        ({}, False),
        ({"GITHUB_ACTIONS": "true"}, False),  # a job without `id-token: write`
        ({**ACTIONS, "GITHUB_ACTIONS": "false"}, False),
    ],
)
def test_signing_is_only_attempted_in_actions_with_oidc(env, ok, tmp_path):
    assert anchor.in_actions_with_oidc(env) is ok
    if not ok:
        with pytest.raises(AnchorError, match=r"needs GitHub Actions OIDC.*id-token: write"):
            anchor.sign(b"note", tmp_path / "b.sigstore.json", env)
        assert not (tmp_path / "b.sigstore.json").exists()


def test_the_pinned_trusted_root_ships_with_maestro():
    root = json.loads(anchor.pinned_root().read_text(encoding="utf-8"))
    assert root["mediaType"].startswith("application/vnd.dev.sigstore.trustedroot+json")
    assert any("fulcio.sigstore.dev" in ca["uri"] for ca in root["certificateAuthorities"])


@pytest.mark.parametrize(
    "content", ["not json", "{}", '{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json"}']
)
def test_a_bundle_that_is_not_one_is_a_clear_error(tmp_path, content):
    pytest.importorskip("sigstore")
    bundle = tmp_path / "x.checkpoint.sigstore.json"
    bundle.write_text(content, encoding="utf-8")
    with pytest.raises(AnchorError, match=r"not a Sigstore bundle|does not verify"):
        anchor.verify(b"note", bundle, "https://github.com/o/r/.github/workflows/l.yml@refs/heads/main")


def test_a_missing_bundle_is_a_clear_error(tmp_path):
    pytest.importorskip("sigstore")
    with pytest.raises(AnchorError, match="cannot read the bundle"):
        anchor.verify(b"note", tmp_path / "none.sigstore.json", "id")


def test_bundle_and_checkpoint_file_names():
    from pathlib import Path

    assert anchor.checkpoint_path(Path("out/l.intoto.jsonl")) == Path("out/l.intoto.jsonl.checkpoint")
    assert anchor.note_for_bundle(Path("out/l.intoto.jsonl.checkpoint.sigstore.json")) == Path(
        "out/l.intoto.jsonl.checkpoint"
    )


WORKFLOW = "https://github.com/o/r/.github/workflows/ledger.yml@refs/heads/main"
NOTE = (
    b"maestro.dev/ledger/0123456789abcdef\n3\nq83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=\n\n\xe2\x80\x94 alice AAAA\n"
)


@pytest.fixture(scope="module")
def local_sigstore():
    pytest.importorskip("sigstore")
    from helpers.sigstore_ca import LocalSigstore

    return LocalSigstore()


def test_a_real_bundle_is_accepted_for_its_identity_and_refused_for_another(local_sigstore, tmp_path):
    root = local_sigstore.trusted_root(tmp_path / "trusted-root.json")
    bundle = local_sigstore.bundle(NOTE, WORKFLOW, anchor.GITHUB_ISSUER, tmp_path / "l.checkpoint.sigstore.json")
    anchor.verify(NOTE, bundle, WORKFLOW, anchor.GITHUB_ISSUER, root)
    other = WORKFLOW.replace("o/r", "attacker/fork")
    with pytest.raises(AnchorError, match=r"does not verify for identity .*attacker/fork.*SANs do not match"):
        anchor.verify(NOTE, bundle, other, anchor.GITHUB_ISSUER, root)
    with pytest.raises(AnchorError, match="does not verify"):
        anchor.verify(NOTE, bundle, WORKFLOW, "https://accounts.google.com", root)
    with pytest.raises(AnchorError, match=r"Signature is invalid for input|digest mismatch"):
        anchor.verify(NOTE.replace(b"\n3\n", b"\n4\n"), bundle, WORKFLOW, anchor.GITHUB_ISSUER, root)


def test_a_bundle_from_a_ca_the_root_does_not_name_is_refused(local_sigstore, tmp_path):
    bundle = local_sigstore.bundle(NOTE, WORKFLOW, anchor.GITHUB_ISSUER, tmp_path / "l.checkpoint.sigstore.json")
    with pytest.raises(AnchorError, match="does not verify"):
        anchor.verify(NOTE, bundle, WORKFLOW)  # the pinned public-good root: our local CA is not in it
