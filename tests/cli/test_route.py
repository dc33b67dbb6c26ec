"""`maestro route simulate` on the example repository: who serves each class of request, with and without an
outage, and what is denied and why."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers.cli import run_cli

ROOT = Path(__file__).resolve().parents[2]
REQUESTS = str(ROOT / "examples" / "requests.jsonl")
EU_OR_ONPREM = ("nim-eu/", "mistral-eu/", "local-lane/")
US = ("openai-us/", "anthropic-us/")


@pytest.fixture(autouse=True)
def example(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # the example's manifests/ and policies/ are the default set


def simulate(*args: str) -> dict[str, object]:
    result = run_cli("route", "simulate", "--requests", REQUESTS, "--format", "json", *args)
    assert result.exit_code == 0, result.output
    data: dict[str, object] = json.loads(result.output)
    return data


def classes(data: dict[str, object]) -> dict[str, dict[str, object]]:
    return {c["tags"]: c for c in data["classes"]}  # type: ignore[attr-defined,index]


def test_without_an_outage_every_provider_serves_and_tagged_requests_stay_in_the_eu() -> None:
    data = simulate()
    assert data["decisions"] == 200 and data["outages"] == []
    assert set(data["providers"]) == {"openai-us", "anthropic-us", "nim-eu", "local-lane"}  # type: ignore[arg-type]
    by_tags = classes(data)
    assert by_tags["(untagged)"]["served"] == by_tags["(untagged)"]["requests"] == 61
    for tags, c in by_tags.items():
        if tags.startswith("pii."):  # contact details, IBANs, cards, phones: the EU or on-prem only
            assert all(k.startswith(EU_OR_ONPREM) for k in c["primaries"]), (tags, c["primaries"])  # type: ignore[attr-defined]
    credentials = by_tags["secret.credential"]
    assert (credentials["requests"], credentials["served"]) == (8, 2)
    assert credentials["denied"] == {"route rule 'no-credentials' denies the request": 6}


def test_an_eu_outage_moves_tagged_traffic_on_prem_and_never_to_the_us() -> None:
    data = simulate("--outage", "nim-eu")
    assert data["outages"] == ["nim-eu"]
    assert "nim-eu" not in data["providers"]  # type: ignore[operator]
    by_tags = classes(data)
    for tags in ("pii.email", "pii.iban", "pii.payment-card", "pii.phone"):
        c = by_tags[tags]
        assert c["served"] == c["requests"] and c["primaries"] == {"local-lane/smollm2-135m-instruct": c["requests"]}
    assert not any(k.startswith(US) for t, c in by_tags.items() if t != "(untagged)" for k in c["primaries"])  # type: ignore[attr-defined]


def test_the_text_report_names_the_outage_the_classes_and_the_denials() -> None:
    result = run_cli("route", "simulate", "--requests", REQUESTS, "--outage", "nim-eu")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "200 request(s) replayed; outage: nim-eu"
    credentials = next(line for line in lines if line.strip().startswith("secret.credential "))
    assert credentials.split()[1:3] == ["8", "2"] and "<- NOT ALWAYS SERVED" in credentials
    assert "      denied 6x: route rule 'no-credentials' denies the request" in lines
    providers = next(line for line in lines if line.strip().startswith("providers:"))
    assert "nim-eu" not in providers and "local-lane" in providers


def test_an_unknown_outage_is_a_clear_error() -> None:
    result = run_cli("route", "simulate", "--requests", REQUESTS, "--outage", "nowhere")
    assert result.exit_code == 2
    assert "--outage names unknown provider(s): nowhere" in result.output
