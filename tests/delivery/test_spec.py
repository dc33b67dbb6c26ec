from __future__ import annotations

from pathlib import Path

import pytest
from helpers.gateway import Up, write_repo

from maestro.delivery.errors import RolloutError
from maestro.delivery.spec import Metric, RolloutSpec, Step, resolve
from maestro.manifests.loader import ManifestSet
from maestro.manifests.validate import validate

ROLLOUT = """apiVersion: maestro.dev/v1
kind: Route
metadata: {name: chat-route}
spec:
  alias: chat
  candidates:
    - {provider: alpha, model: m1, weight: 80}
    - {provider: beta, model: m1, weight: 0}
---
apiVersion: maestro.dev/v1
kind: Rollout
metadata: {name: chat-beta}
spec:
  target: {kind: Route, name: chat-route}
  change: {from: alpha/m1, to: beta/m1}
  steps:
    - setWeight: 10
    - pause: 5m
    - analysis: health
    - pause: manual
    - setWeight: 100
  analysis:
    - name: health
      metrics: [{name: error_rate}, {name: p95, source: prometheus, query: up}]
      successCondition: "metrics.error_rate < 0.02"
  rollback:
    automatic: false
    when: ["metrics.error_rate > 0.5"]
  approvals: {required: 2}
  freezeWindows:
    - {name: weekend, cron: "0 18 * * 5", duration: 62h, timeZone: Europe/Paris}
"""


def _manifests(root: Path, text: str = ROLLOUT) -> ManifestSet:
    write_repo(root, {"alpha": "http://alpha.invalid", "beta": "http://beta.invalid"}, [Up("alpha"), Up("beta")], text)
    result = validate([root / "manifests", root / "policies"])
    assert not result.summary.errors, result.diagnostics
    return result.manifests


def test_the_spec_is_built_from_the_typed_rollout_record(tmp_path: Path) -> None:
    spec = resolve(_manifests(tmp_path), "chat-beta")
    assert (spec.route, spec.stable, spec.canary) == ("chat-route", "alpha/m1", "beta/m1")
    assert spec.steps == (
        Step("setWeight", weight=10),
        Step("pause", pause_s=300.0),
        Step("analysis", analysis="health"),
        Step("pause", pause_s=None),
        Step("setWeight", weight=100),
    )
    assert spec.analyses == {"health": (Metric("error_rate", "gateway"), Metric("p95", "prometheus", "up"))}
    assert spec.conditions == {"health": ("metrics.error_rate < 0.02", "")}
    assert spec.rollback_when == ("metrics.error_rate > 0.5",) and spec.automatic_rollback is False
    assert spec.approvals == 2 and spec.weights == {"alpha/m1": 80.0, "beta/m1": 0.0}
    assert spec.live_weights(25) == {"alpha/m1": 60.0, "beta/m1": 20.0}
    # the example Policy's holiday freeze names rollout; the Rollout's own window comes last
    sources = [source for source, _ in spec.freezes]
    assert sources == ["Policy/default", "Rollout/chat-beta"]
    names = [(source, w.name, w.cron, w.time_zone) for source, w in spec.windows()]
    assert names[-1] == ("Rollout/chat-beta", "weekend", "0 18 * * 5", "Europe/Paris")
    assert RolloutSpec.from_json(spec.as_json()) == spec


def test_a_policy_window_that_does_not_apply_to_rollouts_is_left_out(tmp_path: Path) -> None:
    manifests = _manifests(tmp_path)
    policy = (tmp_path / "policies" / "default.yaml").read_text(encoding="utf-8")
    (tmp_path / "policies" / "default.yaml").write_text(
        policy.replace("applies: [deploy, rollout, autonomy-raise, policy-change]", "applies: [deploy]"),
        encoding="utf-8",
    )
    assert next(s for s, _ in resolve(manifests, "chat-beta").freezes) == "Policy/default"
    manifests = validate([tmp_path / "manifests", tmp_path / "policies"]).manifests
    assert [s for s, _ in resolve(manifests, "chat-beta").freezes] == ["Rollout/chat-beta"]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("change: {from: alpha/m1, to: beta/m1}", "change: {from: alpha/m1}", "needs spec.change.from and"),
        ("to: beta/m1}", "to: gamma/m1}", "spec.change.to 'gamma/m1' is not a candidate of route 'chat-route'"),
    ],
)
def test_a_rollout_that_cannot_run_says_why(tmp_path: Path, old: str, new: str, message: str) -> None:
    with pytest.raises(RolloutError, match=message):
        resolve(_manifests(tmp_path, ROLLOUT.replace(old, new)), "chat-beta")
    with pytest.raises(RolloutError, match="no Rollout named 'nope'; rollouts in the manifests: chat-beta"):
        resolve(_manifests(tmp_path), "nope")
