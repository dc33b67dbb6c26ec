"""Online eval scores: a rollout whose analysis names an eval metric grades a sample of the stable's and the
canary's answers with its EvalSuite's checks, and rolls back a canary whose answers fail them."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import httpx
import pytest
from helpers.cli import run_cli
from helpers.delivery import CANARY, STABLE, gateway_process, spec
from helpers.gateway import Up, environ, rig, write_repo
from helpers.timing import within

from maestro import state
from maestro.cli.request_files import load_manifests
from maestro.delivery import online
from maestro.delivery.analysis import Arm, Outcome
from maestro.delivery.judge import Measured, Settings, judge
from maestro.delivery.machine import Phase, State
from maestro.delivery.spec import Metric, RolloutSpec, resolve
from maestro.delivery.store import RolloutStore
from maestro.manifests.diagnostics import Severity
from maestro.manifests.validate import validate
from maestro.state import observations as obs
from maestro.state.weights import LiveWeights

ROUTE = """apiVersion: maestro.dev/v1
kind: Route
metadata: {name: chat-route}
spec:
  alias: chat
  candidates:
    - {provider: alpha, model: m1, weight: 100}
    - {provider: beta, model: m1, weight: 0}
  limits: {firstTokenTimeout: 2s}
---
apiVersion: maestro.dev/v1
kind: EvalSuite
metadata: {name: greets}
spec:
  target: {route: chat-route}
  dataset: {inline: [{input: hi}]}
  assertions:
    - {type: contains, value: Hello}
    - {type: regex, value: "upstream"}
    - {type: equals}
---
"""
ROLLOUT = """apiVersion: maestro.dev/v1
kind: Rollout
metadata: {name: chat-beta}
spec:
  target: {kind: Route, name: chat-route}
  change: {from: alpha/m1, to: beta/m1}
EVAL_SUITE  steps:
    - setWeight: 50
    - analysis: quality
    - setWeight: 100
  analysis:
    - name: quality
      metrics: [{name: evalScore, source: eval, sampleRate: 0.5}]
