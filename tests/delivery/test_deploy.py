from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from helpers.gateway import Up, environ, served, write_repo
from helpers.ledger import key, keyring, ledger

from maestro import state
from maestro.cli.request_files import load_manifests
from maestro.delivery import deploy
from maestro.delivery.controller import Controller
from maestro.delivery.machine import Promote
from maestro.delivery.signoffs import Signoffs
from maestro.delivery.spec import RolloutSpec
from maestro.evidence import Action
from maestro.gateway import from_manifests
from maestro.ledger.dualcontrol import Rule
from maestro.ledger.query import verify_store

ROUTE = """apiVersion: maestro.dev/v1
kind: Route
metadata: {name: chat-route}
spec:
  alias: chat
  candidates:
    - {provider: alpha, model: m1, weight: 100}
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
    - setWeight: 100
"""
NOW = 1_800_000_000.0


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def _commit(repo: Path, message: str) -> str:
    _git(repo, "add", "-A")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-qm", message)
    return _git(repo, "rev-parse", "HEAD")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    write_repo(root, {"alpha": "http://alpha.invalid", "beta": "http://beta.invalid"}, [Up("alpha"), Up("beta")], ROUTE)
    _git(root, "init", "-q", "-b", "main")
    _commit(root, "first")
    return root


@pytest.fixture
def controller(tmp_path: Path) -> Iterator[Controller]:
    c = Controller(tmp_path / "state.db", actor="deploy:alice")
    yield c
    c.close()


def _edit(repo: Path, old: str, new: str) -> None:
    path = repo / "manifests" / "providers.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")


def _apply(
    p: deploy.Plan, c: Controller, records: list[Action], gateways: list[str] | None = None
) -> deploy.Deployment:
    def begin(spec: RolloutSpec) -> None:
        c.begin(spec, "deploy:alice")

    token = environ()["MAESTRO_ADMIN_TOKEN"]
    reload = lambda: deploy.reload_gateways(gateways or [], token)  # noqa: E731
    return deploy.apply(p, c.conn, "deploy:alice", reload=reload, begin=begin, record=records.append)


def _plan(repo: Path, c: Controller, rev: str = "HEAD", ring: object = None) -> deploy.Plan:
    return deploy.plan(repo, rev, c.conn, ring, requester="deploy:alice", now=NOW)  # type: ignore[arg-type]


def test_the_first_deploy_adds_everything_and_a_later_one_starts_the_rollout_it_touches(
    repo: Path, controller: Controller
) -> None:
    p = _plan(repo, controller)
    assert p.previous is None and p.commit == _git(repo, "rev-parse", "HEAD")
    assert {c.ref for c in p.changes} >= {"Route/chat-route", "Rollout/chat-beta", "Provider/alpha"}
    assert p.risk == "medium" and p.needs == 0 and p.waits_for == ""
    assert p.rollouts == () and "a first deploy has no revision before it" in p.skipped[0]
    records: list[Action] = []
    first = _apply(p, controller, records)
    assert first.started == () and records[-1].action == "deploy" and records[-1].details["commit"] == p.commit
    _edit(repo, "    - setWeight: 10\n", "    - setWeight: 10\n    - pause: 1m\n")
    _commit(repo, "pause at 10%")
    p = _plan(repo, controller)
    assert p.previous == first.plan.commit and [c.ref for c in p.changes] == ["Rollout/chat-beta"]
    assert [s.name for s in p.rollouts] == ["chat-beta"]
    done = _apply(p, controller, records)
    assert done.started == ("chat-beta",) and records[-1].details["started"] == ["chat-beta"]
    stored = controller.store.get("chat-beta")
    assert stored is not None and stored.started_by == "deploy:alice"
    again = _plan(repo, controller)  # deployed: nothing to do
    assert again.previous == p.commit and again.changes == () and again.risk == "none" and again.rollouts == ()


def test_a_promoted_rollout_is_not_started_again_when_its_route_changes(repo: Path, controller: Controller) -> None:
    _apply(_plan(repo, controller), controller, [])
    _edit(repo, "    - setWeight: 10\n", "    - setWeight: 20\n")
    _commit(repo, "20%")
    _apply(_plan(repo, controller), controller, [])
    controller.send("chat-beta", lambda now, frozen, ok: Promote(now, True, frozen, ok), "rollout:alice")
    _edit(repo, "{provider: alpha, model: m1, weight: 100}", "{provider: alpha, model: m1, weight: 0}")
    _edit(repo, "{provider: beta, model: m1, weight: 0}", "{provider: beta, model: m1, weight: 100}")
    _commit(repo, "beta takes over in the manifest")
    p = _plan(repo, controller)
    assert p.rollouts == () and p.skipped[0].startswith("chat-beta: already promoted as written (sha256:")


