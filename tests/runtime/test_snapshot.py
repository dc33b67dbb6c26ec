"""Loading a run's pinned snapshot: the same records as validating it, without running the whole-set checks."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

import maestro.manifests.validate
from maestro.manifests.kinds.agent import Agent
from maestro.manifests.loader import SourceFile
from maestro.manifests.validate import validate, validate_sources
from maestro.runtime import snapshot

ROOT = Path(__file__).resolve().parents[2]


def test_a_snapshot_loads_the_records_that_validation_built():
    pinned = snapshot.take(ROOT)
    validated = validate([ROOT / "manifests", ROOT / "policies"]).manifests
    loaded = snapshot.manifests(pinned)
    assert [d.ref for d in loaded.documents] == [d.ref for d in validated.documents]
    assert [d.record for d in loaded.documents] == [d.record for d in validated.documents]
    assert loaded.names == validated.names


def _pinned(agents: str) -> snapshot.Snapshot:
    """A snapshot of one Agent file, as a run carries it (the digest is not recomputed when loading)."""
    return snapshot.Snapshot(
        hashlib.sha256(agents.encode()).hexdigest(), (("manifests/agents.yaml", "manifests", agents),), {}
    )


AGENT = """apiVersion: maestro.dev/v1
kind: Agent
metadata:
  name: helper
spec:
  route: {route}
  prompt: {{system: hi}}
  autonomyLevel: L1
"""


def test_loading_a_snapshot_does_not_run_the_whole_set_checks_again(monkeypatch):
    # an unknown route is a whole-set finding (validate reports it); a pinned snapshot was checked when its run
    # started, so loading it builds the record without checking the references again
    pinned = _pinned(AGENT.format(route="no-such-route"))

    def whole_set_checks(manifests: object) -> list[object]:
        raise AssertionError("the whole-set checks ran on a pinned snapshot")

    monkeypatch.setattr(maestro.manifests.validate, "check_set", whole_set_checks)
    with pytest.raises(AssertionError, match="whole-set checks ran"):  # validating runs them
        validate_sources(SourceFile(n, t.encode(), b) for n, b, t in pinned.files)
    loaded = snapshot.manifests(pinned)
    agent = loaded.record(Agent, "helper")
    assert agent is not None
    assert agent.route == "no-such-route"
    assert any(d.kind == "Policy" for d in loaded.documents)  # the built-in policy still joins the set


def test_loading_a_snapshot_keeps_the_schema_gate():
    # a route that is not a string fails the Agent's schema: no record is built from it
    loaded = snapshot.manifests(_pinned(AGENT.format(route="[1, 2]")))
    assert loaded.record(Agent, "helper") is None
    assert not any(d.kind == "Agent" for d in loaded.documents)