"""


def _manifests(tmp_path: Path, suite: str = "  evalSuite: greets\n", route: str = ROUTE) -> list[Path]:
    urls = {"alpha": "http://127.0.0.1:9/v1", "beta": "http://127.0.0.1:9/v1"}  # never called
    repo = write_repo(tmp_path, urls, [Up("alpha"), Up("beta")], route + ROLLOUT.replace("EVAL_SUITE", suite))
    return [repo / "manifests", repo / "policies"]


def test_the_suites_answer_only_checks_are_pinned_and_grade_an_answer() -> None:
    checks = '[{"name": "c", "type": "contains", "value": "Hello"}, {"name": "r", "type": "regex", "value": "up"}]'
    assert online.grade(checks, "Hello from the upstream.") is True
    assert online.grade(checks, "Hello there") is False
    assert online.grade(checks, "Sorry, upstream") is False


def test_a_rollout_pins_its_suites_checks_and_sample_rate(tmp_path: Path) -> None:
    manifests = load_manifests(_manifests(tmp_path))
    pinned = resolve(manifests, "chat-beta")
    assert pinned.eval_sample_rate == 0.5
    assert [(c["type"], c["value"]) for c in json.loads(pinned.eval_checks)] == [
        ("contains", "Hello"),
        ("regex", "upstream"),
    ]
    assert "equals" not in pinned.eval_checks  # it needs a case's expected answer: not graded online
    assert RolloutSpec.from_json(pinned.as_json()) == pinned


NO_ONLINE_CHECK = ROUTE.replace("- {type: contains, value: Hello}", "- {type: cost, max: 1}").replace(
    '- {type: regex, value: "upstream"}', "- {type: latency, max: 100}"
)


@pytest.mark.parametrize(
    ("suite", "route", "message"),
    [
        ("", ROUTE, "an eval metric grades answers with the Rollout's suite: name it in spec.evalSuite"),
        ("  evalSuite: greets\n", NO_ONLINE_CHECK, "EvalSuite 'greets' has no check the gateway can grade an answer"),
    ],
)
def test_validate_refuses_an_eval_metric_without_a_suite_it_can_run(
    tmp_path: Path, suite: str, route: str, message: str
) -> None:
    result = validate(_manifests(tmp_path, suite, route))
    found = [(d.rule, d.message) for d in result.diagnostics if d.severity == Severity.ERROR]
    assert len(found) == 1 and found[0][0] == "rollout.eval-metric" and message in found[0][1], found


@pytest.mark.parametrize(
    ("canary_failed", "n", "outcome"),
    [(0.0, 3000, Outcome.PASS), (0.0, 50, Outcome.INCONCLUSIVE), (0.2, 300, Outcome.FAIL)],
)
def test_the_eval_metric_compares_failed_answers_with_the_error_rates_test(
    canary_failed: float, n: int, outcome: Outcome
) -> None:
    s = dataclasses.replace(spec(), analyses={"health": (Metric("evalScore", "eval", sample_rate=0.1),)})
    errors = {CANARY: Arm(n, 0.0, 0.0), STABLE: Arm(n, 0.0, 0.0)}
    evals = {CANARY: Arm(n, canary_failed, canary_failed * (1 - canary_failed)), STABLE: Arm(n, 0.0, 0.0)}
    failures, verdicts = judge(
        s, State("r1", Phase.PROGRESSING, 1, 10, 0.0), Measured(errors, None, evals=evals), Settings()
    )
    assert [(v.metric, v.outcome) for v in verdicts] == [("evalScore", outcome)]
    assert [v.metric for v in failures] == (["evalScore"] if outcome is Outcome.FAIL else [])
    assert verdicts[0].n_canary == n and verdicts[0].alpha == 0.01


def test_the_gateway_grades_a_sample_of_watched_answers_off_the_request_path(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    conn = state.connect(path)
    checks = '[{"name": "c", "type": "contains", "value": "Hello"}]'
    obs.watch(conn, "chat-route", (STABLE, CANARY), (1.0, checks))
    recorder = obs.Observations(path, interval_s=0.01, grader=online.grade)
    recorder.start()
    for _ in range(30):
        recorder.sample("chat-route", STABLE, "Hello")
        recorder.sample("chat-route", CANARY, "Sorry")
        recorder.sample("other-route", CANARY, "Hello")  # not watched: never graded
    recorder.stop()
    assert obs.eval_summary(conn, "chat-route", STABLE, 0.0) == obs.Summary(30, 0)
    assert obs.eval_summary(conn, "chat-route", CANARY, 0.0) == obs.Summary(30, 30)
    assert obs.eval_summary(conn, "other-route", CANARY, 0.0).n == 0
    obs.unwatch(conn, "chat-route")
    conn.close()


def test_a_canary_whose_answers_fail_the_suite_is_rolled_back_on_the_eval_metric(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    rollout = ROLLOUT.replace("EVAL_SUITE", "  evalSuite: greets\n")
    with rig(tmp_path, [Up("alpha"), Up("beta")], ROUTE + rollout) as r:
        r.fakes["beta"].words = ("Sorry,", " I cannot", " help.")  # answers without "Hello": the checks fail
        manifests = ["-m", str(r.repo / "manifests"), "-m", str(r.repo / "policies")]
        with gateway_process(r.repo, db, environ()) as url, httpx.Client() as c:
            started = run_cli("rollout", "start", "chat-beta", *manifests, "--state", str(db), "--no-ledger")
            assert started.exit_code == 0, started.output
            conn = state.connect(db)
            store = RolloutStore(conn)
            deadline = time.monotonic() + within(60)  # a hang guard only: the loop ends when the controller decides
            while (s := store.get("chat-beta")) is not None and s.state.phase is Phase.PROGRESSING:
                assert time.monotonic() < deadline, store.verdicts("chat-beta")
                body = {"model": "chat", "messages": [{"role": "user", "content": "hi"}]}
                assert c.post(url + "/v1/chat/completions", json=body).status_code == 200
            assert s is not None and s.state.phase is Phase.ROLLED_BACK, s
            assert LiveWeights(conn).current()["chat-route"][CANARY] == 0.0
            failed = [v for v in store.verdicts("chat-beta") if v["outcome"] == "fail"]
            assert failed and failed[0]["metric"] == "evalScore", store.verdicts("chat-beta")
            assert "sampled canary answers failed the suite's checks" in str(failed[0]["reason"])
            n = failed[0]["n"]
            assert isinstance(n, dict) and n["canary"] >= 100 and n["stable"] >= 100
            assert obs.eval_summary(conn, "chat-route", STABLE, 0.0).errors == 0  # stable's answers pass
            conn.close()
