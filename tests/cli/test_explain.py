"""`maestro explain route NAME --request FILE` on the example: the decision for a request carrying an e-mail
address, with every removal and its reason, as text and as JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers.cli import run_cli

ROOT = Path(__file__).resolve().parents[2]
REQUEST = str(ROOT / "examples" / "request-pii.json")
ORDER = ["nim-eu/meta/llama-3.1-8b-instruct", "local-lane/smollm2-135m-instruct"]


@pytest.fixture(autouse=True)
def example(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def test_the_text_names_the_detected_tag_each_removal_and_the_order() -> None:
    result = run_cli("explain", "route", "support-chat", "--request", REQUEST)
    assert result.exit_code == 0, result.output
    text = result.output
    assert "route support-chat (model 'chat')" in text
    assert "tags: pii.email (detected: pii.email)" in text
    for us in ("openai-us/gpt-4o-mini", "anthropic-us/claude-3-5-haiku-20241022"):
        assert f"    - {us}: [tag] tag 'pii.email' allows only eu, onprem, not us" in text
        assert (
            f"    - {us}: [route-rule] route rule 'contact-details-stay-in-eu' allows only eu, onprem, not us" in text
        )
    retention = "[tag] tag 'pii.email' allows at most 0 days of retention, provider keeps 30"
    assert f"    - mistral-eu/mistral-small-latest: {retention}" in text
    assert text.rstrip().endswith(f"1. {ORDER[0]}\n    2. {ORDER[1]}")
    assert "DENIED" not in text and "panic" not in text


def test_the_json_has_the_same_decision() -> None:
    result = run_cli("explain", "route", "support-chat", "--request", REQUEST, "--format", "json")
    assert result.exit_code == 0, result.output
    decision = json.loads(result.output)
    assert decision["order"] == ORDER and decision["primary"] == ORDER[0]
    assert decision["tags"] == ["pii.email"] and decision["denied"] is None and decision["panic"] is None
    removed = {(r["deployment"], r["stage"]) for r in decision["removed"]}
    assert removed == {
        ("openai-us/gpt-4o-mini", "tag"),
        ("openai-us/gpt-4o-mini", "route-rule"),
        ("anthropic-us/claude-3-5-haiku-20241022", "tag"),
        ("anthropic-us/claude-3-5-haiku-20241022", "route-rule"),
        ("openai-us/gpt-4o", "tag"),
        ("openai-us/gpt-4o", "route-rule"),
        ("mistral-eu/mistral-small-latest", "tag"),
        ("mistral-eu/mistral-small-latest", "route-rule"),
    }
    assert not set(decision["order"]) & {r["deployment"] for r in decision["removed"]}
