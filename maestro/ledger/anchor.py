"""Anchoring a checkpoint with Sigstore keyless signing, and checking the anchor offline.

Signing needs a GitHub Actions OIDC token (a job with ``permissions: id-token: write``) and the network
(Fulcio, Rekor); it is refused anywhere else. Verifying needs neither: the bundle is checked against a
pinned trusted root (``trust/sigstore-trusted-root.json``, Sigstore's public-good instance, or one given)
and the expected workflow identity. ``sigstore`` is an optional extra (``pip install 'maestro-ai[sigstore]'``)
imported only here, only when called.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from maestro.ledger.errors import AnchorError

GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
BUNDLE_SUFFIX = ".sigstore.json"


def _sigstore() -> Any:
    try:
        import sigstore
    except ImportError as e:
        raise AnchorError("Sigstore support is not installed; run `pip install 'maestro-ai[sigstore]'`") from e
    return sigstore


def in_actions_with_oidc(env: Mapping[str, str] | None = None) -> bool:
    env = os.environ if env is None else env
    return env.get("GITHUB_ACTIONS") == "true" and bool(
        env.get("ACTIONS_ID_TOKEN_REQUEST_URL") and env.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
    )


def require_oidc(env: Mapping[str, str] | None = None) -> None:
    if not in_actions_with_oidc(env):
        raise AnchorError(
            "`maestro ledger anchor` needs GitHub Actions OIDC: run it in a workflow job with "
            "`permissions: id-token: write` (ACTIONS_ID_TOKEN_REQUEST_URL is not set here)"
        )


def sign(note: bytes, bundle_path: Path, env: Mapping[str, str] | None = None) -> Path:
    """Sign ``note`` keylessly with the job's OIDC identity and write the bundle to ``bundle_path``."""
    require_oidc(env)
    _sigstore()
    from sigstore.errors import Error
    from sigstore.models import ClientTrustConfig
    from sigstore.oidc import IdentityToken, detect_credential
    from sigstore.sign import SigningContext

    try:
        token = detect_credential()
        if token is None:
            raise AnchorError("no OIDC token came from GitHub Actions; check `permissions: id-token: write`")
        context = SigningContext.from_trust_config(ClientTrustConfig.production())
        with context.signer(IdentityToken(token)) as signer:
            bundle = signer.sign_artifact(note)
    except Error as e:
        raise AnchorError(f"Sigstore signing failed: {e}") from e
    try:
        bundle_path.write_text(bundle.to_json(), encoding="utf-8")
    except OSError as e:
        raise AnchorError(f"cannot write {bundle_path}: {e.strerror or e}") from e
    return bundle_path


def pinned_root() -> Path:
    return Path(str(resources.files("maestro.ledger") / "trust" / "sigstore-trusted-root.json"))


def verify(
    note: bytes, bundle_path: Path, identity: str, issuer: str = GITHUB_ISSUER, root: Path | None = None
) -> None:
    """Check offline that ``bundle_path`` is a Sigstore signature over ``note`` by ``identity``."""
    _sigstore()
    from sigstore.errors import Error
    from sigstore.models import Bundle, TrustedRoot
    from sigstore.verify import Verifier, policy

    try:
        raw = bundle_path.read_bytes()
    except OSError as e:
        raise AnchorError(f"cannot read the bundle {bundle_path}: {e.strerror or e}") from e
    try:
        bundle = Bundle.from_json(raw)
    except (Error, ValueError) as e:
        raise AnchorError(f"{bundle_path} is not a Sigstore bundle; write it with `maestro ledger anchor`") from e
    try:
        verifier = Verifier(trusted_root=TrustedRoot.from_file(str(root or pinned_root())))
        verifier.verify_artifact(note, bundle, policy.Identity(identity=identity, issuer=issuer))
    except (Error, ValueError) as e:
        raise AnchorError(f"{bundle_path} does not verify for identity {identity} ({issuer}): {e}") from e


def checkpoint_path(export: Path) -> Path:
    return export.with_name(export.name + ".checkpoint")


def note_for_bundle(bundle_path: Path) -> Path:
    """The checkpoint file a bundle signs: the bundle's name without ``.sigstore.json``."""
    name = bundle_path.name
    return bundle_path.with_name(name.removesuffix(BUNDLE_SUFFIX)) if name.endswith(BUNDLE_SUFFIX) else bundle_path