def test_a_high_risk_change_waits_for_a_signoff_by_someone_else(repo: Path, controller: Controller) -> None:
    _apply(_plan(repo, controller), controller, [])
    _edit(repo, "baseUrl: http://alpha.invalid/v1", "baseUrl: http://alpha-new.invalid/v1")
    _edit(repo, "weight: 0}", "weight: 5}")
    head = _commit(repo, "move alpha")
    ring = keyring("alice", "bob")
    p = _plan(repo, controller, ring=ring)
    assert p.risk == "high" and p.needs == 1 and p.rule == ""
    assert "needs 1 approval(s)" in p.waits_for and "maestro deploy approve" in p.waits_for.replace("--approve", "")
    with pytest.raises(deploy.DeployError, match="not deployed: a high-risk change needs 1 approval"):
        _apply(p, controller, [])
    signoffs = Signoffs(controller.conn)
    signoffs.add("deploy", p.digest, key("alice"), requester="")  # the deployer's own does not count
    assert _plan(repo, controller, ring=ring).approvers == ()
    signoffs.add("deploy", p.digest, key("bob"), requester="")
    p = _plan(repo, controller, ring=ring)
    assert p.approvers == ("bob",) and p.waits_for == ""
    records: list[Action] = []
    done = _apply(p, controller, records)
    assert done.plan.commit == head and done.started == ("chat-beta",)  # its route changed
    assert _plan(repo, controller).skipped == ()
    entry = records[-1]
    assert entry.action == "deploy.high-risk" and list(entry.approvals) == ["bob"]
    assert entry.details["signoffs"]["digest"] == p.digest
    assert [s["approver"] for s in entry.details["signoffs"]["signatures"]] == ["alice", "bob"]
    led = ledger(1)  # the entry verifies: bob's sign-off meets a Policy rule asking for one approval
    led.append([entry], key("alice"))
    assert verify_store(led, ring, [Rule("risky", deploy.HIGH_RISK, 1)], workers=1).ok
    assert not verify_store(led, ring, [Rule("risky", deploy.HIGH_RISK, 2)], workers=1).ok


def test_a_policy_rule_sets_the_approvals_and_a_deploy_freeze_holds(repo: Path, controller: Controller) -> None:
    policy = repo / "policies" / "default.yaml"
    text = policy.read_text(encoding="utf-8")
    text = text.replace(
        "  dualControl:\n", "  dualControl:\n    - {name: risky-deploys, action: deploy.high-risk, approvers: 2}\n", 1
    )
    policy.write_text(text.replace("applies: [deploy, rollout, autonomy-raise, policy-change]", "applies: [deploy]"))
    _edit(repo, "baseUrl: http://alpha.invalid/v1", "baseUrl: http://alpha-new.invalid/v1")
    _commit(repo, "rule")
    p = _plan(repo, controller)
    assert p.previous is None and p.risk == "medium"  # a first deploy only adds documents
    christmas = datetime(2026, 12, 25, tzinfo=UTC).timestamp()
    frozen = deploy.plan(repo, "HEAD", controller.conn, None, requester="x", now=christmas)
    assert "freeze window 'holiday-freeze' (Policy/default" in frozen.waits_for
    _apply(p, controller, [])
    _edit(repo, "baseUrl: http://alpha-new.invalid/v1", "baseUrl: http://alpha-newer.invalid/v1")
    _commit(repo, "again")
    p = _plan(repo, controller)
    assert p.risk == "high" and (p.needs, p.rule) == (2, "risky-deploys")


def test_a_working_tree_that_differs_from_rev_and_a_broken_rev_are_refused(repo: Path, controller: Controller) -> None:
    _edit(repo, "weight: 0}", "weight: 7}")
    p = _plan(repo, controller)
    assert "the working tree's manifests differ from HEAD" in p.waits_for and "Route/chat-route" in p.waits_for
    _edit(repo, "contextWindow: 100000", "contextWindow: lots")
    broken = _commit(repo, "broken")
    message = rf"HEAD's manifests have 1 error\(s\), first {broken}:manifests/providers.yaml:10:33: .*contextWindow"
    with pytest.raises(deploy.DeployError, match=message):
        _plan(repo, controller)


def test_deploy_reloads_a_running_gateway_and_reports_one_that_refuses(
    repo: Path, controller: Controller, tmp_path: Path
) -> None:
    paths = [repo / "manifests", repo / "policies"]
    config = from_manifests(load_manifests(paths), environ=environ())
    config = replace(config, reload=lambda: from_manifests(load_manifests(paths), environ=environ()))
    with served(config) as url, served(replace(config, reload=None)) as fixed:
        done = _apply(_plan(repo, controller), controller, [], [url, fixed, "http://127.0.0.1:9"])
    ok, refused, down = done.reloaded
    assert ok.ok and ok.detail == "serves 1 route(s)"
    assert not refused.ok and "409" in refused.detail and "not started from a manifest folder" in refused.detail
    assert not down.ok and "cannot reach it" in down.detail
    assert environ()["MAESTRO_ADMIN_TOKEN"] not in str(done.as_json())
    assert state.connect(tmp_path / "state.db").execute("SELECT COUNT(*) FROM deployments").fetchone()[0] == 1
