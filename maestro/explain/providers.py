"""Explaining a Provider: its models, prices, secret and the routes that use it."""

from __future__ import annotations

import os

from maestro.explain.model import Explanation, Section, money
from maestro.manifests.kinds.provider import Provider
from maestro.manifests.kinds.route import Route
from maestro.manifests.loader import Document, ManifestSet


def explain_provider(manifests: ManifestSet, doc: Document) -> Explanation:
    provider: Provider = doc.record
    secret = provider.api_key_env
    secret_line = (
        f"API key from ${secret}: {'set' if os.environ.get(secret) else 'NOT SET in this environment'}"
        if secret
        else "no API key"
    )
    models = tuple(
        f"{m.name}: context {m.context_window:,} tokens, {money(m.price_in)} in / "
        f"{money(m.price_out)} out per 1M tokens" + (f", quality {m.quality:g}" if m.quality is not None else "")
        for m in provider.models
    )
    used_by = [r.ref for r in manifests.records(Route) if provider.name in _providers(r)]
    data = f"keeps data {provider.retention_days} day(s); " + (
        "may train on it" if provider.training_use else "does not train on it"
    )
    return Explanation(
        doc.ref,
        doc.file,
        doc.line,
        f"Provider '{provider.name}' is a {provider.type} endpoint at {provider.base_url} in jurisdiction "
        f"{provider.jurisdiction}; it {data}.",
        (
            Section("Models", models),
            Section("Secret", (secret_line,)),
            Section("Used by", tuple(used_by) or ("no route",)),
        ),
        {"type": provider.type, "jurisdiction": provider.jurisdiction, "secretEnv": secret, "usedBy": used_by},
    )


def _providers(route: Route) -> set[str]:
    """The providers a route names directly: its candidates and its provider/model fallbacks."""
    fallbacks = [f.target.provider for f in route.fallback if f.target is not None]
    return {c.provider for c in route.candidates} | set(fallbacks)
