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
