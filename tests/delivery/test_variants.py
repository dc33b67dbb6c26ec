"""Agent and Pipeline targets: a running rollout splits runs when they start, by a sticky key or the run's id."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers.delivery import Clock
from helpers.gateway import ROOT

from maestro.delivery.controller import Controller
from maestro.delivery.errors import RolloutError
from maestro.delivery.spec import resolve
from maestro.delivery.variants import for_run, pick
from maestro.manifests.loader import ManifestSet
from maestro.manifests.validate import validate
from maestro.runtime.runs import new_run

ROLLOUTS = """
---
apiVersion: maestro.dev/v1
kind: Rollout
metadata: {name: agent-v2}
spec:
  target: {kind: Agent, name: support-agent}
  change: {from: support-agent, to: support-agent-v2}
  stickiness: caller
  steps: [{setWeight: 10}, {pause: manual}, {setWeight: 100}]
---
apiVersion: maestro.dev/v1
kind: Rollout
metadata: {name: flow-v2}
spec:
  target: {kind: Pipeline, name: refund-flow}
  change: {from: refund-flow, to: refund-flow-v2}
  steps: [{setWeight: 50}, {pause: manual}, {setWeight: 100}]
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    for name in ("manifests", "policies", "prompts"):
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, tmp_path / name)
    manifests = tmp_path / "manifests"
    for kind, file, name in (("Agent", "agents.yaml", "support-agent"), ("Pipeline", "pipelines.yaml", "refund-flow")):
        text = (manifests / file).read_text(encoding="utf-8")
        first = text.split("\n---\n")[0]
        assert f"kind: {kind}\nmetadata:\n  name: {name}\n" in first
        copy = first.replace(f"  name: {name}\n", f"  name: {name}-v2\n", 1)
        (manifests / file).write_text(text.rstrip("\n") + "\n---\n" + copy + "\n", encoding="utf-8")
    (manifests / "run-rollouts.yaml").write_text(ROLLOUTS, encoding="utf-8")
    return tmp_path


def _manifests(repo: Path) -> ManifestSet:
    result = validate([repo / "manifests", repo / "policies"])
    assert not result.summary.errors, [d.message for d in result.diagnostics if d.severity == "error"]
    return result.manifests


def test_agent_and_pipeline_rollouts_resolve_to_run_splits(repo: Path) -> None:
    agent = resolve(_manifests(repo), "agent-v2")
    assert (agent.target_kind, agent.route, agent.stable, agent.canary) == (
        "Agent",
        "Agent/support-agent",
        "support-agent",
        "support-agent-v2",
    )
    assert agent.splits_runs and agent.stickiness == "caller"
    flow = resolve(_manifests(repo), "flow-v2")
    assert flow.route == "Pipeline/refund-flow" and flow.stickiness == ""


def test_a_version_that_is_not_written_is_a_clear_error(repo: Path) -> None:
    path = repo / "manifests" / "run-rollouts.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("to: support-agent-v2", "to: support-agent-v3"))
    with pytest.raises(RolloutError, match=r"spec.change.to 'support-agent-v3' is not an Agent \(.*support-agent-v2"):
        resolve(_manifests(repo), "agent-v2")


def test_runs_split_by_caller_and_the_pick_is_pinned_in_the_run(repo: Path) -> None:
    manifests = _manifests(repo)
    c = Controller(repo / "state.db", actor="test", clock=Clock())
    for name in ("agent-v2", "flow-v2"):
        c.begin(resolve(manifests, name), "rollout:alice")
    c.tick()
    assert c.weights.current() == {}  # no route's weights move: runs read the split when they start
    chosen = [for_run(c.conn, "refund-flow", f"run-{i}", caller=f"user-{i % 100}", session="") for i in range(400)]
    agents = [v["Agent/support-agent"] for v in chosen]
    assert all(agents[i] == agents[i % 100] for i in range(400))  # one caller, one version
    assert 2 <= agents[:100].count("support-agent-v2") <= 25  # about 10% of 100 callers
    flows = [v["Pipeline/refund-flow"] for v in chosen]
    assert 140 <= flows.count("refund-flow-v2") <= 260  # no stickiness: each run on its own, about half
    run = new_run(repo, "refund-flow", {}, lambda run_id, requester: {"Pipeline/refund-flow": "refund-flow-v2"})
    assert run["pipeline"] == "refund-flow-v2" and run["variants"] == {"Pipeline/refund-flow": "refund-flow-v2"}
    c.close()


def test_a_key_on_the_canary_stays_there_as_its_weight_rises() -> None:
    keys = [f"k{i}" for i in range(500)]
    for low, high in ((1, 10), (10, 50), (50, 99)):
        at_low = {k for k in keys if pick("r", low, k)}
        at_high = {k for k in keys if pick("r", high, k)}
        assert at_low <= at_high and len(at_low) < len(at_high)


def test_a_split_runs_outcome_counts_for_the_analysis_while_the_rollout_watches(repo: Path) -> None:
    from maestro.state import observations as obs

    c = Controller(repo / "state.db", actor="test", clock=Clock())
    c.begin(resolve(_manifests(repo), "agent-v2"), "rollout:alice")
    route = "Agent/support-agent"
    assert obs.add(c.conn, route, "support-agent-v2", ok=False, latency_ms=1200.0, at=c.clock())
    assert obs.add(c.conn, route, "support-agent", ok=True, latency_ms=900.0, at=c.clock())
    assert not obs.add(c.conn, "Agent/other", "other", ok=True, latency_ms=1.0, at=c.clock())  # not watched
    canary = obs.summary(c.conn, route, "support-agent-v2", 0.0)
    assert (canary.n, canary.errors, canary.latency_sum) == (1, 1, 1200.0)
    assert obs.summary(c.conn, route, "support-agent", 0.0).errors == 0
    c.close()


def test_a_run_pinned_to_an_agent_version_runs_it_on_every_node_that_names_the_agent(repo: Path) -> None:
    from maestro.manifests.kinds.pipeline import Pipeline
    from maestro.runtime.graph import graph_of
    from maestro.runtime.workflow import _with_variants

    pipeline = _manifests(repo).record(Pipeline, "refund-flow")
    assert pipeline is not None
    graph = graph_of(pipeline)
    named = {k for k, n in graph.nodes.items() if n.agent == "support-agent"}
    swapped = _with_variants(graph, {"Agent/support-agent": "support-agent-v2"})
    assert named and {k for k, n in swapped.nodes.items() if n.agent == "support-agent-v2"} == named
    assert _with_variants(graph, {}) is graph


def test_promoting_a_version_that_acts_at_l4_or_above_needs_its_level_s_approvals(repo: Path) -> None:
    assert resolve(_manifests(repo), "agent-v2").approvals == 0  # both versions act at L2: no sign-off asked
    agents = repo / "manifests" / "agents.yaml"
    head, v2 = agents.read_text(encoding="utf-8").rsplit("\n---\n", 1)
    assert "autonomyLevel: L2" in v2
    agents.write_text(head + "\n---\n" + v2.replace("autonomyLevel: L2", "autonomyLevel: L4", 1), encoding="utf-8")
    spec = resolve(_manifests(repo), "agent-v2")
    assert spec.approvals == 2 and spec.approval_roles == ("operator", "owner")  # L4's approvals block
