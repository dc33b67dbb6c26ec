"""Small manifest sets for router tests, built as dicts and compiled through validate (the real path)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from maestro import router
from maestro.manifests.loader import SourceFile
from maestro.manifests.validate import validate_sources

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_POLICY = (ROOT / "policies" / "default.yaml").read_bytes()


def model(name: str = "m", *, context: int = 100_000, price: float = 1.0, quality: float = 0.5) -> dict[str, Any]:
    return {
        "name": name,
        "contextWindow": context,
        "price": {"inputPer1M": price, "outputPer1M": price},
        "quality": quality,
    }


def provider(
    name: str, jurisdiction: str = "us", *models: dict[str, Any], retention: int = 0, training: bool = False
) -> dict[str, Any]:
    return {
        "apiVersion": "maestro.dev/v1",
        "kind": "Provider",
        "metadata": {"name": name},
        "spec": {
            "type": "openai-compatible",
            "baseUrl": f"https://{name}.example.com/v1",
            "jurisdiction": jurisdiction,
            "dataRetentionDays": retention,
            "trainingUse": training,
            "models": list(models) or [model()],
        },
    }


def pair(key: str, **extra: Any) -> dict[str, Any]:
    name, model_name = key.split("/", 1)
    return {"provider": name, "model": model_name, **extra}


def route(name: str, alias: str, candidates: list[dict[str, Any]], **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "maestro.dev/v1",
        "kind": "Route",
        "metadata": {"name": name},
        "spec": {"alias": alias, "candidates": candidates, **spec},
    }


def policy(name: str, **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "maestro.dev/v1", "kind": "Policy", "metadata": {"name": name}, "spec": spec}


def table(*docs: dict[str, Any], default_policy: bool = True, clean: bool = True) -> router.RouterTable:
    """The routing table of ``docs`` (plus policies/default.yaml); ``clean`` asserts validate found no error."""
    sources = [SourceFile("policy.yaml", DEFAULT_POLICY, "")] if default_policy else []
    sources += [SourceFile(f"doc{i}.yaml", json.dumps(doc).encode(), "") for i, doc in enumerate(docs)]
    result = validate_sources(sources)
    if clean:
        assert result.summary.errors == 0, [d.message for d in result.diagnostics if d.severity == "error"]
    return router.build(result.manifests)
