"""Every node's limits, end to end on real DBOS and a fake upstream: the cost cap reserved before a model call
(auto-downgrade to a cheaper candidate of the route, else the node stops), the run's cap, and a step's
timeout (failed with the reason, retried while retries remain)."""

from __future__ import annotations

import pytest

from maestro.runtime import engine, report, runs


def run_model_flow(repo, **options):  # type: ignore[no-untyped-def]
    repo.write(**options)
    with engine.launched(repo.root), engine.client(repo.root) as client:
        run_id = runs.start(runs.new_run(repo.root, "model-flow", {"order_id": "A10001"}))
        return runs.follow(client, run_id, lambda _: None)


def test_a_call_that_would_pass_the_step_cap_goes_to_a_cheaper_candidate(repo):
    # big-route prefers m-big ($0.05 for 256 output tokens); the step's cap leaves room for m1 only
    run = run_model_flow(repo, model_route="big-route", model_step="maxCostUsd: 0.01")
    assert run.status == "succeeded", run.reason
    (call,) = run.nodes[0]["calls"]
    assert (call["servedBy"], call["downgradedFrom"]) == ("fake/m1", "fake/m-big")
    assert 0 < run.nodes[0]["costUsd"] == run.cost_usd <= 0.01
    shown = report.show_text(run)  # `maestro runs show`
    assert "model call served by fake/m1" in shown and "(the cost cap moved it off fake/m-big)" in shown
    assert "ask#0 (model): succeeded in" in shown and f"${run.cost_usd:.6f}" in shown


def test_without_a_cap_the_route_serves_its_first_choice(repo):
    run = run_model_flow(repo, model_route="big-route")
    (call,) = run.nodes[0]["calls"]
    assert call["servedBy"] == "fake/m-big" and "downgradedFrom" not in call


@pytest.mark.parametrize(
    ("options", "whose"),
    [
        ({"model_step": "maxCostUsd: 0.0001"}, "node 'ask' has $0.000100 left of its cap"),
        ({"model_flow_limits": "limits: {maxCostUsd: 0.0002}"}, "run has $0.000200 left of its cap"),
    ],
)
def test_when_no_candidate_fits_the_cap_the_node_stops_before_the_call(repo, options, whose):
    run = run_model_flow(repo, **options)
    assert run.status == "failed"
    assert run.reason is not None and whose in run.reason
    assert "stopped before a model call through route 'chat-route'" in run.reason
    assert run.nodes[0]["calls"] == [] and run.cost_usd == 0
    assert run.nodes[0]["attempts"] == 1  # a cap is not retried


def test_a_step_over_its_timeout_fails_with_the_reason_after_its_retries(repo):
    run = run_model_flow(repo, model_prompt="SLOW", model_step="timeout: 1s, retry: {attempts: 1, backoff: 10ms}")
    assert run.status == "failed"
    assert run.reason == "node 'ask': the model call through route 'chat-route' took over the step's timeout 1s"
    assert run.nodes[0]["attempts"] == 2
