"""The kind registry: every kind has a schema, a record built at load with its source position, and checks."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from maestro.manifests.kinds import KINDS, UnknownKind, kind
from maestro.manifests.kinds.agent import Agent
from maestro.manifests.kinds.policy import Policy
from maestro.manifests.kinds.provider import Provider
from maestro.manifests.kinds.route import Route
from maestro.manifests.loader import SourceFile, load
from maestro.manifests.schemas import KINDS as SCHEMA_FILES
from maestro.manifests.schemas import SchemaSet, schema_text
from maestro.manifests.validate import validate

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def example():
    result = validate([ROOT / "manifests", ROOT / "policies"])
    assert result.summary.errors == 0
    return result.manifests


@pytest.mark.parametrize("name", list(KINDS))
def test_each_kind_has_a_schema_and_checks(name):
    entry = KINDS[name]
    assert entry.name == name
    assert SCHEMA_FILES[name] == entry.schema
    assert schema_text(entry.schema).startswith("{")
    assert entry.checks, f"{name} has no whole-set checks"


def test_every_admitted_document_carries_its_kinds_frozen_record(example):
    for doc in example.documents:
        record = doc.record
        assert dataclasses.is_dataclass(record) and type(record).__dataclass_params__.frozen
        assert record.name == doc.name
        assert (record.source.file, record.source.line) == (doc.file, doc.line)
        with pytest.raises(dataclasses.FrozenInstanceError):
            record.name = "other"  # type: ignore[misc]


def test_a_record_points_at_its_fields():
    text = (
        "apiVersion: maestro.dev/v1\nkind: Route\nmetadata:\n  name: chat\nspec:\n  alias: chat\n"
        "  candidates:\n    - provider: a\n      model: m\n      weight: 7\n"
    )
    loaded = load([SourceFile("routes.yaml", text.encode(), ".")], SchemaSet())
    (route,) = loaded.manifests.records(Route)
    assert route.alias == "chat"
    assert route.candidates[0].key == "a/m" and route.candidates[0].weight == 7
    assert route.source.at(("spec", "candidates", 0, "weight")) == (10, 15)
    assert route.source.at(("spec", "alias"), key=True) == (6, 3)
    assert loaded.manifests.record(Route, "chat") is route
    assert loaded.manifests.record(Provider, "chat") is None


def test_typed_reads_match_the_document(example):
    for provider in example.records(Provider):
        spec = example.get("Provider", provider.name).spec
        assert provider.base_url == spec["baseUrl"]
        assert [m.name for m in provider.models] == [m["name"] for m in spec["models"]]
        assert (provider.serve is not None) == ("serve" in spec)
    for policy in example.records(Policy):
        spec = example.get("Policy", policy.name).spec
        assert [b.name for b in policy.budgets] == [b["name"] for b in spec.get("budgets", [])]
    agents = example.records(Agent)
    assert agents
    for agent in agents:
        spec = example.get("Agent", agent.name).spec
        written = spec.get("mcpServers", [])
        assert [s.idempotency_keys for s in agent.mcp_servers] == [s.get("idempotencyKeys", False) for s in written]
        assert [t.idempotent for t in agent.tools] == [t.get("idempotent", False) for t in spec.get("tools", [])]
    assert example.record(Agent, "support-agent").server("refunds").idempotency_keys  # type: ignore[union-attr]


def test_an_unknown_kind_is_an_error_that_lists_the_known_ones():
    with pytest.raises(UnknownKind, match=r"unknown kind 'Deployment'; maestro knows: Provider, Route"):
        kind("Deployment")
    assert kind("Route") is KINDS["Route"]


def test_a_policy_record_holds_fixed_and_recurring_freeze_windows():
    text = (
        "apiVersion: maestro.dev/v1\nkind: Policy\nmetadata:\n  name: p\nspec:\n  freezeWindows:\n"
        "    - name: fridays\n      cron: '0 18 * * 5'\n      duration: 64h\n      timeZone: Europe/Paris\n"
        "    - name: holidays\n      start: '2026-12-24T00:00:00Z'\n      end: '2026-12-27T00:00:00Z'\n"
        "      applies: [deploy]\n"
    )
    loaded = load([SourceFile("policy.yaml", text.encode(), ".")], SchemaSet())
    assert loaded.diagnostics == []
    (policy,) = loaded.manifests.records(Policy)
    fridays, holidays = policy.freeze_windows
    assert (fridays.cron, fridays.duration, fridays.time_zone, fridays.start) == (
        "0 18 * * 5",
        "64h",
        "Europe/Paris",
        None,
    )
    assert (holidays.start, holidays.cron, holidays.time_zone, holidays.applies) == (
        "2026-12-24T00:00:00Z",
        None,
        "UTC",
        ("deploy",),
    )
