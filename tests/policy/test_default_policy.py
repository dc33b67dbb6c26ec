"""The builtin default Policy keeps what detection finds where it belongs: credentials on-prem only."""

from __future__ import annotations

import json

import pytest
from helpers.router import pair, provider, route

from maestro import router
from maestro.manifests.loader import SourceFile
from maestro.manifests.validate import builtin_policy, validate_sources
from maestro.policy.detect import Limits
from maestro.router import Request, decide

PLACES = {"us-cloud": "us", "eu-cloud": "eu", "uk-cloud": "uk", "lane": "onprem"}


def _table() -> router.RouterTable:
    docs = [provider(name, place) for name, place in PLACES.items()]
    docs.append(route("chat-route", "chat", [pair(f"{name}/m") for name in PLACES]))
    sources = [builtin_policy(), *(SourceFile(f"doc{i}.yaml", json.dumps(d).encode(), "") for i, d in enumerate(docs))]
    result = validate_sources(sources)
    assert result.summary.errors == 0, [d.message for d in result.diagnostics]
    return router.build(result.manifests)


def _allowed(text: str) -> set[str]:
    decision = decide(_table(), Request("chat", ({"role": "user", "content": text},)))
    return {key.split("/")[0] for key in decision.allowed}


@pytest.mark.parametrize(
    "credential",
    [
        "AKIAIOSFODNN7EXAMPLE",
        "ghp_x7Kq2mP9vL4nR8tY1wE5zU3oI6aS0dF2gH4j",
        "xoxb-1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
        "postgres://admin:S3cretPassw0rd@db.example.com/app",
        "-----BEGIN OPENSSH PRIVATE KEY-----",
    ],
)
def test_a_detected_credential_may_only_go_on_prem(credential: str) -> None:
    assert _allowed(f"Debug this for me, my key is {credential} thanks") == {"lane"}


def test_personal_data_without_a_credential_may_go_to_the_eu() -> None:
    assert _allowed("Mail jane@example.com, SSN 536-90-4399, card 4111 1111 1111 1111") == {"eu-cloud", "lane"}


def test_a_prompt_past_the_scan_limit_may_only_go_on_prem() -> None:
    assert _allowed("nothing sensitive here. " * (Limits().characters // 24 + 1)) == {"lane"}


def test_the_builtin_policy_keeps_credentials_on_prem_and_away_from_training() -> None:
    text = builtin_policy().raw.decode()
    block = text[text.index("- name: secret.credential") :].split("\n      - name:")[0]
    assert "allow: {jurisdictions: [onprem], maxRetentionDays: 0, trainingUse: false}" in block
