"""route.tag-unservable: a route on which some data tag can never be served is reported."""

from __future__ import annotations

import json
from pathlib import Path

from maestro.manifests.loader import SourceFile
from maestro.manifests.validate import validate_sources

ROOT = Path(__file__).resolve().parents[2]


def _provider(name: str, jurisdiction: str) -> dict:
    return {
        "apiVersion": "maestro.dev/v1",
        "kind": "Provider",
        "metadata": {"name": name},
        "spec": {
            "type": "openai",
            "baseUrl": "https://api.example.com/v1",
            "jurisdiction": jurisdiction,
            "models": [{"name": "m", "contextWindow": 8000, "price": {"inputPer1M": 1, "outputPer1M": 2}}],
        },
    }


def _route(*providers: str) -> dict:
    return {
        "apiVersion": "maestro.dev/v1",
        "kind": "Route",
        "metadata": {"name": "r"},
        "spec": {"alias": "chat", "candidates": [{"provider": p, "model": "m"} for p in providers]},
    }


def _check(*docs: dict) -> list:
    sources = [SourceFile("policy.yaml", (ROOT / "policies" / "default.yaml").read_bytes(), "")]
    sources += [SourceFile(f"d{i}.yaml", json.dumps(d).encode(), "") for i, d in enumerate(docs)]
    return [d for d in validate_sources(sources).diagnostics if d.rule == "route.tag-unservable"]


def test_a_us_only_route_cannot_serve_pii_and_says_which_tags():
    found = _check(_provider("us1", "us"), _route("us1"))
    assert len(found) == 1
    assert found[0].severity == "warning"
    assert "pii.email" in found[0].message and "secret.credential" in found[0].message
    assert "jurisdiction.eu-only" not in found[0].message


def test_an_onprem_fallback_serves_every_data_tag():
    route = _route("us1")
    route["spec"]["fallback"] = [{"provider": "lane", "model": "m"}]
    route["spec"]["rules"] = [
        {"name": "pii", "when": "'pii.email' in request.tags", "require": {"jurisdictions": ["onprem"]}}
    ]
    assert _check(_provider("us1", "us"), _provider("lane", "onprem"), route) == []
