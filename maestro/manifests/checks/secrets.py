"""Which environment variables a manifest may name as a key: those the Policy's ``apiKeyEnv`` patterns allow.

A Provider's ``apiKey.env`` (and a lane's ``serve.apiKey.env``) is read from the environment of whoever runs
maestro, a CI job included; a manifest that could name any variable could send ``GITHUB_TOKEN`` or the admin
token to the ``baseUrl`` it chooses. The names below are refused whatever the patterns say.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fnmatch import fnmatchcase

from maestro.manifests.checks.context import Checker
from maestro.manifests.loader import Document, ManifestSet

DEFAULT_PATTERNS = ("*_API_KEY",)
# The machine's own credentials: never a provider key, whatever a Policy allows.
NEVER = ("GITHUB_TOKEN", "GH_TOKEN", "ACTIONS_*", "RUNNER_*", "MAESTRO_*", "AWS_SECRET_*")


def allowed_patterns(manifests: ManifestSet) -> tuple[str, ...]:
    """Every Policy's ``apiKeyEnv`` patterns; the default when no Policy sets any."""
    patterns = [p for policy in manifests.of_kind("Policy") for p in policy.spec.get("apiKeyEnv", [])]
    return tuple(patterns) or DEFAULT_PATTERNS


def env_refused(name: str, patterns: Iterable[str]) -> str | None:
    """Why a manifest may not name the variable ``name`` as a key; None when it may."""
    if any(fnmatchcase(name, p) for p in NEVER):
        return f"'{name}' holds one of the machine's own credentials and is never sent to a provider"
    patterns = tuple(patterns)
    if any(fnmatchcase(name, p) for p in patterns):
        return None
    return (
        f"'{name}' does not match the Policy's apiKeyEnv ({', '.join(patterns)}); rename the variable "
        "(e.g. ACME_API_KEY), or add a pattern to a Policy's spec.apiKeyEnv"
    )


def check_key_env(c: Checker) -> None:
    patterns = allowed_patterns(c.manifests)
    for provider in c.manifests.of_kind("Provider"):
        keys = (("spec", "apiKey"), provider.spec.get("apiKey")), (("spec", "serve", "apiKey"), _serve_key(provider))
        for path, ref in keys:
            name = ref.get("env") if isinstance(ref, Mapping) else None
            if isinstance(name, str) and (problem := env_refused(name, patterns)):
                c.report(provider, (*path, "env"), "secret.env-name", problem)


def _serve_key(provider: Document) -> object:
    serve = provider.spec.get("serve")
    return serve.get("apiKey") if isinstance(serve, Mapping) else None
